#include "src/jobs/tag_sweep.h"

#include <utility>

#include "src/jobs/recurring.h"

namespace scrm::jobs {

core::Status ScheduleTagSweep(storage::OutboxStore& outbox, int64_t now_ms,
                              const TagSweepOptions& options) {
  return ScheduleRecurring(outbox, model::kTagSweepJobKind, now_ms, options.interval);
}

TagSweepHandler::TagSweepHandler(profiles::TagPushEnqueuer& pushes, storage::OutboxStore& outbox,
                                 const core::Clock& clock, std::shared_ptr<spdlog::logger> log,
                                 TagSweepOptions options)
    : pushes_(pushes), outbox_(outbox), clock_(clock), log_(std::move(log)), options_(options) {}

JobResult TagSweepHandler::Run(const storage::OutboxJob& /*job*/) {
  const int64_t now_ms = clock_.NowUnixMillis();
  if (options_.interval.count() < 1000) {
    return JobResult::Failed("bad_options", "tag sweep interval under 1 s");
  }
  // The next sweep first: whatever happens to this one, the chain goes on.
  const core::Status queued =
      ScheduleNextRecurring(outbox_, model::kTagSweepJobKind, now_ms, options_.interval);
  if (!queued.ok()) return JobResult::FromProfileError(queued);

  storage::PushedTagKey after;
  size_t scanned = 0;
  int64_t pushes = 0;
  for (;;) {
    auto page = pushes_.QueueFadedTagPushes(after, options_.page);
    if (!page.ok()) return JobResult::FromProfileError(page.status());
    scanned += page->scanned;
    pushes += page->pushes_queued;
    if (page->done) break;
    after = page->next;
  }
  if (pushes > 0) {
    log_->info("tagsweep: {} pushed tags read, {} faded pushes queued", scanned, pushes);
  }
  return JobResult::Done();
}

}  // namespace scrm::jobs
