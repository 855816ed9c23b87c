// Backfill: brings WeCom contacts that existed before scrmd into the profiles — walks
// externalcontact/batch/get_by_user (PROTOCOL §4.1) for the given members and makes sure each
// contact is a customer (with its enrichment job) and holds its unionid. It holds the WeCom client
// itself, not an outbound channel (channels/common/outbound.h): listing a corp's contacts is a
// WeCom-only bulk read that the seam has no method for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/platform/wecom_client.h"
#include "src/profiles/profile_service.h"

namespace scrm::jobs {

struct BackfillReport {
  int64_t pages = 0;     // batch/get_by_user replies read
  int64_t contacts = 0;  // (member, contact) items seen
  int64_t created = 0;   // customers created (each with an enrichment job in the outbox)
  int64_t merged = 0;    // customers merged because of a unionid
};

// Runs on the calling thread (`scrmd backfill`); calls are kBulk so that realtime calls of a
// running scrmd on the same account go first. `userids` are the corp members whose contacts to
// read (sent 100 at a time). Every step is idempotent: running it twice creates nothing new.
// Stops at the first platform error (as its Status, see platform::ApiError::ToStatus) or
// profile error; what was done before stays done. A page answered with an errcode that
// PROTOCOL §4.3 does not list is asked again, up to kUnknownErrcodeReadAttempts times in all.
core::StatusOr<BackfillReport> BackfillWecom(platform::WecomClient& client,
                                             profiles::ProfileService& profiles,
                                             const std::string& account_id,
                                             const std::vector<std::string>& userids);

}  // namespace scrm::jobs
