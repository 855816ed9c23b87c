#include "campaigns/engine/campaign_stats.h"

#include <string>
#include <vector>

namespace scrm::campaigns {
namespace {

void Add(DeliveryFigures& f, model::DeliveryState state, int64_t n) {
  f.audience += n;
  switch (state) {
    case model::DeliveryState::kPlanned: f.planned += n; break;
    case model::DeliveryState::kSkipped: f.skipped += n; break;
    case model::DeliveryState::kSending: f.sending += n; break;
    case model::DeliveryState::kSent: f.sent += n; break;
    case model::DeliveryState::kDelivered:
      f.sent += n;
      f.delivered += n;
      break;
    case model::DeliveryState::kNotReached:
      f.sent += n;
      f.not_reached += n;
      break;
    case model::DeliveryState::kFailed: f.failed += n; break;
    case model::DeliveryState::kUnknown: f.unknown += n; break;
  }
}

}  // namespace

core::StatusOr<CampaignStats> CampaignStatsService::Stats(int64_t campaign_id) {
  SCRM_ASSIGN_OR_RETURN(const model::Campaign campaign, campaigns_.Get(campaign_id));
  SCRM_ASSIGN_OR_RETURN(const std::vector<storage::DeliveryCount> counts,
                        deliveries_.Count(campaign_id));
  SCRM_ASSIGN_OR_RETURN(const std::vector<storage::FailureCount> failures,
                        batches_.CountFailures(campaign_id));
  CampaignStats stats;
  stats.campaign_id = campaign.id;
  stats.kind = std::string(model::CampaignKindName(campaign.kind));
  stats.state = std::string(model::CampaignStateName(campaign.state));
  for (const storage::DeliveryCount& c : counts) {
    Add(stats.total, c.state, c.count);
    Add(stats.by_sender[c.sender], c.state, c.count);
    Add(stats.by_account[campaign.account_id], c.state, c.count);
    if (c.state == model::DeliveryState::kSkipped) {
      stats.skipped_by_reason[std::string(model::SkipReasonName(c.skip_reason))] += c.count;
    }
  }
  for (const storage::FailureCount& f : failures) {
    auto& target = f.state == model::DeliveryState::kFailed ? stats.failed_by_errcode
                                                            : stats.unknown_by_errcode;
    target[f.errcode] += f.count;
  }
  return stats;
}

core::StatusOr<int64_t> CampaignStatsService::Retry(int64_t campaign_id, const std::string& actor) {
  SCRM_ASSIGN_OR_RETURN(model::Campaign campaign, campaigns_.Get(campaign_id));
  const model::CampaignState state = campaign.state;
  if (state != model::CampaignState::kRunning && state != model::CampaignState::kPaused &&
      state != model::CampaignState::kCompleted) {
    return core::FailedPreconditionError("campaign " + std::to_string(campaign_id) + " is " +
                                         std::string(model::CampaignStateName(state)) +
                                         ": only a running, paused or completed one is retried");
  }
  const int64_t now_ms = clock_.NowUnixMillis();
  SCRM_ASSIGN_OR_RETURN(const size_t requeued, batches_.Requeue(campaign_id, now_ms));
  if (requeued > 0 && state == model::CampaignState::kCompleted) {
    const int expected = campaign.version;
    campaign.state = model::CampaignState::kRunning;
    campaign.completed_at_ms = 0;
    campaign.updated_at_ms = now_ms;
    model::CampaignAuditEntry audit;
    audit.campaign_id = campaign_id;
    audit.from_state = std::string(model::CampaignStateName(model::CampaignState::kCompleted));
    audit.to_state = std::string(model::CampaignStateName(model::CampaignState::kRunning));
    audit.actor = actor;
    audit.at_ms = now_ms;
    audit.note = "retry of " + std::to_string(requeued) + " failed or unknown deliveries";
    SCRM_RETURN_IF_ERROR(
        campaigns_.Save(campaign, expected, model::CampaignState::kCompleted, audit).status());
  }
  return static_cast<int64_t>(requeued);
}

}  // namespace scrm::campaigns
