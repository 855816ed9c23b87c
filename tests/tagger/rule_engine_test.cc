#include "src/tagger/rule_engine.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/tagger/tagger_fakes.h"

namespace scrm::tagger {
namespace {

using model::InteractionKind;
using testing::Engine;
using testing::Event;
using testing::FakeWindowCounter;
using testing::Ids;
using testing::kT0;
using testing::Rule;
using testing::RuleJson;
using testing::Text;

std::vector<int64_t> Eval(const RuleEngine& engine, const model::Interaction& in,
                          const model::OrderFacts* order = nullptr) {
  const FakeWindowCounter counter(0);
  return Ids(engine.Evaluate(in, order, counter));
}

TEST_CASE("RuleEngine matches a keyword rule when the text contains any keyword", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"keywords_any": ["产品A", "A款"]})"))});
  CHECK(Eval(*engine, Text("我想了解一下A款的价格")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("产品A还有货吗")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("产品B还有货吗")).empty());
}

TEST_CASE("RuleEngine matches ASCII keywords in any case when the keyword has letters", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"keywords_any": ["Product A", "VIP"]})"))});
  CHECK(Eval(*engine, Text("tell me about PRODUCT a please")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("我是vip会员")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("product b")).empty());
}

TEST_CASE("RuleEngine treats keywords as literals when they hold regex metacharacters", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"keywords_any": ["a.b(c)*"]})"))});
  CHECK(Eval(*engine, Text("xx a.b(c)* yy")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("axb(c)")).empty());
}

TEST_CASE("RuleEngine matches a regex rule when the pattern is found in the text", "[unit]") {
  const auto engine =
      Engine({Rule(RuleJson(1, R"({"regex": "预算\\s*(\\d+)万\\s*[-到至~]\\s*(\\d+)万"})"))});
  CHECK(Eval(*engine, Text("我们预算5万-10万左右")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("预算 3万到 5万")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("预算还没定")).empty());
}

TEST_CASE("RuleEngine needs both a keyword and the regex when a rule has both", "[unit]") {
  const auto engine =
      Engine({Rule(RuleJson(1, R"({"keywords_any": ["产品A"], "regex": "\\d+台"})"))});
  CHECK(Eval(*engine, Text("产品A要20台")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("产品A多少钱")).empty());
  CHECK(Eval(*engine, Text("产品B要20台")).empty());
}

TEST_CASE("RuleEngine never matches text conditions when the interaction is not message.text",
          "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"keywords_any": ["产品A"]})"))});
  CHECK(Eval(*engine, Event(InteractionKind::kMessageLink,
                            model::LinkPayload{"产品A", "产品A介绍", "https://x/a"}))
            .empty());
  CHECK(Eval(*engine, Event(InteractionKind::kMessageText)).empty());  // no TextPayload
}

TEST_CASE("RuleEngine matches a kinds condition when the interaction has one of the kinds",
          "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"kinds": ["oa.subscribe", "contact.add"]})"))});
  CHECK(Eval(*engine, Event(InteractionKind::kSubscribe)) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Event(InteractionKind::kContactAdd)) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Event(InteractionKind::kScan)).empty());
  CHECK(Eval(*engine, Text("hi")).empty());
}

TEST_CASE("RuleEngine matches qr_scene equals and prefix on subscribe and scan", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"qr_scene": {"equals": "expo2026"}})")),
                              Rule(RuleJson(2, R"({"qr_scene": {"prefix": "channel_"}})"))});
  const model::QrScenePayload expo{"expo2026", "t"};
  const model::QrScenePayload channel{"channel_douyin", "t"};
  CHECK(Eval(*engine, Event(InteractionKind::kSubscribe, expo)) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Event(InteractionKind::kScan, channel)) == std::vector<int64_t>{2});
  CHECK(Eval(*engine, Event(InteractionKind::kScan, model::QrScenePayload{"expo", "t"})).empty());
  CHECK(Eval(*engine, Event(InteractionKind::kSubscribe)).empty());  // plain subscribe, no scene
}

TEST_CASE("RuleEngine matches contact_state when a contact event carries the State", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"contact_state": {"prefix": "channel_"}})"))});
  model::ContactChangePayload add;
  add.change_type = "add_external_contact";
  add.state = "channel_wechat_ad";
  CHECK(Eval(*engine, Event(InteractionKind::kContactAdd, add)) == std::vector<int64_t>{1});
  add.state = "other";
  CHECK(Eval(*engine, Event(InteractionKind::kContactAdd, add)).empty());
}

TEST_CASE("RuleEngine matches menu_key when the menu EventKey equals it", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"menu_key": "MENU_PRICE"})"))});
  CHECK(Eval(*engine, Event(InteractionKind::kMenuClick, model::MenuPayload{"MENU_PRICE", "1"})) ==
        std::vector<int64_t>{1});
  CHECK(Eval(*engine, Event(InteractionKind::kMenuClick, model::MenuPayload{"MENU_PRICE2", "1"}))
            .empty());
}

TEST_CASE("RuleEngine matches link_url on a link message and on a VIEW menu click", "[unit]") {
  const auto engine =
      Engine({Rule(RuleJson(1, R"({"link_url": {"prefix": "https://shop.example.com/a"}})"))});
  CHECK(Eval(*engine, Event(InteractionKind::kMessageLink,
                            model::LinkPayload{"t", "d", "https://shop.example.com/a?utm=1"})) ==
        std::vector<int64_t>{1});
  CHECK(Eval(*engine, Event(InteractionKind::kMenuView,
                            model::MenuPayload{"https://shop.example.com/a/1", "2"})) ==
        std::vector<int64_t>{1});
  CHECK(Eval(*engine, Event(InteractionKind::kMenuView,
                            model::MenuPayload{"https://shop.example.com/b", "2"}))
            .empty());
}

TEST_CASE("RuleEngine matches order conditions only when order facts are given", "[unit]") {
  const auto engine = Engine({
      Rule(RuleJson(1, R"({"order": {"sku_any": ["SKU-A1", "SKU-A2"]}})")),
      Rule(RuleJson(2, R"({"order": {"category_any": ["家电"]}})")),
      Rule(RuleJson(3, R"({"order": {"amount_min_cents": 500000}})")),
      Rule(RuleJson(4, R"({"order": {"amount_min_cents": 100000, "amount_max_cents": 499999}})")),
  });
  struct Case {
    std::vector<std::string> skus;
    std::vector<std::string> categories;
    int64_t amount_cents;
    std::vector<int64_t> expected;
  };
  const std::vector<Case> cases = {
      {{"SKU-A2"}, {"数码"}, 99, {1}},
      {{"SKU-B"}, {"家电", "厨房"}, 99, {2}},
      {{"SKU-B"}, {}, 500000, {3}},  // boundary: min is inclusive
      {{"SKU-B"}, {}, 499999, {4}},  // boundary: max is inclusive
      {{"SKU-A1"}, {"家电"}, 600000, {1, 2, 3}},
      {{}, {}, 99999, {}},
  };
  const model::Interaction in = Event(InteractionKind::kUnknown);
  for (const Case& c : cases) {
    model::OrderFacts order;
    order.order_id = "o1";
    order.skus = c.skus;
    order.categories = c.categories;
    order.amount_cents = c.amount_cents;
    INFO("amount " << c.amount_cents);
    CHECK(Eval(*engine, in, &order) == c.expected);
  }
  CHECK(Eval(*engine, in, nullptr).empty());
}

TEST_CASE("RuleEngine asks the counter for the window when the other conditions hold", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(
      1, R"({"window_count": {"kinds": ["message.text"], "min_count": 3, "window_days": 7}})"))});
  const model::Interaction in = Text("你好", kT0);
  {
    const FakeWindowCounter counter(3);
    CHECK(Ids(engine->Evaluate(in, nullptr, counter)) == std::vector<int64_t>{1});
    REQUIRE(counter.calls().size() == 1);
    CHECK(counter.calls()[0].kinds == std::vector<InteractionKind>{InteractionKind::kMessageText});
    CHECK(counter.calls()[0].since_ms == kT0 - 7 * 86400000LL);
  }
  {
    const FakeWindowCounter counter(2);
    CHECK(engine->Evaluate(in, nullptr, counter).empty());
  }
  {
    // A window-only rule applies to the kinds it counts: an event is not even counted.
    const FakeWindowCounter counter(100);
    CHECK(engine->Evaluate(Event(InteractionKind::kSubscribe), nullptr, counter).empty());
    CHECK(counter.calls().empty());
  }
}

TEST_CASE("RuleEngine does not ask the counter when another condition fails", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"keywords_any": ["产品A"],
             "window_count": {"kinds": ["message.text"], "min_count": 2, "window_days": 1}})"))});
  const FakeWindowCounter counter(5);
  CHECK(engine->Evaluate(Text("产品B"), nullptr, counter).empty());
  CHECK(counter.calls().empty());
  CHECK(Ids(engine->Evaluate(Text("产品A"), nullptr, counter)) == std::vector<int64_t>{1});
  CHECK(counter.calls().size() == 1);
}

TEST_CASE("RuleEngine returns matches by priority then id when several rules match", "[unit]") {
  const auto engine = Engine({
      Rule(RuleJson(5, R"({"keywords_any": ["产品A"]})", 0)),
      Rule(RuleJson(4, R"({"regex": "产品."})", 10)),
      Rule(RuleJson(3, R"({"kinds": ["message.text"]})", 10)),
      Rule(RuleJson(2, R"({"keywords_any": ["产品"]})", -5)),
      Rule(RuleJson(1, R"({"keywords_any": ["A"]})", 0)),
  });
  CHECK(Eval(*engine, Text("产品A")) == std::vector<int64_t>{3, 4, 1, 5, 2});
}

TEST_CASE("RuleEngine skips disabled rules when compiling", "[unit]") {
  model::TagRule off = Rule(RuleJson(2, R"({"keywords_any": ["产品A"]})"));
  off.enabled = false;
  off.condition.regex = "(";  // never validated: disabled rules are not compiled
  const auto engine = Engine({Rule(RuleJson(1, R"({"keywords_any": ["产品A"]})")), off});
  CHECK(engine->rule_count() == 1);
  CHECK(Eval(*engine, Text("产品A")) == std::vector<int64_t>{1});
}

TEST_CASE("RuleEngine compiles a shared pattern once when rules share it", "[unit]") {
  const auto engine = Engine({
      Rule(RuleJson(1, R"({"keywords_any": ["产品A", "促销"]})")),
      Rule(RuleJson(2, R"({"keywords_any": ["促销"]})")),
      Rule(RuleJson(3, R"({"regex": "促销"})")),  // same text as the quoted keyword
      Rule(RuleJson(4, R"({"keywords_any": ["vip"]})")),
      Rule(RuleJson(5, R"({"keywords_any": ["VIP"]})")),  // same case-folded pattern
  });
  CHECK(engine->pattern_count() == 3);
  CHECK(Eval(*engine, Text("双十一促销")) == std::vector<int64_t>{1, 2, 3});
  CHECK(Eval(*engine, Text("产品a")) == std::vector<int64_t>{1});
  CHECK(Eval(*engine, Text("Vip")) == std::vector<int64_t>{4, 5});
}

TEST_CASE("RuleEngine returns no match when the text matches no rule", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"keywords_any": ["产品A"]})")),
                              Rule(RuleJson(2, R"({"regex": "\\d{11}"})"))});
  CHECK(Eval(*engine, Text("今天天气不错")).empty());
  CHECK(Eval(*engine, Text("")).empty());
}

TEST_CASE("RuleEngine returns every matching rule when the text matches many", "[unit]") {
  std::vector<model::TagRule> rules;
  for (int i = 1; i <= 50; ++i) {
    rules.push_back(Rule(RuleJson(i, R"({"keywords_any": ["词)" + std::to_string(i) + R"(号"]})")));
  }
  const auto engine = Engine(std::move(rules));
  std::string text;
  for (int i = 1; i <= 50; i += 7) text += "词" + std::to_string(i) + "号，";
  CHECK(Eval(*engine, Text(text)) == std::vector<int64_t>{1, 8, 15, 22, 29, 36, 43, 50});
}

TEST_CASE("RuleEngine matches nothing when compiled from no rules", "[unit]") {
  const auto engine = Engine({});
  CHECK(engine->rule_count() == 0);
  CHECK(Eval(*engine, Text("产品A")).empty());
  CHECK(Eval(*engine, Event(InteractionKind::kSubscribe)).empty());
}

TEST_CASE("RuleEngine returns each action type as written when a rule matches", "[unit]") {
  const auto engine = Engine({Rule(R"({"id": 7, "version": 3, "name": "全部动作",
      "condition": {"keywords_any": ["产品A"]},
      "actions": [
        {"add_tag": {"tag": {"group": "兴趣", "name": "产品A"}, "weight": 2.5}},
        {"remove_tag": {"tag": {"group": "兴趣", "name": "产品B"}}},
        {"set_attribute": {"key": "interest", "value": "A"}},
        {"set_stage": {"stage": "engaged"}},
        {"create_task": {"title": "回访", "due_in_hours": 4}}]})")});
  const FakeWindowCounter counter;
  const std::vector<RuleMatch> matches = engine->Evaluate(Text("产品A"), nullptr, counter);
  REQUIRE(matches.size() == 1);
  CHECK(matches[0].rule_id == 7);
  CHECK(matches[0].rule_version == 3);
  CHECK(matches[0].rule_name == "全部动作");
  REQUIRE(matches[0].actions.size() == 5);
  CHECK(std::get<model::AddTagAction>(matches[0].actions[0]) ==
        model::AddTagAction{{"兴趣", "产品A"}, 2.5});
  CHECK(std::get<model::RemoveTagAction>(matches[0].actions[1]) ==
        model::RemoveTagAction{{"兴趣", "产品B"}});
  CHECK(std::get<model::SetAttributeAction>(matches[0].actions[2]) ==
        model::SetAttributeAction{"interest", "A"});
  CHECK(std::get<model::SetStageAction>(matches[0].actions[3]).stage ==
        model::LifecycleStage::kEngaged);
  CHECK(std::get<model::CreateTaskAction>(matches[0].actions[4]) ==
        model::CreateTaskAction{"回访", 4});
}

TEST_CASE("RuleEngine::Compile names the rule when an enabled rule is invalid", "[unit]") {
  model::TagRule bad = Rule(RuleJson(2, R"({"keywords_any": ["x"]})"));
  bad.condition.regex = "预算(";
  const auto engine = RuleEngine::Compile({Rule(RuleJson(1, R"({"kinds": ["oa.scan"]})")), bad});
  REQUIRE_FALSE(engine.ok());
  CHECK(engine.status().code() == core::StatusCode::kInvalidArgument);
  CHECK(engine.status().message().rfind("rules[1].condition.regex: invalid pattern: missing )",
                                        0) == 0);
}

TEST_CASE("RuleEngine::Compile fails with resource_exhausted when RE2 memory is too small",
          "[unit]") {
  std::vector<model::TagRule> rules;
  for (int i = 1; i <= 200; ++i) {
    rules.push_back(
        Rule(RuleJson(i, R"({"regex": "关键词)" + std::to_string(i) + R"(.{0,20}价格"})")));
  }
  RuleEngineOptions options;
  options.re2_max_mem_bytes = 16 << 10;
  const auto engine = RuleEngine::Compile(std::move(rules), options);
  REQUIRE_FALSE(engine.ok());
  CHECK(engine.status().code() == core::StatusCode::kResourceExhausted);
}

TEST_CASE("RuleEngine gives the same matches when evaluated from several threads", "[unit]") {
  const auto engine = Engine({Rule(RuleJson(1, R"({"keywords_any": ["产品A"]})")),
                              Rule(RuleJson(2, R"({"regex": "预算\\d+万"})"))});
  const std::vector<std::string> texts = {"产品A", "预算5万", "产品A预算9万", "无关"};
  const std::vector<std::vector<int64_t>> expected = {{1}, {2}, {1, 2}, {}};
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const FakeWindowCounter counter;  // one per thread: it records calls
      for (int i = 0; i < 2000; ++i) {
        const std::size_t k = static_cast<std::size_t>(i) % texts.size();
        if (Ids(engine->Evaluate(Text(texts[k]), nullptr, counter)) != expected[k]) {
          ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(mismatches == std::vector<int>(4, 0));
  CHECK(engine->text_scan_failures() == 0);
}

}  // namespace
}  // namespace scrm::tagger
