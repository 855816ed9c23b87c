// OutboxRunner: the one thread that runs the outbox's platform jobs (docs/outbound.md
// "Outbox"): claims due jobs with a lease, hands each to the handler of its kind, and records
// what came of it — done, failed, unknown, or rescheduled with backoff.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/core/status.h"
#include "src/storage/outbox_store.h"

namespace scrm::jobs {

// What one attempt of a job came to.
struct JobResult {
  enum class Kind {
    kDone,     // finished
    kRetry,    // try again later (at retry_at_ms when set, else after the runner's backoff)
    kFailed,   // give up; outcome / errcode / error say why
    kUnknown,  // a send whose outcome nobody knows: never retried automatically
  };
  Kind kind = Kind::kDone;
  std::optional<int64_t> retry_at_ms;  // kRetry: the earliest useful time (a quota reset)
  std::string outcome = "ok";          // "ok", a platform::OutcomeName, or the handler's reason
  int64_t errcode = 0;                 // platform errcode, 0 = none
  std::string error;                   // for the job row and the log; never secrets

  static JobResult Done(std::string outcome = "ok");
  static JobResult Failed(std::string outcome, std::string error, int64_t errcode = 0);
  static JobResult Retry(std::string outcome, std::string error, int64_t errcode = 0);
  // A profile store error met by a handler: a busy store, or a customer merged meanwhile (the
  // next attempt resolves the survivor), is worth another attempt; a bad argument is not.
  static JobResult FromProfileError(const core::Status& status);
};

// Runs the jobs of one kind. Called on the runner's thread only, one job at a time; a call
// should end within the runner's lease (the platform clients' time budget bounds it).
class JobHandler {
 public:
  virtual ~JobHandler() = default;
  virtual JobResult Run(const storage::OutboxJob& job) = 0;
};

// How often (on the Clock) the runner recounts the failed jobs for scrmd_outbox_failed_jobs when
// nothing failed in between and nobody called Notify (a retry through the API calls it).
inline constexpr std::chrono::milliseconds kFailedGaugeRefresh{std::chrono::seconds(10)};

struct OutboxRunnerOptions {
  // How often the thread looks for due jobs when nobody calls Notify.
  std::chrono::milliseconds poll_interval{1000};
  // A claimed job whose runner dies is claimed again after this long: longer than any job
  // takes (a platform call's time budget is 30 s).
  std::chrono::milliseconds lease{std::chrono::minutes(5)};
  size_t batch = 16;  // jobs claimed per round, 1..storage::OutboxStore::kMaxClaim
  // Retry n (1-based) of a job waits min(max_backoff, base_backoff * 2^(n-1)); a handler's
  // retry_at_ms (a quota reset) wins when later. After max_attempts claims the job fails.
  std::chrono::milliseconds base_backoff{std::chrono::seconds(30)};
  std::chrono::milliseconds max_backoff{std::chrono::hours(1)};
  int max_attempts = 8;
};

// Thread-safety: AddHandler before Start only; RunOnce from one thread at a time (the runner's
// own thread once started, or a test); Notify and Stop from any thread. Holds references to the
// store, clock and metrics registry and does not own the handlers: all must outlive it.
// Time (due, backoff, leases) comes from the injected Clock; the thread's idle wait between
// rounds is real time (poll_interval), cut short by Notify and Stop.
class OutboxRunner {
 public:
  OutboxRunner(storage::OutboxStore& store, const core::Clock& clock,
               core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log,
               OutboxRunnerOptions options = {});
  ~OutboxRunner();  // Stop()
  OutboxRunner(const OutboxRunner&) = delete;
  OutboxRunner& operator=(const OutboxRunner&) = delete;

  // The handler for jobs of `kind`. Jobs of a kind without a handler fail ("no_handler").
  void AddHandler(std::string kind, JobHandler& handler);

  // Starts the thread. FailedPrecondition when started already or after Stop.
  core::Status Start();
  // Wakes the thread now (a job was queued or put back by a retry); the next round also recounts
  // the failed jobs.
  void Notify();
  // Stops promptly: the job in hand finishes (bounded by its call's budget), the jobs claimed
  // with it and not started are given back (due now), and the thread is joined. Idempotent.
  void Stop();

  // One round on the calling thread: claims the due jobs (up to batch) and runs them. The
  // number of jobs run; an error when the store failed (the thread logs it and tries again on
  // the next round). Also refreshes scrmd_outbox_failed_jobs (failed jobs per kind) on the first
  // round, after a round that failed a job, after Notify, and at least every kFailedGaugeRefresh.
  core::StatusOr<size_t> RunOnce();

 private:
  void Loop();
  void Record(const storage::OutboxJob& job, const JobResult& result);
  int64_t BackoffMs(int attempt) const;
  // Recounts the failed jobs per kind into failed_jobs_ (runner thread).
  void RefreshFailedGauge();

  storage::OutboxStore& store_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  const OutboxRunnerOptions options_;
  std::map<std::string, JobHandler*, std::less<>> handlers_;
  core::CounterFamily& jobs_total_;
  core::GaugeFamily& failed_jobs_;

  // Runner thread (RunOnce) only.
  std::set<std::string> failed_kinds_;       // kinds exported so far, set to 0 when none is left
  std::optional<int64_t> gauge_counted_ms_;  // on clock_
  bool failed_this_round_ = false;
  std::atomic<bool> gauge_stale_{false};  // set by Notify

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;      // guarded by mu_
  bool notified_ = false;  // guarded by mu_
  bool started_ = false;   // guarded by mu_
  std::thread thread_;
};

}  // namespace scrm::jobs
