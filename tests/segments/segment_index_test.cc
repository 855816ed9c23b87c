// SegmentIndex fed with deltas: each predicate kind, decay, pages, explain, errors, snapshots.
#include "campaigns/segments/segment_index.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/profiles/profile_types.h"
#include "src/tagger/scoring.h"
#include "tests/segments/segment_test_helpers.h"

namespace scrm::segments {
namespace {

using core::StatusCode;
using testing::And;
using testing::Ids;
using testing::kDayMs;
using testing::kT0;
using testing::Leaf;
using testing::MakeQuery;
using testing::Not;
using testing::Or;
using Ids64 = std::vector<int64_t>;

model::TagDetail MakeTag(int64_t id, std::string group, std::string name, int half_life_days,
                         double threshold) {
  model::TagDetail tag;
  tag.tag.id = id;
  tag.tag.group_id = id * 100;
  tag.tag.name = std::move(name);
  tag.group.id = id * 100;
  tag.group.name = std::move(group);
  tag.group.half_life_days = half_life_days;
  tag.group.threshold = threshold;
  return tag;
}

delta::TagRow TagDelta(int64_t customer, const model::TagDetail& tag, double score, int64_t at_ms,
                       bool decays = true) {
  delta::TagRow row;
  row.customer_id = customer;
  row.tag = tag;
  row.row = storage::IndexTagRow{customer, tag.tag.id, score, at_ms, decays};
  return row;
}

// Three customers: 1 (wecom, connected to zhangsan, engaged, expo2026, city 杭州, tag A held),
// 2 (oa, subscribed then unsubscribed, lost), 3 (wecom and oa, connected to lisi, customer).
struct IndexFixture {
  core::FakeClock clock{kT0};
  SegmentIndex index{clock};
  model::TagDetail a = MakeTag(1, "兴趣", "产品A", 30, 1.0);
  model::TagDetail b = MakeTag(2, "兴趣", "产品B", 30, 1.0);

  IndexFixture() {
    std::vector<IndexDelta> d;
    d.push_back(delta::Created{1, kT0 - 10 * kDayMs, "wecom", "acme"});
    d.push_back(delta::Created{2, kT0 - 40 * kDayMs, "oa", "shop"});
    d.push_back(delta::Created{3, kT0 - 2 * kDayMs, "wecom", "acme"});
    d.push_back(delta::Relation{1, "wecom", "acme", "zhangsan", true});
    d.push_back(delta::Owner{1, "", "zhangsan"});
    d.push_back(delta::Channel{1, "expo2026"});
    d.push_back(delta::Stage{1, model::LifecycleStage::kNew, model::LifecycleStage::kEngaged});
    d.push_back(delta::Attribute{1, "city", "杭州"});
    d.push_back(delta::Attribute{3, "city", "上海"});
    d.push_back(TagDelta(1, a, 2.0, kT0 - kDayMs));
    d.push_back(TagDelta(3, b, 5.0, kT0 - kDayMs));
    d.push_back(delta::Relation{2, "oa", "shop", "", true});
    d.push_back(delta::Relation{2, "oa", "shop", "", false});
    d.push_back(delta::Stage{2, model::LifecycleStage::kNew, model::LifecycleStage::kLost});
    d.push_back(delta::Relation{3, "wecom", "acme", "lisi", true});
    d.push_back(delta::Stage{3, model::LifecycleStage::kNew, model::LifecycleStage::kCustomer});
    d.push_back(delta::Interaction{1, "message.text", kT0 - 3 * kDayMs});
    d.push_back(delta::Interaction{1, "message.text", kT0 - 1 * kDayMs});
    d.push_back(delta::Interaction{3, "message.text", kT0 - 20 * kDayMs});
    d.push_back(delta::Interaction{2, "oa.subscribe", kT0 - 40 * kDayMs});
    REQUIRE(index.Apply(d).ok());
  }

  Ids64 Match(Node root, bool connected_only = false) {
    return Ids(index, MakeQuery(std::move(root), connected_only), kT0);
  }
};

TEST_CASE("SegmentIndex answers each bitmap predicate kind", "[unit]") {
  IndexFixture f;
  CHECK(f.Match(Leaf(Field::kStage, "engaged")) == Ids64{1});
  CHECK(f.Match(Leaf(Field::kStage, "lost", Op::kNe)) == Ids64{1, 3});
  CHECK(f.Match(Leaf(Field::kPlatform, "oa")) == Ids64{2});
  CHECK(f.Match(Leaf(Field::kAccount, "acme")) == Ids64{1, 3});
  CHECK(f.Match(Leaf(Field::kOwner, "zhangsan")) == Ids64{1});
  CHECK(f.Match(Leaf(Field::kFollower, "lisi")) == Ids64{3});
  CHECK(f.Match(Leaf(Field::kChannel, "expo2026")) == Ids64{1});
  CHECK(f.Match(Leaf(Field::kChannel, "unknown")).empty());
  CHECK(f.Match(Leaf(Field::kAttr, "city", Op::kEq, 0, 0, "杭州")) == Ids64{1});
  // != compares customers that have the attribute (2 has no city).
  CHECK(f.Match(Leaf(Field::kAttr, "city", Op::kNe, 0, 0, "杭州")) == Ids64{3});
  CHECK(f.Match(Leaf(Field::kRelation, "ended")) == Ids64{2});
  CHECK(f.Match(Leaf(Field::kRelation, "connected")) == Ids64{1, 3});
  CHECK(f.Match(Leaf(Field::kOrdersCount, "", Op::kGe, 2)).empty());
  CHECK(f.Match(Leaf(Field::kBought, "sku-123")).empty());
}

TEST_CASE("SegmentIndex moves a customer between stages and owners", "[unit]") {
  IndexFixture f;
  std::vector<IndexDelta> d;
  d.push_back(delta::Stage{1, model::LifecycleStage::kEngaged, model::LifecycleStage::kCustomer});
  d.push_back(delta::Owner{1, "zhangsan", "lisi"});
  REQUIRE(f.index.Apply(d).ok());
  CHECK(f.Match(Leaf(Field::kStage, "engaged")).empty());
  CHECK(f.Match(Leaf(Field::kStage, "customer")) == Ids64{1, 3});
  CHECK(f.Match(Leaf(Field::kOwner, "zhangsan")).empty());
  CHECK(f.Match(Leaf(Field::kOwner, "lisi")) == Ids64{1});
}

TEST_CASE("SegmentIndex excludes ended relations unless the query names relation", "[unit]") {
  IndexFixture f;
  CHECK(f.Match(Leaf(Field::kStage, "lost"), /*connected_only=*/true).empty());
  CHECK(f.Match(Leaf(Field::kStage, "lost"), false) == Ids64{2});
  CHECK(f.Match(Not(Leaf(Field::kStage, "engaged")), true) == Ids64{3});
}

TEST_CASE("SegmentIndex compares last_active, created and counts exactly at the boundary",
          "[unit]") {
  IndexFixture f;
  // 1: last active 1 day ago; 3: 20 days ago; 2: 40 days ago.
  CHECK(f.Match(Leaf(Field::kLastActive, "", Op::kLt, 0, 20 * kDayMs)) == Ids64{1});
  CHECK(f.Match(Leaf(Field::kLastActive, "", Op::kLe, 0, 20 * kDayMs)) == Ids64{1, 3});
  CHECK(f.Match(Leaf(Field::kLastActive, "", Op::kGt, 0, 30 * kDayMs)) == Ids64{2});
  CHECK(f.Match(Leaf(Field::kCreated, "", Op::kLt, 0, 10 * kDayMs)) == Ids64{3});
  CHECK(f.Match(Leaf(Field::kCreated, "", Op::kLe, 0, 10 * kDayMs)) == Ids64{1, 3});
  CHECK(f.Match(Leaf(Field::kCount, "message.text", Op::kGe, 2, 3 * kDayMs)) == Ids64{1});
  CHECK(f.Match(Leaf(Field::kCount, "message.text", Op::kGe, 2, 3 * kDayMs - 1)).empty());
  // count < 1 includes the customers without any such interaction.
  CHECK(f.Match(Leaf(Field::kCount, "message.text", Op::kLt, 1, 7 * kDayMs)) == Ids64{2, 3});
  auto too_long = f.index.Evaluate(
      MakeQuery(Leaf(Field::kCount, "message.text", Op::kGe, 1, 91 * kDayMs)), kT0, 0, 10);
  CHECK(too_long.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("SegmentIndex drops a tag when its decayed score falls below the threshold", "[unit]") {
  IndexFixture f;
  // Tag A: score 2 at kT0 - 1 day, half-life 30 days, threshold 1: held until exactly one
  // half-life after the update, as profiles::IsHeldAt says.
  const int64_t updated = kT0 - kDayMs;
  const int64_t boundary = updated + 30 * kDayMs;
  model::CustomerTag row;
  row.score = 2.0;
  row.updated_at_ms = updated;
  for (const int64_t at : {boundary - 1, boundary, boundary + 1}) {
    const bool held = profiles::IsHeldAt(&row, f.a, at);
    CHECK(Ids(f.index, MakeQuery(Leaf(Field::kTag, "兴趣/产品A")), at) ==
          (held ? Ids64{1} : Ids64{}));
  }
  CHECK(profiles::IsHeldAt(&row, f.a, boundary));
  CHECK_FALSE(profiles::IsHeldAt(&row, f.a, boundary + 1));
  // tag_score compares the decayed score: 2 now, 1 after a half-life.
  CHECK(Ids(f.index, MakeQuery(Leaf(Field::kTagScore, "兴趣/产品A", Op::kGt, 1.5)), kT0) ==
        Ids64{1});
  CHECK(Ids(f.index, MakeQuery(Leaf(Field::kTagScore, "兴趣/产品A", Op::kGt, 1.5)), boundary)
            .empty());
  // A manual tag that does not decay stays held.
  REQUIRE(f.index.Apply(std::vector<IndexDelta>{TagDelta(2, f.a, 1.0, kT0 + 7, false)}).ok());
  CHECK(Ids(f.index, MakeQuery(Leaf(Field::kTag, "兴趣/产品A")), kT0 + 3650 * kDayMs) == Ids64{2});
}

TEST_CASE("SegmentIndex decides held and tag_score exactly as the decay formula for many rows",
          "[unit]") {
  core::FakeClock clock{kT0};
  SegmentIndex index{clock};
  const model::TagDetail tag = MakeTag(7, "兴趣", "产品C", 7, 1.5);
  std::vector<IndexDelta> d;
  std::vector<model::CustomerTag> rows;
  uint64_t state = 12345;
  const auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  for (int64_t id = 1; id <= 3000; ++id) {
    d.push_back(delta::Created{id, kT0, "oa", "shop"});
    model::CustomerTag row;
    row.customer_id = id;
    row.tag_id = tag.tag.id;
    row.score = static_cast<double>(next() % 4000) / 1000.0 + (id % 7 == 0 ? 1.5 : 0.0);
    // Whole seconds mostly; every fifth row at an odd millisecond, every 11th without decay.
    row.updated_at_ms =
        kT0 - static_cast<int64_t>(next() % (40 * 86400)) * 1000 + (id % 5 == 0 ? 7 : 0);
    row.decays = id % 11 != 0;
    rows.push_back(row);
    d.push_back(TagDelta(id, tag, row.score, row.updated_at_ms, row.decays));
  }
  REQUIRE(index.Apply(d).ok());
  for (const int64_t at : {kT0, kT0 + 3 * kDayMs + 17, kT0 + 9 * kDayMs, kT0 + 30 * kDayMs}) {
    Ids64 held;
    Ids64 above;    // decayed score > 1.2
    Ids64 at_most;  // decayed score <= 0.8
    for (const model::CustomerTag& row : rows) {
      if (profiles::IsHeldAt(&row, tag, at)) held.push_back(row.customer_id);
      const double decayed = tagger::DecayedScore(row.score, row.updated_at_ms, at,
                                                  profiles::HalfLifeMs(tag.group, row.decays));
      if (decayed > 1.2) above.push_back(row.customer_id);
      if (decayed <= 0.8) at_most.push_back(row.customer_id);
    }
    CHECK_FALSE(held.empty());
    CHECK(Ids(index, MakeQuery(Leaf(Field::kTag, "兴趣/产品C")), at) == held);
    CHECK(Ids(index, MakeQuery(Leaf(Field::kTagScore, "兴趣/产品C", Op::kGt, 1.2)), at) == above);
    CHECK(Ids(index, MakeQuery(Leaf(Field::kTagScore, "兴趣/产品C", Op::kLe, 0.8)), at) == at_most);
  }
}

TEST_CASE("SegmentIndex follows a tag group's new threshold", "[unit]") {
  IndexFixture f;
  model::TagGroup group = f.a.group;
  group.threshold = 3.0;
  REQUIRE(f.index.Apply(std::vector<IndexDelta>{delta::Group{0, group}}).ok());
  CHECK(f.Match(Leaf(Field::kTag, "兴趣/产品A")).empty());
  CHECK(f.Match(Leaf(Field::kTag, "兴趣/产品B")) == Ids64{3});  // a tag of another group
}

TEST_CASE("SegmentIndex combines and, or and not and pages the result", "[unit]") {
  IndexFixture f;
  const Node tags = Or({Leaf(Field::kTag, "兴趣/产品A"), Leaf(Field::kTag, "兴趣/产品B")});
  CHECK(f.Match(tags) == Ids64{1, 3});
  CHECK(f.Match(And({tags, Not(Leaf(Field::kOwner, "zhangsan")),
                     Leaf(Field::kLastActive, "", Op::kLt, 0, 30 * kDayMs)})) == Ids64{3});
  auto first = f.index.Evaluate(MakeQuery(Leaf(Field::kRelation, "any")), kT0, 0, 2);
  REQUIRE(first.ok());
  CHECK(first->count == 3);
  CHECK(first->page == Ids64{1, 2});
  CHECK(first->next_after == 2);
  auto second = f.index.Evaluate(MakeQuery(Leaf(Field::kRelation, "any")), kT0, 2, 2);
  REQUIRE(second.ok());
  CHECK(second->page == Ids64{3});
  CHECK(second->next_after == 0);
}

TEST_CASE("SegmentIndex refuses unexpanded segments, bad trees and ids beyond 32 bits", "[unit]") {
  IndexFixture f;
  CHECK(f.index.Evaluate(MakeQuery(Leaf(Field::kSegment, "vip")), kT0, 0, 10).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(
      f.index.Evaluate(MakeQuery(And({Leaf(Field::kStage, "new")})), kT0, 0, 10).status().code() ==
      StatusCode::kInvalidArgument);
  CHECK(f.index.Evaluate(MakeQuery(Leaf(Field::kStage, "gold")), kT0, 0, 10).status().code() ==
        StatusCode::kInvalidArgument);
  const uint64_t before = f.index.customers();
  std::vector<IndexDelta> d;
  d.push_back(delta::Created{4, kT0, "oa", "shop"});
  d.push_back(delta::Created{int64_t{1} << 32, kT0, "oa", "shop"});
  CHECK(f.index.Apply(d).code() == StatusCode::kInvalidArgument);
  CHECK(f.index.customers() == before);  // nothing of the batch applied
}

TEST_CASE("SegmentIndex explains which clauses a customer meets", "[unit]") {
  IndexFixture f;
  Query query = MakeQuery(And({Leaf(Field::kStage, "engaged"), Leaf(Field::kOwner, "lisi")}),
                          /*connected_only=*/true);
  query.root.children[0].predicate.pos = 0;
  query.root.children[0].predicate.len = 13;
  query.root.children[1].predicate.pos = 18;
  query.root.children[1].predicate.len = 10;
  auto explained = f.index.Explain(query, 1, kT0);
  REQUIRE(explained.ok());
  CHECK_FALSE(explained->matches);
  REQUIRE(explained->clauses.size() == 3);
  CHECK(explained->clauses[0].pos == 0);
  CHECK(explained->clauses[0].met);
  CHECK(explained->clauses[1].pos == 18);
  CHECK_FALSE(explained->clauses[1].met);
  CHECK(explained->clauses[2].len == 0);  // the implicit relation:connected
  CHECK(explained->clauses[2].met);
  CHECK(f.index.Explain(query, 99, kT0).status().code() == StatusCode::kNotFound);
}

TEST_CASE("SegmentIndex takes a reloaded merged customer out and brings it back", "[unit]") {
  IndexFixture f;
  delta::Reload gone;
  gone.customer_id = 3;  // merged into another: no facts
  REQUIRE(f.index.Apply(std::vector<IndexDelta>{gone}).ok());
  CHECK(f.index.customers() == 2);
  CHECK(f.Match(Leaf(Field::kTag, "兴趣/产品B")).empty());
  CHECK(f.Match(Leaf(Field::kAccount, "acme")) == Ids64{1});
  delta::Reload back;
  back.customer_id = 3;
  model::Customer c;
  c.id = 3;
  c.stage = model::LifecycleStage::kCustomer;
  c.created_at_ms = kT0 - 2 * kDayMs;
  auto facts = std::make_shared<CustomerFacts>();
  facts->customer = c;
  facts->tags.push_back(storage::IndexTagRow{3, 2, 5.0, kT0 - kDayMs, true});
  facts->tag_details.push_back(f.b);
  facts->identities.push_back(storage::IndexIdentityRow{3, "wecom", "acme"});
  facts->followers.push_back(
      storage::IndexFollowerRow{3, "acme", "lisi", model::FollowerState::kActive});
  back.facts = facts;
  REQUIRE(f.index.Apply(std::vector<IndexDelta>{back}).ok());
  CHECK(f.index.customers() == 3);
  CHECK(f.Match(Leaf(Field::kTag, "兴趣/产品B")) == Ids64{3});
  CHECK(f.Match(Leaf(Field::kFollower, "lisi"), true) == Ids64{3});
}

TEST_CASE("SegmentIndex readers never see half of a batch", "[unit]") {
  // Each batch moves tag A from one customer to the other (remove, then add): a reader that saw
  // half of one would count 0 or 2 holders.
  IndexFixture f;
  REQUIRE(f.index.Apply(std::vector<IndexDelta>{TagDelta(3, f.a, 2.0, kT0)}).ok());
  delta::TagRow remove_1;
  remove_1.customer_id = 1;
  remove_1.tag = f.a;
  REQUIRE(f.index.Apply(std::vector<IndexDelta>{remove_1}).ok());
  const Query query = MakeQuery(Leaf(Field::kTag, "兴趣/产品A"));
  std::mutex mu;
  std::condition_variable cv;
  bool reader_started = false;
  std::atomic<bool> writer_done{false};
  std::atomic<int> bad_counts{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    {
      std::lock_guard lock(mu);
      reader_started = true;
    }
    cv.notify_all();
    while (!writer_done.load() || reads.load() < 100) {
      auto result = f.index.Evaluate(query, kT0, 0, 0);
      if (!result.ok() || result->count != 1) ++bad_counts;
      ++reads;
    }
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return reader_started; });
  }
  int64_t holder = 3;
  for (int i = 0; i < 2000; ++i) {
    const int64_t next = holder == 3 ? 1 : 3;
    delta::TagRow remove;
    remove.customer_id = holder;
    remove.tag = f.a;
    std::vector<IndexDelta> batch;
    batch.push_back(remove);
    batch.push_back(TagDelta(next, f.a, 2.0, kT0));
    REQUIRE(f.index.Apply(batch).ok());
    holder = next;
  }
  writer_done = true;
  reader.join();
  CHECK(reads.load() >= 100);
  CHECK(bad_counts.load() == 0);
}

}  // namespace
}  // namespace scrm::segments
