// The outbox's job kinds and their payloads (docs/outbound.md "Outbox"): one typed struct and
// one codec per kind, shared by the producers (src/profiles, src/jobs) and the handlers
// (src/jobs). The encoded text is the on-disk format of outbox.payload_json: rows written by
// earlier versions must keep decoding, so an encoding changes only with a new kind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/core/status.h"
#include "src/model/customer.h"

namespace scrm::model {

// "enrich": asks the platform about a customer created from a platform identity and applies
// the answer (jobs::EnrichHandler). The payload names the identity, not the customer: it is
// resolved again when the job runs, so that a merge in between does not matter.
inline constexpr char kEnrichJobKind[] = "enrich";
struct EnrichPayload {
  std::string platform;  // the identity's platform as stored: "oa", "wecom"
  IdentityKind kind = IdentityKind::kOpenid;
  std::string value;  // the openid / external_userid
};

// "tagpush": makes a customer's tags on one account's platform (the job's account) match the
// tags the customer holds when the job runs (jobs::TagPushHandler).
inline constexpr char kTagPushJobKind[] = "tagpush";
struct TagPushPayload {
  int64_t customer_id = 0;  // > 0
};

// The recurring sweeps (src/jobs/recurring.h): "tagsweep" takes faded pushed tags off the
// platforms (jobs::TagSweepHandler), "stagesweep" moves inactive customers to at_risk
// (jobs::StageSweepHandler). Their payload says nothing: kEmptyJobPayload, not read.
inline constexpr char kTagSweepJobKind[] = "tagsweep";
inline constexpr char kStageSweepJobKind[] = "stagesweep";
inline constexpr char kEmptyJobPayload[] = "{}";  // storage::OutboxJob's default payload

// "welcome": sends a contact channel's welcome message to a customer who was just added through
// it (campaigns/engine/welcome_handler.h). The WeCom WelcomeCode is valid for 20 s and once
// (PROTOCOL §4.1 send_welcome_msg): the job is never resent after an unknown outcome, and one
// older than the code's life is failed as "expired" without a call.
inline constexpr char kWelcomeJobKind[] = "welcome";
struct WelcomePayload {
  int64_t customer_id = 0;      // > 0: whom the template is rendered for
  int64_t channel_id = 0;       // > 0: the contact channel (contact_channels.id)
  int64_t template_id = 0;      // > 0: the channel's welcome template when the job was queued
  std::string welcome_code;     // WelcomeCode of the add_external_contact event, non-empty
  std::string userid;           // UserID: the member who added the customer
  std::string external_userid;  // ExternalUserID
  int64_t received_at_ms = 0;   // when scrmd acked the callback: the code's life starts about then
};

// {"kind":"openid","platform":"oa","value":"oOPEN001"}: compact, members in this order; bytes
// that are not UTF-8 are replaced by U+FFFD.
std::string EncodeEnrichPayload(const EnrichPayload& payload);
// InvalidArgument "enrich payload is not {platform, kind, value}" when the text is not a JSON
// object with those three string members; "enrich payload names no identity" when kind is not
// an identity kind (IdentityKindName) or value is empty. Other members are ignored.
core::StatusOr<EnrichPayload> DecodeEnrichPayload(std::string_view json);

// {"customer_id":42}.
std::string EncodeTagPushPayload(const TagPushPayload& payload);
// InvalidArgument "tagpush payload is not {customer_id}" unless the text is a JSON object whose
// customer_id is an integer > 0. Other members are ignored.
core::StatusOr<TagPushPayload> DecodeTagPushPayload(std::string_view json);

// {"channel_id":3,"customer_id":42,"external_userid":"wm..","received_at_ms":..,
// "template_id":7,"userid":"zhangsan","welcome_code":".."}.
std::string EncodeWelcomePayload(const WelcomePayload& payload);
// InvalidArgument "welcome payload is not {customer_id, channel_id, template_id, welcome_code,
// userid, external_userid, received_at_ms}" unless every member is there with its type, the ids
// are > 0 and welcome_code is non-empty. Other members are ignored.
core::StatusOr<WelcomePayload> DecodeWelcomePayload(std::string_view json);

}  // namespace scrm::model
