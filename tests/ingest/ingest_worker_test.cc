#include "src/ingest/ingest_worker.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/ingest/inbox_writer.h"
#include "src/storage/cursor_store.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "tests/ingest/ingest_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::ingest {
namespace {

using core::StatusCode;
using scrm::testing::TempDir;
using testing::CallLog;
using testing::kNowMs;
using testing::kPatience;
using testing::MakeMessage;
using testing::OpenInbox;
using testing::OpenMigrated;
using testing::RecordingProcessor;

using Calls = std::vector<std::pair<std::string, int64_t>>;

constexpr int64_t kBaseId = kNowMs << 16;

// Members are initialised in declaration order.
struct IngestWorkerFixture {
  TempDir dir;
  std::unique_ptr<storage::Database> db = OpenMigrated(dir.File("scrmd.db"));
  std::unique_ptr<storage::Database> inbox_db = OpenInbox(dir.File("scrmd-inbox.db"));
  storage::InteractionStore store{*inbox_db};
  storage::CursorStore cursors{*db};
  core::FakeClock clock{kNowMs};
  core::MetricsRegistry metrics;
  CallLog log;
  RecordingProcessor first{"first", log};
  RecordingProcessor second{"second", log};

  // A worker over both processors. The poll is an hour: tests wake it with Notify.
  std::unique_ptr<IngestWorker> MakeWorker(
      size_t chunk_size = 4, std::chrono::milliseconds batch_delay = std::chrono::milliseconds(0)) {
    IngestWorkerOptions options;
    options.chunk_size = chunk_size;
    options.batch_delay = batch_delay;
    options.poll_interval = std::chrono::hours(1);
    options.retry_interval = std::chrono::seconds(1);
    options.max_retry_interval = std::chrono::seconds(8);
    return std::make_unique<IngestWorker>(
        store, cursors, std::vector<std::reference_wrapper<InteractionProcessor>>{first, second},
        clock, metrics, core::MakeNullLogger(), options);
  }

  // Stores interactions n = from..to with ids kBaseId + n, received at kNowMs + n.
  void Store(int64_t from, int64_t to, const std::string& account = "acct") {
    std::vector<model::Interaction> items;
    for (int64_t n = from; n <= to; ++n) {
      auto it = MakeMessage(account + std::to_string(n), account);
      it.id = kBaseId + n;
      it.received_at_ms = kNowMs + n;
      items.push_back(it);
    }
    auto stored = store.InsertBatch(items);
    INFO(stored.status().ToString());
    REQUIRE(stored.ok());
  }

  uint64_t Errors(const std::string& processor) {
    return metrics.Counter("scrmd_ingest_errors_total", "", {"processor"}).Value({processor});
  }
};

// first(id), second(id) for each id, in order.
Calls Expected(std::initializer_list<int64_t> ns) {
  Calls calls;
  for (int64_t n : ns) {
    calls.emplace_back("first", kBaseId + n);
    calls.emplace_back("second", kBaseId + n);
  }
  return calls;
}

TEST_CASE("IngestWorker runs every processor in order on each interaction when started", "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 6);
  auto worker = f.MakeWorker(/*chunk_size=*/4);
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseId + 6, kPatience));
  worker->Stop();
  CHECK(f.log.calls() == Expected({1, 2, 3, 4, 5, 6}));
  CHECK(f.cursors.GetCursor("worker").value() == kBaseId + 6);
  CHECK(f.metrics.Counter("scrmd_ingest_processed_total", "", {}).Value({}) == 6);
}

TEST_CASE("IngestWorker resumes after the stored cursor when a new worker starts", "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 3);
  {
    auto worker = f.MakeWorker();
    REQUIRE(worker->Start().ok());
    REQUIRE(worker->WaitForCursor(kBaseId + 3, kPatience));
  }
  f.Store(4, 5);
  f.log.Clear();
  // A restarted process: its own Database on the same file.
  auto reopened = OpenMigrated(f.dir.File("scrmd.db"));
  auto reopened_inbox = OpenInbox(f.dir.File("scrmd-inbox.db"));
  storage::InteractionStore store(*reopened_inbox);
  storage::CursorStore cursors(*reopened);
  IngestWorker worker(store, cursors, {f.first, f.second}, f.clock, f.metrics,
                      core::MakeNullLogger());
  REQUIRE(worker.Start().ok());
  CHECK(worker.cursor() >= kBaseId + 3);
  REQUIRE(worker.WaitForCursor(kBaseId + 5, kPatience));
  worker.Stop();
  CHECK(f.log.calls() == Expected({4, 5}));
}

TEST_CASE("IngestWorker retries the failed interaction and skips nothing when a processor fails",
          "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 5);
  f.second.FailOn(kBaseId + 3);
  auto worker = f.MakeWorker(/*chunk_size=*/10);
  REQUIRE(worker->Start().ok());
  REQUIRE(f.log.WaitForCall("second", kBaseId + 3));
  REQUIRE(worker->WaitForCursor(kBaseId + 2, kPatience));

  // Commits keep arriving, but the retry waits for its time on the clock.
  worker->Notify();
  worker->Notify();
  CHECK(worker->cursor() == kBaseId + 2);
  CHECK(f.cursors.GetCursor("worker").value() == kBaseId + 2);
  CHECK(f.Errors("second") == 1);

  f.second.Heal();
  f.clock.Advance(std::chrono::seconds(1));
  worker->Notify();
  REQUIRE(worker->WaitForCursor(kBaseId + 5, kPatience));
  worker->Stop();
  // 3 went through both processors again; 4 and 5 were never tried before 3 succeeded.
  CHECK(f.log.calls() == Expected({1, 2, 3, 3, 4, 5}));
  CHECK(f.Errors("second") == 1);
}

TEST_CASE("RetryDelay doubles per consecutive failure up to the maximum", "[unit]") {
  IngestWorkerOptions options;
  options.retry_interval = std::chrono::seconds(1);
  options.max_retry_interval = std::chrono::seconds(5);
  using std::chrono::milliseconds;
  CHECK(RetryDelay(1, options) == milliseconds(1000));
  CHECK(RetryDelay(2, options) == milliseconds(2000));
  CHECK(RetryDelay(3, options) == milliseconds(4000));
  CHECK(RetryDelay(4, options) == milliseconds(5000));
  CHECK(RetryDelay(1000, options) == milliseconds(5000));
}

TEST_CASE("IngestWorker waits for the longer delay when a retry fails again", "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 2);
  f.first.FailOn(kBaseId + 2);
  auto worker = f.MakeWorker();
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseId + 1, kPatience));  // 2 failed once: 1 s pause
  f.clock.Advance(std::chrono::seconds(1));
  worker->Notify();
  // Counted after the pause is set: failed twice, 2 s pause from here.
  REQUIRE(testing::WaitUntil([&] { return f.Errors("first") == 2; }));
  f.clock.Advance(std::chrono::seconds(1));
  worker->Notify();  // not due yet: a third attempt now would fail and be counted
  f.first.Heal();
  f.clock.Advance(std::chrono::seconds(1));
  worker->Notify();
  REQUIRE(worker->WaitForCursor(kBaseId + 2, kPatience));
  worker->Stop();
  CHECK(f.log.IdsOf("first") ==
        std::vector<int64_t>{kBaseId + 1, kBaseId + 2, kBaseId + 2, kBaseId + 2});
  CHECK(f.Errors("first") == 2);
}

TEST_CASE("IngestWorker processes what the inbox commits when wired to its listener", "[db]") {
  IngestWorkerFixture f;
  auto worker = f.MakeWorker(/*chunk_size=*/16);
  InboxWriter writer(f.store, f.clock, f.metrics, core::MakeNullLogger());
  writer.SetCommitListener([&] { worker->Notify(); });
  REQUIRE(worker->Start().ok());
  REQUIRE(writer.Start().ok());

  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!writer.Submit(MakeMessage(std::to_string(t * 1000 + i))).ok()) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  writer.Stop();
  CHECK(failures == std::vector<int>(kThreads, 0));
  const int64_t last = f.store.MaxId().value();
  REQUIRE(worker->WaitForCursor(last, kPatience));
  worker->Stop();

  const std::vector<int64_t> ids = f.log.IdsOf("first");
  REQUIRE(ids.size() == kThreads * kPerThread);  // each exactly once
  for (size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] > ids[i - 1]);
}

TEST_CASE("IngestWorker without processors moves the cursor to the newest row and records it",
          "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 5);
  IngestWorkerOptions options;
  options.chunk_size = 2;  // not a limit here: nothing is read row by row
  options.poll_interval = std::chrono::hours(1);
  IngestWorker worker(f.store, f.cursors, {}, f.clock, f.metrics, core::MakeNullLogger(), options);
  REQUIRE(worker.Start().ok());
  // The first pass records it, then publishes it.
  REQUIRE(testing::WaitUntil([&] { return f.cursors.GetCursor("worker").value() == kBaseId + 5; }));
  CHECK(worker.WaitForCursor(kBaseId + 5, kPatience));  // published right after it is recorded

  // Within kIdleCursorFlushInterval the cursor moves in memory only.
  f.Store(6, 8);
  worker.Notify();
  REQUIRE(worker.WaitForCursor(kBaseId + 8, kPatience));
  CHECK(f.cursors.GetCursor("worker").value() == kBaseId + 5);
  CHECK(f.metrics.Counter("scrmd_ingest_processed_total", "", {}).Value({}) == 8);

  // Once the interval has passed on the clock, the next pass records it.
  f.clock.Advance(kIdleCursorFlushInterval);
  f.Store(9, 9);
  worker.Notify();
  REQUIRE(worker.WaitForCursor(kBaseId + 9, kPatience));
  REQUIRE(testing::WaitUntil([&] { return f.cursors.GetCursor("worker").value() == kBaseId + 9; }));

  // Stop records whatever is left.
  f.Store(10, 10);
  worker.Notify();
  REQUIRE(worker.WaitForCursor(kBaseId + 10, kPatience));
  worker.Stop();
  CHECK(f.cursors.GetCursor("worker").value() == kBaseId + 10);
  CHECK(f.log.calls().empty());
}

TEST_CASE("IngestWorker Replay re-processes only the requested range", "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 4, "a");
  f.Store(5, 8, "b");
  auto worker = f.MakeWorker(/*chunk_size=*/2);
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseId + 8, kPatience));
  f.log.Clear();

  ReplayRequest request;
  request.from_ms = kNowMs + 3;
  request.to_ms = kNowMs + 7;  // received 3, 4, 5, 6
  Calls expected;
  int64_t reprocessed = 0;
  SECTION("every account") {
    expected = Expected({3, 4, 5, 6});
    reprocessed = 4;
  }
  SECTION("one account") {
    request.account_id = "b";
    expected = Expected({5, 6});
    reprocessed = 2;
  }
  auto result = worker->Replay(request, kPatience);
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  CHECK(result->reprocessed == reprocessed);
  CHECK(result->up_to_id == kBaseId + 8);
  CHECK(f.log.calls() == expected);
  CHECK(worker->cursor() == kBaseId + 8);
  CHECK(f.cursors.GetCursor("worker").value() == kBaseId + 8);
}

TEST_CASE("IngestWorker Replay leaves interactions after the cursor to the normal path", "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 4);
  f.second.FailOn(kBaseId + 3);  // holds the cursor at 2
  auto worker = f.MakeWorker();
  REQUIRE(worker->Start().ok());
  REQUIRE(f.log.WaitForCall("second", kBaseId + 3));
  REQUIRE(worker->WaitForCursor(kBaseId + 2, kPatience));
  f.log.Clear();

  auto result = worker->Replay({kNowMs, kNowMs + 100, std::nullopt}, kPatience);
  REQUIRE(result.ok());
  CHECK(result->reprocessed == 2);
  CHECK(result->up_to_id == kBaseId + 2);
  CHECK(f.log.calls() == Expected({1, 2}));
}

TEST_CASE("IngestWorker Replay reports the processor error when one fails", "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 3);
  auto worker = f.MakeWorker();
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseId + 3, kPatience));
  f.first.FailOn(kBaseId + 2);
  auto result = worker->Replay({kNowMs, kNowMs + 100, std::nullopt}, kPatience);
  CHECK(result.status().code() == StatusCode::kUnavailable);
  CHECK(result.status().message().find(std::to_string(kBaseId + 2)) != std::string::npos);
  CHECK(result.status().message().find("first") != std::string::npos);
}

TEST_CASE("IngestWorker Replay returns an error when the request cannot run", "[db]") {
  IngestWorkerFixture f;
  auto worker = f.MakeWorker();
  SECTION("empty range") {
    REQUIRE(worker->Start().ok());
    CHECK(worker->Replay({kNowMs, kNowMs, std::nullopt}, kPatience).status().code() ==
          StatusCode::kInvalidArgument);
  }
  SECTION("empty account") {
    REQUIRE(worker->Start().ok());
    CHECK(worker->Replay({kNowMs, kNowMs + 1, std::string()}, kPatience).status().code() ==
          StatusCode::kInvalidArgument);
  }
  SECTION("not started") {
    CHECK(worker->Replay({kNowMs, kNowMs + 1, std::nullopt}, kPatience).status().code() ==
          StatusCode::kUnavailable);
  }
  SECTION("stopped") {
    REQUIRE(worker->Start().ok());
    worker->Stop();
    CHECK(worker->Replay({kNowMs, kNowMs + 1, std::nullopt}, kPatience).status().code() ==
          StatusCode::kUnavailable);
    CHECK(worker->Start().code() == StatusCode::kFailedPrecondition);
  }
}

TEST_CASE("IngestWorker with a batch delay reads what several commits stored in one pass", "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 1);
  auto worker = f.MakeWorker(/*chunk_size=*/16, std::chrono::seconds(2));
  REQUIRE(worker->Start().ok());
  // The first pass reads at once; then the worker sleeps until notified.
  REQUIRE(worker->WaitForCursor(kBaseId + 1, kPatience));
  f.Store(2, 2);
  worker->Notify();
  // Well inside the delay: nothing more is read yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(f.log.calls() == Expected({1}));
  f.Store(3, 4);
  worker->Notify();
  REQUIRE(worker->WaitForCursor(kBaseId + 4, kPatience));
  worker->Stop();
  CHECK(f.log.calls() == Expected({1, 2, 3, 4}));
}

TEST_CASE("IngestWorker Stop cuts a batch delay short and loses nothing", "[db]") {
  IngestWorkerFixture f;
  f.Store(1, 1);
  auto worker = f.MakeWorker(/*chunk_size=*/16, std::chrono::hours(1));
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseId + 1, kPatience));
  f.Store(2, 3);
  worker->Notify();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  worker->Stop();  // would wait an hour if the delay held it
  CHECK(f.log.calls() == Expected({1}));
  CHECK(f.cursors.GetCursor("worker").value() == kBaseId + 1);
  // The next worker finds the rest after the cursor.
  auto next = f.MakeWorker(/*chunk_size=*/16);
  REQUIRE(next->Start().ok());
  REQUIRE(next->WaitForCursor(kBaseId + 3, kPatience));
  next->Stop();
  CHECK(f.log.calls() == Expected({1, 2, 3}));
}

TEST_CASE("IngestWorker Start returns InvalidArgument when the options are invalid", "[db]") {
  IngestWorkerFixture f;
  IngestWorkerOptions options;
  SECTION("chunk size") { options.chunk_size = 0; }
  SECTION("cursor name") { options.cursor_name.clear(); }
  SECTION("poll interval") { options.poll_interval = std::chrono::milliseconds(0); }
  SECTION("retry bounds") { options.max_retry_interval = options.retry_interval / 2; }
  SECTION("batch delay") { options.batch_delay = std::chrono::milliseconds(-1); }
  IngestWorker worker(f.store, f.cursors, {f.first}, f.clock, f.metrics, core::MakeNullLogger(),
                      options);
  CHECK(worker.Start().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::ingest
