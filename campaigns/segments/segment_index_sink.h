// Keeping the segment index current: BuildSegmentIndex reads the whole store once at start, and
// SegmentIndexSink (a profiles::ChangeSink) turns every profile change into an IndexDelta and
// applies a transaction's deltas as one batch once it has committed (WriteTxn::AfterCommit):
// never a periodic rebuild, nothing from a rolled-back transaction, and a query sees a committed
// transaction whole or not at all (docs/architecture.md "Segments").
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>

#include "campaigns/segments/segment_index.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/status.h"
#include "src/profiles/profile_change.h"
#include "src/storage/database.h"

namespace scrm::segments {

// The gauges and counter of the index (scrmd_segment_index_*); nullptr members are not kept.
struct SegmentIndexMetrics {
  core::GaugeFamily* customers = nullptr;      // scrmd_segment_index_customers
  core::GaugeFamily* build_seconds = nullptr;  // scrmd_segment_index_build_seconds
  core::GaugeFamily* bytes = nullptr;          // scrmd_segment_index_bytes
  core::CounterFamily* updates = nullptr;      // scrmd_segment_index_updates_total

  // Registers the four families in `registry`.
  static SegmentIndexMetrics Register(core::MetricsRegistry& registry);
};

// Builds the index from the database (a read connection): tags, customers, tag rows, relations,
// identities and the timeline of the count horizon (before now_ms). Logs the build time and size
// and sets the gauges. An error of the database, or a customer id beyond 32 bits, is returned.
core::StatusOr<std::unique_ptr<SegmentIndex>> BuildSegmentIndex(storage::Database& db,
                                                                const core::Clock& clock,
                                                                const SegmentIndexOptions& options,
                                                                const SegmentIndexMetrics& metrics,
                                                                spdlog::logger& log);

// Reads one customer's facts through `session` (the transaction itself in the sink).
core::StatusOr<CustomerFacts> LoadCustomerFacts(storage::Session& session, int64_t customer_id,
                                                int64_t since_ms);

// Thread-safety: OnChange runs on the thread that holds the write transaction (the ingest worker,
// an API handler, the outbox runner) and the after-commit callback on the same thread under the
// database's writer lock, so one transaction's changes are collected at a time; a mutex guards
// the pending batch anyway. Merges, undos and new identities read the customers concerned through
// the transaction (their state at that point, including the transaction's own writes) and apply
// as a reload; the frequent kinds apply as deltas. Does not own the index, which must outlive it.
class SegmentIndexSink final : public profiles::ChangeSink {
 public:
  SegmentIndexSink(SegmentIndex& index, SegmentIndexOptions options, SegmentIndexMetrics metrics,
                   std::shared_ptr<spdlog::logger> log);

  core::Status OnChange(storage::WriteTxn& txn, const profiles::ProfileChange& change) override;

 private:
  // Applies the batch of `serial` (called after its COMMIT).
  void ApplyCommitted(uint64_t serial);
  core::Status Reload(storage::WriteTxn& txn, int64_t customer_id, int64_t now_ms);

  SegmentIndex& index_;
  const SegmentIndexOptions options_;
  const SegmentIndexMetrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mu_;
  uint64_t serial_ = 0;              // the transaction pending_ belongs to; guarded by mu_
  bool registered_ = false;          // its AfterCommit is registered; guarded by mu_
  std::vector<IndexDelta> pending_;  // guarded by mu_
  std::vector<IndexDelta> spare_;    // an emptied batch kept for its capacity; guarded by mu_
};

}  // namespace scrm::segments
