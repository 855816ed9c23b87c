#include "src/model/campaign.h"

#include <array>
#include <utility>

namespace scrm::model {
namespace {

template <typename E, size_t N>
std::optional<E> FindByName(const std::array<std::pair<E, std::string_view>, N>& table,
                            std::string_view name) {
  for (const auto& [value, text] : table) {
    if (text == name) return value;
  }
  return std::nullopt;
}

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, text] : table) {
    if (v == value) return text;
  }
  return table[0].second;
}

constexpr std::array<std::pair<CampaignKind, std::string_view>, 4> kKinds = {{
    {CampaignKind::kWecomGroup, "wecom_group"},
    {CampaignKind::kOaTemplate, "oa_template"},
    {CampaignKind::kOaCustom, "oa_custom"},
    {CampaignKind::kOaMass, "oa_mass"},
}};

constexpr std::array<std::pair<CampaignState, std::string_view>, 8> kStates = {{
    {CampaignState::kDraft, "draft"},
    {CampaignState::kPendingApproval, "pending_approval"},
    {CampaignState::kApproved, "approved"},
    {CampaignState::kScheduled, "scheduled"},
    {CampaignState::kRunning, "running"},
    {CampaignState::kPaused, "paused"},
    {CampaignState::kCompleted, "completed"},
    {CampaignState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<DeliveryState, std::string_view>, 8> kDeliveryStates = {{
    {DeliveryState::kPlanned, "planned"},
    {DeliveryState::kSkipped, "skipped"},
    {DeliveryState::kSending, "sending"},
    {DeliveryState::kSent, "sent"},
    {DeliveryState::kDelivered, "delivered"},
    {DeliveryState::kFailed, "failed"},
    {DeliveryState::kUnknown, "unknown"},
    {DeliveryState::kNotReached, "not_reached"},
}};

constexpr std::array<std::pair<SkipReason, std::string_view>, 8> kSkipReasons = {{
    {SkipReason::kNone, ""},
    {SkipReason::kNoRelation, "no_relation"},
    {SkipReason::kUnsubscribed, "unsubscribed"},
    {SkipReason::kOutside48h, "outside_48h"},
    {SkipReason::kMonthlyCap, "monthly_cap"},
    {SkipReason::kFrequencyCap, "frequency_cap"},
    {SkipReason::kOptedOut, "opted_out"},
    {SkipReason::kAlreadySent, "already_sent"},
}};

}  // namespace

std::string_view CampaignKindName(CampaignKind kind) { return NameOf(kKinds, kind); }
std::optional<CampaignKind> ParseCampaignKind(std::string_view name) {
  return FindByName(kKinds, name);
}

std::string_view CampaignStateName(CampaignState state) { return NameOf(kStates, state); }
std::optional<CampaignState> ParseCampaignState(std::string_view name) {
  return FindByName(kStates, name);
}

bool IsTerminal(CampaignState state) {
  return state == CampaignState::kCompleted || state == CampaignState::kCancelled;
}

std::string_view DeliveryStateName(DeliveryState state) { return NameOf(kDeliveryStates, state); }
std::optional<DeliveryState> ParseDeliveryState(std::string_view name) {
  return FindByName(kDeliveryStates, name);
}

std::string_view SkipReasonName(SkipReason reason) { return NameOf(kSkipReasons, reason); }
std::optional<SkipReason> ParseSkipReason(std::string_view name) {
  return FindByName(kSkipReasons, name);
}

std::string DeliveryChannelKey(std::string_view account_id, std::string_view sender,
                               std::string_view address) {
  std::string key;
  key.reserve(account_id.size() + sender.size() + address.size() + 2);
  key.append(account_id).append(":").append(sender).append(":").append(address);
  return key;
}

std::string DeliveryIdempotencyKey(int64_t campaign_id, int64_t customer_id,
                                   std::string_view channel_key) {
  std::string key = std::to_string(campaign_id);
  key.append(":").append(std::to_string(customer_id)).append(":").append(channel_key);
  return key;
}

}  // namespace scrm::model
