// The ingest worker driving the profile pipeline: each chunk and the cursor commit in one
// transaction, so a failure (or a crash) mid-chunk leaves nothing of it behind; lag metrics.
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/ingest/ingest_worker.h"
#include "src/ingest/profile_chunk_processor.h"
#include "src/ingest/quarantine.h"
#include "src/storage/cursor_store.h"
#include "src/storage/inbox_lag.h"
#include "src/storage/interaction_store.h"
#include "src/storage/quarantine_store.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::profiles {
namespace {

using model::InteractionKind;
using testing::Fixture;

constexpr std::chrono::milliseconds kPatience{10000};

// Test-only fault injection: any timeline entry whose summary is "poison" fails its INSERT, as a
// full disk or a constraint would, in the middle of a chunk.
constexpr char kCreatePoisonTrigger[] =
    "CREATE TRIGGER poison BEFORE INSERT ON timeline WHEN NEW.summary = 'poison' "
    "BEGIN SELECT RAISE(ABORT, 'poisoned'); END";
constexpr char kDropPoisonTrigger[] = "DROP TRIGGER poison";
constexpr char kCountCustomers[] = "SELECT COUNT(*) FROM customers";
constexpr char kCountEffects[] = "SELECT COUNT(*) FROM applied_effects";
constexpr char kCountTimeline[] = "SELECT COUNT(*) FROM timeline";

void Exec(storage::Database& db, const char* sql) {
  const core::Status status = db.WithWriter([&](SQLite::Database& conn) -> core::Status {
    conn.exec(sql);
    return core::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
}

int64_t Scalar(storage::Database& db, const char* sql) {
  int64_t value = -1;
  REQUIRE(db.WithReader([&](SQLite::Database& conn) -> core::Status {
              value = conn.execAndGet(sql).getInt64();
              return core::OkStatus();
            }).ok());
  return value;
}

TEST_CASE(
    "ProfileService ApplyChunk commits nothing of the chunk and keeps the cursor when an "
    "interaction in it fails",
    "[db]") {
  Fixture f(testing::ExampleRules());
  storage::CursorStore cursors(*f.db);
  REQUIRE(cursors.SetCursor("worker", 7).ok());
  Exec(*f.db, kCreatePoisonTrigger);
  const std::vector<model::Interaction> chunk = {f.OaText("o1", "产品A"), f.OaText("o2", "poison"),
                                                 f.OaText("o3", "产品B")};
  const core::Status status =
      f.service.ingest.ApplyChunk(chunk, CursorUpdate{"worker", chunk.back().id});
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find("interaction " + std::to_string(chunk[1].id)) != std::string::npos);
  CHECK(Scalar(*f.db, kCountCustomers) == 0);
  CHECK(Scalar(*f.db, kCountEffects) == 0);
  CHECK(Scalar(*f.db, kCountTimeline) == 0);
  CHECK(cursors.GetCursor("worker").value() == 7);

  Exec(*f.db, kDropPoisonTrigger);
  REQUIRE(f.service.ingest.ApplyChunk(chunk, CursorUpdate{"worker", chunk.back().id}).ok());
  CHECK(Scalar(*f.db, kCountCustomers) == 3);
  CHECK(cursors.GetCursor("worker").value() == chunk.back().id);
}

// A clock at kT0 that runs `hook` once, on the first reading after it is set (the profile
// service reads the clock inside its transaction: the hook runs with the writer lock held).
class HookClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    if (hook_) {
      const std::function<void()> hook = std::move(hook_);
      hook_ = nullptr;
      hook();
    }
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(testing::kT0));
  }
  std::chrono::steady_clock::time_point SteadyNow() const override { return {}; }
  void SetHook(std::function<void()> hook) { hook_ = std::move(hook); }

 private:
  mutable std::function<void()> hook_;
};

TEST_CASE(
    "ProfileService ApplyChunkPrefix commits a prefix with its cursor when another writer waits "
    "and the whole chunk when none does",
    "[db]") {
  Fixture f;
  HookClock clock;
  ProfileService service(f.store, *f.rules, clock, f.wired.sinks);
  std::vector<model::Interaction> items;
  for (int i = 0; i < 200; ++i) items.push_back(f.OaText("oY" + std::to_string(i), "你好"));

  // Inside the transaction another thread starts to wait for the main file's writer (as an API
  // write or the outbox runner does); the chunk gives way after the minimum of 64.
  std::thread waiter;
  bool waited = false;
  clock.SetHook([&] {
    waiter = std::thread([&] {
      REQUIRE(f.db->WithWriter([](SQLite::Database&) { return core::OkStatus(); }).ok());
    });
    waited = testing::WaitUntil([&] { return f.db->WriterWanted(); });
  });
  auto first = service.ingest.ApplyChunkPrefix(items, "worker", 64);
  waiter.join();
  REQUIRE(waited);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(*first == 64);
  storage::CursorStore cursors(*f.db);
  CHECK(cursors.GetCursor("worker").value() == items[63].id);
  CHECK(Scalar(*f.db, kCountCustomers) == 64);
  CHECK_FALSE(f.db->WriterWanted());

  // Nobody waits: the rest in one go.
  const std::span<const model::Interaction> rest = std::span(items).subspan(64);
  auto second = service.ingest.ApplyChunkPrefix(rest, "worker", 64);
  REQUIRE(second.ok());
  CHECK(*second == rest.size());
  CHECK(cursors.GetCursor("worker").value() == items.back().id);
  CHECK(Scalar(*f.db, kCountCustomers) == 200);
}

// Commits only the first half of each chunk (at least one), as a pipeline giving way to another
// writer of the main file does.
class HalfChunkProcessor final : public ingest::ChunkProcessor {
 public:
  explicit HalfChunkProcessor(ingest::ChunkProcessor& inner) : inner_(inner) {}
  std::string_view name() const override { return "profiles"; }
  core::Status ProcessChunk(std::span<const model::Interaction> chunk,
                            const ingest::ChunkCursor* cursor) override {
    return inner_.ProcessChunk(chunk, cursor);
  }
  core::StatusOr<size_t> ProcessChunkPrefix(std::span<const model::Interaction> chunk,
                                            const ingest::ChunkCursor& cursor) override {
    const size_t half = std::max<size_t>(1, chunk.size() / 2);
    const ingest::ChunkCursor at_half{cursor.name, chunk[half - 1].id};
    SCRM_RETURN_IF_ERROR(inner_.ProcessChunk(chunk.first(half), &at_half));
    prefixes.push_back(half);
    return half;
  }
  std::vector<size_t> prefixes;

 private:
  ingest::ChunkProcessor& inner_;
};

// The worker over an inbox file next to a Fixture's main file (its cursor there), with the
// profile pipeline as its chunk processor.
struct WorkerFixture {
  Fixture f{testing::ExampleRules()};
  std::unique_ptr<storage::Database> inbox_db = testing::OpenInbox(f.dir.File("scrmd-inbox.db"));
  storage::InteractionStore inbox{*inbox_db};
  storage::CursorStore cursors{*f.db};
  storage::InboxLagReader lag{*inbox_db};
  core::MetricsRegistry metrics;
  ingest::ProfileChunkProcessor pipeline{f.service.ingest};

  std::unique_ptr<ingest::IngestWorker> MakeWorker(size_t chunk_size = 64) {
    ingest::IngestWorkerOptions options;
    options.chunk_size = chunk_size;
    options.poll_interval = std::chrono::hours(1);
    options.retry_interval = std::chrono::seconds(1);
    options.max_retry_interval = std::chrono::seconds(8);
    auto worker = std::make_unique<ingest::IngestWorker>(inbox, cursors, pipeline, f.clock, metrics,
                                                         core::MakeNullLogger(), options);
    worker->EnableLagMetrics(lag);
    return worker;
  }

  void Store(const std::vector<model::Interaction>& items) {
    auto stored = inbox.InsertBatch(items);
    INFO(stored.status().ToString());
    REQUIRE(stored.ok());
  }

  double Gauge(const std::string& name) { return metrics.Gauge(name, "", {}).Value({}); }
  uint64_t Errors() {
    return metrics.Counter("scrmd_ingest_errors_total", "", {"processor"}).Value({"profiles"});
  }
};

TEST_CASE(
    "IngestWorker applies the chunks before a failing interaction and retries it when the "
    "profile pipeline fails",
    "[db]") {
  WorkerFixture w;
  Fixture& f = w.f;
  std::vector<model::Interaction> items = {f.OaText("o1", "产品A"), f.OaText("o2", "你好"),
                                           f.OaText("o3", "poison"), f.OaText("o4", "产品B"),
                                           f.OaText("o5", "再见")};
  w.Store(items);
  Exec(*f.db, kCreatePoisonTrigger);
  auto worker = w.MakeWorker(/*chunk_size=*/64);
  REQUIRE(worker->Start().ok());
  // The chunk fails as a whole, then one at a time: 1 and 2 commit, 3 fails and is retried.
  REQUIRE(worker->WaitForCursor(items[1].id, kPatience));
  REQUIRE(testing::WaitUntil([&] { return w.Errors() == 1; }));
  CHECK(worker->cursor() == items[1].id);
  CHECK(w.cursors.GetCursor("worker").value() == items[1].id);
  CHECK(Scalar(*f.db, kCountCustomers) == 2);
  REQUIRE(testing::WaitUntil([&] { return w.Gauge("scrmd_ingest_lag_interactions") == 3; }));

  Exec(*f.db, kDropPoisonTrigger);
  f.clock.Advance(std::chrono::seconds(1));
  worker->Notify();
  REQUIRE(worker->WaitForCursor(items[4].id, kPatience));
  REQUIRE(testing::WaitUntil([&] { return w.Gauge("scrmd_ingest_lag_interactions") == 0; }));
  worker->Stop();
  CHECK(Scalar(*f.db, kCountCustomers) == 5);
  CHECK(w.cursors.GetCursor("worker").value() == items[4].id);
  CHECK(w.metrics.Counter("scrmd_ingest_processed_total", "", {}).Value({}) == 5);
  CHECK(w.Gauge("scrmd_ingest_oldest_pending_age_seconds") == 0);
}

TEST_CASE(
    "IngestWorker with a quarantine puts the failing interaction aside and applies the next ones "
    "through the profile pipeline",
    "[db]") {
  WorkerFixture w;
  Fixture& f = w.f;
  std::vector<model::Interaction> items = {f.OaText("o1", "产品A"), f.OaText("o2", "你好"),
                                           f.OaText("o3", "poison"), f.OaText("o4", "产品B"),
                                           f.OaText("o5", "再见")};
  w.Store(items);
  Exec(*f.db, kCreatePoisonTrigger);
  storage::QuarantineStore quarantined(*f.db);
  ingest::Quarantine quarantine(quarantined, w.inbox, w.pipeline, f.clock, w.metrics,
                                core::MakeNullLogger());
  auto worker = w.MakeWorker(/*chunk_size=*/64);
  worker->EnableQuarantine(quarantine);
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(items[4].id, kPatience));
  worker->Stop();
  CHECK(Scalar(*f.db, kCountCustomers) == 4);
  CHECK(w.cursors.GetCursor("worker").value() == items[4].id);
  CHECK(w.metrics.Counter("scrmd_ingest_processed_total", "", {}).Value({}) == 4);
  const auto row = quarantined.Get(items[2].id);
  REQUIRE(row.ok());
  CHECK(row->error.find("poisoned") != std::string::npos);

  Exec(*f.db, kDropPoisonTrigger);
  const auto reapplied = quarantine.Reapply(items[2].id);
  INFO(reapplied.status().ToString());
  REQUIRE(reapplied.ok());
  CHECK(reapplied->applied);
  CHECK(Scalar(*f.db, kCountCustomers) == 5);
  CHECK(quarantined.Count().value() == 0);
}

TEST_CASE("IngestWorker changes no profile when a replay re-runs processed interactions", "[db]") {
  WorkerFixture w;
  Fixture& f = w.f;
  std::vector<model::Interaction> items = {
      f.OaEvent("oR", InteractionKind::kSubscribe, model::QrScenePayload{"channel_a", "t"}),
      f.OaText("oR", "产品A 预算5万-10万"), f.OaText("oR", "B款呢"), f.OaText("oR", "第三条"),
      f.OaEvent("oR", InteractionKind::kUnsubscribe)};
  w.Store(items);
  auto worker = w.MakeWorker(/*chunk_size=*/2);
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(items.back().id, kPatience));
  const int64_t id = f.ByOpenid("oR");
  auto before = f.store.GetProfile(id);
  REQUIRE(before.ok());
  const auto timeline = f.Timeline(id);

  f.clock.Advance(std::chrono::hours(1));
  auto replay =
      worker->Replay(ingest::ReplayRequest{testing::kT0 - 1, testing::kT0 + 1, {}}, kPatience);
  INFO(replay.status().ToString());
  REQUIRE(replay.ok());
  CHECK(replay->reprocessed == 5);
  worker->Stop();
  auto after = f.store.GetProfile(id);
  REQUIRE(after.ok());
  CHECK(*after == *before);
  CHECK(f.Timeline(id) == timeline);
}

TEST_CASE(
    "IngestWorker reports the pending interactions and the oldest one's age when it falls "
    "behind",
    "[db]") {
  WorkerFixture w;
  Fixture& f = w.f;
  std::vector<model::Interaction> items = {f.OaText("o1", "poison"), f.OaText("o2", "b")};
  items[0].received_at_ms = testing::kT0 - 90000;  // received 90 s ago
  w.Store(items);
  Exec(*f.db, kCreatePoisonTrigger);
  auto worker = w.MakeWorker();
  REQUIRE(worker->Start().ok());
  // >= 1: the worker retries every second, and a loaded machine may not look in between.
  REQUIRE(testing::WaitUntil([&] { return w.Errors() >= 1; }));
  REQUIRE(testing::WaitUntil([&] { return w.Gauge("scrmd_ingest_lag_interactions") == 2; }));
  CHECK(w.Gauge("scrmd_ingest_oldest_pending_age_seconds") == 90);
  worker->Stop();
  const std::string text = w.metrics.Render();
  CHECK(text.find("# TYPE scrmd_ingest_lag_interactions gauge") != std::string::npos);
  CHECK(text.find("scrmd_ingest_oldest_pending_age_seconds 90") != std::string::npos);
}

TEST_CASE("InboxLagReader counts pending interactions up to the cap when asked", "[db]") {
  WorkerFixture w;
  Fixture& f = w.f;
  std::vector<model::Interaction> items = {f.OaText("o1", "a"), f.OaText("o2", "b"),
                                           f.OaText("o3", "c")};
  w.Store(items);
  auto all = w.lag.Read(0, 100);
  REQUIRE(all.ok());
  CHECK(all->pending == 3);
  CHECK_FALSE(all->capped);
  CHECK(all->oldest_received_at_ms == items[0].received_at_ms);
  auto capped = w.lag.Read(0, 2);
  REQUIRE(capped.ok());
  CHECK(capped->pending == 2);
  CHECK(capped->capped);
  auto none = w.lag.Read(items.back().id, 100);
  REQUIRE(none.ok());
  CHECK(none->pending == 0);
  CHECK(none->oldest_received_at_ms == 0);
  CHECK(w.lag.Read(0, 0).status().code() == core::StatusCode::kInvalidArgument);
}

TEST_CASE("IngestWorker goes on after a chunk processor commits only a prefix of a chunk", "[db]") {
  WorkerFixture w;
  Fixture& f = w.f;
  std::vector<model::Interaction> items;
  for (int i = 0; i < 40; ++i) items.push_back(f.OaText("oP" + std::to_string(i), "产品A"));
  w.Store(items);
  HalfChunkProcessor halves(w.pipeline);
  ingest::IngestWorkerOptions options;
  options.chunk_size = 16;
  options.poll_interval = std::chrono::hours(1);
  ingest::IngestWorker worker(w.inbox, w.cursors, halves, f.clock, w.metrics,
                              core::MakeNullLogger(), options);
  REQUIRE(worker.Start().ok());
  // No notification and an hour's poll: only the worker's own "more is due" gets it to the end.
  REQUIRE(worker.WaitForCursor(items.back().id, kPatience));
  worker.Stop();
  CHECK(w.cursors.GetCursor("worker").value() == items.back().id);
  CHECK(Scalar(*f.db, kCountCustomers) == 40);
  CHECK(Scalar(*f.db, "SELECT SUM(interaction_count) FROM customers") == 40);  // each once
  CHECK(w.metrics.Counter("scrmd_ingest_processed_total", "", {}).Value({}) == 40);
  REQUIRE(halves.prefixes.size() > 2);
  CHECK(halves.prefixes.front() == 8);
}

}  // namespace
}  // namespace scrm::profiles
