// Internal to src/profiles: the steps the profile services share — one write transaction over
// the profile repositories, customer creation from a platform identity, a tag score change, the
// checks of an API argument — each emitting its ProfileChange to the ChangeSinks. Not for callers
// outside src/profiles (they use the services).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/profiles/profile_change.h"
#include "src/profiles/profile_types.h"
#include "src/storage/profile_store.h"

namespace scrm::profiles::internal {

inline constexpr int64_t kDayMs = int64_t{86400} * 1000;
inline constexpr size_t kMaxTagNameBytes = 64;

// One write transaction and the profile repositories that run their statements in it.
struct Txn {
  storage::WriteTxn& write;
  storage::ProfileStore& store;
};

// Runs fn in one write transaction of the store's database (storage::Database::InTransaction).
core::Status InTransaction(storage::ProfileStore& store,
                           const std::function<core::Status(Txn&)>& fn);

// Hands one change to the sinks (nothing to do without sinks).
inline core::Status Emit(const ChangeSinks& sinks, Txn& txn, int64_t customer_id, int64_t at_ms,
                         const ChangeDetail& what) {
  if (sinks.empty()) return core::OkStatus();
  return sinks.Emit(txn.write, ProfileChange{customer_id, at_ms, what});
}

// Attaches the identity to the customer (created_at_ms = now_ms).
core::Status AddIdentityTo(Txn& txn, int64_t customer_id, const IdentityKey& key, int64_t now_ms);

// Creates a customer at stage new (stage_reason = reason) with the identity, and emits
// CustomerCreated. `customer` is filled with what was stored.
core::Status CreateCustomer(Txn& txn, const ChangeSinks& sinks, const IdentityKey& key,
                            std::string_view reason, int64_t now_ms, model::Customer& customer);

// Adds `weight` at `at_ms` to the customer's score on the tag (decay first, tagger::ApplyDelta)
// and records the source and evidence; emits TagScoreChanged (at now_ms). The stored row.
struct TagDelta {
  double weight = 0;
  int64_t at_ms = 0;
  model::TagSource source = model::TagSource::kRule;
  int64_t rule_id = 0;
  int rule_version = 0;
  int64_t interaction_id = 0;
  bool decays = true;
};
core::StatusOr<model::CustomerTag> ApplyTagDelta(Txn& txn, const ChangeSinks& sinks,
                                                 int64_t customer_id, const model::TagDetail& tag,
                                                 const TagDelta& delta, int64_t now_ms);

// FailedPrecondition for a merged customer.
core::Status CheckActive(const model::Customer& customer);
// InvalidArgument unless group and name are 1..64 bytes.
core::Status ValidateTagRef(const model::TagRef& tag);
// The row decayed to now_ms, and whether it is held.
TagView ToTagView(const model::CustomerTagDetail& detail, int64_t now_ms);
const model::CustomerTag* FindTagRow(const std::vector<model::CustomerTag>& rows, int64_t tag_id);

}  // namespace scrm::profiles::internal
