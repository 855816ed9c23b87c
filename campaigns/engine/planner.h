// CampaignPlanner: who a campaign reaches and who it skips, and why (docs/campaigns.md
// "Forecast" and "Freeze"). The audience is the campaign's saved segment (at the version the
// campaign names) evaluated through segments::SegmentEvaluator; each customer is then matched to
// one channel in the campaign's account and checked against the skip reasons in this order:
//   no_relation / unsubscribed — no way to address them in the account (wecom_group: no
//     connected follow relation of a member, or no external_userid; OA kinds: no openid, or no
//     subscription; an ended subscription is unsubscribed);
//   outside_48h — oa_custom only: no window-opening interaction in the last 48 hours;
//   opted_out — holds the campaign's opt-out tag;
//   already_sent — another campaign with the same template has sent to them;
//   monthly_cap — campaigns.monthly_cap messages of other campaigns in the last 30 days;
//   frequency_cap — the campaign's own cap over messages of other campaigns.
// wecom_group picks the owner's relation when the customer has several (sender = that member),
// otherwise the oldest connected one. The forecast computes this without writing; the freeze
// writes one delivery row per audience member (planned or skipped), in chunks, idempotently:
// a freeze that a crash interrupted, run again, adds only the rows still missing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "campaigns/segments/segment_evaluator.h"
#include "campaigns/segments/segment_service.h"
#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/storage/campaign_audience_store.h"
#include "src/storage/delivery_store.h"
#include "src/storage/segment_store.h"

namespace scrm::campaigns {

inline constexpr int64_t kWindow48hMs = int64_t{48} * 3'600'000;
inline constexpr int64_t kMonthlyCapWindowMs = int64_t{30} * 86'400'000;

struct PlannerLimits {
  int monthly_cap = 4;         // config campaigns.monthly_cap; 0 = none
  int freeze_chunk = 5000;     // rows per transaction (at most storage::kMaxFactBatch are read
                               // per fact query)
  int max_audience = 2000000;  // a larger audience is FailedPrecondition
};

// How many planned recipients go through one sender ("" for an OA account).
struct SenderCount {
  std::string account_id;
  std::string sender;
  int64_t count = 0;

  friend bool operator==(const SenderCount&, const SenderCount&) = default;
};

struct Forecast {
  int64_t audience = 0;  // segment members
  int64_t planned = 0;
  std::map<model::SkipReason, int64_t> skipped;  // by reason; reasons with none are absent
  std::vector<SenderCount> by_sender;            // by account then sender
  std::vector<model::Delivery> planned_page;     // the first page of the planned ones, by customer
  std::map<model::SkipReason, std::vector<model::Delivery>> skipped_pages;  // first page of each
};

struct FreezeReport {
  int64_t audience = 0;
  int64_t written = 0;  // rows written by this run (0 when a previous run wrote them all)
  int64_t total = 0;    // rows the campaign has now
};

// Thread-safe: every call reads through the stores and the evaluator, which are thread-safe.
// Does not own what it is given, which must outlive it.
class CampaignPlanner {
 public:
  CampaignPlanner(const segments::SegmentService& segments, storage::SegmentStore& segment_store,
                  const segments::SegmentEvaluator& evaluator,
                  storage::CampaignAudienceStore& audience, storage::DeliveryStore& deliveries,
                  const core::Clock& clock, PlannerLimits limits)
      : segments_(segments),
        segment_store_(segment_store),
        evaluator_(evaluator),
        audience_(audience),
        deliveries_(deliveries),
        clock_(clock),
        limits_(limits) {}

  // The plan as a freeze now would write it, with first pages of page_size (1..1000) rows.
  // FailedPrecondition when the segment version is gone, its query no longer compiles, or the
  // audience is over max_audience; InvalidArgument for bad options.
  core::StatusOr<Forecast> MakeForecast(const model::Campaign& campaign, size_t page_size) const;
  // Writes the plan as delivery rows (created_at_ms = now). Same errors as MakeForecast.
  core::StatusOr<FreezeReport> Freeze(const model::Campaign& campaign) const;

 private:
  // Calls fn with the plan's rows, chunk by chunk, in ascending customer order.
  core::Status Plan(const model::Campaign& campaign, int64_t now_ms, int64_t* audience,
                    const std::function<core::Status(std::span<const model::Delivery>)>& fn) const;
  core::StatusOr<std::vector<int64_t>> Members(const segments::Query& query, int64_t now_ms,
                                               size_t max) const;

  const segments::SegmentService& segments_;
  storage::SegmentStore& segment_store_;
  const segments::SegmentEvaluator& evaluator_;
  storage::CampaignAudienceStore& audience_;
  storage::DeliveryStore& deliveries_;
  const core::Clock& clock_;
  PlannerLimits limits_;
};

}  // namespace scrm::campaigns
