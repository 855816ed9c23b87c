// CampaignScheduler: the due-time check of scheduled campaigns. RunOnce launches (freezes and
// moves to running) every scheduled campaign whose schedule_at_ms has come, as actor
// "scheduler". It starts no thread: src/app calls it from a recurring loop.
#pragma once

#include <cstdint>

#include "campaigns/engine/campaign_service.h"
#include "src/core/status.h"
#include "src/storage/campaign_store.h"

namespace scrm::campaigns {

struct SchedulerReport {
  int launched = 0;
  int failed = 0;            // launches that returned an error (left scheduled: tried again)
  core::Status first_error;  // the first of them
};

// Thread-safety: any thread, but meant to be called from one loop; two concurrent runs cannot
// launch a campaign twice (the launch is a compare-and-set) and the freeze is idempotent.
class CampaignScheduler {
 public:
  CampaignScheduler(storage::CampaignStore& store, CampaignService& service)
      : store_(store), service_(service) {}

  // Launches the campaigns due at now_ms, at most 100 per run (the rest on the next run).
  // An error reading the due ones is returned; an error launching one is counted in the report.
  core::StatusOr<SchedulerReport> RunOnce(int64_t now_ms);

 private:
  storage::CampaignStore& store_;
  CampaignService& service_;
};

}  // namespace scrm::campaigns
