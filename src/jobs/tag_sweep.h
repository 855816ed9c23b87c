// The decay sweep (docs/outbound.md "Decay"): an outbox job, kind "tagsweep"
// (model::kTagSweepJobKind), that finds the customers whose pushed platform tags they no longer
// hold — faded below the threshold by time alone, which changes no row and so queued no push — and
// queues a tag push for them. Each run first queues the next one, so the sweep repeats every
// `interval` while scrmd runs and resumes after a restart (ScheduleTagSweep).
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/jobs/outbox_runner.h"
#include "src/model/job_kinds.h"
#include "src/profiles/tag_push_enqueuer.h"
#include "src/storage/outbox_store.h"

namespace scrm::jobs {

// The outbox needs an account on every job; the sweep covers every push account.
inline constexpr char kTagSweepAccount[] = "*";  // = kRecurringAccount (recurring.h)

struct TagSweepOptions {
  // Sweeps start at multiples of this (unix time), one per interval. A tag that fades is taken
  // off the platform within an interval (plus the push job's own run).
  std::chrono::milliseconds interval{std::chrono::hours(1)};
  size_t page = 1000;  // pushed tags read per page, 1..1000
};

// Queues the sweep due in the interval that holds now_ms (dedupe key "tagsweep:<start ms>"):
// at startup, so that a process that was down resumes the chain. Nothing is queued when that
// sweep is known already (queued, or run). InvalidArgument for an interval under 1 s.
core::Status ScheduleTagSweep(storage::OutboxStore& outbox, int64_t now_ms,
                              const TagSweepOptions& options = {});

// Called on the runner's thread only (not thread-safe). Holds references to the tag push
// enqueuer, the outbox and the clock; they must outlive it.
class TagSweepHandler final : public JobHandler {
 public:
  TagSweepHandler(profiles::TagPushEnqueuer& pushes, storage::OutboxStore& outbox,
                  const core::Clock& clock, std::shared_ptr<spdlog::logger> log,
                  TagSweepOptions options = {});

  // Queues the next sweep (the next interval's start), then reads every pushed tag in pages
  // and queues the pushes (profiles::TagPushEnqueuer::QueueFadedTagPushes). Done, outcome "ok"; a
  // store error is retried (the next sweep is queued already, so the chain never breaks).
  JobResult Run(const storage::OutboxJob& job) override;

 private:
  profiles::TagPushEnqueuer& pushes_;
  storage::OutboxStore& outbox_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  const TagSweepOptions options_;
};

}  // namespace scrm::jobs
