// The lifecycle sweep (docs/tagging.md rule L7): an outbox job, kind "stagesweep"
// (model::kStageSweepJobKind), that moves customers in an active stage (new, engaged, customer,
// repeat) without an interaction for at_risk_days to at_risk, reason "inactive". Like the tag sweep
// (tag_sweep.h) each run first queues the next one, so it repeats every `interval` while scrmd runs
// and resumes after a restart (ScheduleStageSweep).
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/jobs/outbox_runner.h"
#include "src/model/job_kinds.h"
#include "src/storage/outbox_store.h"
#include "src/storage/stage_sweep_store.h"

namespace scrm::jobs {

struct StageSweepOptions {
  // Sweeps start at multiples of this (unix time), one per interval (config lifecycle.
  // sweep_interval_s). A customer becomes at_risk within an interval of crossing the threshold.
  std::chrono::milliseconds interval{std::chrono::hours(1)};
  int at_risk_days = 30;  // >= 1 (config lifecycle.at_risk_days; tagger::kDefaultAtRiskDays)
  size_t page = 1000;     // customers looked at per transaction, 1..StageSweepStore::kMaxPage
};

// Queues the sweep due in the interval that holds now_ms (dedupe key "stagesweep:<start ms>"),
// unless it is known already. InvalidArgument for an interval under 1 s.
core::Status ScheduleStageSweep(storage::OutboxStore& outbox, int64_t now_ms,
                                const StageSweepOptions& options = {});

// Called on the runner's thread only (not thread-safe). Holds references to the stores and the
// clock; they must outlive it.
class StageSweepHandler final : public JobHandler {
 public:
  StageSweepHandler(storage::StageSweepStore& stages, storage::OutboxStore& outbox,
                    const core::Clock& clock, std::shared_ptr<spdlog::logger> log,
                    StageSweepOptions options = {});

  // Queues the next sweep, then walks every customer in pages (StageSweepStore::MarkInactive
  // with the cutoff now - at_risk_days). Done, outcome "ok"; a store error is retried (the next
  // sweep is queued already); bad options fail the job.
  JobResult Run(const storage::OutboxJob& job) override;

 private:
  storage::StageSweepStore& stages_;
  storage::OutboxStore& outbox_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  const StageSweepOptions options_;
};

}  // namespace scrm::jobs
