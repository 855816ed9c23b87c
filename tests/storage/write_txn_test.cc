// The WriteTxn seam: repositories of different table groups writing in one transaction.
#include "src/storage/write_txn.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/storage/customer_repository.h"
#include "src/storage/database.h"
#include "src/storage/outbox_store.h"
#include "src/storage/tag_repository.h"
#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusCode;
using testing::kNowMs;
using testing::OpenMigratedOrDie;

struct WriteTxnFixture {
  scrm::testing::TempDir dir;
  std::unique_ptr<Database> db = OpenMigratedOrDie({dir.File("scrmd.db")});
  CustomerRepository customers{*db};
  OutboxStore outbox{*db};
  TagRepository tags{*db};

  OutboxJob Job(const std::string& key) const {
    OutboxJob job;
    job.kind = "enrich";
    job.account_id = "shop";
    job.dedupe_key = key;
    job.due_at_ms = kNowMs;
    return job;
  }

  // Creates a customer and queues a job in one transaction; fn_result is what fn returns.
  Status CustomerWithJob(const std::string& key, const Status& fn_result, int64_t* customer_id) {
    return db->InTransaction([&](WriteTxn& txn) -> Status {
      model::Customer customer;
      customer.created_at_ms = kNowMs;
      customer.updated_at_ms = kNowMs;
      SCRM_ASSIGN_OR_RETURN(*customer_id, customers.Create(txn, customer));
      SCRM_ASSIGN_OR_RETURN(const bool queued, outbox.Enqueue(txn, Job(key), kNowMs));
      REQUIRE(queued);
      return fn_result;
    });
  }

  // Whether the customer exists, read on a read connection.
  bool CustomerExists(int64_t id) {
    bool exists = false;
    REQUIRE(db->WithSession([&](Session& session) -> Status {
                exists = customers.Get(session, id).ok();
                return core::OkStatus();
              }).ok());
    return exists;
  }
};

TEST_CASE("WriteTxn commits the writes of two repositories together when fn succeeds", "[db]") {
  WriteTxnFixture f;
  int64_t id = 0;
  REQUIRE(f.CustomerWithJob("enrich:kept", core::OkStatus(), &id).ok());
  CHECK(f.CustomerExists(id));
  CHECK(f.outbox.FindByKey("enrich:kept").value().has_value());
}

TEST_CASE("WriteTxn rolls back the writes of two repositories when fn returns an error", "[db]") {
  WriteTxnFixture f;
  int64_t id = 0;
  const Status status = f.CustomerWithJob("enrich:gone", core::UnavailableError("later"), &id);
  CHECK(status.code() == StatusCode::kUnavailable);  // fn's error, as is
  REQUIRE(id > 0);                                   // the insert ran inside the transaction
  CHECK_FALSE(f.CustomerExists(id));
  CHECK_FALSE(f.outbox.FindByKey("enrich:gone").value().has_value());
  CHECK(f.outbox.Count(OutboxState::kPending).value() == 0);
}

TEST_CASE("WriteTxn rolls back a repository's writes when another repository's statement fails",
          "[db]") {
  WriteTxnFixture f;
  int64_t id = 0;
  // The job's key is taken: the second Enqueue says so, and fn turns that into an error.
  REQUIRE(f.outbox.Enqueue(f.Job("enrich:taken"), kNowMs).value());
  const Status status = f.db->InTransaction([&](WriteTxn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(id, f.customers.Create(txn, model::Customer{}));
    SCRM_ASSIGN_OR_RETURN(const bool queued, f.outbox.Enqueue(txn, f.Job("enrich:taken"), kNowMs));
    if (!queued) return core::AlreadyExistsError("job queued before");
    return core::OkStatus();
  });
  CHECK(status.code() == StatusCode::kAlreadyExists);
  CHECK_FALSE(f.CustomerExists(id));
}

TEST_CASE("WriteTxn gives every transaction its own serial", "[db]") {
  WriteTxnFixture f;
  uint64_t first = 0;
  uint64_t second = 0;
  REQUIRE(f.db->InTransaction([&](WriteTxn& txn) {
                first = txn.serial();
                CHECK_FALSE(txn.OthersWaiting());
                return core::OkStatus();
              })
              .ok());
  REQUIRE(f.db->InTransaction([&](WriteTxn& txn) {
                second = txn.serial();
                return core::OkStatus();
              })
              .ok());
  CHECK(second != first);
}

TEST_CASE("TagRepository creates a tag again when the transaction that created it rolled back",
          "[db]") {
  WriteTxnFixture f;
  model::TagGroup defaults;
  CHECK(f.db->InTransaction([&](WriteTxn& txn) -> Status {
              SCRM_RETURN_IF_ERROR(f.tags.GetOrCreate(txn, "兴趣", "产品A", defaults).status());
              return core::InternalError("abort");
            })
            .code() == StatusCode::kInternal);
  // The memo of the rolled-back transaction must not answer: the tag has to be made again.
  model::TagDetail created;
  REQUIRE(f.db->InTransaction([&](WriteTxn& txn) -> Status {
                SCRM_ASSIGN_OR_RETURN(created, f.tags.GetOrCreate(txn, "兴趣", "产品A", defaults));
                return core::OkStatus();
              })
              .ok());
  auto found = f.tags.Find("兴趣", "产品A");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK(**found == created);
}

TEST_CASE("TagRepository maps a taken WeCom id to AlreadyExists when a tag is updated", "[db]") {
  WriteTxnFixture f;
  model::TagGroup defaults;
  const Status status = f.db->InTransaction([&](WriteTxn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(model::TagDetail a, f.tags.GetOrCreate(txn, "g", "a", defaults));
    SCRM_ASSIGN_OR_RETURN(model::TagDetail b, f.tags.GetOrCreate(txn, "g", "b", defaults));
    a.tag.wecom_tag_id = "etA";
    b.tag.wecom_tag_id = "etA";
    SCRM_RETURN_IF_ERROR(f.tags.Update(txn, a.tag));
    const Status taken = f.tags.Update(txn, b.tag);  // UNIQUE tags_wecom: a status, no throw
    CHECK(taken.code() == StatusCode::kAlreadyExists);
    return taken;
  });
  CHECK(status.code() == StatusCode::kAlreadyExists);
  CHECK(f.tags.List().value().empty());  // rolled back with the rest
}

TEST_CASE("WriteTxn runs AfterCommit callbacks in order once the transaction has committed",
          "[db]") {
  WriteTxnFixture f;
  std::vector<std::string> calls;
  int64_t id = 0;
  REQUIRE(f.db->InTransaction([&](WriteTxn& txn) -> Status {
                txn.AfterCommit([&] {
                  // The row is committed: a read connection sees it.
                  calls.push_back(f.CustomerExists(id) ? "first:visible" : "first:missing");
                });
                txn.AfterCommit([&] { calls.push_back("second"); });
                SCRM_ASSIGN_OR_RETURN(id, f.customers.Create(txn, model::Customer{}));
                CHECK(calls.empty());  // nothing runs before COMMIT
                return core::OkStatus();
              })
              .ok());
  CHECK(calls == std::vector<std::string>{"first:visible", "second"});
}

TEST_CASE("WriteTxn drops AfterCommit callbacks when the transaction rolls back", "[db]") {
  WriteTxnFixture f;
  int runs = 0;
  const Status status = f.db->InTransaction([&](WriteTxn& txn) -> Status {
    txn.AfterCommit([&] { ++runs; });
    return core::InternalError("abort");
  });
  CHECK(status.code() == StatusCode::kInternal);
  CHECK(runs == 0);
  // The next transaction's callbacks are its own: the dropped one does not run with them.
  REQUIRE(f.db->InTransaction([&](WriteTxn& txn) -> Status {
                txn.AfterCommit([&] { runs += 10; });
                return core::OkStatus();
              })
              .ok());
  CHECK(runs == 10);
}

}  // namespace
}  // namespace scrm::storage
