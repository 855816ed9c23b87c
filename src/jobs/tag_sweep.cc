#include "src/jobs/tag_sweep.h"

#include <utility>

namespace scrm::jobs {
namespace {

// The sweep job due at `due_ms` (the start of its interval).
storage::OutboxJob SweepJob(int64_t due_ms) {
  storage::OutboxJob job;
  job.kind = kTagSweepJobKind;
  job.account_id = kTagSweepAccount;
  job.dedupe_key = std::string(kTagSweepJobKind) + ":" + std::to_string(due_ms);
  job.due_at_ms = due_ms;
  return job;
}

int64_t IntervalMs(const TagSweepOptions& options) { return options.interval.count(); }

}  // namespace

core::Status ScheduleTagSweep(storage::OutboxStore& outbox, int64_t now_ms,
                              const TagSweepOptions& options) {
  const int64_t interval = IntervalMs(options);
  if (interval < 1000) return core::InvalidArgumentError("tag sweep interval must be >= 1 s");
  // false = this interval's sweep is queued or ran already: the chain goes on from it.
  return outbox.Enqueue(SweepJob(now_ms - now_ms % interval), now_ms).status();
}

TagSweepHandler::TagSweepHandler(profiles::ProfileService& profiles, storage::OutboxStore& outbox,
                                 const core::Clock& clock, std::shared_ptr<spdlog::logger> log,
                                 TagSweepOptions options)
    : profiles_(profiles),
      outbox_(outbox),
      clock_(clock),
      log_(std::move(log)),
      options_(options) {}

JobResult TagSweepHandler::Run(const storage::OutboxJob& /*job*/) {
  const int64_t now_ms = clock_.NowUnixMillis();
  const int64_t interval = IntervalMs(options_);
  if (interval < 1000) return JobResult::Failed("bad_options", "tag sweep interval under 1 s");
  // The next sweep first: whatever happens to this one, the chain goes on.
  const int64_t next_ms = now_ms - now_ms % interval + interval;
  auto queued = outbox_.Enqueue(SweepJob(next_ms), now_ms);
  if (!queued.ok()) return JobResult::FromProfileError(queued.status());

  storage::PushedTagKey after;
  size_t scanned = 0;
  int64_t pushes = 0;
  for (;;) {
    auto page = profiles_.QueueFadedTagPushes(after, options_.page);
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
