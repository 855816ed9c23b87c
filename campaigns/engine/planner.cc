#include "campaigns/engine/planner.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "campaigns/engine/campaign_options.h"
#include "campaigns/segments/parser.h"

namespace scrm::campaigns {
namespace {

using core::Status;
using core::StatusOr;
using model::SkipReason;

// The segment language's quoted string: backslash and quote escaped.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

bool IsOaKind(model::CampaignKind kind) { return kind != model::CampaignKind::kWecomGroup; }

// The facts every chunk reads once: ids of customers in a sorted vector for the set lookups.
struct ChunkFacts {
  std::map<int64_t, storage::AudienceFacts> audience;
  std::map<int64_t, int64_t> month;
  std::map<int64_t, int64_t> frequency;
  std::set<int64_t> already_sent;
};

// The channel of one customer, or the reason there is none.
struct Channel {
  std::string sender;
  std::string address;
  SkipReason reason = SkipReason::kNone;
};

Channel PickChannel(model::CampaignKind kind, const storage::AudienceFacts& facts) {
  Channel channel;
  channel.address = facts.address;
  if (kind == model::CampaignKind::kWecomGroup) {
    const model::Follower* pick = nullptr;
    for (const model::Follower& f : facts.followers) {
      if (f.userid.empty() || !model::IsConnected(f.state)) continue;
      if (pick == nullptr || (f.is_owner && !pick->is_owner)) pick = &f;
    }
    if (pick == nullptr || facts.address.empty()) {
      channel.reason = SkipReason::kNoRelation;
      return channel;
    }
    channel.sender = pick->userid;
    return channel;
  }
  const model::Follower* subscription = nullptr;
  for (const model::Follower& f : facts.followers) {
    if (f.userid.empty()) subscription = &f;
  }
  if (facts.address.empty() || subscription == nullptr) {
    channel.reason = SkipReason::kNoRelation;
  } else if (!model::IsConnected(subscription->state)) {
    channel.reason = SkipReason::kUnsubscribed;
  }
  return channel;
}

}  // namespace

StatusOr<std::vector<int64_t>> CampaignPlanner::Members(const segments::Query& query,
                                                        int64_t now_ms, size_t max) const {
  std::vector<int64_t> out;
  int64_t after = 0;
  constexpr size_t kPage = 100000;
  while (true) {
    SCRM_ASSIGN_OR_RETURN(segments::Evaluation page,
                          evaluator_.Evaluate(query, now_ms, after, kPage));
    if (page.count > max) {
      return core::FailedPreconditionError("the audience has " + std::to_string(page.count) +
                                           " customers, over campaigns.max_audience " +
                                           std::to_string(max));
    }
    out.insert(out.end(), page.page.begin(), page.page.end());
    if (page.next_after == 0 || page.page.empty()) break;
    after = page.next_after;
  }
  return out;
}

Status CampaignPlanner::Plan(
    const model::Campaign& campaign, int64_t now_ms, int64_t* audience,
    const std::function<Status(std::span<const model::Delivery>)>& fn) const {
  SCRM_ASSIGN_OR_RETURN(CampaignOptions options, ParseCampaignOptions(campaign.options_json));
  SCRM_ASSIGN_OR_RETURN(std::vector<storage::StoredSegment> versions,
                        segment_store_.ListVersions(campaign.segment_id));
  const storage::StoredSegment* segment = nullptr;
  for (const auto& v : versions) {
    if (v.version == campaign.segment_version) segment = &v;
  }
  if (segment == nullptr) {
    return core::FailedPreconditionError("segment " + std::to_string(campaign.segment_id) +
                                         " has no version " +
                                         std::to_string(campaign.segment_version));
  }
  auto compiled = segments_.Compile(segment->query);
  if (!compiled.ok()) {
    return core::FailedPreconditionError("segment \"" + segment->name +
                                         "\" no longer compiles: " + compiled.status().message());
  }
  const size_t max = static_cast<size_t>(limits_.max_audience);
  SCRM_ASSIGN_OR_RETURN(std::vector<int64_t> members, Members(compiled->query, now_ms, max));
  *audience = static_cast<int64_t>(members.size());

  std::vector<int64_t> opted_out;
  if (!options.opt_out_tag.empty()) {
    auto tag_query = segments::Parse("relation:any and tag:" + Quoted(options.opt_out_tag));
    if (!tag_query.ok()) {
      return core::InvalidArgumentError("options.opt_out_tag: " + tag_query.status().message());
    }
    SCRM_ASSIGN_OR_RETURN(opted_out, Members(*tag_query, now_ms, SIZE_MAX));
  }

  const model::IdentityKind identity =
      IsOaKind(campaign.kind) ? model::IdentityKind::kOpenid : model::IdentityKind::kExternalUserid;
  const size_t chunk_size = static_cast<size_t>(
      std::clamp<int64_t>(limits_.freeze_chunk, 1, static_cast<int64_t>(storage::kMaxFactBatch)));
  std::vector<model::Delivery> rows;
  for (size_t begin = 0; begin < members.size(); begin += chunk_size) {
    const std::span<const int64_t> ids(members.data() + begin,
                                       std::min(chunk_size, members.size() - begin));
    ChunkFacts facts;
    SCRM_ASSIGN_OR_RETURN(facts.audience,
                          audience_.Read(ids, campaign.account_id, identity,
                                         campaign.kind == model::CampaignKind::kOaCustom));
    if (limits_.monthly_cap > 0) {
      SCRM_ASSIGN_OR_RETURN(
          facts.month, deliveries_.CountRecent(ids, now_ms - kMonthlyCapWindowMs, campaign.id));
    }
    if (options.frequency_cap_max > 0) {
      const int64_t window_ms = int64_t{options.frequency_cap_hours} * 3'600'000;
      SCRM_ASSIGN_OR_RETURN(facts.frequency,
                            deliveries_.CountRecent(ids, now_ms - window_ms, campaign.id));
    }
    SCRM_ASSIGN_OR_RETURN(facts.already_sent,
                          deliveries_.TemplateSentTo(ids, campaign.template_id, campaign.id));
    rows.clear();
    for (int64_t id : ids) {
      Channel channel = PickChannel(campaign.kind, facts.audience[id]);
      SkipReason reason = channel.reason;
      if (reason == SkipReason::kNone && campaign.kind == model::CampaignKind::kOaCustom &&
          facts.audience[id].last_window_ms < now_ms - kWindow48hMs) {
        reason = SkipReason::kOutside48h;
      }
      if (reason == SkipReason::kNone &&
          std::binary_search(opted_out.begin(), opted_out.end(), id)) {
        reason = SkipReason::kOptedOut;
      }
      if (reason == SkipReason::kNone && facts.already_sent.contains(id)) {
        reason = SkipReason::kAlreadySent;
      }
      if (reason == SkipReason::kNone && limits_.monthly_cap > 0 &&
          facts.month[id] >= limits_.monthly_cap) {
        reason = SkipReason::kMonthlyCap;
      }
      if (reason == SkipReason::kNone && options.frequency_cap_max > 0 &&
          facts.frequency[id] >= options.frequency_cap_max) {
        reason = SkipReason::kFrequencyCap;
      }
      model::Delivery d;
      d.campaign_id = campaign.id;
      d.customer_id = id;
      d.channel_key =
          model::DeliveryChannelKey(campaign.account_id, channel.sender, channel.address);
      d.sender = channel.sender;
      d.state = reason == SkipReason::kNone ? model::DeliveryState::kPlanned
                                            : model::DeliveryState::kSkipped;
      d.skip_reason = reason;
      d.idempotency_key = model::DeliveryIdempotencyKey(campaign.id, id, d.channel_key);
      d.created_at_ms = now_ms;
      d.updated_at_ms = now_ms;
      rows.push_back(std::move(d));
    }
    SCRM_RETURN_IF_ERROR(fn(rows));
  }
  return core::OkStatus();
}

StatusOr<Forecast> CampaignPlanner::MakeForecast(const model::Campaign& campaign,
                                                 size_t page_size) const {
  if (page_size == 0 || page_size > 1000) {
    return core::InvalidArgumentError("limit must be 1..1000");
  }
  Forecast forecast;
  std::map<std::string, int64_t> by_sender;
  SCRM_RETURN_IF_ERROR(Plan(campaign, clock_.NowUnixMillis(), &forecast.audience,
                            [&](std::span<const model::Delivery> rows) -> Status {
                              for (const model::Delivery& d : rows) {
                                if (d.state == model::DeliveryState::kPlanned) {
                                  ++forecast.planned;
                                  ++by_sender[d.sender];
                                  if (forecast.planned_page.size() < page_size) {
                                    forecast.planned_page.push_back(d);
                                  }
                                  continue;
                                }
                                ++forecast.skipped[d.skip_reason];
                                auto& page = forecast.skipped_pages[d.skip_reason];
                                if (page.size() < page_size) page.push_back(d);
                              }
                              return core::OkStatus();
                            }));
  for (const auto& [sender, count] : by_sender) {
    SenderCount row;
    row.account_id = campaign.account_id;
    row.sender = sender;
    row.count = count;
    forecast.by_sender.push_back(std::move(row));
  }
  return forecast;
}

StatusOr<FreezeReport> CampaignPlanner::Freeze(const model::Campaign& campaign) const {
  FreezeReport report;
  SCRM_RETURN_IF_ERROR(Plan(campaign, clock_.NowUnixMillis(), &report.audience,
                            [&](std::span<const model::Delivery> rows) -> Status {
                              SCRM_ASSIGN_OR_RETURN(size_t written, deliveries_.InsertChunk(rows));
                              report.written += static_cast<int64_t>(written);
                              return core::OkStatus();
                            }));
  SCRM_ASSIGN_OR_RETURN(report.total, deliveries_.Total(campaign.id));
  return report;
}

}  // namespace scrm::campaigns
