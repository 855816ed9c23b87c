#include "src/storage/quarantine_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <optional>
#include <utility>

#include "src/storage/cursor_store.h"
#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

#define SCRM_QUARANTINE_COLUMNS \
  "interaction_id, account_id, error, failures, quarantined_at_ms, updated_at_ms"

constexpr char kUpsertRow[] =
    "INSERT INTO ingest_quarantine (interaction_id, account_id, error, failures, "
    "quarantined_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, 1, ?4, ?4) "
    "ON CONFLICT (interaction_id) DO UPDATE SET error = excluded.error, "
    "failures = failures + 1, updated_at_ms = excluded.updated_at_ms";
constexpr char kRecordFailure[] =
    "UPDATE ingest_quarantine SET error = ?, failures = failures + 1, updated_at_ms = ? "
    "WHERE interaction_id = ?";
constexpr char kDeleteRow[] = "DELETE FROM ingest_quarantine WHERE interaction_id = ?";
constexpr char kSelectRow[] =
    "SELECT " SCRM_QUARANTINE_COLUMNS " FROM ingest_quarantine WHERE interaction_id = ?";
constexpr char kSelectRows[] = "SELECT " SCRM_QUARANTINE_COLUMNS
                               " FROM ingest_quarantine WHERE interaction_id > ? "
                               "ORDER BY interaction_id LIMIT ?";
constexpr char kCountRows[] = "SELECT COUNT(*) FROM ingest_quarantine";

#undef SCRM_QUARANTINE_COLUMNS

QuarantinedRow ReadRow(const SQLite::Statement& row) {
  QuarantinedRow out;
  out.interaction_id = row.getColumn(0).getInt64();
  out.account_id = row.getColumn(1).getString();
  out.error = row.getColumn(2).getString();
  out.failures = row.getColumn(3).getInt();
  out.quarantined_at_ms = row.getColumn(4).getInt64();
  out.updated_at_ms = row.getColumn(5).getInt64();
  return out;
}

Status NotQuarantined(int64_t interaction_id) {
  return core::NotFoundError("interaction " + std::to_string(interaction_id) +
                             " is not quarantined");
}

}  // namespace

Status QuarantineStore::QuarantineAndAdvance(int64_t interaction_id, std::string_view account_id,
                                             std::string_view error, std::string_view cursor_name,
                                             int64_t now_ms) {
  if (interaction_id <= 0) return core::InvalidArgumentError("interaction id must be positive");
  if (cursor_name.empty()) return core::InvalidArgumentError("cursor name is empty");
  return db_.InTransaction([&](WriteTxn& txn) -> Status {
    SCRM_RETURN_IF_ERROR(Guarded([&]() -> Status {
      SQLite::Statement& upsert = txn.statements().Prepared(kUpsertRow);
      Done done(upsert);
      upsert.bind(1, interaction_id);
      upsert.bind(2, std::string(account_id));
      upsert.bind(3, std::string(error));
      upsert.bind(4, now_ms);
      upsert.exec();
      return core::OkStatus();
    }));
    return CursorStore(db_).SetCursor(txn, cursor_name, interaction_id);
  });
}

Status QuarantineStore::RecordFailure(int64_t interaction_id, std::string_view error,
                                      int64_t now_ms) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement update(db, kRecordFailure);
    update.bind(1, std::string(error));
    update.bind(2, now_ms);
    update.bind(3, interaction_id);
    if (update.exec() == 0) return NotQuarantined(interaction_id);
    return core::OkStatus();
  });
}

Status QuarantineStore::Remove(int64_t interaction_id) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement remove(db, kDeleteRow);
    remove.bind(1, interaction_id);
    if (remove.exec() == 0) return NotQuarantined(interaction_id);
    return core::OkStatus();
  });
}

StatusOr<QuarantinedRow> QuarantineStore::Get(int64_t interaction_id) {
  std::optional<QuarantinedRow> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectRow);
    query.bind(1, interaction_id);
    if (query.executeStep()) found = ReadRow(query);
    return core::OkStatus();
  }));
  if (!found.has_value()) return NotQuarantined(interaction_id);
  return std::move(*found);
}

StatusOr<std::vector<QuarantinedRow>> QuarantineStore::List(int64_t after_id, size_t limit) {
  if (limit < 1 || limit > kMaxListLimit) {
    return core::InvalidArgumentError("limit must be within 1.." + std::to_string(kMaxListLimit));
  }
  std::vector<QuarantinedRow> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectRows);
    query.bind(1, after_id);
    query.bind(2, static_cast<int64_t>(limit));
    while (query.executeStep()) out.push_back(ReadRow(query));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<int64_t> QuarantineStore::Count() {
  int64_t count = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kCountRows);
    if (query.executeStep()) count = query.getColumn(0).getInt64();
    return core::OkStatus();
  }));
  return count;
}

}  // namespace scrm::storage
