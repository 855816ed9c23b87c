// StageSweepStore: the lifecycle sweep's write (docs/tagging.md rule L7): customers in an active
// stage (new, engaged, customer, repeat) with no interaction since a cutoff move to at_risk,
// reason "inactive", in pages by customer id.
#pragma once

#include <cstddef>
#include <cstdint>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace scrm::storage {

// One page of MarkInactive.
struct InactivePage {
  int64_t next_after_id = 0;  // pass as after_id for the next page
  bool done = false;          // no customer after next_after_id
  int64_t marked = 0;         // customers moved to at_risk by this page
};

// Thread-safe (all access through Database). Does not own the Database (Schema::kMain).
class StageSweepStore {
 public:
  static constexpr size_t kMaxPage = 10000;

  explicit StageSweepStore(Database& db) : db_(db) {}

  // Looks at up to `page` (1..kMaxPage) customers with id > after_id (merged ones are skipped)
  // and moves those in an active stage whose last activity — the last interaction, or the
  // creation when there was none (a backfilled contact) — is at or before cutoff_ms to at_risk,
  // reason "inactive", updated_at_ms = now_ms. One transaction per page.
  core::StatusOr<InactivePage> MarkInactive(int64_t after_id, size_t page, int64_t cutoff_ms,
                                            int64_t now_ms);

 private:
  Database& db_;
};

}  // namespace scrm::storage
