// The campaign due-schedule check as an outbox job handler (docs/campaigns.md "Lifecycle"):
// scrmd serve registers it on the outbox runner and queues its first run.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <utility>

#include "campaigns/engine/campaign_scheduler.h"
#include "src/core/clock.h"
#include "src/jobs/outbox_runner.h"
#include "src/jobs/recurring.h"
#include "src/storage/outbox_store.h"

namespace scrm::app {

// Campaigns (issue 15, docs/campaigns.md): the due-schedule check runs as a recurring outbox job
// every minute (src/jobs/recurring.h), so that it needs no thread of its own and resumes after a
// restart; it launches the scheduled campaigns whose time has come.
inline constexpr char kCampaignScheduleJobKind[] = "campaignschedule";
inline constexpr std::chrono::milliseconds kCampaignScheduleInterval = std::chrono::minutes(1);

class CampaignScheduleHandler final : public jobs::JobHandler {
 public:
  CampaignScheduleHandler(campaigns::CampaignScheduler& scheduler, storage::OutboxStore& outbox,
                          const core::Clock& clock, std::shared_ptr<spdlog::logger> log)
      : scheduler_(scheduler), outbox_(outbox), clock_(clock), log_(std::move(log)) {}

  jobs::JobResult Run(const storage::OutboxJob& /*job*/) override {
    const int64_t now_ms = clock_.NowUnixMillis();
    // The next check first: whatever happens to this one, the chain goes on.
    const core::Status queued = jobs::ScheduleNextRecurring(outbox_, kCampaignScheduleJobKind,
                                                            now_ms, kCampaignScheduleInterval);
    if (!queued.ok()) return jobs::JobResult::FromProfileError(queued);
    auto report = scheduler_.RunOnce(now_ms);
    if (!report.ok()) return jobs::JobResult::FromProfileError(report.status());
    if (report->launched > 0) log_->info("campaigns: {} scheduled launched", report->launched);
    if (report->failed > 0) {
      log_->warn("campaigns: {} scheduled launch(es) failed: {}", report->failed,
                 report->first_error.ToString());
    }
    return jobs::JobResult::Done();
  }

 private:
  campaigns::CampaignScheduler& scheduler_;
  storage::OutboxStore& outbox_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace scrm::app
