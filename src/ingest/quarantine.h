// Quarantine: the inbox rows the ingest worker cannot apply (docs/architecture.md "Ingest") — a
// payload it cannot decode, a merge cycle, any error that a later try would meet again — are put
// aside (storage::QuarantineStore) so that the rows after them go on; operators list them and
// apply them again after a fix (GET /api/v1/quarantine, POST /api/v1/quarantine/{id}/reapply).
#pragma once

#include <spdlog/logger.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/core/status.h"
#include "src/ingest/processor.h"
#include "src/storage/interaction_store.h"
#include "src/storage/quarantine_store.h"

namespace scrm::ingest {

// Whether a row that failed to apply with `error` is put aside: anything but an error that
// clears by itself (a busy or locked database, a deadline, exhausted resources, a cancellation),
// after which the worker retries the same row as before.
bool ShouldQuarantine(const core::Status& error);

// What a reapply came to.
struct ReapplyResult {
  bool applied = false;         // applied and no longer quarantined
  storage::QuarantinedRow row;  // when not applied: the row with its new error
};

// Thread-safe: PutAside runs on the worker thread, the rest on API threads; each call is its own
// transaction. Reapply runs the chunk processor from the calling thread (with no cursor, as a
// replay does): the processor must allow that (ProfileChunkProcessor does: InteractionApplier::
// ApplyChunk may be called from any thread). Holds references to the stores, the processor, the
// clock and the metrics registry; all must outlive it.
class Quarantine {
 public:
  // Exports scrmd_ingest_quarantined_total (rows put aside, counted each time) and
  // scrmd_ingest_quarantined_rows (rows quarantined now; RefreshGauge sets it).
  Quarantine(storage::QuarantineStore& store, storage::InteractionStore& inbox,
             ChunkProcessor& processor, const core::Clock& clock, core::MetricsRegistry& metrics,
             std::shared_ptr<spdlog::logger> log);

  // Puts the row aside with the error and records the worker's cursor `cursor_name` at its id,
  // in one transaction; logs it (with the id and account) and counts it. The store's error when
  // that failed (nothing changed: the worker retries the row).
  core::Status PutAside(int64_t interaction_id, std::string_view account_id,
                        const core::Status& error, std::string_view cursor_name);

  // Reads the row from the inbox again and applies it: success removes it from the quarantine;
  // a failure that ShouldQuarantine keeps it with the new error (applied false). NotFound when
  // it is not quarantined; an error that clears by itself is returned as is (nothing recorded).
  core::StatusOr<ReapplyResult> Reapply(int64_t interaction_id);

  core::StatusOr<std::vector<storage::QuarantinedRow>> List(int64_t after_id, size_t limit);
  core::StatusOr<storage::QuarantinedRow> Get(int64_t interaction_id);

  // Counts the quarantined rows into scrmd_ingest_quarantined_rows (at startup, and after each
  // change made here).
  void RefreshGauge();

 private:
  // The row read and applied once; the first error.
  core::Status ApplyOnce(int64_t interaction_id);

  storage::QuarantineStore& store_;
  storage::InteractionStore& inbox_;
  ChunkProcessor& processor_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  core::CounterFamily& quarantined_total_;
  core::GaugeFamily& quarantined_rows_;
};

}  // namespace scrm::ingest
