// SegmentIndexSink and BuildSegmentIndex over a real SQLite file and the profile services: after
// commit only, merges and undos, and the index kept by events equal to one built from the file.
#include "campaigns/segments/segment_index_sink.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "src/core/logging.h"
#include "tests/profiles/profiles_test_helpers.h"
#include "tests/segments/segment_test_helpers.h"

namespace scrm::segments {
namespace {

using model::InteractionKind;
using testing::And;
using testing::Ids;
using testing::Leaf;
using testing::MakeQuery;
using testing::Not;
using testing::Or;
using SinkIds = std::vector<int64_t>;

constexpr char kSegmentRules[] = R"({"rules": [
  {"id": 1, "name": "加好友", "condition": {"kinds": ["contact.add"]},
   "actions": [{"add_tag": {"tag": {"group": "渠道", "name": "企微"}, "weight": 1}},
               {"set_attribute": {"key": "source", "value": "wecom"}}]},
  {"id": 2, "name": "关注", "condition": {"kinds": ["oa.subscribe"]},
   "actions": [{"add_tag": {"tag": {"group": "渠道", "name": "公众号"}, "weight": 1}},
               {"set_attribute": {"key": "source", "value": "oa"}}]},
  {"id": 3, "name": "留言", "condition": {"kinds": ["message.text"]},
   "actions": [{"add_tag": {"tag": {"group": "兴趣", "name": "产品A"}, "weight": 2}}]}
]})";

// Fails the transaction on the first change of a kind it is told to refuse, and records how
// many customers the index held when it saw each change (registered after the index's sink).
class FailingSink final : public profiles::ChangeSink {
 public:
  explicit FailingSink(const SegmentIndex& index) : index_(index) {}
  core::Status OnChange(storage::WriteTxn&, const profiles::ProfileChange& change) override {
    seen_customers.push_back(index_.customers());
    if (refuse && std::holds_alternative<profiles::InteractionApplied>(change.what)) {
      return core::InternalError("refused");
    }
    return core::OkStatus();
  }
  bool refuse = false;
  std::vector<uint64_t> seen_customers;

 private:
  const SegmentIndex& index_;
};

// The profile fixture with an index built from its (empty) file and the index's sink registered.
struct SinkFixture {
  profiles::testing::Fixture f{profiles::testing::Rules(kSegmentRules)};
  std::shared_ptr<spdlog::logger> log = core::MakeNullLogger();
  std::unique_ptr<SegmentIndex> index = Build();
  SegmentIndexSink sink{*index, SegmentIndexOptions{}, SegmentIndexMetrics{}, log};

  SinkFixture() { f.wired.sinks.Add(sink); }

  std::unique_ptr<SegmentIndex> Build() {
    auto built =
        BuildSegmentIndex(*f.db, f.clock, SegmentIndexOptions{}, SegmentIndexMetrics{}, *log);
    INFO(built.status().ToString());
    REQUIRE(built.ok());
    return std::move(built).value();
  }
  SinkIds Match(const SegmentIndex& i, Node root, bool connected_only = false) {
    return Ids(i, MakeQuery(std::move(root), connected_only), f.clock.NowUnixMillis());
  }
};

TEST_CASE("SegmentIndexSink applies a transaction only once it has committed", "[db]") {
  SinkFixture s;
  FailingSink after(*s.index);
  s.f.wired.sinks.Add(after);
  after.refuse = true;
  const core::Status refused = s.f.service.ingest.ApplyChunk(
      std::vector<model::Interaction>{s.f.OaEvent("oA", InteractionKind::kSubscribe)},
      std::nullopt);
  CHECK_FALSE(refused.ok());
  CHECK(s.index->customers() == 0);  // rolled back: nothing applied
  after.refuse = false;
  after.seen_customers.clear();
  s.f.Apply(s.f.OaEvent("oA", InteractionKind::kSubscribe));
  REQUIRE_FALSE(after.seen_customers.empty());
  for (uint64_t seen : after.seen_customers) CHECK(seen == 0);  // not before the commit
  CHECK(s.index->customers() == 1);
  CHECK(s.Match(*s.index, Leaf(Field::kTag, "渠道/公众号"), true) == SinkIds{s.f.ByOpenid("oA")});
  CHECK(s.index->updates() == 1);
}

TEST_CASE("SegmentIndexSink takes a merged customer out and an undo brings both back", "[db]") {
  SinkFixture s;
  s.f.Apply({s.f.OaEvent("oA", InteractionKind::kSubscribe),
             s.f.Contact(InteractionKind::kContactAdd, "wmB", "zhangsan", "expo2026")});
  const int64_t a = s.f.ByOpenid("oA");
  const int64_t b = s.f.ByExternal("wmB");
  auto merge = s.f.service.identities.Merge(a, b, "test");
  REQUIRE(merge.ok());
  CHECK(s.index->customers() == 1);
  CHECK(s.Match(*s.index, Leaf(Field::kTag, "渠道/企微"), true) == SinkIds{a});
  CHECK(s.Match(*s.index, Leaf(Field::kOwner, "zhangsan")) == SinkIds{a});
  CHECK(s.Match(*s.index, Leaf(Field::kChannel, "expo2026")) == SinkIds{a});
  CHECK(s.index->Explain(MakeQuery(Leaf(Field::kStage, "new")), b, s.f.clock.NowUnixMillis())
            .status()
            .code() == core::StatusCode::kNotFound);
  REQUIRE(s.f.service.identities.UndoMerge(merge->id).ok());
  CHECK(s.index->customers() == 2);
  CHECK(s.Match(*s.index, Leaf(Field::kTag, "渠道/企微"), true) == SinkIds{b});
  CHECK(s.Match(*s.index, Leaf(Field::kTag, "渠道/公众号"), true) == SinkIds{a});
  CHECK(s.Match(*s.index, Leaf(Field::kFollower, "zhangsan"), true) == SinkIds{b});
  CHECK(s.Match(*s.index, Leaf(Field::kPlatform, "oa")) == SinkIds{a});
}

// Queries over everything the sequence below touches.
std::vector<Query> ComparedQueries() {
  const int64_t day = testing::kDayMs;
  std::vector<Node> leaves = {
      Leaf(Field::kTag, "渠道/企微"),
      Leaf(Field::kTag, "渠道/公众号"),
      Leaf(Field::kTag, "兴趣/产品A"),
      Leaf(Field::kTag, "手动/VIP"),
      Leaf(Field::kTagScore, "兴趣/产品A", Op::kGe, 3),
      Leaf(Field::kStage, "new"),
      Leaf(Field::kStage, "engaged"),
      Leaf(Field::kStage, "lost"),
      Leaf(Field::kPlatform, "wecom"),
      Leaf(Field::kPlatform, "wechat"),
      Leaf(Field::kAccount, "oa1"),
      Leaf(Field::kOwner, "zhangsan"),
      Leaf(Field::kOwner, "lisi"),
      Leaf(Field::kFollower, "zhangsan"),
      Leaf(Field::kFollower, "lisi"),
      Leaf(Field::kChannel, "expo2026"),
      Leaf(Field::kChannel, "poster"),
      Leaf(Field::kAttr, "source", Op::kEq, 0, 0, "wecom"),
      Leaf(Field::kAttr, "city", Op::kNe, 0, 0, "杭州"),
      Leaf(Field::kLastActive, "", Op::kLt, 0, 3 * day),
      Leaf(Field::kLastActive, "", Op::kGe, 0, 10 * day),
      Leaf(Field::kCreated, "", Op::kGt, 0, 5 * day),
      Leaf(Field::kCount, "message.text", Op::kGe, 2, 7 * day),
      Leaf(Field::kCount, "message.text", Op::kLt, 1, 2 * day),
      Leaf(Field::kRelation, "ended"),
  };
  std::vector<Query> queries;
  for (size_t i = 0; i < leaves.size(); ++i) {
    queries.push_back(MakeQuery(leaves[i], false));
    queries.push_back(MakeQuery(leaves[i], true));
    const Node& other = leaves[(i * 7 + 3) % leaves.size()];
    queries.push_back(MakeQuery(And({leaves[i], Not(other)}), true));
    queries.push_back(MakeQuery(Or({leaves[i], other}), false));
  }
  return queries;
}

TEST_CASE("SegmentIndexSink keeps the index equal to one built from the database", "[db]") {
  SinkFixture s;
  auto& f = s.f;
  const auto advance = [&](int64_t ms) { f.clock.Advance(std::chrono::milliseconds(ms)); };
  f.Apply(
      {f.Contact(InteractionKind::kContactAdd, "wm1", "zhangsan", "expo2026"),
       f.OaEvent("o2", InteractionKind::kSubscribe, model::QrScenePayload{"qrscene_poster", ""}),
       f.OaText("o3", "hello")});
  advance(2 * testing::kDayMs + 123);
  f.Apply({f.OaText("o2", "价格"), f.OaText("o2", "多少钱"),
           f.Contact(InteractionKind::kContactAdd, "wm1", "lisi"),
           f.Contact(InteractionKind::kContactAdd, "wm4", "lisi")});
  const int64_t c1 = f.ByExternal("wm1");
  const int64_t c2 = f.ByOpenid("o2");
  const int64_t c3 = f.ByOpenid("o3");
  const int64_t c4 = f.ByExternal("wm4");
  REQUIRE(f.service.editor.AddManualTag(c3, model::TagRef{"手动", "VIP"}, 1.0).ok());
  REQUIRE(f.service.editor.SetAttributes(c1, {{"city", "杭州"}}).ok());
  REQUIRE(f.service.editor.SetAttributes(c4, {{"city", "上海"}}).ok());
  advance(3 * testing::kDayMs + 7);
  f.Apply({f.Contact(InteractionKind::kContactDelete, "wm1", "zhangsan"),
           f.OaEvent("o3", InteractionKind::kUnsubscribe)});
  auto merge = f.service.identities.Merge(c2, c3, "test");
  REQUIRE(merge.ok());
  auto merge2 = f.service.identities.Merge(c1, c4, "test");
  REQUIRE(merge2.ok());
  REQUIRE(f.service.identities.UndoMerge(merge->id).ok());
  REQUIRE(f.service.identities.LinkUnionid(c1, "u1").ok());
  REQUIRE(f.service.editor.ConfigureTagGroup("兴趣", 7, 1.5).ok());
  REQUIRE(f.service.editor.RemoveTag(c3, model::TagRef{"手动", "VIP"}).ok());
  advance(testing::kDayMs);
  f.Apply(f.OaText("o2", "again"));

  const std::unique_ptr<SegmentIndex> rebuilt = s.Build();
  CHECK(rebuilt->customers() == s.index->customers());
  CHECK(s.index->customers() == 3);  // c4 merged into c1
  const int64_t now = f.clock.NowUnixMillis();
  size_t non_empty = 0;
  for (const Query& query : ComparedQueries()) {
    for (const int64_t at : {now, now + 5 * testing::kDayMs, now + 40 * testing::kDayMs}) {
      const SinkIds kept = Ids(*s.index, query, at);
      CHECK(kept == Ids(*rebuilt, query, at));
      if (!kept.empty()) ++non_empty;
    }
  }
  CHECK(non_empty > 50);  // the comparison is not between empty answers
}

}  // namespace
}  // namespace scrm::segments
