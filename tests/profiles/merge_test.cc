// Merging two customers and undoing it: everything moves, is recorded, and comes back exactly.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "src/profiles/profile_service.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::profiles {
namespace {

using core::StatusCode;
using model::InteractionKind;
using testing::FindTag;
using testing::Fixture;
using testing::WithoutMerges;

constexpr char kRules[] = R"({"rules": [
  {"id": 1, "name": "产品A", "condition": {"kinds": ["message.text"], "keywords_any": ["产品A"]},
   "actions": [{"add_tag": {"tag": {"group": "兴趣", "name": "产品A"}, "weight": 2}},
               {"set_attribute": {"key": "interest", "value": "A"}}]},
  {"id": 2, "name": "加好友", "condition": {"kinds": ["contact.add"]},
   "actions": [{"add_tag": {"tag": {"group": "渠道", "name": "企微"}, "weight": 1}},
               {"set_attribute": {"key": "source", "value": "wecom"}},
               {"create_task": {"title": "24小时内问候", "due_in_hours": 24}}]}
]})";

// A: an OA follower interested in 产品A. B: a WeCom customer of zhangsan with the channel tag,
// a task, and (by hand) a score on 产品A too, so that one tag is shared and one is not.
struct TwoCustomers {
  Fixture f{testing::Rules(kRules)};
  int64_t a = 0;
  int64_t b = 0;

  TwoCustomers() {
    f.Apply(f.OaEvent("oA", InteractionKind::kSubscribe));
    f.Apply(f.OaText("oA", "想了解产品A"));
    a = f.ByOpenid("oA");
    f.clock.Advance(std::chrono::hours(5));
    f.Apply(f.Contact(InteractionKind::kContactAdd, "wmB", "zhangsan"));
    b = f.ByExternal("wmB");
    f.clock.Advance(std::chrono::hours(5));
    // Decaying, like the rule-added score of a: the merged sum decays like its parts.
    REQUIRE(f.service.editor.AddManualTag(b, {"兴趣", "产品A"}, 1.5, /*decay=*/true).ok());
    f.clock.Advance(std::chrono::hours(5));
  }
};

TEST_CASE("ProfileService Merge moves and combines everything into the survivor when asked",
          "[db]") {
  TwoCustomers t;
  Fixture& f = t.f;
  const CustomerView a_before = f.View(t.a);
  const CustomerView b_before = f.View(t.b);
  const size_t timeline_entries = f.Timeline(t.a).size() + f.Timeline(t.b).size();
  auto merge = f.service.identities.Merge(t.a, t.b, "同一个人");
  INFO(merge.status().ToString());
  REQUIRE(merge.ok());
  CHECK(merge->survivor_id == t.a);
  CHECK(merge->merged_id == t.b);
  CHECK(merge->reason == "同一个人");
  CHECK(merge->at_ms == f.clock.NowUnixMillis());

  const CustomerView a = f.View(t.a);
  CHECK(a.identities.size() == 2);
  CHECK(a.customer.counters.interactions == 3);
  CHECK(a.customer.owner_userid == "zhangsan");
  CHECK(a.customer.attributes.at("interest") == "A");
  CHECK(a.customer.attributes.at("source") == "wecom");
  CHECK(a.tasks.size() == 1);
  CHECK(a.followers.size() == 2);
  const TagView* shared = FindTag(a, "兴趣", "产品A");
  REQUIRE(shared != nullptr);
  // Both scores, each decayed from its own time: the sum decays like the parts.
  CHECK(shared->decayed_score == Approx(FindTag(a_before, "兴趣", "产品A")->decayed_score +
                                        FindTag(b_before, "兴趣", "产品A")->decayed_score));
  CHECK(FindTag(a, "渠道", "企微") != nullptr);
  CHECK(f.Timeline(t.a).size() == timeline_entries);
  const CustomerView b = f.View(t.b);
  CHECK(b.customer.merged_into == t.a);
  CHECK(b.identities.empty());
  CHECK(b.tags.empty());
  CHECK(b.tasks.empty());
  CHECK(b.followers.empty());
  CHECK(f.Timeline(t.b).empty());
}

TEST_CASE("ProfileService UndoMerge restores both customers exactly when nothing happened since",
          "[db]") {
  TwoCustomers t;
  Fixture& f = t.f;
  const CustomerView a_before = f.View(t.a);
  const CustomerView b_before = f.View(t.b);
  const auto a_timeline = f.Timeline(t.a);
  const auto b_timeline = f.Timeline(t.b);

  auto merge = f.service.identities.Merge(t.a, t.b, "");
  REQUIRE(merge.ok());
  CHECK(merge->reason == "manual");
  f.clock.Advance(std::chrono::hours(1));
  auto undone = f.service.identities.UndoMerge(merge->id);
  INFO(undone.status().ToString());
  REQUIRE(undone.ok());
  const int64_t undone_at = f.clock.NowUnixMillis();
  CHECK(undone->undone_at_ms == undone_at);

  // Views decay scores to the clock's now: look at both at the same time.
  f.clock.SetUnixMillis(undone_at - 3600 * 1000);
  const CustomerView a_after = f.View(t.a);
  const CustomerView b_after = f.View(t.b);
  CHECK(testing::Describe(WithoutMerges(a_after)) == testing::Describe(WithoutMerges(a_before)));
  CHECK(testing::Describe(WithoutMerges(b_after)) == testing::Describe(WithoutMerges(b_before)));
  CHECK(WithoutMerges(a_after) == WithoutMerges(a_before));
  CHECK(WithoutMerges(b_after) == WithoutMerges(b_before));
  CHECK(f.Timeline(t.a) == a_timeline);
  CHECK(f.Timeline(t.b) == b_timeline);
  REQUIRE(a_after.merges.size() == 1);
  CHECK(a_after.merges[0].undone_at_ms == undone_at);
  CHECK(b_after.merges == a_after.merges);
}

TEST_CASE("ProfileService UndoMerge keeps what happened since when the survivor moved on", "[db]") {
  TwoCustomers t;
  Fixture& f = t.f;
  const CustomerView a_before = f.View(t.a);
  auto merge = f.service.identities.Merge(t.a, t.b, "");
  REQUIRE(merge.ok());
  f.Apply(f.OaText("oA", "还是产品A"));  // the survivor acts after the merge
  REQUIRE(f.service.identities.UndoMerge(merge->id).ok());
  const CustomerView a = f.View(t.a);
  CHECK(a.customer.counters.interactions == a_before.customer.counters.interactions + 1);
  CHECK(a.identities.size() == 1);
  // The merged customer's 1.5 is taken out again; a_before's 2 and the new 2 stay (decayed).
  const TagView* tag = FindTag(a, "兴趣", "产品A");
  REQUIRE(tag != nullptr);
  CHECK(tag->decayed_score == Approx(FindTag(a_before, "兴趣", "产品A")->decayed_score + 2.0));
  CHECK(FindTag(a, "渠道", "企微") == nullptr);
  const CustomerView b = f.View(t.b);
  CHECK_FALSE(b.customer.merged_into.has_value());
  CHECK(b.identities.size() == 1);
}

TEST_CASE("ProfileService UndoMerge refuses when the merge is already undone", "[db]") {
  TwoCustomers t;
  auto merge = t.f.service.identities.Merge(t.a, t.b, "");
  REQUIRE(merge.ok());
  REQUIRE(t.f.service.identities.UndoMerge(merge->id).ok());
  CHECK(t.f.service.identities.UndoMerge(merge->id).status().code() ==
        StatusCode::kFailedPrecondition);
  CHECK(t.f.service.identities.UndoMerge(merge->id + 100).status().code() == StatusCode::kNotFound);
}

TEST_CASE("ProfileService Merge refuses a customer when it is itself, unknown or merged", "[db]") {
  TwoCustomers t;
  CHECK(t.f.service.identities.Merge(t.a, t.a, "").status().code() == StatusCode::kInvalidArgument);
  CHECK(t.f.service.identities.Merge(t.a, 999999, "").status().code() == StatusCode::kNotFound);
  CHECK(t.f.service.identities.Merge(t.a, t.b, std::string(257, 'x')).status().code() ==
        StatusCode::kInvalidArgument);
  REQUIRE(t.f.service.identities.Merge(t.a, t.b, "").ok());
  CHECK(t.f.service.identities.Merge(t.a, t.b, "").status().code() ==
        StatusCode::kFailedPrecondition);
  CHECK(t.f.service.identities.Merge(t.b, t.a, "").status().code() ==
        StatusCode::kFailedPrecondition);
}

TEST_CASE("ProfileService UndoMerge refuses when the survivor was merged again since", "[db]") {
  TwoCustomers t;
  Fixture& f = t.f;
  f.Apply(f.OaText("oC", "第三个人"));
  const int64_t c = f.ByOpenid("oC");
  auto first = f.service.identities.Merge(t.a, t.b, "");
  REQUIRE(first.ok());
  auto second = f.service.identities.Merge(c, t.a, "");
  REQUIRE(second.ok());
  CHECK(f.service.identities.UndoMerge(first->id).status().code() ==
        StatusCode::kFailedPrecondition);
  REQUIRE(f.service.identities.UndoMerge(second->id).ok());
  CHECK(f.service.identities.UndoMerge(first->id).ok());
}

TEST_CASE("ProfileService does not merge again automatically when a unionid merge was undone",
          "[db]") {
  Fixture f;
  f.Apply(f.OaText("oOPEN1", "你好"));
  const int64_t a = f.ByOpenid("oOPEN1");
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmEXT1", "zhangsan"));
  const int64_t b = f.ByExternal("wmEXT1");
  REQUIRE(f.service.identities.LinkUnionid(b, "uUNION1").ok());
  f.Apply(f.OaText("oOPEN1", "还是我"));
  REQUIRE(f.service.identities.LinkUnionid(a, "uUNION1").ok());
  const CustomerView merged = f.View(a);
  REQUIRE(merged.merges.size() == 1);
  REQUIRE(f.service.identities.UndoMerge(merged.merges[0].id).ok());
  CHECK(f.ByExternal("wmEXT1") == b);
  f.Apply(f.OaText("oOPEN1", "又是我"));
  REQUIRE(f.service.identities.LinkUnionid(a, "uUNION1").ok());
  CHECK(f.ByOpenid("oOPEN1") == a);
  CHECK(f.ByExternal("wmEXT1") == b);
  CHECK(f.Find("wechat", "", model::IdentityKind::kUnionid, "uUNION1") == b);
  CHECK(f.View(a).merges.size() == 1);
}

}  // namespace
}  // namespace scrm::profiles
