#include "src/jobs/recurring.h"

#include <string>

#include "src/model/job_kinds.h"

namespace scrm::jobs {
namespace {

core::Status Queue(storage::OutboxStore& outbox, std::string_view kind, int64_t due_ms,
                   int64_t now_ms) {
  storage::OutboxJob job;
  job.kind = std::string(kind);
  job.account_id = kRecurringAccount;
  job.dedupe_key = std::string(kind) + ":" + std::to_string(due_ms);
  job.payload_json = model::kEmptyJobPayload;
  job.due_at_ms = due_ms;
  // false = that interval's job is queued or ran already: the chain goes on from it.
  return outbox.Enqueue(job, now_ms).status();
}

}  // namespace

core::Status ScheduleRecurring(storage::OutboxStore& outbox, std::string_view kind, int64_t now_ms,
                               std::chrono::milliseconds interval) {
  const int64_t ms = interval.count();
  if (ms < 1000) return core::InvalidArgumentError(std::string(kind) + " interval must be >= 1 s");
  return Queue(outbox, kind, now_ms - now_ms % ms, now_ms);
}

core::Status ScheduleNextRecurring(storage::OutboxStore& outbox, std::string_view kind,
                                   int64_t now_ms, std::chrono::milliseconds interval) {
  const int64_t ms = interval.count();
  if (ms < 1000) return core::InvalidArgumentError(std::string(kind) + " interval must be >= 1 s");
  return Queue(outbox, kind, now_ms - now_ms % ms + ms, now_ms);
}

}  // namespace scrm::jobs
