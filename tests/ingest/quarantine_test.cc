// The ingest worker's quarantine: a row that cannot be applied (or read) for a lasting reason is
// put aside with the cursor moved past it, the next rows go on, and a reapply after a fix applies
// it and takes it out of the quarantine.
#include "src/ingest/quarantine.h"

#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/ingest/ingest_worker.h"
#include "src/storage/cursor_store.h"
#include "src/storage/quarantine_store.h"
#include "tests/ingest/ingest_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::ingest {
namespace {

using scrm::testing::TempDir;
using testing::kNowMs;
using testing::kPatience;
using testing::MakeMessage;

constexpr int64_t kBaseIdQuarantine = kNowMs << 16;

// A transactional processor that applies every row (records its id and moves the cursor) unless
// a scripted failure names the row: then nothing of the chunk is applied. Thread-safe.
class ScriptedChunkProcessor final : public ChunkProcessor {
 public:
  explicit ScriptedChunkProcessor(storage::CursorStore& cursors) : cursors_(cursors) {}
  std::string_view name() const override { return "scripted"; }
  core::Status ProcessChunk(std::span<const model::Interaction> chunk,
                            const ChunkCursor* cursor) override {
    std::lock_guard lock(mu_);
    for (const model::Interaction& it : chunk) {
      const auto failure = failures_.find(it.id);
      if (failure != failures_.end()) return failure->second;
    }
    for (const model::Interaction& it : chunk) applied_.push_back(it.id);
    if (cursor != nullptr) return cursors_.SetCursor(cursor->name, cursor->last_id);
    return core::OkStatus();
  }
  void Fail(int64_t id, core::Status status) {
    std::lock_guard lock(mu_);
    failures_[id] = std::move(status);
  }
  void Heal(int64_t id) {
    std::lock_guard lock(mu_);
    failures_.erase(id);
  }
  std::vector<int64_t> applied() {
    std::lock_guard lock(mu_);
    return applied_;
  }

 private:
  storage::CursorStore& cursors_;
  std::mutex mu_;
  std::map<int64_t, core::Status> failures_;
  std::vector<int64_t> applied_;
};

struct QuarantineFixture {
  TempDir dir;
  std::unique_ptr<storage::Database> db = testing::OpenMigrated(dir.File("scrmd.db"));
  std::unique_ptr<storage::Database> inbox_db = testing::OpenInbox(dir.File("scrmd-inbox.db"));
  storage::InteractionStore store{*inbox_db};
  storage::CursorStore cursors{*db};
  storage::QuarantineStore quarantined{*db};
  core::FakeClock clock{kNowMs};
  core::MetricsRegistry metrics;
  ScriptedChunkProcessor processor{cursors};
  Quarantine quarantine{quarantined, store, processor, clock, metrics, core::MakeNullLogger()};

  std::unique_ptr<IngestWorker> MakeWorker(bool with_quarantine = true) {
    IngestWorkerOptions options;
    options.chunk_size = 64;
    options.poll_interval = std::chrono::hours(1);
    options.retry_interval = std::chrono::seconds(1);
    options.max_retry_interval = std::chrono::seconds(8);
    auto worker = std::make_unique<IngestWorker>(store, cursors, processor, clock, metrics,
                                                 core::MakeNullLogger(), options);
    if (with_quarantine) worker->EnableQuarantine(quarantine);
    return worker;
  }

  // Stores interactions n = from..to with ids kBaseIdQuarantine + n.
  void Store(int64_t from, int64_t to) {
    std::vector<model::Interaction> items;
    for (int64_t n = from; n <= to; ++n) {
      auto it = MakeMessage("m" + std::to_string(n), n % 2 == 0 ? "even" : "odd");
      it.id = kBaseIdQuarantine + n;
      it.received_at_ms = kNowMs + n;
      items.push_back(it);
    }
    auto stored = store.InsertBatch(items);
    INFO(stored.status().ToString());
    REQUIRE(stored.ok());
  }

  std::vector<int64_t> Ids(std::initializer_list<int64_t> ns) {
    std::vector<int64_t> ids;
    for (int64_t n : ns) ids.push_back(kBaseIdQuarantine + n);
    return ids;
  }

  void ExecInbox(const std::string& sql) {
    const core::Status status = inbox_db->WithWriter([&](SQLite::Database& conn) -> core::Status {
      conn.exec(sql);
      return core::OkStatus();
    });
    INFO(status.ToString());
    REQUIRE(status.ok());
  }

  uint64_t QuarantinedTotal() {
    return metrics.Counter("scrmd_ingest_quarantined_total", "", {}).Value({});
  }
  double QuarantinedRows() {
    return metrics.Gauge("scrmd_ingest_quarantined_rows", "", {}).Value({});
  }
};

TEST_CASE("IngestWorker puts a row that fails for a lasting reason aside and applies the next ones",
          "[db]") {
  QuarantineFixture f;
  f.Store(1, 5);
  f.processor.Fail(kBaseIdQuarantine + 3, core::InternalError("merge cycle between 7 and 9"));
  auto worker = f.MakeWorker();
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseIdQuarantine + 5, kPatience));
  worker->Stop();
  CHECK(f.processor.applied() == f.Ids({1, 2, 4, 5}));
  CHECK(f.cursors.GetCursor("worker").value() == kBaseIdQuarantine + 5);
  const auto rows = f.quarantine.List(0, 10);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK(rows->at(0).interaction_id == kBaseIdQuarantine + 3);
  CHECK(rows->at(0).account_id == "odd");
  CHECK(rows->at(0).error.find("merge cycle") != std::string::npos);
  CHECK(rows->at(0).failures == 1);
  CHECK(rows->at(0).quarantined_at_ms == kNowMs);
  CHECK(f.QuarantinedTotal() == 1);
  CHECK(f.QuarantinedRows() == 1);
}

TEST_CASE("IngestWorker retries a row that fails on a busy database instead of putting it aside",
          "[db]") {
  QuarantineFixture f;
  f.Store(1, 3);
  f.processor.Fail(kBaseIdQuarantine + 2, core::UnavailableError("sqlite: database is locked"));
  auto worker = f.MakeWorker();
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseIdQuarantine + 1, kPatience));
  REQUIRE(testing::WaitUntil([&] {
    return f.metrics.Counter("scrmd_ingest_errors_total", "", {"processor"}).Value({"scripted"}) >=
           1;
  }));
  CHECK(worker->cursor() == kBaseIdQuarantine + 1);
  CHECK(f.quarantine.List(0, 10)->empty());
  f.processor.Heal(kBaseIdQuarantine + 2);
  f.clock.Advance(std::chrono::seconds(1));
  worker->Notify();
  REQUIRE(worker->WaitForCursor(kBaseIdQuarantine + 3, kPatience));
  worker->Stop();
  CHECK(f.processor.applied() == f.Ids({1, 2, 3}));
  CHECK(f.QuarantinedTotal() == 0);
}

TEST_CASE("IngestWorker without a quarantine stops at a failing row as before", "[db]") {
  QuarantineFixture f;
  f.Store(1, 3);
  f.processor.Fail(kBaseIdQuarantine + 2, core::InternalError("bad"));
  auto worker = f.MakeWorker(/*with_quarantine=*/false);
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseIdQuarantine + 1, kPatience));
  REQUIRE(testing::WaitUntil([&] {
    return f.metrics.Counter("scrmd_ingest_errors_total", "", {"processor"}).Value({"scripted"}) >=
           1;
  }));
  worker->Stop();
  CHECK(worker->cursor() == kBaseIdQuarantine + 1);
  CHECK(f.quarantined.Count().value() == 0);
}

TEST_CASE("IngestWorker puts a row it cannot decode aside and applies the rows around it", "[db]") {
  QuarantineFixture f;
  f.Store(1, 5);
  f.ExecInbox("UPDATE interactions SET payload_json = 'not json' WHERE id = " +
              std::to_string(kBaseIdQuarantine + 3));
  auto worker = f.MakeWorker();
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseIdQuarantine + 5, kPatience));
  CHECK(f.processor.applied() == f.Ids({1, 2, 4, 5}));
  const auto row = f.quarantine.Get(kBaseIdQuarantine + 3);
  REQUIRE(row.ok());
  CHECK(row->account_id == "odd");
  CHECK(row->error.find("unparsable payload_json") != std::string::npos);

  // Still broken: kept, with the new error and one more failure.
  auto again = f.quarantine.Reapply(kBaseIdQuarantine + 3);
  REQUIRE(again.ok());
  CHECK_FALSE(again->applied);
  CHECK(again->row.failures == 2);
  CHECK(f.QuarantinedRows() == 1);

  // Fixed: applied and out of the quarantine; the worker's cursor does not move back.
  f.ExecInbox(
      R"(UPDATE interactions SET payload_json = '{"type":"text","content":"hi m3"}' WHERE id = )" +
      std::to_string(kBaseIdQuarantine + 3));
  auto fixed = f.quarantine.Reapply(kBaseIdQuarantine + 3);
  INFO(fixed.status().ToString());
  REQUIRE(fixed.ok());
  CHECK(fixed->applied);
  CHECK(f.processor.applied() == f.Ids({1, 2, 4, 5, 3}));
  CHECK(f.quarantine.Get(kBaseIdQuarantine + 3).status().code() == core::StatusCode::kNotFound);
  CHECK(f.quarantine.Reapply(kBaseIdQuarantine + 3).status().code() == core::StatusCode::kNotFound);
  CHECK(f.QuarantinedRows() == 0);
  CHECK(f.cursors.GetCursor("worker").value() == kBaseIdQuarantine + 5);
  worker->Stop();
}

TEST_CASE("Quarantine Reapply returns an error that clears by itself without recording it",
          "[db]") {
  QuarantineFixture f;
  f.Store(1, 2);
  f.processor.Fail(kBaseIdQuarantine + 1, core::InternalError("bad"));
  auto worker = f.MakeWorker();
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseIdQuarantine + 2, kPatience));
  worker->Stop();
  f.processor.Fail(kBaseIdQuarantine + 1, core::UnavailableError("busy"));
  CHECK(f.quarantine.Reapply(kBaseIdQuarantine + 1).status().code() ==
        core::StatusCode::kUnavailable);
  CHECK(f.quarantine.Get(kBaseIdQuarantine + 1)->failures == 1);
  f.processor.Heal(kBaseIdQuarantine + 1);
  CHECK(f.quarantine.Reapply(kBaseIdQuarantine + 1)->applied);
}

TEST_CASE("IngestWorker stops putting rows aside after a long streak of failing rows", "[db]") {
  QuarantineFixture f;
  const int64_t rows = kMaxQuarantineStreak + 5;
  f.Store(1, rows);
  for (int64_t n = 1; n <= rows; ++n)
    f.processor.Fail(kBaseIdQuarantine + n, core::InternalError("bug"));
  auto worker = f.MakeWorker();
  REQUIRE(worker->Start().ok());
  REQUIRE(worker->WaitForCursor(kBaseIdQuarantine + kMaxQuarantineStreak, kPatience));
  REQUIRE(testing::WaitUntil([&] {
    return f.metrics.Counter("scrmd_ingest_errors_total", "", {"processor"}).Value({"scripted"}) >
           static_cast<uint64_t>(kMaxQuarantineStreak);
  }));
  worker->Stop();
  CHECK(worker->cursor() == kBaseIdQuarantine + kMaxQuarantineStreak);
  CHECK(f.quarantined.Count().value() == kMaxQuarantineStreak);
  CHECK(f.processor.applied().empty());
}

}  // namespace
}  // namespace scrm::ingest
