// Rule actions applied to profiles, with the evidence that answers "why does this customer have
// this tag" (the tagger's own tests cover every condition).
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "src/profiles/profile_service.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::profiles {
namespace {

using model::InteractionKind;
using testing::FindTag;
using testing::Fixture;

constexpr char kRulesRules[] = R"({"rules": [
  {"id": 11, "version": 3, "name": "提到产品A",
   "condition": {"kinds": ["message.text"], "keywords_any": ["产品A"]},
   "actions": [{"add_tag": {"tag": {"group": "兴趣", "name": "产品A"}, "weight": 2}}]},
  {"id": 12, "name": "不要了", "condition": {"kinds": ["message.text"], "keywords_any": ["不要了"]},
   "actions": [{"remove_tag": {"tag": {"group": "兴趣", "name": "产品A"}}},
               {"set_attribute": {"key": "interest", "value": ""}}]},
  {"id": 13, "name": "记下兴趣", "condition": {"kinds": ["message.text"], "keywords_any": ["产品A"]},
   "actions": [{"set_attribute": {"key": "interest", "value": "产品A"}}]},
  {"id": 14, "name": "投诉", "priority": 90,
   "condition": {"kinds": ["message.text"], "keywords_any": ["投诉"]},
   "actions": [{"set_stage": {"stage": "at_risk"}},
               {"create_task": {"title": "4小时内联系处理投诉", "due_in_hours": 4}}]},
  {"id": 15, "name": "活跃", "condition":
     {"window_count": {"kinds": ["message.text"], "min_count": 3, "window_days": 7}},
   "actions": [{"add_tag": {"tag": {"group": "活跃度", "name": "活跃"}, "weight": 1}}]}
]})";

TEST_CASE("ProfileService adds a rule's tag with the rule and interaction as evidence", "[db]") {
  Fixture f(testing::Rules(kRulesRules));
  const model::Interaction message = f.OaText("oE", "我想要产品A");
  f.Apply(message);
  const CustomerView view = f.View(f.ByOpenid("oE"));
  const TagView* tag = FindTag(view, "兴趣", "产品A");
  REQUIRE(tag != nullptr);
  CHECK(tag->detail.value.score == 2);
  CHECK(tag->detail.value.source == model::TagSource::kRule);
  CHECK(tag->detail.value.evidence_rule_id == 11);
  CHECK(tag->detail.value.evidence_rule_version == 3);
  CHECK(tag->detail.value.evidence_interaction_id == message.id);
  CHECK(tag->detail.value.updated_at_ms == message.occurred_at_ms);
  CHECK(tag->held);  // default threshold 1

  // A second mention adds up and becomes the evidence.
  f.clock.Advance(std::chrono::minutes(1));
  const model::Interaction again = f.OaText("oE", "产品A还有货吗");
  f.Apply(again);
  const TagView* after = FindTag(f.KeptView(f.ByOpenid("oE")), "兴趣", "产品A");
  REQUIRE(after != nullptr);
  CHECK(after->detail.value.score == Approx(4).epsilon(1e-4));
  CHECK(after->detail.value.evidence_interaction_id == again.id);
}

TEST_CASE("ProfileService sets and clears an attribute when rules say so", "[db]") {
  Fixture f(testing::Rules(kRulesRules));
  f.Apply(f.OaText("oA", "产品A"));
  CHECK(f.View(f.ByOpenid("oA")).customer.attributes.at("interest") == "产品A");
  f.Apply(f.OaText("oA", "算了不要了"));
  const CustomerView view = f.View(f.ByOpenid("oA"));
  CHECK_FALSE(view.customer.attributes.contains("interest"));
  CHECK(FindTag(view, "兴趣", "产品A") == nullptr);  // remove_tag
}

TEST_CASE("ProfileService moves the stage and creates a task for the owner when a rule matches",
          "[db]") {
  Fixture f(testing::Rules(kRulesRules));
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmT", "wangwu"));
  const int64_t id = f.ByExternal("wmT");
  // The complaint arrives over the OA, joined to the WeCom customer by unionid.
  REQUIRE(f.service.identities.LinkUnionid(id, "uT").ok());
  f.Apply(f.OaText("oT", "在吗"));
  REQUIRE(f.service.identities.LinkUnionid(f.ByOpenid("oT"), "uT").ok());
  const model::Interaction complaint = f.OaText("oT", "我要投诉");
  f.Apply(complaint);
  const CustomerView view = f.View(id);
  CHECK(view.customer.stage == model::LifecycleStage::kAtRisk);
  CHECK(view.customer.stage_reason == "rule:14");
  REQUIRE(view.tasks.size() == 1);
  const model::FollowUpTask& task = view.tasks[0];
  CHECK(task.owner_userid == "wangwu");
  CHECK(task.title == "4小时内联系处理投诉");
  CHECK(task.due_at_ms == complaint.occurred_at_ms + 4 * testing::kHour);
  CHECK(task.source_interaction_id == complaint.id);
  CHECK(task.source_rule_id == 14);
  CHECK(task.status == model::TaskStatus::kOpen);
  bool rule_stage_entry = false;
  for (const model::TimelineEntry& entry : f.Timeline(id)) {
    rule_stage_entry |= entry.kind == "stage.rule" && entry.interaction_id == complaint.id;
  }
  CHECK(rule_stage_entry);

  REQUIRE(f.service.editor.SetTaskStatus(task.id, model::TaskStatus::kDone).ok());
  CHECK(f.View(id).tasks[0].status == model::TaskStatus::kDone);
  CHECK(f.service.editor.SetTaskStatus(task.id + 100, model::TaskStatus::kDone).code() ==
        core::StatusCode::kNotFound);
  TaskQuery mine;
  mine.owner_userid = "wangwu";
  auto tasks = f.service.queries.ListTasks(mine);
  REQUIRE(tasks.ok());
  CHECK(tasks->size() == 1);
}

TEST_CASE(
    "ProfileService counts the customer's own messages in the window when a window_count "
    "rule is evaluated",
    "[db]") {
  Fixture f(testing::Rules(kRulesRules));
  f.Apply(f.OaText("oW", "1"));
  f.clock.Advance(std::chrono::hours(24 * 8));  // falls out of the 7-day window
  f.Apply(f.OaText("oW", "2"));
  f.Apply(f.OaText("oOTHER", "x"));  // someone else's message does not count
  f.Apply(f.OaText("oW", "3"));
  CHECK(FindTag(f.KeptView(f.ByOpenid("oW")), "活跃度", "活跃") == nullptr);
  f.Apply(f.OaText("oW", "4"));  // third in the window
  const TagView* active = FindTag(f.KeptView(f.ByOpenid("oW")), "活跃度", "活跃");
  REQUIRE(active != nullptr);
  CHECK(active->detail.value.evidence_rule_id == 15);
}

TEST_CASE("ProfileService keeps built-in effects when no rules are loaded", "[db]") {
  Fixture f;
  f.Apply(f.OaText("oN", "产品A"));
  const CustomerView view = f.View(f.ByOpenid("oN"));
  CHECK(view.tags.empty());
  CHECK(view.customer.counters.messages == 1);
  CHECK(f.Timeline(view.customer.id).size() == 1);
  CHECK(f.Timeline(view.customer.id)[0].summary == "产品A");
}

TEST_CASE(
    "ProfileService cuts a long message on a character boundary when it writes the "
    "timeline",
    "[db]") {
  Fixture f;
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "产品";  // 600 bytes
  f.Apply(f.OaText("oL", long_text));
  const auto timeline = f.Timeline(f.ByOpenid("oL"));
  REQUIRE(timeline.size() == 1);
  CHECK(timeline[0].summary.size() <= 200);
  CHECK(timeline[0].summary.size() % 3 == 0);  // whole 3-byte characters
  CHECK(long_text.starts_with(timeline[0].summary));
}

}  // namespace
}  // namespace scrm::profiles
