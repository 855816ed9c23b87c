// CampaignAudienceStore: what the campaign plan reads about a batch of customers in one account
// (campaigns/engine planner): their follow relations there (a WeCom member's relation, or the OA
// subscription with userid ""), their platform identity there (external_userid / openid), and
// the time of their last interaction that opens the OA 48-hour customer-service window. Reads
// only, on read connections.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/database.h"

namespace scrm::storage {

// One customer's facts in one account.
struct AudienceFacts {
  std::vector<model::Follower> followers;  // in the account, by id
  std::string address;         // the external_userid / openid in the account; "" when none
  int64_t last_window_ms = 0;  // last window-opening interaction; 0 when none
};

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail with
// the codes of Database::WithReader.
class CampaignAudienceStore {
 public:
  explicit CampaignAudienceStore(Database& db) : db_(db) {}

  // The facts of each of `customer_ids` (at most kMaxFactBatch, delivery_store.h) in account
  // `account_id`, identity kind `kind` ("external_userid" or "openid"). A customer without any
  // fact has a default AudienceFacts. The window-opening interactions are the customer's
  // messages and the OA events subscribe, scan and menu click (PROTOCOL §4.2 customer-service
  // messages); the timeline does not name the account, so any account's count. They are read
  // only with_window (last_window_ms stays 0 otherwise).
  core::StatusOr<std::map<int64_t, AudienceFacts>> Read(std::span<const int64_t> customer_ids,
                                                        const std::string& account_id,
                                                        model::IdentityKind kind, bool with_window);

 private:
  Database& db_;
};

}  // namespace scrm::storage
