#include "src/tagger/rule_json.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "src/tagger/rule_validation.h"
#include "tests/support/test_support.h"
#include "tests/tagger/tagger_fakes.h"

namespace scrm::tagger {
namespace {

using model::InteractionKind;
using testing::Rule;

// A valid rule with every condition member and every action type.
model::TagRule FullRule() {
  model::TagRule rule;
  rule.id = 42;
  rule.version = 3;
  rule.name = "高意向客户";
  rule.description = "全部条件";
  rule.enabled = false;
  rule.priority = -7;
  model::RuleCondition& c = rule.condition;
  c.kinds = {InteractionKind::kMessageText};
  c.keywords_any = {"产品A", "Product A"};
  c.regex = "预算\\s*(\\d+)万";
  c.order = model::OrderCondition{{"SKU-1"}, {"家电"}, 100, 200000};
  c.window_count = model::WindowCountCondition{
      {InteractionKind::kMessageText, InteractionKind::kMenuClick}, 3, 7};
  rule.actions = {
      model::AddTagAction{{"兴趣", "产品A"}, 0.1},
      model::RemoveTagAction{{"兴趣", "产品B"}},
      model::SetAttributeAction{"budget", "5-10万"},
      model::SetStageAction{model::LifecycleStage::kAtRisk},
      model::CreateTaskAction{"尽快回访", 12},
  };
  return rule;
}

// A valid event rule with the payload members the full rule cannot combine with text.
model::TagRule EventRule() {
  model::TagRule rule;
  rule.id = 43;
  rule.name = "渠道";
  rule.condition.qr_scene = model::StringMatch{model::StringMatch::Mode::kPrefix, "channel_"};
  rule.actions = {model::AddTagAction{{"渠道", "二维码"}, 1}};
  return rule;
}

TEST_CASE("TagRuleToJson round-trips when the rule uses every member", "[unit]") {
  for (const model::TagRule& rule : {FullRule(), EventRule()}) {
    REQUIRE(ValidateTagRule(rule).ok());
    const core::StatusOr<model::TagRule> back = TagRuleFromJson(TagRuleToJson(rule));
    INFO(back.status().ToString());
    REQUIRE(back.ok());
    CHECK(*back == rule);
  }
}

TEST_CASE("TagRulesToText round-trips when parsed back as a rules file", "[unit]") {
  const std::vector<model::TagRule> rules = {FullRule(), EventRule()};
  const std::string text = TagRulesToText(rules);
  CHECK(text.find("高意向客户") != std::string::npos);  // UTF-8 kept, not \u-escaped
  const core::StatusOr<std::vector<model::TagRule>> back = ParseTagRules(text);
  INFO(back.status().ToString());
  REQUIRE(back.ok());
  CHECK(*back == rules);
}

TEST_CASE("TagRuleToJson writes only the condition members that are set", "[unit]") {
  const nlohmann::json j = TagRuleToJson(EventRule());
  CHECK(j["condition"] == nlohmann::json::parse(R"({"qr_scene": {"prefix": "channel_"}})"));
  CHECK(j["actions"] == nlohmann::json::parse(
                            R"([{"add_tag": {"tag": {"group": "渠道", "name": "二维码"},
                                             "weight": 1.0}}])"));
}

TEST_CASE("ParseTagRule applies the defaults when optional members are missing", "[unit]") {
  const model::TagRule rule = Rule(R"({"name": "r", "condition": {"menu_key": "K"},
      "actions": [{"add_tag": {"tag": {"group": "g", "name": "t"}}}]})");
  CHECK(rule.id == 0);
  CHECK(rule.version == 1);
  CHECK(rule.enabled);
  CHECK(rule.priority == 0);
  CHECK(rule.description.empty());
  CHECK(std::get<model::AddTagAction>(rule.actions[0]).weight == 1.0);
  CHECK(std::get<model::AddTagAction>(rule.actions[0]).tag == model::TagRef{"g", "t"});
}

TEST_CASE("ParseTagRule reads each condition member when it is present", "[unit]") {
  const model::TagRule rule = Rule(R"({"name": "r", "condition": {
      "kinds": ["contact.add"], "contact_state": {"equals": "s1"},
      "window_count": {"kinds": ["contact.add"], "min_count": 2, "window_days": 30}},
      "actions": [{"set_attribute": {"key": "k", "value": ""}}]})");
  CHECK(rule.condition.kinds == std::vector<InteractionKind>{InteractionKind::kContactAdd});
  CHECK(rule.condition.contact_state ==
        model::StringMatch{model::StringMatch::Mode::kEquals, "s1"});
  REQUIRE(rule.condition.window_count);
  CHECK(rule.condition.window_count->min_count == 2);
  CHECK(rule.condition.window_count->window_days == 30);
  const model::TagRule link = Rule(R"({"name": "r", "condition": {
      "link_url": {"equals": "https://a/b"}, "menu_key": "https://a/b"},
      "actions": [{"set_stage": {"stage": "customer"}}]})");
  CHECK(link.condition.link_url ==
        model::StringMatch{model::StringMatch::Mode::kEquals, "https://a/b"});
  CHECK(link.condition.menu_key == "https://a/b");
}

TEST_CASE("ParseTagRule accepts Chinese tag names when they fit in 64 bytes", "[unit]") {
  std::string chinese;
  for (int i = 0; i < 21; ++i) chinese += "标";  // 63 bytes
  chinese += "A";                                // 64: the limit
  const model::TagRule rule =
      Rule(R"({"name": "r", "condition": {"kinds": ["oa.scan"]}, "actions": [{"add_tag": {"tag":
          {"group": "兴趣爱好", "name": ")" +
           chinese + R"("}}}]})");
  CHECK(std::get<model::AddTagAction>(rule.actions[0]).tag == model::TagRef{"兴趣爱好", chinese});
}

// Data-driven: every bad rule names the field that is wrong.
TEST_CASE("ParseTagRule names the field when a rule is invalid", "[unit]") {
  const std::string ok_actions =
      R"("actions": [{"add_tag": {"tag": {"group": "g", "name": "t"}}}])";
  const std::string ok_condition = R"("condition": {"keywords_any": ["a"]})";
  auto with_condition = [&](const std::string& condition) {
    return R"({"name": "r", "condition": )" + condition + ", " + ok_actions + "}";
  };
  auto with_actions = [&](const std::string& actions) {
    return R"({"name": "r", )" + ok_condition + R"(, "actions": )" + actions + "}";
  };
  std::string long_tag;
  for (int i = 0; i < 22; ++i) long_tag += "标";  // 66 bytes
  struct Case {
    std::string json;
    std::string expected_prefix;
  };
  const std::vector<Case> cases = {
      {"[]", "rule: must be an object"},
      {R"({"name": "r", "keyword": 1})", "keyword: unknown key"},
      {with_condition(R"({"keyword": ["a"]})"), "condition.keyword: unknown key"},
      {R"({)" + ok_condition + ", " + ok_actions + "}", "name: required"},
      {R"({"name": 5})", "name: must be a string"},
      {R"({"name": "r", "id": -1})", "id: must be in 0..9223372036854775807"},
      {R"({"name": "r", "id": 18446744073709551615})", "id: must be in 0.."},
      {R"({"name": "r", "id": 1.5})", "id: must be an integer"},
      {R"({"name": "r", "version": 0})", "version: must be in 1.."},
      {R"({"name": "r", "enabled": "yes"})", "enabled: must be true or false"},
      {R"({"name": "r", "priority": 2000000})", "priority: must be in -1000000..1000000"},
      {R"({"name": "r", )" + ok_actions + "}", "condition: must have at least one condition"},
      {with_condition("{}"), "condition: must have at least one condition"},
      {with_condition("[]"), "condition: must be an object"},
      {R"({"name": "r", )" + ok_condition + "}", "actions: must not be empty"},
      {with_actions("[]"), "actions: must not be empty"},
      {with_actions("{}"), "actions: must be an array"},
      {with_condition(R"({"regex": "预算("})"), "condition.regex: invalid pattern: missing ): "},
      {with_condition(R"({"regex": ""})"), "condition.regex: required"},
      {with_condition(R"({"regex": 3})"), "condition.regex: must be a string"},
      {with_condition(R"({"keywords_any": "a"})"),
       "condition.keywords_any: must be an array of strings"},
      {with_condition(R"({"keywords_any": ["a", ""]})"), "condition.keywords_any[1]: required"},
      {with_condition(R"({"keywords_any": ["a", "a"]})"),
       "condition.keywords_any[1]: duplicate \"a\""},
      {with_condition(R"({"keywords_any": ["a", 1]})"),
       "condition.keywords_any[1]: must be a string"},
      {with_condition(R"({"kinds": ["message.txt"]})"),
       "condition.kinds[0]: unknown interaction kind \"message.txt\""},
      {with_condition(R"({"kinds": ["oa.scan", "oa.scan"]})"),
       "condition.kinds[1]: duplicate \"oa.scan\""},
      {with_condition(R"({"kinds": ["oa.subscribe"], "keywords_any": ["a"]})"),
       "condition: can never match"},
      {with_condition(R"({"qr_scene": {"prefix": "a"}, "menu_key": "k"})"),
       "condition: can never match"},
      {with_condition(R"({"qr_scene": {}})"), "condition.qr_scene: must have exactly one of"},
      {with_condition(R"({"qr_scene": {"equals": "a", "prefix": "b"}})"),
       "condition.qr_scene: must have exactly one of equals, prefix"},
      {with_condition(R"({"qr_scene": {"starts": "a"}})"),
       "condition.qr_scene.starts: unknown key"},
      {with_condition(R"({"contact_state": {"prefix": ""}})"),
       "condition.contact_state.prefix: required"},
      {with_condition(R"({"link_url": "https://x"})"), "condition.link_url: must be an object"},
      {with_condition(R"({"menu_key": ""})"), "condition.menu_key: required"},
      {with_condition(R"({"order": {}})"), "condition.order: must have one of"},
      {with_condition(R"({"order": {"amount_min_cents": -1}})"),
       "condition.order.amount_min_cents: must be in 0.."},
      {with_condition(R"({"order": {"amount_min_cents": 500, "amount_max_cents": 100}})"),
       "condition.order.amount_max_cents: must be >= amount_min_cents"},
      {with_condition(R"({"order": {"sku_any": [""]}})"), "condition.order.sku_any[0]: required"},
      {with_condition(R"({"window_count": {"kinds": ["message.text"], "window_days": 0}})"),
       "condition.window_count.window_days: must be in 1..365"},
      {with_condition(R"({"window_count": {"kinds": ["message.text"], "window_days": 366}})"),
       "condition.window_count.window_days: must be in 1..365"},
      {with_condition(R"({"window_count": {"kinds": ["message.text"], "min_count": 0}})"),
       "condition.window_count.min_count: must be in 1..100000"},
      {with_condition(R"({"window_count": {"min_count": 3}})"),
       "condition.window_count.kinds: must not be empty"},
      {with_actions(R"([{"add_tag": {"tag": {"group": "g"}}}])"),
       "actions[0].add_tag.tag.name: required"},
      {with_actions(R"([{"add_tag": {"tag": {"name": "t"}}}])"),
       "actions[0].add_tag.tag.group: required"},
      {with_actions(R"([{"add_tag": {"weight": 1}}])"), "actions[0].add_tag.tag: required"},
      {with_actions(R"([{"add_tag": {"tag": {"group": "g", "name": ")" + long_tag + R"("}}}])"),
       "actions[0].add_tag.tag.name: must be at most 64 bytes"},
      {with_actions(R"([{"add_tag": {"tag": {"group": "g", "name": "a\u0001"}}}])"),
       "actions[0].add_tag.tag.name: must not contain control characters"},
      {with_actions(R"([{"add_tag": {"tag": {"group": "g", "name": "t"}, "weight": 0}}])"),
       "actions[0].add_tag.weight: must be non-zero and in -1000..1000"},
      {with_actions(R"([{"add_tag": {"tag": {"group": "g", "name": "t"}, "weight": "2"}}])"),
       "actions[0].add_tag.weight: must be a number"},
      {with_actions(R"([{"remove_tag": {"tag": {"group": "g", "name": ""}}}])"),
       "actions[0].remove_tag.tag.name: required"},
      {with_actions(R"([{"set_attribute": {"value": "v"}}])"),
       "actions[0].set_attribute.key: required"},
      {with_actions(R"([{"set_stage": {"stage": "vip"}}])"),
       "actions[0].set_stage.stage: unknown stage \"vip\""},
      {with_actions(R"([{"set_stage": {"stage": "new"}}])"),
       "actions[0].set_stage.stage: must be one of engaged"},
      {with_actions(R"([{"set_stage": {}}])"), "actions[0].set_stage.stage: required"},
      {with_actions(R"([{"create_task": {"title": "t", "due_in_hours": 9000}}])"),
       "actions[0].create_task.due_in_hours: must be in 0..8760"},
      {with_actions(R"([{"create_task": {"due_in_hours": 1}}])"),
       "actions[0].create_task.title: required"},
      {with_actions(R"([{"add_tag": {"tag": {"group": "g", "name": "t"}}, "remove_tag": {}}])"),
       "actions[0]: must have exactly one of add_tag, remove_tag"},
      {with_actions(R"([{"add_tags": {}}])"), "actions[0].add_tags: unknown key"},
      {with_actions(R"([{"create_task": {"title": "t"}}, 3])"), "actions[1]: must be an object"},
      {"{\"name\": ", "rule JSON: "},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    const core::StatusOr<model::TagRule> rule = ParseTagRule(c.json);
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.status().code() == core::StatusCode::kInvalidArgument);
    INFO(rule.status().message());
    CHECK(rule.status().message().rfind(c.expected_prefix, 0) == 0);
  }
}

TEST_CASE("ValidateTagRule rejects invalid UTF-8 when a rule is built in code", "[unit]") {
  model::TagRule rule = EventRule();
  rule.actions = {model::AddTagAction{{"渠道", std::string("\xe6\xa0", 2)}, 1}};
  const core::Status status = ValidateTagRule(rule, "rules[2]");
  CHECK(status.code() == core::StatusCode::kInvalidArgument);
  CHECK(status.message() == "rules[2].actions[0].add_tag.tag.name: must be valid UTF-8");
}

TEST_CASE("IsValidUtf8 accepts Chinese and rejects malformed sequences", "[unit]") {
  CHECK(IsValidUtf8("产品A 🎉 ok"));
  CHECK_FALSE(IsValidUtf8(std::string("\xc0\xaf", 2)));          // overlong '/'
  CHECK_FALSE(IsValidUtf8(std::string("\xed\xa0\x80", 3)));      // surrogate
  CHECK_FALSE(IsValidUtf8(std::string("\xf4\x90\x80\x80", 4)));  // above U+10FFFF
  CHECK_FALSE(IsValidUtf8(std::string("\xe4\xba", 2)));          // truncated
}

TEST_CASE("ParseTagRules prefixes errors with the rule index when a file rule is invalid",
          "[unit]") {
  const core::StatusOr<std::vector<model::TagRule>> rules = ParseTagRules(R"({"rules": [
      {"name": "a", "condition": {"kinds": ["oa.scan"]},
       "actions": [{"remove_tag": {"tag": {"group": "g", "name": "t"}}}]},
      {"name": "b", "condition": {"regex": "(a"},
       "actions": [{"remove_tag": {"tag": {"group": "g", "name": "t"}}}]}]})");
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.status().message().rfind("rules[1].condition.regex: invalid pattern: missing ):",
                                       0) == 0);
}

TEST_CASE("ParseTagRules rejects the file when two rules share an id", "[unit]") {
  const std::string rule = R"({"id": 9, "name": "a", "condition": {"kinds": ["oa.scan"]},
       "actions": [{"remove_tag": {"tag": {"group": "g", "name": "t"}}}]})";
  const auto rules = ParseTagRules(R"({"rules": [)" + rule + "," + rule + "]}");
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.status().message() == "rules[1].id: duplicate id 9");
}

TEST_CASE("ParseTagRules rejects the file when its shape is wrong", "[unit]") {
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"[]", "rules file: must be an object with a \"rules\" array"},
      {"{}", "rules: required"},
      {R"({"rules": {}})", "rules: must be an array"},
      {R"({"rules": [], "comment": "x"})", "comment: unknown key"},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    const auto rules = ParseTagRules(c.json);
    REQUIRE_FALSE(rules.ok());
    CHECK(rules.status().message() == c.message);
  }
  const auto empty = ParseTagRules(R"({"rules": []})");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("LoadTagRulesFile reports not_found when the file is missing", "[unit]") {
  const scrm::testing::TempDir dir;
  const auto rules = LoadTagRulesFile(dir.File("missing.json"));
  CHECK(rules.status().code() == core::StatusCode::kNotFound);
}

TEST_CASE("LoadTagRulesFile prefixes the file path when the content is invalid", "[unit]") {
  const scrm::testing::TempDir dir;
  const std::string path = dir.File("rules.json");
  scrm::testing::WriteFile(path, R"({"rules": [{"name": ""}]})");
  const auto rules = LoadTagRulesFile(path);
  REQUIRE_FALSE(rules.ok());
  CHECK(rules.status().message() == path + ": rules[0].name: required");
}

}  // namespace
}  // namespace scrm::tagger
