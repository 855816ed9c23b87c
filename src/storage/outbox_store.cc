#include "src/storage/outbox_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <string>
#include <utility>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

#define SCRM_OUTBOX_COLUMNS                                                      \
  "id, kind, account_id, dedupe_key, payload_json, state, attempts, due_at_ms, " \
  "claimed_at_ms, last_outcome, last_errcode, last_error, created_at_ms, updated_at_ms"

// A duplicate key is an expected outcome (a replay enqueues again), reported from "no row
// returned".
constexpr char kInsertJob[] =
    "INSERT INTO outbox (kind, account_id, dedupe_key, payload_json, state, attempts, due_at_ms, "
    "claimed_at_ms, last_outcome, last_errcode, last_error, created_at_ms, updated_at_ms) "
    "VALUES (?, ?, ?, ?, 'pending', 0, ?, 0, '', 0, '', ?, ?) ON CONFLICT DO NOTHING RETURNING id";
// One statement, so two runners (or a runner and a restarted one) never claim the same row:
// SQLite runs it under the single writer lock. outbox_due (state, due_at_ms) finds the rows.
constexpr char kClaimJobs[] =
    "UPDATE outbox SET attempts = attempts + 1, claimed_at_ms = ?1, due_at_ms = ?1 + ?2, "
    "updated_at_ms = ?1 WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND "
    "due_at_ms <= ?1 ORDER BY due_at_ms, id LIMIT ?3) RETURNING " SCRM_OUTBOX_COLUMNS;
// The claim check: only the claim that holds the job (same attempts, still pending) may end it.
constexpr char kFinishJob[] =
    "UPDATE outbox SET state = ?, last_outcome = ?, last_errcode = ?, last_error = ?, "
    "updated_at_ms = ? WHERE id = ? AND attempts = ? AND state = 'pending'";
constexpr char kRescheduleJob[] =
    "UPDATE outbox SET due_at_ms = ?, last_outcome = ?, last_errcode = ?, last_error = ?, "
    "updated_at_ms = ? WHERE id = ? AND attempts = ? AND state = 'pending'";
constexpr char kSelectJob[] = "SELECT " SCRM_OUTBOX_COLUMNS " FROM outbox WHERE id = ?";
constexpr char kSelectJobByKey[] =
    "SELECT " SCRM_OUTBOX_COLUMNS " FROM outbox WHERE dedupe_key = ?";
constexpr char kSelectJobsInState[] =
    "SELECT " SCRM_OUTBOX_COLUMNS " FROM outbox WHERE state = ? ORDER BY id LIMIT ?";
// A pending job under a coalescing prefix that no claim has taken yet: the unique index on
// dedupe_key serves the prefix range [?1, ?2).
constexpr char kSelectWaitingUnderPrefix[] =
    "SELECT 1 FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? AND state = 'pending' AND "
    "claimed_at_ms = 0 LIMIT 1";
// The id the next row gets (INTEGER PRIMARY KEY without AUTOINCREMENT: max + 1), read in the
// writer's transaction, so it cannot be taken by another insert before ours.
constexpr char kSelectNextJobId[] = "SELECT COALESCE(MAX(id), 0) + 1 FROM outbox";
constexpr char kCountJobsInState[] = "SELECT COUNT(*) FROM outbox WHERE state = ?";
constexpr char kCountJobsInStateByKind[] =
    "SELECT kind, COUNT(*) FROM outbox WHERE state = ? GROUP BY kind";
// NULL state or kind: any. The admin listing, by id.
constexpr char kSelectJobsFiltered[] = "SELECT " SCRM_OUTBOX_COLUMNS
                                       " FROM outbox WHERE (?1 IS NULL OR state = ?1) AND "
                                       "(?2 IS NULL OR kind = ?2) AND id > ?3 ORDER BY id LIMIT ?4";
// A fresh attempt budget: attempts 0 and never claimed, due now. Only a finished job that did
// not succeed; a pending job belongs to the runner (its claim token must not move).
constexpr char kRetryJob[] =
    "UPDATE outbox SET state = 'pending', attempts = 0, claimed_at_ms = 0, due_at_ms = ?1, "
    "updated_at_ms = ?1 WHERE id = ?2 AND (state = 'failed' OR state = 'unknown') "
    "RETURNING " SCRM_OUTBOX_COLUMNS;

#undef SCRM_OUTBOX_COLUMNS

StatusOr<OutboxJob> ReadJob(const SQLite::Statement& row) {
  OutboxJob job;
  job.id = row.getColumn(0).getInt64();
  job.kind = row.getColumn(1).getString();
  job.account_id = row.getColumn(2).getString();
  job.dedupe_key = row.getColumn(3).getString();
  job.payload_json = row.getColumn(4).getString();
  const std::optional<OutboxState> state = ParseOutboxState(row.getColumn(5).getString());
  if (!state.has_value()) {
    return core::InternalError("outbox job " + std::to_string(job.id) + " has unknown state");
  }
  job.state = *state;
  job.attempts = row.getColumn(6).getInt();
  job.due_at_ms = row.getColumn(7).getInt64();
  job.claimed_at_ms = row.getColumn(8).getInt64();
  job.last_outcome = row.getColumn(9).getString();
  job.last_errcode = row.getColumn(10).getInt64();
  job.last_error = row.getColumn(11).getString();
  job.created_at_ms = row.getColumn(12).getInt64();
  job.updated_at_ms = row.getColumn(13).getInt64();
  return job;
}

Status ValidateClaimLimit(size_t limit) {
  if (limit < 1 || limit > OutboxStore::kMaxClaim) {
    return core::InvalidArgumentError("limit must be within 1.." +
                                      std::to_string(OutboxStore::kMaxClaim));
  }
  return core::OkStatus();
}

// Why an update under a claim changed no row.
Status LostClaim(SQLite::Database& db, int64_t id, int attempt) {
  SQLite::Statement query(db, kSelectJob);
  query.bind(1, id);
  if (!query.executeStep()) return core::NotFoundError("no outbox job " + std::to_string(id));
  return core::FailedPreconditionError("outbox job " + std::to_string(id) +
                                       " is no longer held by claim " + std::to_string(attempt));
}

}  // namespace

std::string_view OutboxStateName(OutboxState state) {
  switch (state) {
    case OutboxState::kPending: return "pending";
    case OutboxState::kDone: return "done";
    case OutboxState::kFailed: return "failed";
    case OutboxState::kUnknown: return "unknown";
  }
  return "pending";
}

std::optional<OutboxState> ParseOutboxState(std::string_view name) {
  for (OutboxState state :
       {OutboxState::kPending, OutboxState::kDone, OutboxState::kFailed, OutboxState::kUnknown}) {
    if (OutboxStateName(state) == name) return state;
  }
  return std::nullopt;
}

StatusOr<bool> OutboxStore::Enqueue(WriteTxn& txn, const OutboxJob& job, int64_t now_ms) {
  if (job.kind.empty() || job.account_id.empty() || job.dedupe_key.empty()) {
    return core::InvalidArgumentError("an outbox job needs a kind, an account and a dedupe key");
  }
  return Guarded([&]() -> StatusOr<bool> {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertJob);
    Done done(insert);
    insert.bind(1, job.kind);
    insert.bind(2, job.account_id);
    insert.bind(3, job.dedupe_key);
    insert.bind(4, job.payload_json);
    insert.bind(5, job.due_at_ms);
    insert.bind(6, now_ms);
    insert.bind(7, now_ms);
    return insert.executeStep();
  });
}

StatusOr<bool> OutboxStore::EnqueueCoalesced(WriteTxn& txn, const OutboxJob& job, int64_t now_ms) {
  const std::string& prefix = job.dedupe_key;
  if (prefix.empty() || prefix.back() != ':') {
    return core::InvalidArgumentError("a coalescing prefix must end with ':'");
  }
  SCRM_ASSIGN_OR_RETURN(
      const std::optional<int64_t> next_id, Guarded([&]() -> StatusOr<std::optional<int64_t>> {
        std::string end = prefix;
        // ':' + 1: the first key past every key that starts with the prefix
        end.back() = ';';
        SQLite::Statement& waiting = txn.statements().Prepared(kSelectWaitingUnderPrefix);
        Done done_waiting(waiting);
        waiting.bind(1, prefix);
        waiting.bind(2, end);
        if (waiting.executeStep()) return std::optional<int64_t>();
        SQLite::Statement& next = txn.statements().Prepared(kSelectNextJobId);
        Done done_next(next);
        if (!next.executeStep()) {
          return core::InternalError("outbox: no next job id");
        }
        return std::optional<int64_t>(next.getColumn(0).getInt64());
      }));
  if (!next_id.has_value()) return false;
  OutboxJob keyed = job;
  keyed.dedupe_key = prefix + std::to_string(*next_id);
  return Enqueue(txn, keyed, now_ms);
}

StatusOr<bool> OutboxStore::Enqueue(const OutboxJob& job, int64_t now_ms) {
  StatusOr<bool> queued = false;
  SCRM_RETURN_IF_ERROR(db_.InTransaction([&](WriteTxn& txn) -> Status {
    queued = Enqueue(txn, job, now_ms);
    return core::OkStatus();
  }));
  return queued;
}

StatusOr<std::vector<OutboxJob>> OutboxStore::Claim(int64_t now_ms, int64_t lease_ms,
                                                    size_t limit) {
  SCRM_RETURN_IF_ERROR(ValidateClaimLimit(limit));
  if (lease_ms <= 0) return core::InvalidArgumentError("lease_ms must be positive");
  std::vector<OutboxJob> claimed;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement claim(db, kClaimJobs);
    claim.bind(1, now_ms);
    claim.bind(2, lease_ms);
    claim.bind(3, static_cast<int64_t>(limit));
    while (claim.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(OutboxJob job, ReadJob(claim));
      claimed.push_back(std::move(job));
    }
    return core::OkStatus();
  }));
  // RETURNING gives no order: by id, i.e. in the order the jobs were queued.
  std::sort(claimed.begin(), claimed.end(),
            [](const OutboxJob& a, const OutboxJob& b) { return a.id < b.id; });
  return claimed;
}

Status OutboxStore::Finish(int64_t id, int attempt, OutboxState state, const OutboxAttempt& result,
                           int64_t now_ms) {
  if (state == OutboxState::kPending) {
    return core::InvalidArgumentError("a finished outbox job cannot be pending");
  }
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement update(db, kFinishJob);
    update.bind(1, std::string(OutboxStateName(state)));
    update.bind(2, result.outcome);
    update.bind(3, result.errcode);
    update.bind(4, result.error);
    update.bind(5, now_ms);
    update.bind(6, id);
    update.bind(7, attempt);
    if (update.exec() == 0) return LostClaim(db, id, attempt);
    return core::OkStatus();
  });
}

Status OutboxStore::Reschedule(int64_t id, int attempt, int64_t due_at_ms,
                               const OutboxAttempt& result, int64_t now_ms) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement update(db, kRescheduleJob);
    update.bind(1, due_at_ms);
    update.bind(2, result.outcome);
    update.bind(3, result.errcode);
    update.bind(4, result.error);
    update.bind(5, now_ms);
    update.bind(6, id);
    update.bind(7, attempt);
    if (update.exec() == 0) return LostClaim(db, id, attempt);
    return core::OkStatus();
  });
}

StatusOr<OutboxJob> OutboxStore::Retry(int64_t id, int64_t now_ms) {
  std::optional<OutboxJob> updated;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement update(db, kRetryJob);
    update.bind(1, now_ms);
    update.bind(2, id);
    if (update.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(updated, ReadJob(update));
      return core::OkStatus();
    }
    SQLite::Statement query(db, kSelectJob);
    query.bind(1, id);
    if (!query.executeStep()) return core::NotFoundError("no outbox job " + std::to_string(id));
    return core::FailedPreconditionError("outbox job " + std::to_string(id) + " is " +
                                         query.getColumn(5).getString() +
                                         ": only a failed or unknown job can be retried");
  }));
  return std::move(*updated);
}

StatusOr<OutboxJob> OutboxStore::Get(int64_t id) {
  std::optional<OutboxJob> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectJob);
    query.bind(1, id);
    if (!query.executeStep()) return core::OkStatus();
    SCRM_ASSIGN_OR_RETURN(found, ReadJob(query));
    return core::OkStatus();
  }));
  if (!found.has_value()) return core::NotFoundError("no outbox job " + std::to_string(id));
  return std::move(*found);
}

StatusOr<std::optional<OutboxJob>> OutboxStore::FindByKey(std::string_view dedupe_key) {
  std::optional<OutboxJob> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectJobByKey);
    query.bind(1, std::string(dedupe_key));
    if (!query.executeStep()) return core::OkStatus();
    SCRM_ASSIGN_OR_RETURN(found, ReadJob(query));
    return core::OkStatus();
  }));
  return found;
}

StatusOr<std::vector<OutboxJob>> OutboxStore::List(OutboxState state, size_t limit) {
  SCRM_RETURN_IF_ERROR(ValidateClaimLimit(limit));
  std::vector<OutboxJob> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectJobsInState);
    query.bind(1, std::string(OutboxStateName(state)));
    query.bind(2, static_cast<int64_t>(limit));
    while (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(OutboxJob job, ReadJob(query));
      out.push_back(std::move(job));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<OutboxJob>> OutboxStore::ListJobs(const OutboxFilter& filter) {
  SCRM_RETURN_IF_ERROR(ValidateClaimLimit(filter.limit));
  std::vector<OutboxJob> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectJobsFiltered);
    if (filter.state.has_value()) query.bind(1, std::string(OutboxStateName(*filter.state)));
    if (filter.kind.has_value()) query.bind(2, *filter.kind);
    query.bind(3, filter.after_id);
    query.bind(4, static_cast<int64_t>(filter.limit));
    while (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(OutboxJob job, ReadJob(query));
      out.push_back(std::move(job));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::map<std::string, int64_t>> OutboxStore::CountByKind(OutboxState state) {
  std::map<std::string, int64_t> counts;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kCountJobsInStateByKind);
    query.bind(1, std::string(OutboxStateName(state)));
    while (query.executeStep()) {
      counts[query.getColumn(0).getString()] = query.getColumn(1).getInt64();
    }
    return core::OkStatus();
  }));
  return counts;
}

StatusOr<int64_t> OutboxStore::Count(OutboxState state) {
  int64_t count = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kCountJobsInState);
    query.bind(1, std::string(OutboxStateName(state)));
    if (query.executeStep()) count = query.getColumn(0).getInt64();
    return core::OkStatus();
  }));
  return count;
}

}  // namespace scrm::storage
