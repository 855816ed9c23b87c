// DeliveryStore: the campaign_deliveries table (main migration 14) as the plan writes and reads
// it: the freeze's chunks of delivery rows (idempotent: a chunk written again adds nothing), the
// deliveries of a campaign by state, their counts, and the per-customer facts the caps need from
// other campaigns' deliveries. The dispatcher's state changes and batches are not here
// (campaigns/engine's dispatcher owns them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/storage/database.h"

namespace scrm::storage {

// How many deliveries of a campaign share (state, skip_reason, sender).
struct DeliveryCount {
  model::DeliveryState state = model::DeliveryState::kPlanned;
  model::SkipReason skip_reason = model::SkipReason::kNone;
  std::string sender;
  int64_t count = 0;

  friend bool operator==(const DeliveryCount&, const DeliveryCount&) = default;
};

// The most customer ids one fact query takes (bound as one JSON array).
inline constexpr size_t kMaxFactBatch = 10000;

// "[1,2,3]": customer ids as the JSON array the fact queries bind (json_each).
std::string CustomerIdsJson(std::span<const int64_t> customer_ids);

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail with
// the codes of Database::WithWriter / WithReader; a stored state or reason that is not a model
// name is Internal.
class DeliveryStore {
 public:
  explicit DeliveryStore(Database& db) : db_(db) {}

  // Writes `rows` (their id is ignored) in one transaction, skipping a row whose idempotency_key
  // is stored already and a row whose customer has a delivery of the same campaign already (so a
  // freeze run again after a crash, even where a customer's channel changed in between, never
  // gives anyone a second row). Returns how many rows were written.
  core::StatusOr<size_t> InsertChunk(std::span<const model::Delivery> rows);

  // Deliveries of one campaign with id > after, by id, at most limit (1..kMaxListLimit); only
  // those in `state` when given.
  core::StatusOr<std::vector<model::Delivery>> List(int64_t campaign_id,
                                                    std::optional<model::DeliveryState> state,
                                                    int64_t after, size_t limit);
  // The campaign's deliveries grouped by (state, skip_reason, sender), in that order.
  core::StatusOr<std::vector<DeliveryCount>> Count(int64_t campaign_id);
  // How many deliveries the campaign has.
  core::StatusOr<int64_t> Total(int64_t campaign_id);

  // For each of `customer_ids` (at most kMaxFactBatch) that has any: how many deliveries that
  // reach or may reach it (planned, sending, sent, delivered, unknown) of campaigns other than
  // `exclude_campaign_id` were created at or after since_ms.
  core::StatusOr<std::map<int64_t, int64_t>> CountRecent(std::span<const int64_t> customer_ids,
                                                         int64_t since_ms,
                                                         int64_t exclude_campaign_id);
  // Those of `customer_ids` (at most kMaxFactBatch) that a campaign other than
  // `exclude_campaign_id` with template `template_id` has sent to or is sending to (sending,
  // sent, delivered, unknown).
  core::StatusOr<std::set<int64_t>> TemplateSentTo(std::span<const int64_t> customer_ids,
                                                   int64_t template_id,
                                                   int64_t exclude_campaign_id);

 private:
  Database& db_;
};

}  // namespace scrm::storage
