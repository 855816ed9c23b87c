// Identity resolution (PROTOCOL §5): openid / external_userid / unionid -> one customer.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "src/profiles/profile_service.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::profiles {
namespace {

using model::IdentityKind;
using model::InteractionKind;
using testing::Fixture;

TEST_CASE("ProfileService creates a customer when an unknown openid sends a message", "[db]") {
  Fixture f;
  f.Apply(f.OaText("oOPEN1", "你好"));
  const int64_t id = f.ByOpenid("oOPEN1");
  const CustomerView view = f.View(id);
  CHECK(view.customer.stage == model::LifecycleStage::kNew);
  CHECK(view.customer.stage_reason == "first_interaction");
  CHECK(view.customer.counters.interactions == 1);
  CHECK(view.customer.counters.messages == 1);
  CHECK(view.customer.first_interaction_at_ms == testing::kT0);
  CHECK(view.customer.created_at_ms == testing::kT0);
  REQUIRE(view.identities.size() == 1);
  CHECK(view.identities[0].platform == "oa");
  CHECK(view.identities[0].account_id == "oa1");
  CHECK(view.identities[0].kind == IdentityKind::kOpenid);
  CHECK(view.identities[0].value == "oOPEN1");
}

TEST_CASE("ProfileService resolves the same customer when one openid sends twice", "[db]") {
  Fixture f;
  f.Apply(f.OaText("oOPEN1", "第一条"));
  const int64_t first = f.ByOpenid("oOPEN1");
  f.Apply(f.OaText("oOPEN1", "第二条"));
  CHECK(f.ByOpenid("oOPEN1") == first);
  const CustomerView view = f.View(first);
  CHECK(view.customer.counters.messages == 2);
  CHECK(view.customer.stage == model::LifecycleStage::kEngaged);
  CHECK(view.customer.stage_reason == "engagement");
  auto all = f.service.queries.ListCustomers(CustomerQuery{});
  REQUIRE(all.ok());
  CHECK(all->size() == 1);
}

TEST_CASE("ProfileService keeps one openid per account when two OAs see one person", "[db]") {
  Fixture f;
  f.Apply(f.OaText("oSAME", "a"));
  model::Interaction other = f.OaText("oSAME", "b");
  other.account_id = "oa2";
  f.Apply(other);
  // Same string, different AppID: different people as far as openids go (PROTOCOL §5).
  CHECK(f.ByOpenid("oSAME", "oa1") != f.ByOpenid("oSAME", "oa2"));
}

TEST_CASE("ProfileService joins an OA follower and a WeCom customer when they share a unionid",
          "[db]") {
  Fixture f;
  f.Apply(f.OaText("oOPEN1", "我想了解产品A"));
  const int64_t id = f.ByOpenid("oOPEN1");
  REQUIRE(f.service.identities.LinkUnionid(id, "uUNION1").ok());  // OA user/info
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmEXT1", "zhangsan"));
  auto linked =
      f.service.identities.LinkUnionid(f.ByExternal("wmEXT1"), "uUNION1");  // externalcontact/get
  REQUIRE(linked.ok());
  CHECK(linked->customer_id == id);
  CHECK(f.ByExternal("wmEXT1") == id);
  const CustomerView view = f.View(id);
  CHECK(view.identities.size() == 3);
  CHECK(view.customer.owner_userid == "zhangsan");
}

TEST_CASE("ProfileService links and merges nothing when an interaction carries a unionid", "[db]") {
  // Interactions come from callback bodies; a UnionId there is a claim, not an identity
  // (PROTOCOL §5). Even one that reached an Interaction (a row an older scrmd stored) is ignored.
  Fixture f;
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmVICTIM", "zhangsan"));
  const int64_t victim = f.ByExternal("wmVICTIM");
  REQUIRE(f.service.identities.LinkUnionid(victim, "uVICTIM").ok());
  f.clock.Advance(std::chrono::hours(1));
  f.Apply(f.OaText("oATTACKER", "hi", "uVICTIM"));
  const int64_t attacker = f.ByOpenid("oATTACKER");
  CHECK(attacker != victim);
  CHECK(f.ByExternal("wmVICTIM") == victim);
  CHECK(f.Find("wechat", "", IdentityKind::kUnionid, "uVICTIM") == victim);
  CHECK(f.View(victim).merges.empty());
  CHECK(f.View(attacker).merges.empty());
  CHECK(f.View(attacker).identities.size() == 1);
  f.Apply(f.OaText("oNEW", "hi", "uNEW"));
  CHECK(f.View(f.ByOpenid("oNEW")).identities.size() == 1);  // no unionid identity added
}

TEST_CASE("ProfileService merges two customers into the older one when a unionid arrives late",
          "[db]") {
  Fixture f;
  f.Apply(f.OaText("oOPEN1", "你好"));  // A: OA follower, no unionid yet
  const int64_t a = f.ByOpenid("oOPEN1");
  f.clock.Advance(std::chrono::hours(1));
  f.Apply(f.Contact(InteractionKind::kContactAdd, "wmEXT1", "zhangsan"));
  const int64_t b = f.ByExternal("wmEXT1");  // B: WeCom customer whose unionid we know
  REQUIRE(f.service.identities.LinkUnionid(b, "uUNION1").ok());
  REQUIRE(a != b);
  f.clock.Advance(std::chrono::hours(1));
  f.Apply(f.OaText("oOPEN1", "还是我"));
  // OA user/info now gives A's unionid: the same person as B.
  REQUIRE(f.service.identities.LinkUnionid(a, "uUNION1").ok());

  CHECK(f.ByOpenid("oOPEN1") == a);
  CHECK(f.ByExternal("wmEXT1") == a);
  CHECK(f.Find("wechat", "", IdentityKind::kUnionid, "uUNION1") == a);
  const CustomerView survivor = f.View(a);
  CHECK(survivor.identities.size() == 3);
  CHECK(survivor.customer.counters.interactions == 3);
  CHECK(survivor.customer.owner_userid == "zhangsan");
  CHECK(f.Timeline(a).size() >= 3);
  REQUIRE(survivor.merges.size() == 1);
  CHECK(survivor.merges[0].survivor_id == a);
  CHECK(survivor.merges[0].merged_id == b);
  CHECK(survivor.merges[0].reason == "unionid");
  CHECK_FALSE(survivor.merges[0].undone_at_ms.has_value());
  const CustomerView merged = f.View(b);
  CHECK(merged.customer.merged_into == a);
  CHECK(merged.identities.empty());
  // A merged customer is left out of lists.
  auto all = f.service.queries.ListCustomers(CustomerQuery{});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK(all->at(0).id == a);
}

TEST_CASE("ProfileService creates no customer when a WeCom member sends an app message", "[db]") {
  Fixture f;
  f.Apply(f.MemberText("zhangsan", "今天的日报"));
  auto all = f.service.queries.ListCustomers(CustomerQuery{});
  REQUIRE(all.ok());
  CHECK(all->empty());
}

TEST_CASE("ProfileService creates no customer when a platform report names an unknown openid",
          "[db]") {
  Fixture f;
  f.Apply(f.OaEvent("oNEW", InteractionKind::kTemplateSendFinish,
                    model::SendJobPayload{"1", "success", 0, 0, 0, 0}));
  CHECK_FALSE(f.Find("oa", "oa1", IdentityKind::kOpenid, "oNEW").has_value());
  // Once known, the same report is attached to the customer.
  f.Apply(f.OaEvent("oNEW", InteractionKind::kSubscribe));
  f.Apply(f.OaEvent("oNEW", InteractionKind::kTemplateSendFinish,
                    model::SendJobPayload{"2", "success", 0, 0, 0, 0}));
  CHECK(f.View(f.ByOpenid("oNEW")).customer.counters.events == 2);
}

TEST_CASE("ProfileService AddIdentity attaches a phone and refuses one another customer has",
          "[db]") {
  Fixture f;
  f.Apply(f.OaText("oA", "a"));
  f.Apply(f.OaText("oB", "b"));
  model::Identity phone;
  phone.kind = IdentityKind::kPhone;
  phone.value = "+8613800000000";
  auto added = f.service.identities.AddIdentity(f.ByOpenid("oA"), phone);
  REQUIRE(added.ok());
  CHECK(added->customer_id == f.ByOpenid("oA"));
  CHECK(f.Find("", "", IdentityKind::kPhone, "+8613800000000") == f.ByOpenid("oA"));
  auto taken = f.service.identities.AddIdentity(f.ByOpenid("oB"), phone);
  CHECK(taken.status().code() == core::StatusCode::kAlreadyExists);
  phone.value.clear();
  CHECK(f.service.identities.AddIdentity(f.ByOpenid("oB"), phone).status().code() ==
        core::StatusCode::kInvalidArgument);
  CHECK(
      f.service.identities
          .AddIdentity(999999, model::Identity{0, 0, "erp", "", IdentityKind::kExternal, "C-1", 0})
          .status()
          .code() == core::StatusCode::kNotFound);
}

TEST_CASE("ProfileService ListCustomers finds a customer by identity value and attribute text",
          "[db]") {
  Fixture f(testing::ExampleRules());
  f.Apply(
      f.OaEvent("oQR", InteractionKind::kSubscribe, model::QrScenePayload{"channel_expo", "t"}));
  f.Apply(f.OaText("oOTHER", "hi"));
  CustomerQuery by_value;
  by_value.query = "oQR";
  auto found = f.service.queries.ListCustomers(by_value);
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK(found->at(0).id == f.ByOpenid("oQR"));
  CustomerQuery by_attribute;
  by_attribute.query = "oa_qr";  // source_channel set by example rule 7
  found = f.service.queries.ListCustomers(by_attribute);
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK(found->at(0).id == f.ByOpenid("oQR"));
  CustomerQuery by_tag;
  auto tag = f.store.tags.Find("渠道", "公众号渠道码");
  REQUIRE(tag.ok());
  REQUIRE(tag->has_value());
  by_tag.tag_id = (*tag)->tag.id;
  found = f.service.queries.ListCustomers(by_tag);
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CustomerQuery by_stage;
  by_stage.stage = model::LifecycleStage::kEngaged;
  found = f.service.queries.ListCustomers(by_stage);
  REQUIRE(found.ok());
  CHECK(found->empty());
  CustomerQuery bad;
  bad.limit = 0;
  CHECK(f.service.queries.ListCustomers(bad).status().code() == core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::profiles
