// At-least-once delivery: applying an interaction again (a crash before the cursor moved, a
// retry, POST /api/v1/interactions/replay) changes nothing.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "src/profiles/profile_service.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::profiles {
namespace {

using model::InteractionKind;
using testing::Fixture;

// Everything stored about the customer (raw scores, not decayed) and their timeline.
struct Snapshot {
  model::CustomerProfile profile;
  std::vector<model::TimelineEntry> timeline;

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

Snapshot Take(Fixture& f, int64_t customer_id) {
  auto profile = f.store.GetProfile(customer_id);
  INFO(profile.status().ToString());
  REQUIRE(profile.ok());
  return Snapshot{std::move(profile).value(), f.Timeline(customer_id)};
}

// A customer's life under the example rules: QR subscribe (channel tag + attribute), a budget
// message (tags + task), three messages in a week (活跃), a complaint (at_risk + task), a WeCom
// add by a member (owner, follower), then the member is deleted (lost + 流失提醒).
std::vector<model::Interaction> Life(Fixture& f) {
  std::vector<model::Interaction> items;
  items.push_back(
      f.OaEvent("oLIFE", InteractionKind::kSubscribe, model::QrScenePayload{"channel_expo", "t"}));
  items.push_back(f.OaText("oLIFE", "产品A 预算5万-10万"));
  items.push_back(f.OaText("oLIFE", "还有B款吗"));
  items.push_back(f.OaText("oLIFE", "什么时候发货"));
  items.push_back(f.OaText("oLIFE", "我要投诉，太差了"));
  items.push_back(f.Contact(InteractionKind::kContactAdd, "wmLIFE", "lisi", "channel_x"));
  items.push_back(f.Contact(InteractionKind::kFollowUserDelete, "wmLIFE", "lisi"));
  items.push_back(f.OaEvent("oLIFE", InteractionKind::kUnsubscribe));
  return items;
}

TEST_CASE("ProfileService changes nothing when every interaction is applied a second time",
          "[db]") {
  Fixture f(testing::ExampleRules());
  const std::vector<model::Interaction> life = Life(f);
  // The first pass in order, with the unionid the enrichment job learns once the WeCom add has
  // made the second customer (callbacks carry none): the two are one person from then on.
  f.Apply(std::vector<model::Interaction>(life.begin(), life.begin() + 6));
  REQUIRE(f.service.identities.LinkUnionid(f.ByOpenid("oLIFE"), "uLIFE").ok());
  REQUIRE(f.service.identities.LinkUnionid(f.ByExternal("wmLIFE"), "uLIFE").ok());
  f.Apply(std::vector<model::Interaction>(life.begin() + 6, life.end()));
  const int64_t id = f.ByOpenid("oLIFE");
  const Snapshot before = Take(f, id);
  // What the first pass did, so that "nothing changed" is not "nothing happened".
  CHECK(before.profile.customer.counters.interactions == 8);
  CHECK(before.profile.customer.stage == model::LifecycleStage::kLost);
  CHECK(before.profile.tags.size() >= 5);
  CHECK(before.profile.tasks.size() == 3);  // quote, complaint, 流失提醒
  CHECK(before.timeline.size() >= 8);

  f.clock.Advance(std::chrono::hours(48));  // a rewrite would show in updated_at_ms
  f.Apply(life);                            // the whole range again, one chunk
  CHECK(testing::Describe(Take(f, id).profile) == testing::Describe(before.profile));
  CHECK(Take(f, id) == before);
  for (const model::Interaction& it : life) f.Apply(it);  // and one at a time
  CHECK(Take(f, id) == before);
}

TEST_CASE(
    "ProfileService applies only a new rule when an interaction is replayed after it was "
    "added",
    "[db]") {
  Fixture f(testing::Rules(R"({"rules": [
    {"id": 1, "name": "A", "condition": {"keywords_any": ["产品A"]},
     "actions": [{"add_tag": {"tag": {"group": "兴趣", "name": "产品A"}, "weight": 2}}]}]})"));
  const model::Interaction message = f.OaText("oR", "产品A多少钱");
  f.Apply(message);
  const int64_t id = f.ByOpenid("oR");
  auto rules = tagger::ParseTagRules(R"({"rules": [
    {"id": 1, "name": "A", "condition": {"keywords_any": ["产品A"]},
     "actions": [{"add_tag": {"tag": {"group": "兴趣", "name": "产品A"}, "weight": 2}}]},
    {"id": 2, "name": "价格", "condition": {"keywords_any": ["多少钱"]},
     "actions": [{"add_tag": {"tag": {"group": "意向", "name": "价格咨询"}, "weight": 1}}]}]})");
  REQUIRE(rules.ok());
  REQUIRE(f.rules->Replace(std::move(rules).value()).ok());
  f.Apply(message);
  const CustomerView view = f.View(id);
  REQUIRE(testing::FindTag(view, "兴趣", "产品A") != nullptr);
  CHECK(testing::FindTag(view, "兴趣", "产品A")->detail.value.score == 2);  // not 4
  REQUIRE(testing::FindTag(view, "意向", "价格咨询") != nullptr);
  CHECK(view.customer.counters.messages == 1);
}

}  // namespace
}  // namespace scrm::profiles
