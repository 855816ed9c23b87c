// Profile change events (src/profiles/profile_change.h): a sink registered with the services
// sees the typed changes of an ingest chunk, a merge and its undo, and API writes, inside their
// transaction; a sink's error rolls the whole transaction back.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "src/profiles/profile_change.h"
#include "src/profiles/profile_service.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::profiles {
namespace {

using model::InteractionKind;
using testing::Fixture;

constexpr char kSinkRules[] = R"({"rules": [
  {"id": 1, "name": "加好友", "condition": {"kinds": ["contact.add"]},
   "actions": [{"add_tag": {"tag": {"group": "渠道", "name": "企微"}, "weight": 1}},
               {"set_attribute": {"key": "source", "value": "wecom"}}]}
]})";

// One line per change, with what a sink would act on.
struct ChangeDescriber {
  const ProfileChange& c;
  std::string id() const { return " #" + std::to_string(c.customer_id); }

  std::string operator()(const CustomerCreated& x) const {
    return "created" + id() + " " + std::string(x.platform) + "/" + std::string(x.account_id) +
           "/" + std::string(x.value) + " (" + std::string(x.reason) + ")";
  }
  std::string operator()(const IdentityAdded& x) const {
    return "identity" + id() + " " + x.identity->platform + "/" + x.identity->value;
  }
  std::string operator()(const CustomersMerged& x) const {
    return "merged" + id() + " <- #" + std::to_string(x.merged_id);
  }
  std::string operator()(const MergeUndone& x) const {
    return "unmerged" + id() + " -> #" + std::to_string(x.merged_id);
  }
  std::string operator()(const TagScoreChanged& x) const {
    const bool was = IsHeldAt(x.before, *x.tag, c.at_ms);
    const bool is = IsHeldAt(x.after, *x.tag, c.at_ms);
    std::string out = "tag" + id() + " " + x.tag->group.name + "/" + x.tag->tag.name + " " +
                      (was ? "held" : "-") + ">" + (is ? "held" : "-");
    if (x.after != nullptr) out += " score=" + std::to_string(x.after->score);
    if (x.from_platform) out += " (platform)";
    return out;
  }
  std::string operator()(const TagMapped& x) const {
    return "mapped " + x.newly->group.name + "/" + x.newly->tag.name;
  }
  std::string operator()(const StageChanged& x) const {
    return "stage" + id() + " " + std::string(model::LifecycleStageName(x.from)) + ">" +
           std::string(model::LifecycleStageName(x.to));
  }
  std::string operator()(const FollowerAdded& x) const {
    return "follower+" + id() + " " + std::string(x.platform) + "/" + std::string(x.userid);
  }
  std::string operator()(const FollowerRemoved& x) const {
    return "follower-" + id() + " " + std::string(x.platform) + "/" + std::string(x.userid);
  }
  std::string operator()(const AttributeChanged& x) const {
    return "attr" + id() + " " + std::string(x.key) + "=" + std::string(x.value);
  }
  std::string operator()(const InteractionApplied& x) const {
    return "interaction" + id() + " " + std::string(x.kind);
  }
  std::string operator()(const OwnerChanged& x) const {
    return "owner" + id() + " " + std::string(x.from) + ">" + std::string(x.to);
  }
  std::string operator()(const TagGroupConfigured& x) const {
    return "group " + x.group->name + " " + std::to_string(x.group->half_life_days) + "d";
  }
  std::string operator()(const ChannelAttributed& x) const {
    return "channel" + id() + " " + std::string(x.channel);
  }
};

// Records every change; fails with `fail` (when set) on the first change it matches.
class RecordingSink final : public ChangeSink {
 public:
  core::Status OnChange(storage::WriteTxn& txn, const ProfileChange& change) override {
    // It runs inside the transaction: it writes through it.
    REQUIRE(store_->cursors.SetCursor(txn, "sink", ++writes).ok());
    std::string line = std::visit(ChangeDescriber{change}, change.what);
    if (!fail_on.empty() && line.starts_with(fail_on)) {
      return core::InternalError("sink refused: " + line);
    }
    lines.push_back(std::move(line));
    return core::OkStatus();
  }

  explicit RecordingSink(storage::ProfileStore& store) : store_(&store) {}
  std::vector<std::string> lines;
  std::string fail_on;
  int64_t writes = 0;  // the "sink" cursor it sets: one more per change

 private:
  storage::ProfileStore* store_;
};

TEST_CASE("ChangeSinks hand a registered sink the typed changes of an ingest chunk", "[db]") {
  Fixture f{testing::Rules(kSinkRules)};
  RecordingSink sink(f.store);
  f.wired.sinks.Add(sink);
  f.Apply({f.Contact(InteractionKind::kContactAdd, "wmA", "zhangsan"),
           f.OaEvent("oB", InteractionKind::kSubscribe),
           f.Contact(InteractionKind::kContactDelete, "wmA", "zhangsan")});
  const int64_t a = f.ByExternal("wmA");
  const int64_t b = f.ByOpenid("oB");
  const std::string A = " #" + std::to_string(a);
  const std::string B = " #" + std::to_string(b);
  CHECK(sink.lines == std::vector<std::string>{
                          "created" + A + " wecom/corp1/wmA (first_interaction)",
                          "interaction" + A + " contact.add",
                          "owner" + A + " >zhangsan",
                          "follower+" + A + " wecom/zhangsan",
                          "tag" + A + " 渠道/企微 ->held score=1.000000",
                          "attr" + A + " source=wecom",
                          "created" + B + " oa/oa1/oB (first_interaction)",
                          "interaction" + B + " oa.subscribe",
                          "follower+" + B + " oa/",
                          "interaction" + A + " contact.delete",
                          "follower-" + A + " wecom/zhangsan",
                          "stage" + A + " new>lost",
                      });
  auto cursor = f.store.cursors.GetCursor("sink");
  REQUIRE(cursor.ok());
  CHECK(*cursor == 12);  // its writes committed with the chunk
}

TEST_CASE("ChangeSinks hand a sink nothing when an interaction is replayed", "[db]") {
  Fixture f{testing::Rules(kSinkRules)};
  RecordingSink sink(f.store);
  f.wired.sinks.Add(sink);
  const model::Interaction add = f.Contact(InteractionKind::kContactAdd, "wmA", "zhangsan");
  f.Apply(add);
  CHECK(sink.lines.size() == 6);
  f.Apply(add);
  CHECK(sink.lines.size() == 6);
}

TEST_CASE("ChangeSinks hand a registered sink a merge, its undo and API writes", "[db]") {
  Fixture f;
  RecordingSink sink(f.store);
  f.wired.sinks.Add(sink);
  f.Apply({f.OaEvent("oA", InteractionKind::kSubscribe),
           f.Contact(InteractionKind::kContactAdd, "wmB", "zhangsan")});
  const int64_t a = f.ByOpenid("oA");
  const int64_t b = f.ByExternal("wmB");
  const std::string A = " #" + std::to_string(a);
  sink.lines.clear();

  REQUIRE(f.service.editor.AddManualTag(b, {"客户等级", "VIP"}, 5).ok());
  REQUIRE(f.service.editor.SetAttributes(a, {{"name", "张三"}}).ok());
  REQUIRE(f.service.identities
              .AddIdentity(a, {0, 0, "erp", "", model::IdentityKind::kExternal, "C-1", 0})
              .ok());
  auto merge = f.service.identities.Merge(a, b, "");
  REQUIRE(merge.ok());
  REQUIRE(f.service.identities.UndoMerge(merge->id).ok());
  const std::string B = " #" + std::to_string(b);
  CHECK(sink.lines == std::vector<std::string>{
                          "tag" + B + " 客户等级/VIP ->held score=5.000000",
                          "attr" + A + " name=张三",
                          "identity" + A + " erp/C-1",
                          "owner" + A + " >zhangsan",
                          "merged" + A + " <- #" + std::to_string(b),
                          "unmerged" + A + " -> #" + std::to_string(b),
                      });
}

TEST_CASE("ChangeSinks roll the whole chunk back when a sink returns an error", "[db]") {
  Fixture f{testing::Rules(kSinkRules)};
  RecordingSink sink(f.store);
  sink.fail_on = "tag";
  f.wired.sinks.Add(sink);
  const std::vector<model::Interaction> chunk = {
      f.OaEvent("oB", InteractionKind::kSubscribe),
      f.Contact(InteractionKind::kContactAdd, "wmA", "zhangsan")};
  const core::Status status =
      f.service.ingest.ApplyChunk(chunk, CursorUpdate{"worker", chunk.back().id});
  CHECK(status.code() == core::StatusCode::kInternal);
  // Nothing of the chunk committed: not the first interaction, not the cursor, not the sink's
  // own writes.
  auto found = f.service.queries.FindCustomer("oa", "oa1", model::IdentityKind::kOpenid, "oB");
  REQUIRE(found.ok());
  CHECK_FALSE(found->has_value());
  auto worker = f.store.cursors.GetCursor("worker");
  REQUIRE(worker.ok());
  CHECK(*worker == 0);
  auto own = f.store.cursors.GetCursor("sink");
  REQUIRE(own.ok());
  CHECK(*own == 0);
}

TEST_CASE("ChangeSinks roll a merge back when a sink returns an error", "[db]") {
  Fixture f;
  f.Apply({f.OaEvent("oA", InteractionKind::kSubscribe),
           f.Contact(InteractionKind::kContactAdd, "wmB", "zhangsan")});
  const int64_t a = f.ByOpenid("oA");
  const int64_t b = f.ByExternal("wmB");
  const CustomerView a_before = f.View(a);
  const CustomerView b_before = f.View(b);
  RecordingSink sink(f.store);
  sink.fail_on = "merged";
  f.wired.sinks.Add(sink);
  CHECK(f.service.identities.Merge(a, b, "").status().code() == core::StatusCode::kInternal);
  CHECK(f.View(a) == a_before);
  CHECK(f.View(b) == b_before);
}

TEST_CASE("ChangeSinks hand a sink the channel of the first touch only", "[db]") {
  Fixture f;
  RecordingSink sink(f.store);
  f.wired.sinks.Add(sink);
  f.Apply(
      {f.Contact(InteractionKind::kContactAdd, "wmA", "zhangsan", "expo2026"),
       f.Contact(InteractionKind::kContactAdd, "wmA", "lisi", "later"),
       f.OaEvent("oB", InteractionKind::kSubscribe, model::QrScenePayload{"qrscene_poster", ""}),
       f.OaEvent("oC", InteractionKind::kScan, model::QrScenePayload{"shelf", ""})});
  const int64_t a = f.ByExternal("wmA");
  std::vector<std::string> channels;
  for (const std::string& line : sink.lines) {
    if (line.starts_with("channel")) channels.push_back(line);
  }
  CHECK(channels ==
        std::vector<std::string>{"channel #" + std::to_string(a) + " expo2026",
                                 "channel #" + std::to_string(f.ByOpenid("oB")) + " poster",
                                 "channel #" + std::to_string(f.ByOpenid("oC")) + " shelf"});
  CHECK(f.View(a).customer.channel == "expo2026");  // the later state did not replace it
}

}  // namespace
}  // namespace scrm::profiles
