// CampaignStore: the campaigns of /api/v1/campaigns and their audit (main migration 14): one row
// per campaign in `campaigns`, compare-and-set on its version for every change, and one row in
// `campaign_audit` per lifecycle transition, written in the same transaction as the change it
// records. Storage checks no lifecycle rule (campaigns/engine does); it stores the states and
// kinds by their model names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/storage/database.h"

namespace scrm::storage {

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail with
// the codes of Database::WithWriter / WithReader; a stored kind or state that is not a model name
// is Internal.
class CampaignStore {
 public:
  explicit CampaignStore(Database& db) : db_(db) {}

  // Stores `campaign` with a fresh id at version 1 (campaign.id and version are ignored) and the
  // audit row of its creation (`audit`'s campaign_id is set here); returns it as stored.
  // InvalidArgument for an empty name.
  core::StatusOr<model::Campaign> Insert(const model::Campaign& campaign,
                                         const model::CampaignAuditEntry& audit);
  // NotFound.
  core::StatusOr<model::Campaign> Get(int64_t id);
  // Campaigns with id > after, by id, at most limit (1..kMaxListLimit); only those in `state`
  // when given.
  core::StatusOr<std::vector<model::Campaign>> List(std::optional<model::CampaignState> state,
                                                    int64_t after, size_t limit);
  // Scheduled campaigns with 0 < schedule_at_ms <= now_ms, by schedule then id, at most limit.
  core::StatusOr<std::vector<model::Campaign>> ListDue(int64_t now_ms, size_t limit);

  // Saves every column of `campaign` as version expected_version + 1, compare-and-set on the
  // stored version and on the stored state being expected_state, and appends `audit` (unless
  // nullopt) in the same transaction. Returns the campaign as stored. NotFound when missing;
  // FailedPrecondition "campaign 7 is at version 3, not 2" / "campaign 7 is running, not draft"
  // when another change came first.
  core::StatusOr<model::Campaign> Save(const model::Campaign& campaign, int expected_version,
                                       model::CampaignState expected_state,
                                       const std::optional<model::CampaignAuditEntry>& audit);

  // The audit of one campaign, oldest first (empty for an unknown id).
  core::StatusOr<std::vector<model::CampaignAuditEntry>> ListAudit(int64_t campaign_id);

 private:
  Database& db_;
};

}  // namespace scrm::storage
