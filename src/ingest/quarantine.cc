#include "src/ingest/quarantine.h"

#include <exception>
#include <string>
#include <utility>

namespace scrm::ingest {

bool ShouldQuarantine(const core::Status& error) {
  switch (error.code()) {
    case core::StatusCode::kOk:
    case core::StatusCode::kUnavailable:  // SQLITE_BUSY / SQLITE_LOCKED
    case core::StatusCode::kDeadlineExceeded:
    case core::StatusCode::kResourceExhausted:
    case core::StatusCode::kCancelled: return false;
    default: return true;
  }
}

Quarantine::Quarantine(storage::QuarantineStore& store, storage::InteractionStore& inbox,
                       ChunkProcessor& processor, const core::Clock& clock,
                       core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log)
    : store_(store),
      inbox_(inbox),
      processor_(processor),
      clock_(clock),
      log_(std::move(log)),
      quarantined_total_(metrics.Counter(
          "scrmd_ingest_quarantined_total",
          "Inbox rows the ingest worker could not apply and put aside (GET /api/v1/quarantine)",
          {})),
      quarantined_rows_(metrics.Gauge("scrmd_ingest_quarantined_rows",
                                      "Inbox rows in quarantine now (not applied)", {})) {}

core::Status Quarantine::PutAside(int64_t interaction_id, std::string_view account_id,
                                  const core::Status& error, std::string_view cursor_name) {
  SCRM_RETURN_IF_ERROR(store_.QuarantineAndAdvance(interaction_id, account_id, error.ToString(),
                                                   cursor_name, clock_.NowUnixMillis()));
  quarantined_total_.Inc({});
  log_->error(
      "ingest: interaction {} (account {}) quarantined, the next rows go on: {} (POST "
      "/api/v1/quarantine/{}/reapply after a fix)",
      interaction_id, account_id, error.ToString(), interaction_id);
  RefreshGauge();
  return core::OkStatus();
}

core::Status Quarantine::ApplyOnce(int64_t interaction_id) {
  SCRM_ASSIGN_OR_RETURN(std::vector<model::Interaction> rows,
                        inbox_.ReadAfter(interaction_id - 1, 1,
                                         processor_.reads_raw_body() ? storage::RawBody::kRead
                                                                     : storage::RawBody::kSkip));
  if (rows.empty() || rows.front().id != interaction_id) {
    return core::NotFoundError("interaction " + std::to_string(interaction_id) +
                               " is not in the inbox");
  }
  try {
    return processor_.ProcessChunk(rows, nullptr);
  } catch (const std::exception& e) {
    return core::InternalError(std::string("exception: ") + e.what());
  }
}

core::StatusOr<ReapplyResult> Quarantine::Reapply(int64_t interaction_id) {
  SCRM_ASSIGN_OR_RETURN(storage::QuarantinedRow row, store_.Get(interaction_id));
  const core::Status applied = ApplyOnce(interaction_id);
  ReapplyResult result;
  if (applied.ok()) {
    SCRM_RETURN_IF_ERROR(store_.Remove(interaction_id));
    log_->info("ingest: quarantined interaction {} (account {}) applied", interaction_id,
               row.account_id);
    RefreshGauge();
    result.applied = true;
    return result;
  }
  if (!ShouldQuarantine(applied)) return applied;
  SCRM_RETURN_IF_ERROR(
      store_.RecordFailure(interaction_id, applied.ToString(), clock_.NowUnixMillis()));
  log_->warn("ingest: quarantined interaction {} (account {}) failed again: {}", interaction_id,
             row.account_id, applied.ToString());
  SCRM_ASSIGN_OR_RETURN(result.row, store_.Get(interaction_id));
  return result;
}

core::StatusOr<std::vector<storage::QuarantinedRow>> Quarantine::List(int64_t after_id,
                                                                      size_t limit) {
  return store_.List(after_id, limit);
}

core::StatusOr<storage::QuarantinedRow> Quarantine::Get(int64_t interaction_id) {
  return store_.Get(interaction_id);
}

void Quarantine::RefreshGauge() {
  const core::StatusOr<int64_t> count = store_.Count();
  if (!count.ok()) {
    log_->warn("ingest: counting quarantined rows: {}", count.status().ToString());
    return;
  }
  quarantined_rows_.Set({}, static_cast<double>(*count));
}

}  // namespace scrm::ingest
