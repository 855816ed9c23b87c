// The reference semantics (tests/support/segment_reference.h) on a few hand-made customers:
// the brute force the correctness test trusts must itself say what docs/segments.md says.
#include "tests/support/segment_reference.h"

#include <catch2/catch.hpp>

#include "campaigns/segments/parser.h"

namespace scrm::segments::testing {
namespace {

constexpr int64_t kNow = 1767225600000;
constexpr int64_t kDayMs = 86'400'000;

CustomerFacts Alice() {
  CustomerFacts f;
  f.id = 1;
  f.stage = model::LifecycleStage::kCustomer;
  f.owner = "zhangsan";
  f.platforms = {"wecom"};
  f.accounts = {"acme"};
  f.followers = {FollowerFact{"acme", "zhangsan", model::FollowerState::kActive},
                 FollowerFact{"acme", "lisi", model::FollowerState::kDeletedByStaff}};
  f.channel = "expo2026";
  f.attributes = {{"city", "杭州"}};
  f.created_at_ms = kNow - 10 * kDayMs;
  f.last_active_ms = kNow - 2 * kDayMs;
  f.tags = {{"兴趣/产品A", TagFact{1.5, 1}}, {"意向/价格咨询", TagFact{0.5, 1}}};
  f.interactions = {InteractionFact{"message.text", kNow - 1 * kDayMs},
                    InteractionFact{"message.text", kNow - 3 * kDayMs},
                    InteractionFact{"message.text", kNow - 8 * kDayMs},
                    InteractionFact{"oa.subscribe", kNow - 1 * kDayMs}};
  return f;
}

// Bob: an OA follower who unsubscribed, never active.
CustomerFacts Bob() {
  CustomerFacts f;
  f.id = 2;
  f.platforms = {"oa"};
  f.accounts = {"shop"};
  f.followers = {FollowerFact{"shop", "", model::FollowerState::kUnsubscribed}};
  f.created_at_ms = kNow - 100 * kDayMs;
  return f;
}

bool Matches(const std::string& text, const CustomerFacts& facts) {
  auto q = Parse(text);
  INFO(text << ": " << q.status().ToString());
  REQUIRE(q.ok());
  return ReferenceMatches(*q, facts, kNow);
}

TEST_CASE("Reference semantics of the value predicates on one customer", "[unit]") {
  const CustomerFacts a = Alice();
  CHECK(Matches("tag:\"兴趣/产品A\"", a));
  CHECK_FALSE(Matches("tag:\"意向/价格咨询\"", a));  // a score below the threshold
  CHECK(Matches("tag_score:\"意向/价格咨询\" < 1", a));
  CHECK_FALSE(Matches("tag_score:\"意向/无\" < 1", a));  // no score: no comparison holds
  CHECK(Matches("stage:customer and platform:wecom and not platform:oa", a));
  CHECK(Matches("account:acme and owner:zhangsan and follower:zhangsan", a));
  CHECK_FALSE(Matches("follower:lisi", a));  // that relation ended
  CHECK(Matches("attr:city = \"杭州\" and not attr:city != \"杭州\"", a));
  CHECK_FALSE(Matches("attr:age != \"3\"", a));  // != needs the attribute too
  CHECK(Matches("channel:expo2026 and not channel:other", a));
}

TEST_CASE("Reference semantics of windows and counts", "[unit]") {
  const CustomerFacts a = Alice();
  CHECK(Matches("last_active < 3d and last_active > 1d and not last_active < 2d", a));
  CHECK(Matches("last_active <= 2d", a));
  CHECK(Matches("created > 7d and created < 11d", a));
  CHECK(Matches("count(message.text, 7d) = 2 and count(message.text, 9d) >= 3", a));
  CHECK(Matches("count(oa.subscribe, 1d) = 1", a));  // exactly a day old: inside 1d
  CHECK(Matches("count(oa.subscribe, 1439m) = 0", a));
  CHECK(Matches("count(message.image, 90d) = 0", a));
  const CustomerFacts b = Bob();
  // Never active: as old as the customer.
  CHECK(Matches("relation:any and last_active > 99d and last_active <= 100d", b));
  CHECK_FALSE(Matches("relation:any and last_active < 100d", b));
}

TEST_CASE("Reference semantics of relations, orders and the default audience", "[unit]") {
  const CustomerFacts a = Alice();
  const CustomerFacts b = Bob();
  CHECK(Matches("platform:oa or platform:wecom", a));
  CHECK_FALSE(Matches("platform:oa or platform:wecom", b));  // unsubscribed: left out
  CHECK(Matches("platform:oa and relation:ended", b));
  CHECK_FALSE(Matches("relation:ended", a));
  CHECK(Matches("relation:connected", a));
  CHECK(Matches("platform:oa and not relation:connected", b));
  CustomerFacts none = b;
  none.followers.clear();
  CHECK_FALSE(Matches("relation:ended", none));  // no relation at all is not "ended"
  CHECK(Matches("relation:any", none));
  CHECK_FALSE(
      Matches("orders.count >= 0 or orders.total >= 0 or bought:x or bought_category:y", a));
  CHECK(Matches("not orders.count >= 1", a));
}

TEST_CASE("ReferenceEvaluator pages ascending and explains each clause", "[unit]") {
  ReferenceEvaluator evaluator;
  for (int64_t id = 1; id <= 5; ++id) {
    CustomerFacts f = Alice();
    f.id = id;
    f.owner = id % 2 == 0 ? "even" : "odd";
    evaluator.Put(f);
  }
  const Query odd = Parse("owner:odd").value();
  auto first = evaluator.Evaluate(odd, kNow, 0, 2);
  REQUIRE(first.ok());
  CHECK(first->count == 3);
  CHECK(first->page == std::vector<int64_t>{1, 3});
  CHECK(first->next_after == 3);
  auto second = evaluator.Evaluate(odd, kNow, 3, 2);
  CHECK(second->page == std::vector<int64_t>{5});
  CHECK(second->next_after == 0);

  const Query q = Parse("owner:odd and tag:\"兴趣/产品A\"").value();
  auto explained = evaluator.Explain(q, 2, kNow);
  REQUIRE(explained.ok());
  CHECK_FALSE(explained->matches);
  REQUIRE(explained->clauses.size() == 3);
  CHECK(q.text.substr(explained->clauses[0].pos, explained->clauses[0].len) == "owner:odd");
  CHECK_FALSE(explained->clauses[0].met);
  CHECK(explained->clauses[1].met);
  CHECK(explained->clauses[2].len == 0);  // the implicit relation:connected
  CHECK(explained->clauses[2].met);
  CHECK(evaluator.Explain(q, 99, kNow).status().code() == core::StatusCode::kNotFound);
  CHECK(evaluator.Evaluate(Parse("segment:x").value(), kNow, 0, 1).status().code() ==
        core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::segments::testing
