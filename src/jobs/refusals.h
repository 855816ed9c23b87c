// Refusals: a person the platform will not let scrmd reach, recorded on their customer profile
// (PROTOCOL §4.3 "user refused / not reachable: do not retry; mark contact"), so that operators
// see it and senders and segments can leave the customer out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/model/platform.h"
#include "src/platform/errors.h"
#include "src/profiles/profile_service.h"

namespace scrm::jobs {

// Attribute of a customer a send was refused for: "send_refused:<account>" = the errcode
// (docs/outbound.md "Per-user refusals"). Enrichment reads use "enrich_refused:"
// (enrich_handler.h).
inline constexpr char kSendRefusedAttributePrefix[] = "send_refused:";  // + account id

// The recipient of a send, as the platform names them.
struct Recipient {
  model::Platform platform = model::Platform::kOfficialAccount;
  std::string account_id;
  model::IdentityKind kind = model::IdentityKind::kOpenid;  // openid (OA) / external_userid
  std::string value;
};

// Records a send's kRefused outcome on the customer the recipient resolves to, when the errcode
// says the person cannot be reached at all (platform::IsUnreachable: 43101 refuses template
// messages, 43004 unsubscribed, 84061 no follow relation, ...): the customer gets attribute
// "send_refused:<account>" = the errcode. A refusal that is a matter of time (45015 outside the
// 48 h window, 45047, 41051) marks nothing. Returns the customer marked, nullopt when nothing was
// (a passing refusal, or no customer holds the identity). InvalidArgument for an outcome other
// than kRefused; profile-store errors as ProfileService returns them.
//
// Thread-safe as ProfileService is (each call opens its own transactions).
core::StatusOr<std::optional<int64_t>> RecordSendRefusal(profiles::ProfileService& profiles,
                                                         const Recipient& recipient,
                                                         const platform::ApiError& error);

}  // namespace scrm::jobs
