#include "src/storage/outbox_store.h"

#include <catch2/catch.hpp>

#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

constexpr int64_t kLeaseMs = 60000;

OutboxJob Job(std::string key, int64_t due_at_ms = kNowMs) {
  OutboxJob job;
  job.kind = "enrich";
  job.account_id = "shop";
  job.dedupe_key = std::move(key);
  job.payload_json = R"({"value":"o1"})";
  job.due_at_ms = due_at_ms;
  return job;
}

struct OutboxStoreFixture {
  scrm::testing::TempDir dir;
  std::unique_ptr<Database> db = OpenMigratedOrDie({dir.File("o.db")});
  OutboxStore store{*db};

  std::vector<OutboxJob> Claim(int64_t now_ms, size_t limit = 10) {
    auto claimed = store.Claim(now_ms, kLeaseMs, limit);
    INFO(claimed.status().ToString());
    REQUIRE(claimed.ok());
    return std::move(claimed).value();
  }
};

TEST_CASE("OutboxStore queues a dedupe key once", "[db]") {
  OutboxStoreFixture f;
  CHECK(f.store.Enqueue(Job("enrich:oa:shop:o1"), kNowMs).value());
  CHECK_FALSE(f.store.Enqueue(Job("enrich:oa:shop:o1"), kNowMs + 5).value());
  CHECK(f.store.Enqueue(Job("enrich:oa:shop:o2"), kNowMs).value());
  CHECK(f.store.Count(OutboxState::kPending).value() == 2);
  auto job = f.store.FindByKey("enrich:oa:shop:o1");
  REQUIRE(job.ok());
  REQUIRE(job->has_value());
  CHECK((*job)->state == OutboxState::kPending);
  CHECK((*job)->attempts == 0);
  CHECK((*job)->created_at_ms == kNowMs);
  CHECK((*job)->payload_json == R"({"value":"o1"})");
}

TEST_CASE("OutboxStore refuses a job without kind account or key", "[db]") {
  OutboxStoreFixture f;
  OutboxJob job = Job("");
  CHECK(f.store.Enqueue(job, kNowMs).status().code() == core::StatusCode::kInvalidArgument);
  job = Job("k");
  job.account_id.clear();
  CHECK(f.store.Enqueue(job, kNowMs).status().code() == core::StatusCode::kInvalidArgument);
}

TEST_CASE("OutboxStore queues a job inside a write transaction and rolls it back with it", "[db]") {
  OutboxStoreFixture f;
  REQUIRE(f.db->InTransaction([&](WriteTxn& txn) -> core::Status {
                return f.store.Enqueue(txn, Job("kept"), kNowMs).status();
              })
              .ok());
  const core::Status failed = f.db->InTransaction([&](WriteTxn& txn) -> core::Status {
    REQUIRE(f.store.Enqueue(txn, Job("rolled-back"), kNowMs).value());
    CHECK_FALSE(f.store.Enqueue(txn, Job("kept"), kNowMs).value());
    return core::InternalError("abort");
  });
  CHECK_FALSE(failed.ok());
  CHECK(f.store.FindByKey("kept").value().has_value());
  CHECK_FALSE(f.store.FindByKey("rolled-back").value().has_value());
}

// EnqueueCoalesced in a transaction of its own; true when queued.
bool EnqueueCoalesced(Database& db, const OutboxJob& job, int64_t now_ms) {
  OutboxStore outbox(db);
  bool queued = false;
  const core::Status status = db.InTransaction([&](WriteTxn& txn) -> core::Status {
    SCRM_ASSIGN_OR_RETURN(queued, outbox.EnqueueCoalesced(txn, job, now_ms));
    return core::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
  return queued;
}

TEST_CASE("OutboxStore coalesces a job while one for the subject waits unclaimed", "[db]") {
  OutboxStoreFixture f;
  CHECK(EnqueueCoalesced(*f.db, Job("tagpush:shop:4:"), kNowMs));
  CHECK_FALSE(EnqueueCoalesced(*f.db, Job("tagpush:shop:4:"), kNowMs + 1));
  // Another subject, even one whose key starts the same way, is not coalesced with it.
  CHECK(EnqueueCoalesced(*f.db, Job("tagpush:shop:42:"), kNowMs));
  CHECK(EnqueueCoalesced(*f.db, Job("tagpush:shop:40:"), kNowMs));
  CHECK(f.store.Count(OutboxState::kPending).value() == 3);
  auto first = f.store.FindByKey("tagpush:shop:4:1");
  REQUIRE(first.ok());
  CHECK(first->has_value());
}

TEST_CASE("OutboxStore queues a coalesced job again once the waiting one is claimed", "[db]") {
  OutboxStoreFixture f;
  REQUIRE(EnqueueCoalesced(*f.db, Job("tagpush:shop:4:"), kNowMs));
  REQUIRE(f.Claim(kNowMs).size() == 1);  // running: it may have read the state already
  CHECK(EnqueueCoalesced(*f.db, Job("tagpush:shop:4:"), kNowMs + 1));
  CHECK_FALSE(EnqueueCoalesced(*f.db, Job("tagpush:shop:4:"), kNowMs + 2));
  CHECK(f.store.Count(OutboxState::kPending).value() == 2);
}

TEST_CASE("OutboxStore refuses a coalescing prefix that does not end with a colon", "[db]") {
  OutboxStoreFixture f;
  const core::Status status = f.db->InTransaction([&](WriteTxn& txn) -> core::Status {
    return f.store.EnqueueCoalesced(txn, Job("tagpush:shop:4"), kNowMs).status();
  });
  CHECK(status.code() == core::StatusCode::kInvalidArgument);
}

TEST_CASE("OutboxStore claims only due jobs oldest first and leases them", "[db]") {
  OutboxStoreFixture f;
  REQUIRE(f.store.Enqueue(Job("later", kNowMs + 1000), kNowMs).ok());
  REQUIRE(f.store.Enqueue(Job("a"), kNowMs).ok());
  REQUIRE(f.store.Enqueue(Job("b"), kNowMs).ok());
  auto claimed = f.Claim(kNowMs, 1);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].dedupe_key == "a");
  CHECK(claimed[0].attempts == 1);
  CHECK(claimed[0].claimed_at_ms == kNowMs);
  CHECK(claimed[0].due_at_ms == kNowMs + kLeaseMs);
  claimed = f.Claim(kNowMs);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].dedupe_key == "b");
  // Claimed jobs are not claimed again while the lease runs; the later one becomes due.
  claimed = f.Claim(kNowMs + 1000);
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].dedupe_key == "later");
  CHECK(f.Claim(kNowMs + 2000).empty());
}

TEST_CASE("OutboxStore claims a job again after its lease ran out", "[db]") {
  OutboxStoreFixture f;
  REQUIRE(f.store.Enqueue(Job("a"), kNowMs).ok());
  const auto first = f.Claim(kNowMs);
  REQUIRE(first.size() == 1);
  CHECK(f.Claim(kNowMs + kLeaseMs - 1).empty());
  const auto second = f.Claim(kNowMs + kLeaseMs);
  REQUIRE(second.size() == 1);
  CHECK(second[0].attempts == 2);
  // The first claim lost the job: its late report changes nothing.
  const core::Status late =
      f.store.Finish(first[0].id, first[0].attempts, OutboxState::kDone, {"ok", 0, ""}, kNowMs);
  CHECK(late.code() == core::StatusCode::kFailedPrecondition);
  REQUIRE(f.store
              .Finish(second[0].id, second[0].attempts, OutboxState::kDone, {"ok", 0, ""},
                      kNowMs + kLeaseMs)
              .ok());
  CHECK(f.store.Get(first[0].id).value().state == OutboxState::kDone);
  CHECK(f.store.Finish(first[0].id, 2, OutboxState::kDone, {}, kNowMs).code() ==
        core::StatusCode::kFailedPrecondition);
  CHECK(f.store.Finish(999, 1, OutboxState::kDone, {}, kNowMs).code() ==
        core::StatusCode::kNotFound);
}

TEST_CASE("OutboxStore reschedules a claimed job with the attempt's outcome", "[db]") {
  OutboxStoreFixture f;
  REQUIRE(f.store.Enqueue(Job("a"), kNowMs).ok());
  const auto claimed = f.Claim(kNowMs);
  REQUIRE(claimed.size() == 1);
  REQUIRE(f.store
              .Reschedule(claimed[0].id, claimed[0].attempts, kNowMs + 30000,
                          {"unavailable", -1, "system busy"}, kNowMs)
              .ok());
  const OutboxJob job = f.store.Get(claimed[0].id).value();
  CHECK(job.state == OutboxState::kPending);
  CHECK(job.due_at_ms == kNowMs + 30000);
  CHECK(job.last_outcome == "unavailable");
  CHECK(job.last_errcode == -1);
  CHECK(job.last_error == "system busy");
  CHECK(f.Claim(kNowMs + 29999).empty());
  CHECK(f.Claim(kNowMs + 30000).size() == 1);
}

TEST_CASE("OutboxStore finishes a job as failed and never claims it again", "[db]") {
  OutboxStoreFixture f;
  REQUIRE(f.store.Enqueue(Job("a"), kNowMs).ok());
  const auto claimed = f.Claim(kNowMs);
  REQUIRE(claimed.size() == 1);
  CHECK(f.store.Finish(claimed[0].id, 1, OutboxState::kPending, {}, kNowMs).code() ==
        core::StatusCode::kInvalidArgument);
  REQUIRE(
      f.store.Finish(claimed[0].id, 1, OutboxState::kFailed, {"refused", 40003, "invalid"}, kNowMs)
          .ok());
  CHECK(f.Claim(kNowMs + 10 * kLeaseMs).empty());
  const auto failed = f.store.List(OutboxState::kFailed, 10).value();
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].last_errcode == 40003);
  CHECK(f.store.Claim(kNowMs, kLeaseMs, 0).status().code() == core::StatusCode::kInvalidArgument);
}

TEST_CASE("OutboxStore retries a failed job with a fresh attempt budget", "[db]") {
  OutboxStoreFixture f;
  REQUIRE(f.store.Enqueue(Job("k1"), kNowMs).value());
  const OutboxJob claimed = f.Claim(kNowMs).at(0);
  REQUIRE(f.store
              .Finish(claimed.id, claimed.attempts, OutboxState::kFailed,
                      {"rejected", 45033, "concurrency"}, kNowMs + 1)
              .ok());
  auto retried = f.store.Retry(claimed.id, kNowMs + 10);
  REQUIRE(retried.ok());
  CHECK(retried->state == OutboxState::kPending);
  CHECK(retried->attempts == 0);
  CHECK(retried->claimed_at_ms == 0);
  CHECK(retried->due_at_ms == kNowMs + 10);
  CHECK(retried->last_errcode == 45033);  // kept until the next attempt says otherwise
  const OutboxJob again = f.Claim(kNowMs + 10).at(0);
  CHECK(again.id == claimed.id);
  CHECK(again.attempts == 1);
}

TEST_CASE("OutboxStore refuses to retry a pending or done job and an unknown id", "[db]") {
  OutboxStoreFixture f;
  REQUIRE(f.store.Enqueue(Job("k1"), kNowMs).value());
  const int64_t id = f.store.FindByKey("k1").value()->id;
  CHECK(f.store.Retry(id, kNowMs).status().code() == core::StatusCode::kFailedPrecondition);
  const OutboxJob claimed = f.Claim(kNowMs).at(0);
  REQUIRE(f.store.Finish(id, claimed.attempts, OutboxState::kDone, {"ok", 0, ""}, kNowMs).ok());
  CHECK(f.store.Retry(id, kNowMs).status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(f.store.Retry(id + 100, kNowMs).status().code() == core::StatusCode::kNotFound);
}

TEST_CASE("OutboxStore lists jobs by state and kind after an id and counts them by kind", "[db]") {
  OutboxStoreFixture f;
  for (const char* key : {"a", "b", "c"}) REQUIRE(f.store.Enqueue(Job(key), kNowMs).value());
  OutboxJob other = Job("d");
  other.kind = "tagpush";
  REQUIRE(f.store.Enqueue(other, kNowMs).value());
  const std::vector<OutboxJob> claimed = f.Claim(kNowMs);
  REQUIRE(claimed.size() == 4);
  for (size_t i : {size_t{0}, size_t{2}, size_t{3}}) {
    REQUIRE(f.store
                .Finish(claimed[i].id, claimed[i].attempts, OutboxState::kFailed,
                        {"rejected", 1, "x"}, kNowMs)
                .ok());
  }
  OutboxFilter filter;
  filter.state = OutboxState::kFailed;
  auto failed = f.store.ListJobs(filter);
  REQUIRE(failed.ok());
  REQUIRE(failed->size() == 3);
  filter.kind = "enrich";
  filter.after_id = claimed[0].id;
  auto page = f.store.ListJobs(filter);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 1);
  CHECK(page->at(0).id == claimed[2].id);
  filter.limit = 0;
  CHECK(f.store.ListJobs(filter).status().code() == core::StatusCode::kInvalidArgument);
  const auto counts = f.store.CountByKind(OutboxState::kFailed);
  REQUIRE(counts.ok());
  CHECK(*counts == std::map<std::string, int64_t>{{"enrich", 2}, {"tagpush", 1}});
}

}  // namespace
}  // namespace scrm::storage
