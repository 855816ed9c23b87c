// CampaignStats: what a campaign has reached, from its delivery rows (docs/campaigns.md
// "Stats"): the audience, planned, skipped by reason, sending, sent, delivered, failed by
// errcode, unknown, not reached — in all, by sender (the WeCom member; "" for OA) and by account.
// Also the explicit retry of failed and unknown deliveries. Reads and one write through the
// stores; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/storage/campaign_store.h"
#include "src/storage/delivery_store.h"
#include "src/storage/send_batch_store.h"

namespace scrm::campaigns {

// Delivery counts by state. sent counts every recipient the platform accepted a message for
// (states sent, delivered and not_reached: a WeCom task reached the member's client);
// delivered those it reports delivered, not_reached those it reports it could not reach.
struct DeliveryFigures {
  int64_t audience = 0;  // every delivery row (planned or skipped at the freeze)
  int64_t planned = 0;   // still to send
  int64_t skipped = 0;
  int64_t sending = 0;
  int64_t sent = 0;
  int64_t delivered = 0;
  int64_t failed = 0;
  int64_t unknown = 0;
  int64_t not_reached = 0;

  friend bool operator==(const DeliveryFigures&, const DeliveryFigures&) = default;
};

struct CampaignStats {
  int64_t campaign_id = 0;
  std::string kind;
  std::string state;
  DeliveryFigures total;
  std::map<std::string, int64_t> skipped_by_reason;  // model::SkipReasonName -> count
  std::map<int64_t, int64_t> failed_by_errcode;      // 0 = no platform errcode (render, local)
  std::map<int64_t, int64_t> unknown_by_errcode;
  std::map<std::string, DeliveryFigures> by_sender;   // WeCom member userid; "" for OA
  std::map<std::string, DeliveryFigures> by_account;  // one account per campaign today
};

// Does not own the stores or clock.
class CampaignStatsService {
 public:
  CampaignStatsService(storage::CampaignStore& campaigns, storage::DeliveryStore& deliveries,
                       storage::SendBatchStore& batches, const core::Clock& clock)
      : campaigns_(campaigns), deliveries_(deliveries), batches_(batches), clock_(clock) {}

  // NotFound for an unknown campaign.
  core::StatusOr<CampaignStats> Stats(int64_t campaign_id);

  // Puts the campaign's failed and unknown deliveries back to planned (SendBatchStore::Requeue);
  // a completed campaign goes back to running (audited: actor, "retry"), so the dispatcher
  // sends them. Returns how many deliveries. FailedPrecondition for a draft, scheduled or
  // cancelled campaign (nothing was sent or nothing may be); NotFound.
  core::StatusOr<int64_t> Retry(int64_t campaign_id, const std::string& actor);

 private:
  storage::CampaignStore& campaigns_;
  storage::DeliveryStore& deliveries_;
  storage::SendBatchStore& batches_;
  const core::Clock& clock_;
};

}  // namespace scrm::campaigns
