#include "src/jobs/outbox_runner.h"
#include "src/core/thread_name.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace scrm::jobs {

JobResult JobResult::Done(std::string outcome) {
  JobResult result;
  result.outcome = std::move(outcome);
  return result;
}

JobResult JobResult::Failed(std::string outcome, std::string error, int64_t errcode) {
  JobResult result;
  result.kind = Kind::kFailed;
  result.outcome = std::move(outcome);
  result.errcode = errcode;
  result.error = std::move(error);
  return result;
}

JobResult JobResult::Retry(std::string outcome, std::string error, int64_t errcode) {
  JobResult result = Failed(std::move(outcome), std::move(error), errcode);
  result.kind = Kind::kRetry;
  return result;
}

JobResult JobResult::FromProfileError(const core::Status& status) {
  if (status.code() == core::StatusCode::kInvalidArgument) {
    return Failed("profile_error", status.ToString());
  }
  return Retry("profile_error", status.ToString());
}
namespace {

std::string_view ResultName(JobResult::Kind kind) {
  switch (kind) {
    case JobResult::Kind::kDone: return "done";
    case JobResult::Kind::kRetry: return "retry";
    case JobResult::Kind::kFailed: return "failed";
    case JobResult::Kind::kUnknown: return "unknown";
  }
  return "failed";
}

storage::OutboxAttempt AttemptOf(const JobResult& result) {
  return storage::OutboxAttempt{result.outcome, result.errcode, result.error};
}

}  // namespace

OutboxRunner::OutboxRunner(storage::OutboxStore& store, const core::Clock& clock,
                           core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log,
                           OutboxRunnerOptions options)
    : store_(store),
      clock_(clock),
      log_(std::move(log)),
      options_(std::move(options)),
      jobs_total_(metrics.Counter("scrmd_outbox_jobs_total",
                                  "Outbox job attempts by kind and result (done, retry, failed, "
                                  "unknown).",
                                  {"kind", "result"})),
      failed_jobs_(metrics.Gauge("scrmd_outbox_failed_jobs",
                                 "Outbox jobs in state failed now, by kind (listed by GET "
                                 "/api/v1/jobs?status=failed, retried by POST "
                                 "/api/v1/jobs/{id}/retry).",
                                 {"kind"})) {}

OutboxRunner::~OutboxRunner() { Stop(); }

void OutboxRunner::AddHandler(std::string kind, JobHandler& handler) {
  handlers_[std::move(kind)] = &handler;
}

core::Status OutboxRunner::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stop_) return core::FailedPreconditionError("outbox runner already started");
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return core::OkStatus();
}

void OutboxRunner::Notify() {
  gauge_stale_.store(true);
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

void OutboxRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxRunner::Loop() {
  core::NameThisThread("outbox");
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      notified_ = false;
    }
    auto ran = RunOnce();
    if (!ran.ok()) log_->warn("outbox: {}", ran.status().ToString());
    // A full batch means more may be due: go again at once.
    if (ran.ok() && *ran >= options_.batch) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.poll_interval, [this] { return stop_ || notified_; });
  }
}

core::StatusOr<size_t> OutboxRunner::RunOnce() {
  const int64_t now_ms = clock_.NowUnixMillis();
  SCRM_ASSIGN_OR_RETURN(std::vector<storage::OutboxJob> claimed,
                        store_.Claim(now_ms, options_.lease.count(), options_.batch));
  size_t ran = 0;
  for (size_t i = 0; i < claimed.size(); ++i) {
    const storage::OutboxJob& job = claimed[i];
    bool stopping = false;
    {
      std::lock_guard lock(mu_);
      stopping = stop_;
    }
    if (stopping) {
      // Give the claims not started back, so that the next start runs them at once instead of
      // after the lease.
      for (size_t j = i; j < claimed.size(); ++j) {
        const auto& rest = claimed[j];
        const core::Status back = store_.Reschedule(
            rest.id, rest.attempts, now_ms, {rest.last_outcome, rest.last_errcode, rest.last_error},
            clock_.NowUnixMillis());
        if (!back.ok()) log_->warn("outbox: giving job {} back: {}", rest.id, back.ToString());
      }
      break;
    }
    JobResult result;
    const auto handler = handlers_.find(job.kind);
    if (handler == handlers_.end()) {
      result.kind = JobResult::Kind::kFailed;
      result.outcome = "no_handler";
      result.error = "no handler for jobs of kind '" + job.kind + "'";
    } else {
      result = handler->second->Run(job);
    }
    Record(job, result);
    ++ran;
  }
  const bool stale = gauge_stale_.exchange(false);
  if (failed_this_round_ || stale || !gauge_counted_ms_.has_value() ||
      clock_.NowUnixMillis() - *gauge_counted_ms_ >= kFailedGaugeRefresh.count()) {
    failed_this_round_ = false;
    RefreshFailedGauge();
  }
  return ran;
}

void OutboxRunner::RefreshFailedGauge() {
  const core::StatusOr<std::map<std::string, int64_t>> counts =
      store_.CountByKind(storage::OutboxState::kFailed);
  if (!counts.ok()) {
    log_->warn("outbox: counting failed jobs: {}", counts.status().ToString());
    return;
  }
  gauge_counted_ms_ = clock_.NowUnixMillis();
  for (const std::string& kind : failed_kinds_) {
    if (!counts->contains(kind)) failed_jobs_.Set({kind}, 0);
  }
  for (const auto& [kind, count] : *counts) {
    failed_kinds_.insert(kind);
    failed_jobs_.Set({kind}, static_cast<double>(count));
  }
}

int64_t OutboxRunner::BackoffMs(int attempt) const {
  int64_t delay = options_.base_backoff.count();
  for (int n = 1; n < attempt && delay < options_.max_backoff.count(); ++n) delay *= 2;
  return std::min<int64_t>(delay, options_.max_backoff.count());
}

void OutboxRunner::Record(const storage::OutboxJob& job, const JobResult& in) {
  JobResult result = in;
  if (result.kind == JobResult::Kind::kRetry && job.attempts >= options_.max_attempts) {
    result.kind = JobResult::Kind::kFailed;
    result.error = "gave up after " + std::to_string(job.attempts) + " attempts: " + result.error;
  }
  const int64_t now_ms = clock_.NowUnixMillis();
  core::Status recorded = core::OkStatus();
  switch (result.kind) {
    case JobResult::Kind::kDone:
      recorded = store_.Finish(job.id, job.attempts, storage::OutboxState::kDone, AttemptOf(result),
                               now_ms);
      break;
    case JobResult::Kind::kFailed:
      failed_this_round_ = true;
      recorded = store_.Finish(job.id, job.attempts, storage::OutboxState::kFailed,
                               AttemptOf(result), now_ms);
      log_->warn("outbox: job {} ({} {}) failed: {} {} {}", job.id, job.kind, job.account_id,
                 result.outcome, result.errcode, result.error);
      break;
    case JobResult::Kind::kUnknown:
      recorded = store_.Finish(job.id, job.attempts, storage::OutboxState::kUnknown,
                               AttemptOf(result), now_ms);
      log_->warn("outbox: job {} ({} {}) outcome unknown: {}", job.id, job.kind, job.account_id,
                 result.error);
      break;
    case JobResult::Kind::kRetry: {
      const int64_t due =
          std::max(now_ms + BackoffMs(job.attempts), result.retry_at_ms.value_or(0));
      recorded = store_.Reschedule(job.id, job.attempts, due, AttemptOf(result), now_ms);
      log_->info("outbox: job {} ({} {}) retries in {} ms: {} {}", job.id, job.kind, job.account_id,
                 due - now_ms, result.outcome, result.error);
      break;
    }
  }
  jobs_total_.Inc({job.kind, std::string(ResultName(result.kind))});
  // A lost claim (the lease ran out while the job ran and another claim took it) is logged:
  // the other claim's run is the one that counts.
  if (!recorded.ok()) log_->warn("outbox: recording job {}: {}", job.id, recorded.ToString());
}

}  // namespace scrm::jobs
