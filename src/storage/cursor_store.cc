#include "src/storage/cursor_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

constexpr char kSelectCursor[] = "SELECT last_id FROM ingest_cursors WHERE processor = ?";
constexpr char kUpsertCursor[] =
    "INSERT INTO ingest_cursors (processor, last_id) VALUES (?, ?) "
    "ON CONFLICT (processor) DO UPDATE SET last_id = excluded.last_id";

}  // namespace

core::StatusOr<int64_t> CursorStore::GetCursor(std::string_view name) {
  int64_t last_id = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> core::Status {
    SQLite::Statement query(db, kSelectCursor);
    query.bind(1, std::string(name));
    if (query.executeStep()) last_id = query.getColumn(0).getInt64();
    return core::OkStatus();
  }));
  return last_id;
}

core::Status CursorStore::SetCursor(WriteTxn& txn, std::string_view name, int64_t id) {
  if (name.empty()) return core::InvalidArgumentError("cursor name is empty");
  return Guarded([&]() -> core::Status {
    SQLite::Statement& upsert = txn.statements().Prepared(kUpsertCursor);
    Done done(upsert);
    BindText(upsert, 1, name);
    upsert.bind(2, id);
    upsert.exec();
    return core::OkStatus();
  });
}

core::Status CursorStore::SetCursor(std::string_view name, int64_t id) {
  if (name.empty()) return core::InvalidArgumentError("cursor name is empty");
  return db_.InTransaction([&](WriteTxn& txn) { return SetCursor(txn, name, id); });
}

}  // namespace scrm::storage
