#include "src/ingest/inbox_writer.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "tests/ingest/ingest_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::ingest {
namespace {

using core::StatusCode;
using scrm::testing::TempDir;
using testing::kNowMs;
using testing::MakeMessage;
using testing::OpenInbox;
using testing::WaitUntil;

// Test-only SQL: makes the inbox table disappear and come back, as a broken disk would.
constexpr char kHideTable[] = "ALTER TABLE interactions RENAME TO interactions_hidden";
constexpr char kRestoreTable[] = "ALTER TABLE interactions_hidden RENAME TO interactions";

// Members are initialised in declaration order.
struct Fixture {
  TempDir dir;
  std::unique_ptr<storage::Database> db = OpenInbox(dir.File("scrmd-inbox.db"));
  storage::InteractionStore store{*db};
  core::FakeClock clock{kNowMs};
  core::MetricsRegistry metrics;
  InboxWriter writer{store, clock, metrics, core::MakeNullLogger()};

  uint64_t Counter(const char* name) { return metrics.Counter(name, "", {}).Value({}); }
};

SubmitResult SubmitOrDie(InboxWriter& writer, model::Interaction interaction) {
  auto result = writer.Submit(std::move(interaction));
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return result.value();
}

void Exec(storage::Database& db, const char* sql) {
  REQUIRE(db.WithWriter([&](SQLite::Database& conn) {
              conn.exec(sql);
              return core::OkStatus();
            }).ok());
}

TEST_CASE("InboxWriter stores each distinct key once when 8 threads submit repeated keys", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  constexpr int kDistinct = 1000;  // each key is submitted 4 times, by different threads

  struct Answer {
    std::string key;
    core::StatusOr<SubmitResult> result;
  };
  std::vector<std::vector<Answer>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = std::to_string((t * 125 + i) % kDistinct);
        answers[t].push_back({key, f.writer.Submit(MakeMessage(key))});
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::map<std::string, std::vector<SubmitResult>> by_key;
  size_t returned = 0;
  for (const auto& per_thread : answers) {
    for (const auto& answer : per_thread) {
      ++returned;
      REQUIRE(answer.result.ok());
      by_key[answer.key].push_back(answer.result.value());
    }
  }
  CHECK(returned == kThreads * kPerThread);
  REQUIRE(by_key.size() == kDistinct);
  for (const auto& [key, results] : by_key) {
    INFO("key " << key);
    CHECK(results.size() == 4);
    int originals = 0;
    for (const auto& r : results) {
      if (!r.duplicate) ++originals;
      CHECK(r.id == results.front().id);  // every copy points at the one stored row
    }
    CHECK(originals == 1);
  }
  CHECK(f.store.Count().value() == kDistinct);
  CHECK(f.Counter("scrmd_inbox_committed_total") == kDistinct);
  CHECK(f.Counter("scrmd_inbox_duplicates_total") == kThreads * kPerThread - kDistinct);
}

TEST_CASE(
    "InboxWriter returns every Submit with increasing ids when batches are smaller than "
    "the queue",
    "[db]") {
  // max_batch 3 with 12 threads: most submissions wait through several commits before their
  // own; every Submit must still return exactly once, woken by its own batch.
  Fixture f;
  InboxWriter writer(f.store, f.clock, f.metrics, core::MakeNullLogger(), {.max_batch = 3});
  REQUIRE(writer.Start().ok());
  constexpr int kThreads = 12;
  constexpr int kPerThread = 150;
  std::vector<std::vector<core::StatusOr<SubmitResult>>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        answers[t].push_back(writer.Submit(MakeMessage(std::to_string(t * kPerThread + i))));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  writer.Stop();

  std::set<int64_t> ids;
  for (const auto& per_thread : answers) {
    REQUIRE(per_thread.size() == kPerThread);
    int64_t previous = 0;
    for (const auto& answer : per_thread) {
      INFO(answer.status().ToString());
      REQUIRE(answer.ok());
      CHECK_FALSE(answer->duplicate);
      // A thread's next Submit starts after its previous one committed: a later commit, a
      // larger id.
      CHECK(answer->id > previous);
      previous = answer->id;
      ids.insert(answer->id);
    }
  }
  CHECK(ids.size() == kThreads * kPerThread);
  CHECK(f.store.Count().value() == kThreads * kPerThread);
  CHECK(writer.queued() == 0);
}

TEST_CASE("InboxWriter commits submissions that queue behind a commit as one batch", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  // Hold the database's writer lock: the writer thread blocks inside the first submission's
  // transaction, the next ones queue behind it.
  std::mutex release_mu;
  std::condition_variable release_cv;
  bool release = false;
  std::atomic<bool> holding{false};
  core::Status held;
  std::thread holder([&] {
    held = f.db->WithWriter([&](SQLite::Database&) {
      holding = true;
      std::unique_lock<std::mutex> lock(release_mu);
      release_cv.wait(lock, [&] { return release; });
      return core::OkStatus();
    });
  });
  REQUIRE(WaitUntil([&] { return holding.load(); }));
  std::vector<core::StatusOr<SubmitResult>> results(
      6, core::StatusOr<SubmitResult>(core::UnavailableError("not returned")));
  std::vector<std::thread> submitters;
  submitters.emplace_back([&] { results[0] = f.writer.Submit(MakeMessage("0")); });
  REQUIRE(WaitUntil([&] { return f.writer.queued() == 1; }));
  for (int i = 1; i < 6; ++i) {
    submitters.emplace_back(
        [&, i] { results[i] = f.writer.Submit(MakeMessage(std::to_string(i))); });
  }
  REQUIRE(WaitUntil([&] { return f.writer.queued() == 6; }));
  {
    std::lock_guard<std::mutex> lock(release_mu);
    release = true;
  }
  release_cv.notify_all();
  holder.join();
  for (auto& submitter : submitters) submitter.join();
  CHECK(held.ok());
  for (const auto& result : results) {
    INFO(result.status().ToString());
    CHECK(result.ok());
  }
  // The first submission's batch (usually of 1), then the rest that queued behind it: never one
  // transaction per submission.
  const auto& batch_size = f.metrics.Histogram("scrmd_inbox_batch_size", "", {}, {1});
  CHECK(batch_size.Count({}) <= 2);
  CHECK(f.store.Count().value() == 6);
}

TEST_CASE("InboxWriter Submit returns only after the row is visible to another connection",
          "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  const SubmitResult result = SubmitOrDie(f.writer, MakeMessage("1"));
  CHECK_FALSE(result.duplicate);
  // A second Database on the same file: it sees only what has been committed.
  auto other = OpenInbox(f.dir.File("scrmd-inbox.db"));
  storage::InteractionStore other_store(*other);
  auto rows = other_store.ReadAfter(0, 10);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK(rows->front().id == result.id);
  CHECK(rows->front().received_at_ms == kNowMs);  // set from the clock when 0
}

TEST_CASE("InboxWriter keeps received_at_ms when the caller set it", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  auto message = MakeMessage("1");
  message.received_at_ms = kNowMs - 5;
  const SubmitResult result = SubmitOrDie(f.writer, message);
  CHECK(f.store.ReadAfter(0, 1)->front().received_at_ms == kNowMs - 5);
  CHECK(result.id > 0);
}

TEST_CASE("InboxWriter assigns ids above the stored ones when the clock is behind them", "[db]") {
  Fixture f;
  const int64_t future_id = (kNowMs + 3600000) << 16;  // written before the clock stepped back
  auto stored = MakeMessage("old");
  stored.id = future_id;
  stored.received_at_ms = kNowMs;
  REQUIRE(f.store.InsertBatch(std::vector<model::Interaction>{stored}).ok());
  REQUIRE(f.writer.Start().ok());
  const SubmitResult first = SubmitOrDie(f.writer, MakeMessage("new-1"));
  const SubmitResult second = SubmitOrDie(f.writer, MakeMessage("new-2"));
  CHECK(first.id > future_id);
  CHECK(second.id > first.id);
}

TEST_CASE("InboxWriter answers Unavailable and keeps running when the transaction fails", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  Exec(*f.db, kHideTable);
  const auto failed = f.writer.Submit(MakeMessage("1"));
  CHECK(failed.status().code() == StatusCode::kUnavailable);
  CHECK(f.Counter("scrmd_inbox_failed_total") == 1);

  Exec(*f.db, kRestoreTable);
  const SubmitResult retried = SubmitOrDie(f.writer, MakeMessage("1"));
  CHECK_FALSE(retried.duplicate);  // the failed attempt left nothing behind
  CHECK(f.store.Count().value() == 1);
}

TEST_CASE("InboxWriter answers Unavailable when the database is closed", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  REQUIRE(f.db->Close().ok());
  CHECK(f.writer.Submit(MakeMessage("1")).status().code() == StatusCode::kUnavailable);
  CHECK(f.writer.running());
}

TEST_CASE("InboxWriter Stop commits everything already submitted when called under load", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  constexpr int kSubmitters = 6;
  std::vector<core::StatusOr<SubmitResult>> results(
      kSubmitters, core::StatusOr<SubmitResult>(core::UnavailableError("not returned")));
  std::vector<std::thread> submitters;
  std::thread stopper;

  // Hold the database's writer lock so that the writer thread blocks inside its transaction
  // while submissions queue up behind it.
  std::mutex release_mu;
  std::condition_variable release_cv;
  bool release = false;
  std::atomic<bool> holding{false};
  core::Status held;  // Catch assertions stay on the test's thread
  std::thread holder([&] {
    held = f.db->WithWriter([&](SQLite::Database&) {
      holding = true;
      std::unique_lock<std::mutex> lock(release_mu);
      release_cv.wait(lock, [&] { return release; });
      return core::OkStatus();
    });
  });
  REQUIRE(WaitUntil([&] { return holding.load(); }));
  for (int i = 0; i < kSubmitters; ++i) {
    submitters.emplace_back(
        [&, i] { results[i] = f.writer.Submit(MakeMessage(std::to_string(i))); });
  }
  REQUIRE(WaitUntil([&] { return f.writer.queued() == kSubmitters; }));
  stopper = std::thread([&] { f.writer.Stop(); });
  REQUIRE(WaitUntil([&] { return !f.writer.running(); }));
  {
    std::lock_guard<std::mutex> lock(release_mu);
    release = true;
  }
  release_cv.notify_all();
  holder.join();
  stopper.join();
  for (auto& submitter : submitters) submitter.join();
  CHECK(held.ok());

  for (const auto& result : results) {
    INFO(result.status().ToString());
    CHECK(result.ok());
  }
  CHECK(f.store.Count().value() == kSubmitters);
  CHECK(f.writer.queued() == 0);
}

TEST_CASE("InboxWriter Submit returns Unavailable when the writer is not running", "[db]") {
  Fixture f;
  SECTION("before Start") {}
  SECTION("after Stop") {
    REQUIRE(f.writer.Start().ok());
    f.writer.Stop();
    CHECK(f.writer.Start().code() == StatusCode::kFailedPrecondition);
  }
  CHECK(f.writer.Submit(MakeMessage("1")).status().code() == StatusCode::kUnavailable);
  CHECK(f.store.Count().value() == 0);
}

TEST_CASE("InboxWriter Submit returns InvalidArgument when the interaction has no key", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  auto message = MakeMessage("1");
  SECTION("no dedupe key") { message.dedupe_key.clear(); }
  SECTION("no account") { message.account_id.clear(); }
  CHECK(f.writer.Submit(message).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("InboxWriter Start returns InvalidArgument when max_batch is 0", "[db]") {
  Fixture f;
  InboxWriter writer(f.store, f.clock, f.metrics, core::MakeNullLogger(), {.max_batch = 0});
  CHECK(writer.Start().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("InboxWriter Start returns InvalidArgument when index_keys_every is 0", "[db]") {
  Fixture f;
  InboxWriter writer(f.store, f.clock, f.metrics, core::MakeNullLogger(),
                     {.max_batch = 16, .index_keys_every = 0});
  CHECK(writer.Start().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("InboxWriter moves the dedupe keys to the key index once enough are pending", "[db]") {
  Fixture f;
  InboxWriter writer(f.store, f.clock, f.metrics, core::MakeNullLogger(),
                     {.max_batch = 1024, .index_keys_every = 10});
  REQUIRE(writer.Start().ok());
  for (int i = 0; i < 25; ++i) SubmitOrDie(writer, MakeMessage("k" + std::to_string(i)));
  // Indexed after the 10th and the 20th (one batch each: Submit waits for its commit).
  CHECK(f.store.PendingKeys() == 5);
  CHECK(testing::InboxScalar(*f.db, "SELECT COUNT(*) FROM interaction_keys") == 20);
  CHECK(f.metrics.Histogram("scrmd_inbox_key_index_seconds", "", {}, {}).Count({}) == 2);
  // A re-delivery of an indexed key and of a pending one are both duplicates.
  CHECK(SubmitOrDie(writer, MakeMessage("k3")).duplicate);
  CHECK(SubmitOrDie(writer, MakeMessage("k22")).duplicate);
  writer.Stop();
  CHECK(f.Counter("scrmd_inbox_committed_total") == 25);
}

TEST_CASE("InboxWriter calls the listener after a commit that stored a new row", "[db]") {
  Fixture f;
  std::atomic<int> calls{0};
  f.writer.SetCommitListener([&] { ++calls; });
  REQUIRE(f.writer.Start().ok());
  SubmitOrDie(f.writer, MakeMessage("1"));
  const SubmitResult again = SubmitOrDie(f.writer, MakeMessage("1"));
  CHECK(again.duplicate);
  f.writer.Stop();  // joins the writer thread: every listener call has returned
  CHECK(calls.load() == 1);
  CHECK(f.metrics.Histogram("scrmd_inbox_batch_size", "", {}, {1}).Count({}) == 2);
}

// ---------------------------------------------------------------------------------------------
// SubmitAsync

// Collects SubmitAsync answers; callbacks may run on the writer thread.
struct AsyncAnswers {
  std::mutex mu;
  std::vector<core::StatusOr<SubmitResult>> results;
  std::vector<int64_t> interaction_ids;
  std::vector<std::thread::id> threads;

  SubmitCallback Callback() {
    return [this](core::StatusOr<SubmitResult> result, const model::Interaction& interaction) {
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(std::move(result));
      interaction_ids.push_back(interaction.id);
      threads.push_back(std::this_thread::get_id());
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return results.size();
  }
};

TEST_CASE("InboxWriter SubmitAsync calls back on the writer thread once the row is committed",
          "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  AsyncAnswers answers;
  std::atomic<bool> visible_in_callback{false};
  f.writer.SubmitAsync(MakeMessage("1"), [&](core::StatusOr<SubmitResult> result,
                                             const model::Interaction& interaction) {
    // Another connection already sees the row when the callback runs.
    auto other = OpenInbox(f.dir.File("scrmd-inbox.db"));
    storage::InteractionStore other_store(*other);
    auto rows = other_store.ReadAfter(0, 10);
    visible_in_callback = rows.ok() && rows->size() == 1 && result.ok() &&
                          rows->front().id == result->id && interaction.id == result->id;
    answers.Callback()(std::move(result), interaction);
  });
  REQUIRE(WaitUntil([&] { return answers.size() == 1; }));
  CHECK(visible_in_callback);
  REQUIRE(answers.results[0].ok());
  CHECK_FALSE(answers.results[0]->duplicate);
  CHECK(answers.threads[0] != std::this_thread::get_id());
}

TEST_CASE("InboxWriter SubmitAsync calls back exactly once per submission and marks duplicates",
          "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  AsyncAnswers answers;
  constexpr int kSubmissions = 200;
  for (int i = 0; i < kSubmissions; ++i) {
    f.writer.SubmitAsync(MakeMessage(std::to_string(i % 100)), answers.Callback());
  }
  f.writer.Stop();  // drains: every callback has run when it returns
  REQUIRE(answers.size() == kSubmissions);
  int duplicates = 0;
  std::set<int64_t> stored_ids;
  for (const auto& result : answers.results) {
    REQUIRE(result.ok());
    if (result->duplicate) {
      ++duplicates;
    } else {
      stored_ids.insert(result->id);
    }
  }
  CHECK(duplicates == 100);
  CHECK(stored_ids.size() == 100);
  CHECK(f.store.Count().value() == 100);
}

TEST_CASE("InboxWriter SubmitAsync answers a rejection at once on the caller's thread", "[db]") {
  Fixture f;
  AsyncAnswers answers;
  auto message = MakeMessage("1");
  StatusCode expected = StatusCode::kOk;
  SECTION("not started") { expected = StatusCode::kUnavailable; }
  SECTION("stopped") {
    REQUIRE(f.writer.Start().ok());
    f.writer.Stop();
    expected = StatusCode::kUnavailable;
  }
  SECTION("no dedupe key") {
    REQUIRE(f.writer.Start().ok());
    message.dedupe_key.clear();
    expected = StatusCode::kInvalidArgument;
  }
  f.writer.SubmitAsync(message, answers.Callback());
  REQUIRE(answers.size() == 1);  // before SubmitAsync returned
  CHECK(answers.results[0].status().code() == expected);
  CHECK(answers.threads[0] == std::this_thread::get_id());
  CHECK(f.store.Count().value() == 0);
}

TEST_CASE("InboxWriter SubmitAsync answers Unavailable when the transaction fails", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  Exec(*f.db, kHideTable);
  AsyncAnswers answers;
  f.writer.SubmitAsync(MakeMessage("1"), answers.Callback());
  REQUIRE(WaitUntil([&] { return answers.size() == 1; }));
  CHECK(answers.results[0].status().code() == StatusCode::kUnavailable);
}

TEST_CASE("InboxWriter keeps committing when a SubmitAsync callback throws", "[db]") {
  Fixture f;
  REQUIRE(f.writer.Start().ok());
  f.writer.SubmitAsync(MakeMessage("1"),
                       [](core::StatusOr<SubmitResult>, const model::Interaction&) {
                         throw std::runtime_error("callback bug");
                       });
  const SubmitResult next = SubmitOrDie(f.writer, MakeMessage("2"));
  CHECK_FALSE(next.duplicate);
  CHECK(f.store.Count().value() == 2);
}

}  // namespace
}  // namespace scrm::ingest
