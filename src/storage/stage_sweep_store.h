// StageSweepStore: the lifecycle sweep's write (docs/tagging.md rule L7): customers in an active
// stage (new, engaged, customer, repeat) with no interaction since a cutoff move to at_risk,
// reason "inactive", in pages by customer id, one transaction per page
// (CustomerRepository::MarkInactive holds the SQL).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

#include "src/core/status.h"
#include "src/storage/customer_repository.h"
#include "src/storage/database.h"

namespace scrm::storage {

// Thread-safe (all access through Database). Does not own the Database (Schema::kMain).
class StageSweepStore {
 public:
  static constexpr size_t kMaxPage = CustomerRepository::kMaxInactivePage;

  explicit StageSweepStore(Database& db) : db_(db) {}

  // Looks at up to `page` (1..kMaxPage) customers with id > after_id (merged ones are skipped)
  // and moves those in an active stage whose last activity — the last interaction, or the
  // creation when there was none (a backfilled contact) — is at or before cutoff_ms to at_risk,
  // reason "inactive", updated_at_ms = now_ms. One transaction per page, in which the hook set
  // with OnMarked runs after the update; its error rolls the page back.
  core::StatusOr<InactivePage> MarkInactive(int64_t after_id, size_t page, int64_t cutoff_ms,
                                            int64_t now_ms);
  // Tells the profile change sinks of the moves (src/app: a StageChanged per customer, which keeps
  // the segment index current). Set before any thread uses the store.
  using MarkedHook =
      std::function<core::Status(WriteTxn& txn, const InactivePage& page, int64_t now_ms)>;
  void OnMarked(MarkedHook hook) { on_marked_ = std::move(hook); }

 private:
  Database& db_;
  MarkedHook on_marked_;
};

}  // namespace scrm::storage
