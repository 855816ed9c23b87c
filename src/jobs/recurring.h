// Recurring outbox jobs (the sweeps): one job per interval, keyed "<kind>:<interval start ms>",
// each run queueing the next one first, so that the chain repeats while scrmd runs and resumes
// after a restart (the job of the interval that holds the start is queued then).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "src/core/status.h"
#include "src/storage/outbox_store.h"

namespace scrm::jobs {

// The account of a recurring job: the outbox needs one on every job; a sweep covers them all.
inline constexpr char kRecurringAccount[] = "*";

// Queues the job of `kind` due at the start of the interval that holds now_ms, unless that one
// is known already (queued, or run). InvalidArgument for an interval under 1 s.
core::Status ScheduleRecurring(storage::OutboxStore& outbox, std::string_view kind, int64_t now_ms,
                               std::chrono::milliseconds interval);

// Queues the job of `kind` due at the start of the interval after the one that holds now_ms (a
// run calls it first). Same errors.
core::Status ScheduleNextRecurring(storage::OutboxStore& outbox, std::string_view kind,
                                   int64_t now_ms, std::chrono::milliseconds interval);

}  // namespace scrm::jobs
