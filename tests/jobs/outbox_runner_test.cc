#include "src/jobs/outbox_runner.h"

#include <catch2/catch.hpp>
#include <functional>

#include "src/core/logging.h"
#include "tests/jobs/jobs_test_helpers.h"

namespace scrm::jobs {
namespace {

using storage::OutboxState;

constexpr int64_t kT0 = 1767225600000;

// Answers every job with what `answer` says.
class ScriptedHandler final : public JobHandler {
 public:
  explicit ScriptedHandler(std::function<JobResult(const storage::OutboxJob&)> answer)
      : answer_(std::move(answer)) {}
  JobResult Run(const storage::OutboxJob& job) override {
    ++runs;
    return answer_(job);
  }
  int runs = 0;

 private:
  std::function<JobResult(const storage::OutboxJob&)> answer_;
};

struct RunnerFixture {
  RunnerFixture() {
    for (const char* key : {"a", "b", "c"}) {
      storage::OutboxJob job;
      job.kind = "scripted";
      job.account_id = "acme";
      job.dedupe_key = key;
      job.due_at_ms = kT0;
      REQUIRE(outbox.Enqueue(job, kT0).value());
    }
  }
  storage::OutboxJob Job(const std::string& key) { return outbox.FindByKey(key).value().value(); }

  scrm::testing::TempDir dir;
  std::unique_ptr<storage::Database> db = testing::OpenMigrated(dir.File("o.db"), kT0);
  storage::OutboxStore outbox{*db};
  core::FakeClock clock{kT0};
  core::MetricsRegistry metrics;
};

TEST_CASE("OutboxRunner gives claimed jobs back when stopped mid-batch", "[db]") {
  RunnerFixture f;
  OutboxRunner* runner_ptr = nullptr;
  ScriptedHandler handler([&](const storage::OutboxJob&) {
    runner_ptr->Stop();
    return JobResult{};
  });
  OutboxRunner runner(f.outbox, f.clock, f.metrics, core::MakeNullLogger());
  runner_ptr = &runner;
  runner.AddHandler("scripted", handler);
  CHECK(runner.RunOnce().value() == 1);
  CHECK(handler.runs == 1);
  CHECK(f.Job("a").state == OutboxState::kDone);
  // Due now, not after the lease: a restart runs them at once.
  CHECK(f.Job("b").state == OutboxState::kPending);
  CHECK(f.Job("b").due_at_ms == kT0);
  CHECK(f.Job("c").due_at_ms == kT0);
  CHECK(f.metrics.Counter("scrmd_outbox_jobs_total", "", {"kind", "result"})
            .Value({"scripted", "done"}) == 1);
}

TEST_CASE("OutboxRunner waits for retry_at when it is later than the backoff", "[db]") {
  RunnerFixture f;
  const int64_t reset_ms = kT0 + 3600000;  // a quota reset in an hour
  ScriptedHandler handler([&](const storage::OutboxJob& job) {
    JobResult result;
    result.kind = JobResult::Kind::kRetry;
    result.outcome = "retry_after";
    result.errcode = 45009;
    if (job.dedupe_key == "a") result.retry_at_ms = reset_ms;
    return result;
  });
  OutboxRunner runner(f.outbox, f.clock, f.metrics, core::MakeNullLogger());
  runner.AddHandler("scripted", handler);
  CHECK(runner.RunOnce().value() == 3);
  CHECK(f.Job("a").due_at_ms == reset_ms);
  CHECK(f.Job("b").due_at_ms == kT0 + 30000);  // the first backoff step
  CHECK(f.Job("a").last_errcode == 45009);
  f.clock.Advance(std::chrono::seconds(30));
  CHECK(runner.RunOnce().value() == 2);
  CHECK(f.Job("b").due_at_ms == f.clock.NowUnixMillis() + 60000);  // doubled
}

TEST_CASE("OutboxRunner exports the failed jobs per kind and clears them after a retry", "[db]") {
  RunnerFixture f;
  bool fail = true;
  ScriptedHandler handler([&](const storage::OutboxJob& job) {
    if (job.dedupe_key == "c" || !fail) return JobResult{};
    return JobResult::Failed("rejected", "no", 47999);
  });
  OutboxRunner runner(f.outbox, f.clock, f.metrics, core::MakeNullLogger());
  runner.AddHandler("scripted", handler);
  CHECK(runner.RunOnce().value() == 3);
  core::GaugeFamily& gauge = f.metrics.Gauge("scrmd_outbox_failed_jobs", "", {"kind"});
  CHECK(gauge.Value({"scripted"}) == 2);
  CHECK(f.metrics.Render().find("scrmd_outbox_failed_jobs{kind=\"scripted\"} 2") !=
        std::string::npos);
  REQUIRE(f.outbox.Retry(f.Job("a").id, kT0).ok());
  runner.Notify();  // what the retry route does
  CHECK(runner.RunOnce().value() == 1);
  CHECK(f.Job("a").state == OutboxState::kFailed);
  CHECK(f.Job("a").attempts == 1);  // a fresh budget: the retry's claim is the first
  fail = false;                     // the fault is gone
  REQUIRE(f.outbox.Retry(f.Job("b").id, kT0).ok());
  REQUIRE(f.outbox.Retry(f.Job("a").id, kT0).ok());
  runner.Notify();
  CHECK(runner.RunOnce().value() == 2);
  CHECK(f.Job("a").state == OutboxState::kDone);
  CHECK(f.Job("b").state == OutboxState::kDone);
  CHECK(gauge.Value({"scripted"}) == 0);
}

}  // namespace
}  // namespace scrm::jobs
