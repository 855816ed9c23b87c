// Followers, owner and the lifecycle stage from WeCom contact events and OA subscriptions
// (docs/tagging.md L1–L5), with the 流失提醒 alert.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "src/profiles/profile_service.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::profiles {
namespace {

using model::FollowerState;
using model::InteractionKind;
using model::LifecycleStage;
using testing::Fixture;

const model::Follower* FollowerOf(const CustomerView& view, const std::string& userid) {
  for (const model::Follower& f : view.followers) {
    if (f.userid == userid) return &f;
  }
  return nullptr;
}

TEST_CASE("ProfileService makes the first member the owner when members add the customer", "[db]") {
  Fixture f;
  const model::Interaction first = f.Contact(InteractionKind::kContactAdd, "wmF", "zhangsan");
  f.Apply(first);
  f.clock.Advance(std::chrono::hours(1));
  f.Apply(f.Contact(InteractionKind::kContactAddHalf, "wmF", "lisi"));
  const CustomerView view = f.View(f.ByExternal("wmF"));
  CHECK(view.customer.owner_userid == "zhangsan");
  REQUIRE(view.followers.size() == 2);
  const model::Follower* owner = FollowerOf(view, "zhangsan");
  REQUIRE(owner != nullptr);
  CHECK(owner->is_owner);
  CHECK(owner->state == FollowerState::kActive);
  CHECK(owner->account_id == "corp1");
  CHECK(owner->added_at_ms == first.occurred_at_ms);
  CHECK(owner->removed_at_ms == 0);
  const model::Follower* second = FollowerOf(view, "lisi");
  REQUIRE(second != nullptr);
  CHECK_FALSE(second->is_owner);
  CHECK(second->state == FollowerState::kHalf);
}

TEST_CASE(
    "ProfileService marks the customer lost with a 流失提醒 task when they delete their only "
    "member",
    "[db]") {
  Fixture f;
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmL", "zhangsan"));
  f.clock.Advance(std::chrono::hours(2));
  const model::Interaction leave = f.Contact(InteractionKind::kFollowUserDelete, "wmL", "zhangsan");
  f.Apply(leave);
  const int64_t id = f.ByExternal("wmL");
  const CustomerView view = f.View(id);
  CHECK(view.customer.stage == LifecycleStage::kLost);
  CHECK(view.customer.stage_reason == "contact.follow_user_delete");
  CHECK(view.customer.stage_staff == "zhangsan");
  REQUIRE(view.tasks.size() == 1);
  const model::FollowUpTask& alert = view.tasks[0];
  CHECK(alert.title == "流失提醒：客户删除了员工 zhangsan");
  CHECK(alert.owner_userid == "zhangsan");
  CHECK(alert.due_at_ms == leave.occurred_at_ms + 24 * testing::kHour);
  CHECK(alert.source_interaction_id == leave.id);
  CHECK(alert.source_rule_id == 0);
  const model::Follower* follower = FollowerOf(view, "zhangsan");
  REQUIRE(follower != nullptr);
  CHECK(follower->state == FollowerState::kDeletedByCustomer);
  CHECK(follower->removed_at_ms == leave.occurred_at_ms);
  const auto timeline = f.Timeline(id);
  REQUIRE_FALSE(timeline.empty());
  CHECK(timeline.back().kind == "stage");
  CHECK(timeline.back().summary == "new -> lost (contact.follow_user_delete, staff zhangsan)");
}

TEST_CASE("ProfileService hands the customer to the remaining member when the owner deletes them",
          "[db]") {
  Fixture f;
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmH", "zhangsan"));
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmH", "lisi"));
  f.Apply(f.Contact(InteractionKind::kContactDelete, "wmH", "zhangsan"));
  const CustomerView view = f.View(f.ByExternal("wmH"));
  CHECK(view.customer.stage == LifecycleStage::kEngaged);  // L2: still reachable
  CHECK(view.customer.owner_userid == "lisi");
  CHECK(view.tasks.empty());
  CHECK(FollowerOf(view, "zhangsan")->state == FollowerState::kDeletedByStaff);
  CHECK_FALSE(FollowerOf(view, "zhangsan")->is_owner);
  CHECK(FollowerOf(view, "lisi")->is_owner);
  // The last member leaving makes the customer lost; the alert goes to the owner.
  f.Apply(f.Contact(InteractionKind::kContactDelete, "wmH", "lisi"));
  const CustomerView lost = f.View(f.ByExternal("wmH"));
  CHECK(lost.customer.stage == LifecycleStage::kLost);
  CHECK(lost.customer.stage_reason == "contact.delete");
  CHECK(lost.customer.stage_staff == "lisi");
  REQUIRE(lost.tasks.size() == 1);
  CHECK(lost.tasks[0].title == "流失提醒：员工 lisi 删除了客户");
  CHECK(lost.tasks[0].owner_userid == "lisi");
}

TEST_CASE("ProfileService marks an OA follower lost when they unsubscribe", "[db]") {
  Fixture f;
  f.Apply(f.OaEvent("oU", InteractionKind::kSubscribe));
  f.Apply(f.OaEvent("oU", InteractionKind::kUnsubscribe));
  const CustomerView view = f.View(f.ByOpenid("oU"));
  CHECK(view.customer.stage == LifecycleStage::kLost);
  CHECK(view.customer.stage_reason == "oa.unsubscribe");
  REQUIRE(view.tasks.size() == 1);
  CHECK(view.tasks[0].title == "流失提醒：客户取消关注公众号");
  REQUIRE(view.followers.size() == 1);
  CHECK(view.followers[0].userid.empty());
  CHECK(view.followers[0].state == FollowerState::kUnsubscribed);
  // Coming back re-activates them.
  f.Apply(f.OaEvent("oU", InteractionKind::kSubscribe));
  const CustomerView back = f.View(f.ByOpenid("oU"));
  CHECK(back.customer.stage == LifecycleStage::kEngaged);
  CHECK(back.customer.stage_reason == "reactivated");
  CHECK(back.followers[0].state == FollowerState::kActive);
}

}  // namespace
}  // namespace scrm::profiles
