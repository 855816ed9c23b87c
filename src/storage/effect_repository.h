// AppliedEffectRepository: the applied_effects table (main migration 3) — which effects of an
// interaction (a rule action: "rule:<id>:<index>") have been applied, so that a replay or a
// re-delivery applies none twice.
#pragma once

#include <cstdint>
#include <string_view>

#include "src/core/status.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Stateless; runs on the WriteTxn's connection. Errors as Status (sqlite_errors.h).
class AppliedEffectRepository {
 public:
  // Records that `effect_key` of the interaction has been applied: true the first time, false
  // when it was recorded before (a replay or a re-delivery), in which case the caller skips it.
  core::StatusOr<bool> RecordOnce(WriteTxn& txn, int64_t interaction_id,
                                  std::string_view effect_key);
};

}  // namespace scrm::storage
