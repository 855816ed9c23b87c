#include "src/jobs/stage_sweep.h"

#include <utility>

#include "src/jobs/recurring.h"

namespace scrm::jobs {

namespace {

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

}  // namespace

core::Status ScheduleStageSweep(storage::OutboxStore& outbox, int64_t now_ms,
                                const StageSweepOptions& options) {
  return ScheduleRecurring(outbox, model::kStageSweepJobKind, now_ms, options.interval);
}

StageSweepHandler::StageSweepHandler(storage::StageSweepStore& stages, storage::OutboxStore& outbox,
                                     const core::Clock& clock, std::shared_ptr<spdlog::logger> log,
                                     StageSweepOptions options)
    : stages_(stages), outbox_(outbox), clock_(clock), log_(std::move(log)), options_(options) {}

JobResult StageSweepHandler::Run(const storage::OutboxJob& /*job*/) {
  const int64_t now_ms = clock_.NowUnixMillis();
  if (options_.interval.count() < 1000 || options_.at_risk_days < 1) {
    return JobResult::Failed("bad_options", "stage sweep interval under 1 s or at_risk_days < 1");
  }
  // The next sweep first: whatever happens to this one, the chain goes on.
  const core::Status queued =
      ScheduleNextRecurring(outbox_, model::kStageSweepJobKind, now_ms, options_.interval);
  if (!queued.ok()) return JobResult::FromProfileError(queued);

  const int64_t cutoff_ms = now_ms - int64_t{options_.at_risk_days} * kDayMs;
  int64_t after = 0;
  int64_t marked = 0;
  for (;;) {
    auto page = stages_.MarkInactive(after, options_.page, cutoff_ms, now_ms);
    if (!page.ok()) return JobResult::FromProfileError(page.status());
    marked += page->marked;
    if (page->done) break;
    after = page->next_after_id;
  }
  if (marked > 0) {
    log_->info("stagesweep: {} customers without an interaction for {} days are at_risk", marked,
               options_.at_risk_days);
  }
  return JobResult::Done();
}

}  // namespace scrm::jobs
