#include "campaigns/engine/campaign_scheduler.h"

#include <vector>

namespace scrm::campaigns {

core::StatusOr<SchedulerReport> CampaignScheduler::RunOnce(int64_t now_ms) {
  SCRM_ASSIGN_OR_RETURN(std::vector<model::Campaign> due, store_.ListDue(now_ms, 100));
  SchedulerReport report;
  for (const model::Campaign& campaign : due) {
    TransitionArgs args;
    args.expected_version = campaign.version;
    args.note = "schedule due";
    auto launched = service_.Apply(campaign.id, CampaignAction::kLaunch, kSchedulerActor, args);
    if (launched.ok()) {
      ++report.launched;
    } else {
      if (report.failed == 0) report.first_error = launched.status();
      ++report.failed;
    }
  }
  return report;
}

}  // namespace scrm::campaigns
