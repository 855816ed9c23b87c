#include "src/storage/profile_store.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "src/storage/cursor_store.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "src/storage/space_usage.h"
#include "tests/storage/storage_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusCode;
using scrm::testing::TempDir;
using testing::kNowMs;

struct ProfileStoreFixture {
  TempDir dir;
  std::unique_ptr<Database> db = [this] {
    DatabaseOptions options;
    options.path = dir.File("scrmd.db");
    return testing::OpenMigratedOrDie(options);
  }();
  ProfileStore store{*db};

  // Runs fn in a transaction and REQUIREs that it commits.
  void Txn(const std::function<Status(WriteTxn&)>& fn) {
    const Status status = db->InTransaction(fn);
    INFO(status.ToString());
    REQUIRE(status.ok());
  }

  int64_t NewCustomer() {
    int64_t id = 0;
    Txn([&](WriteTxn& txn) -> Status {
      model::Customer c;
      c.created_at_ms = kNowMs;
      c.updated_at_ms = kNowMs;
      SCRM_ASSIGN_OR_RETURN(id, store.customers.Create(txn, c));
      return core::OkStatus();
    });
    return id;
  }
};

TEST_CASE("AppliedEffectRepository RecordOnce answers true once per key when an effect is recorded",
          "[db]") {
  ProfileStoreFixture f;
  f.Txn([&](WriteTxn& txn) -> Status {
    CHECK(f.store.effects.RecordOnce(txn, 1, "base").value());
    CHECK_FALSE(f.store.effects.RecordOnce(txn, 1, "base").value());
    CHECK(f.store.effects.RecordOnce(txn, 1, "rule:5:0").value());
    CHECK(f.store.effects.RecordOnce(txn, 2, "base").value());
    return core::OkStatus();
  });
  f.Txn([&](WriteTxn& txn) -> Status {
    CHECK_FALSE(f.store.effects.RecordOnce(txn, 1, "base").value());  // committed before
    return core::OkStatus();
  });
}

TEST_CASE("Database InTransaction rolls every repository back when fn fails", "[db]") {
  ProfileStoreFixture f;
  const Status status = f.db->InTransaction([&](WriteTxn& txn) -> Status {
    REQUIRE(f.store.effects.RecordOnce(txn, 9, "base").ok());
    REQUIRE(f.store.cursors.SetCursor(txn, "worker", 99).ok());
    return core::UnavailableError("downstream");
  });
  CHECK(status.code() == StatusCode::kUnavailable);
  f.Txn([&](WriteTxn& txn) -> Status {
    CHECK(f.store.effects.RecordOnce(txn, 9, "base").value());  // not there: rolled back
    return core::OkStatus();
  });
  CursorStore cursors(*f.db);
  CHECK(cursors.GetCursor("worker").value() == 0);
}

TEST_CASE("CustomerRepository round-trips a customer when it is created, updated and read",
          "[db]") {
  ProfileStoreFixture f;
  const int64_t id = f.NewCustomer();
  f.Txn([&](WriteTxn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(model::Customer c, f.store.customers.Get(txn, id));
    c.stage = model::LifecycleStage::kLost;
    c.stage_reason = "contact.follow_user_delete";
    c.stage_staff = "zhangsan";
    c.owner_userid = "zhangsan";
    c.attributes = {{"来源", "展会"}, {"city", "上海"}};
    c.counters = {5, 3, 2, 1, 1};
    c.first_interaction_at_ms = kNowMs - 10;
    c.last_interaction_at_ms = kNowMs;
    c.merged_into = id;
    SCRM_RETURN_IF_ERROR(f.store.customers.Update(txn, c));
    SCRM_ASSIGN_OR_RETURN(const model::Customer read, f.store.customers.Get(txn, id));
    CHECK(read == c);
    CHECK(f.store.customers.Get(txn, id + 1).status().code() == StatusCode::kNotFound);
    model::Customer missing = c;
    missing.id = id + 1;
    CHECK(f.store.customers.Update(txn, missing).code() == StatusCode::kNotFound);
    return core::OkStatus();
  });
}

TEST_CASE("IdentityRepository Add refuses an identity when another customer has it", "[db]") {
  ProfileStoreFixture f;
  const int64_t a = f.NewCustomer();
  const int64_t b = f.NewCustomer();
  f.Txn([&](WriteTxn& txn) -> Status {
    model::Identity identity{0, a, "oa", "oa1", model::IdentityKind::kOpenid, "oX", kNowMs};
    SCRM_ASSIGN_OR_RETURN(const model::Identity stored, f.store.identities.Add(txn, identity));
    CHECK(stored.id > 0);
    identity.customer_id = b;
    CHECK(f.store.identities.Add(txn, identity).status().code() == StatusCode::kAlreadyExists);
    identity.account_id = "oa2";  // another OA: another identity
    CHECK(f.store.identities.Add(txn, identity).ok());
    SCRM_ASSIGN_OR_RETURN(
        auto found, f.store.identities.Find(txn, "oa", "oa1", model::IdentityKind::kOpenid, "oX"));
    REQUIRE(found.has_value());
    CHECK(found->customer_id == a);
    return core::OkStatus();
  });
}

TEST_CASE("TimelineRepository keeps one timeline entry per customer, interaction and kind",
          "[db]") {
  ProfileStoreFixture f;
  const int64_t id = f.NewCustomer();
  f.Txn([&](WriteTxn& txn) -> Status {
    model::TimelineEntry entry{0, id, 100, "message.text", kNowMs, "hi"};
    SCRM_ASSIGN_OR_RETURN(auto first, f.store.timeline.Add(txn, entry));
    CHECK(first.has_value());
    SCRM_ASSIGN_OR_RETURN(auto again, f.store.timeline.Add(txn, entry));
    CHECK_FALSE(again.has_value());
    entry.kind = "stage";
    SCRM_ASSIGN_OR_RETURN(auto stage, f.store.timeline.Add(txn, entry));
    CHECK(stage.has_value());
    entry = {0, id, 101, "message.text", kNowMs + 1000, "later"};
    CHECK(f.store.timeline.Add(txn, entry).ok());
    // Window: both messages; up to interaction 100 only the first; a window after both: none.
    CHECK(f.store.timeline.Count(txn, id, "message.text", kNowMs, kNowMs + 1000, 0, 101).value() ==
          2);
    CHECK(f.store.timeline.Count(txn, id, "message.text", kNowMs, kNowMs + 1000, 0, 100).value() ==
          1);
    CHECK(
        f.store.timeline.Count(txn, id, "message.text", kNowMs, kNowMs + 1000, 101, 101).value() ==
        1);
    CHECK(
        f.store.timeline.Count(txn, id, "message.text", kNowMs + 1, kNowMs + 999, 0, 101).value() ==
        0);
    return core::OkStatus();
  });
  auto page = f.store.timeline.List(id, 0, 2);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 2);
  auto rest = f.store.timeline.List(id, page->back().id, 10);
  REQUIRE(rest.ok());
  REQUIRE(rest->size() == 1);
  CHECK(rest->at(0).summary == "later");
  CHECK(f.store.timeline.List(id, 0, 0).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("TaskRepository Add keeps one task per source when an interaction creates it twice",
          "[db]") {
  ProfileStoreFixture f;
  const int64_t id = f.NewCustomer();
  f.Txn([&](WriteTxn& txn) -> Status {
    model::FollowUpTask task;
    task.customer_id = id;
    task.title = "回访";
    task.source_interaction_id = 7;
    task.source_rule_id = 3;
    CHECK(f.store.tasks.Add(txn, task).value().has_value());
    CHECK_FALSE(f.store.tasks.Add(txn, task).value().has_value());
    task.source_interaction_id = 0;  // by hand: never a duplicate
    CHECK(f.store.tasks.Add(txn, task).value().has_value());
    CHECK(f.store.tasks.Add(txn, task).value().has_value());
    SCRM_ASSIGN_OR_RETURN(const model::CustomerProfile profile, f.store.GetProfile(txn, id));
    CHECK(profile.tasks.size() == 3);
    CHECK(profile.tasks[1].source_interaction_id == 0);
    return core::OkStatus();
  });
}

TEST_CASE("MergeRepository Get returns the undo state exactly when it was stored", "[db]") {
  ProfileStoreFixture f;
  model::MergeUndoState undo;
  undo.survivor_before.id = 1;
  undo.survivor_before.attributes = {{"渠道", "展会"}};
  undo.survivor_after.id = 1;
  undo.survivor_after.merged_into = std::nullopt;
  undo.merged_before.id = 2;
  undo.merged_before.stage = model::LifecycleStage::kRepeat;
  undo.merged_tags = {{2, 5, 0.1 + 0.2, kNowMs, model::TagSource::kManual, 0, 0, 0},
                      {2, 6, std::exp(1.0) / 3.0, kNowMs - 1, model::TagSource::kRule, 9, 2, 77}};
  undo.survivor_tags_before = {{1, 6, 1.0 / 3.0, kNowMs - 5, model::TagSource::kImport, 0, 0, 0}};
  undo.identity_ids = {3, 4};
  undo.timeline_ids = {10, 11, 12};
  undo.task_ids = {1};
  undo.follower_ids = {};
  model::MergeRecord record{0, 1, 2, kNowMs, "unionid", std::nullopt};
  int64_t merge_id = 0;
  f.Txn([&](WriteTxn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(merge_id, f.store.merges.Insert(txn, record, undo));
    return core::OkStatus();
  });
  auto stored = f.store.merges.Get(merge_id);
  REQUIRE(stored.ok());
  record.id = merge_id;
  CHECK(stored->record == record);
  CHECK(stored->undo == undo);  // doubles bit for bit
  f.Txn([&](WriteTxn& txn) -> Status {
    SCRM_RETURN_IF_ERROR(f.store.merges.MarkUndone(txn, merge_id, kNowMs + 1));
    CHECK(f.store.merges.MarkUndone(txn, merge_id, kNowMs + 2).code() ==
          StatusCode::kFailedPrecondition);
    CHECK(f.store.merges.MarkUndone(txn, merge_id + 1, kNowMs).code() == StatusCode::kNotFound);
    return core::OkStatus();
  });
  CHECK(f.store.merges.Get(merge_id)->record.undone_at_ms == kNowMs + 1);
  CHECK(f.store.merges.Get(merge_id + 1).status().code() == StatusCode::kNotFound);
}

TEST_CASE("TagRepository GetOrCreate creates a group and tag once when asked twice", "[db]") {
  ProfileStoreFixture f;
  model::TagGroup defaults;
  defaults.half_life_days = 7;
  defaults.threshold = 3;
  f.Txn([&](WriteTxn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::TagDetail a,
                          f.store.tags.GetOrCreate(txn, "兴趣", "产品A", defaults));
    SCRM_ASSIGN_OR_RETURN(const model::TagDetail again,
                          f.store.tags.GetOrCreate(txn, "兴趣", "产品A", defaults));
    SCRM_ASSIGN_OR_RETURN(const model::TagDetail b,
                          f.store.tags.GetOrCreate(txn, "兴趣", "产品B", defaults));
    CHECK(a == again);
    CHECK(a.group.id == b.group.id);
    CHECK(a.tag.id != b.tag.id);
    CHECK(a.group.half_life_days == 7);
    CHECK(a.Threshold() == 3);
    return core::OkStatus();
  });
  auto tags = f.store.tags.List();
  REQUIRE(tags.ok());
  CHECK(tags->size() == 2);
}

TEST_CASE("MeasureSpace lists the profile tables and indexes when the database is migrated",
          "[db]") {
  ProfileStoreFixture f;
  f.NewCustomer();
  auto space = MeasureSpace(*f.db);
  if (!space.ok()) {
    // A SQLite built without dbstat: the error says so.
    CHECK(space.status().code() == StatusCode::kUnavailable);
    return;
  }
  bool customers = false;
  bool tag_index = false;
  for (const ObjectSpace& object : *space) {
    customers |= object.name == "customers" && object.bytes > 0 && object.pages > 0;
    tag_index |= object.name == "customer_tags_tag";
  }
  CHECK(customers);
  CHECK(tag_index);
}

}  // namespace
}  // namespace scrm::storage
