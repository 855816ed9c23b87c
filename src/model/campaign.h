// Campaigns as values (issue 15, docs/campaigns.md): a campaign's kind and lifecycle state, the
// campaign row, one audit row per transition, and one delivery row per recipient with its state
// and the reason a recipient was skipped. Plain data; campaigns/engine decides, src/storage
// persists (main migration 14). Every name below is stored and appears in the API: stable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scrm::model {

// How a campaign reaches people (PROTOCOL §4).
enum class CampaignKind {
  kWecomGroup,  // "wecom_group": WeCom 企业群发 add_msg_template, one task per owning member
  kOaTemplate,  // "oa_template": OA message/template/send
  kOaCustom,    // "oa_custom": OA message/custom/send, only inside the 48 h window
  kOaMass,      // "oa_mass": OA mass/sendall
};

std::string_view CampaignKindName(CampaignKind kind);
std::optional<CampaignKind> ParseCampaignKind(std::string_view name);

// The lifecycle (docs/campaigns.md "Lifecycle").
enum class CampaignState {
  kDraft,            // "draft": editable
  kPendingApproval,  // "pending_approval": submitted, waits for an admin
  kApproved,         // "approved": may be scheduled or launched
  kScheduled,        // "scheduled": launched by the due-time check at schedule_at_ms
  kRunning,          // "running": frozen into deliveries; the dispatcher sends
  kPaused,           // "paused": frozen; the dispatcher sends nothing until resumed
  kCompleted,        // "completed": every delivery has an outcome
  kCancelled,        // "cancelled": nothing more is sent
};

std::string_view CampaignStateName(CampaignState state);
std::optional<CampaignState> ParseCampaignState(std::string_view name);
// True for completed and cancelled: no transition leaves them.
bool IsTerminal(CampaignState state);

struct Campaign {
  int64_t id = 0;
  std::string name;
  CampaignKind kind = CampaignKind::kWecomGroup;
  std::string account_id;  // the WeCom corp or OA account configured under channels
  int64_t segment_id = 0;
  int segment_version = 0;  // the segment version the campaign was saved against
  int64_t template_id = 0;
  int template_version = 0;  // the template version the campaign was saved against
  CampaignState state = CampaignState::kDraft;
  int64_t schedule_at_ms = 0;       // 0 = at launch
  std::string options_json = "{}";  // campaigns/engine CampaignOptions
  std::string created_by;           // API key name
  std::string approved_by;          // API key name; "" until approved (or when approval is off)
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t launched_at_ms = 0;   // 0 until frozen
  int64_t completed_at_ms = 0;  // 0 until completed or cancelled
  int version = 1;              // compare-and-set on every change

  friend bool operator==(const Campaign&, const Campaign&) = default;
};

// One lifecycle transition (from_state "" for the creation).
struct CampaignAuditEntry {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::string from_state;
  std::string to_state;
  std::string actor;  // the API key's name, or "scheduler" for a due schedule
  int64_t at_ms = 0;
  std::string note;

  friend bool operator==(const CampaignAuditEntry&, const CampaignAuditEntry&) = default;
};

enum class DeliveryState {
  kPlanned,     // "planned": frozen, not yet sent
  kSkipped,     // "skipped": skip_reason says why; never sent
  kSending,     // "sending": in a batch whose call is under way
  kSent,        // "sent": the platform accepted it
  kDelivered,   // "delivered": the platform reported it delivered
  kFailed,      // "failed": the platform refused it
  kUnknown,     // "unknown": the outcome could not be reconciled
  kNotReached,  // "not_reached": WeCom group message not sent by the member / customer refused
};

std::string_view DeliveryStateName(DeliveryState state);
std::optional<DeliveryState> ParseDeliveryState(std::string_view name);

// Why a recipient is skipped (docs/campaigns.md "Forecast").
enum class SkipReason {
  kNone,          // ""
  kNoRelation,    // "no_relation": no connected WeCom relation / no identity in the account
  kUnsubscribed,  // "unsubscribed": the OA subscription ended
  kOutside48h,    // "outside_48h": oa_custom and no interaction in the last 48 hours
  kMonthlyCap,    // "monthly_cap": the per-customer cap of the campaigns config
  kFrequencyCap,  // "frequency_cap": the campaign's own cap across campaigns
  kOptedOut,      // "opted_out": holds the campaign's opt-out tag
  kAlreadySent,   // "already_sent": another campaign sent this template to the customer
};

std::string_view SkipReasonName(SkipReason reason);
std::optional<SkipReason> ParseSkipReason(std::string_view name);

// One recipient of a campaign. channel_key = "<account>:<member userid or ''>:<external_userid
// or openid>" (for a skipped one without an identity: "<account>::"); idempotency_key =
// "<campaign>:<customer>:<channel_key>".
struct Delivery {
  int64_t id = 0;
  int64_t campaign_id = 0;
  int64_t customer_id = 0;
  std::string channel_key;
  std::string sender;  // WeCom member userid; "" for OA
  DeliveryState state = DeliveryState::kPlanned;
  SkipReason skip_reason = SkipReason::kNone;
  int64_t batch_id = 0;   // 0 until batched
  std::string link_code;  // "" when the template has no {{link}}
  std::string idempotency_key;
  int64_t last_errcode = 0;
  std::string last_error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;

  friend bool operator==(const Delivery&, const Delivery&) = default;
};

// "<account>:<sender>:<address>".
std::string DeliveryChannelKey(std::string_view account_id, std::string_view sender,
                               std::string_view address);
// "<campaign>:<customer>:<channel_key>".
std::string DeliveryIdempotencyKey(int64_t campaign_id, int64_t customer_id,
                                   std::string_view channel_key);

}  // namespace scrm::model
