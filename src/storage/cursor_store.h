// CursorStore: the ingest cursors (table ingest_cursors in the main file), the last inbox id each
// consumer has fully processed. The profile transaction advances the worker's cursor itself
// (ProfileTxn::SetCursor), atomically with the profile changes; this store serves the rest.
#pragma once

#include <cstdint>
#include <string_view>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace scrm::storage {

// Thread-safe (all access through Database). Does not own the Database, which is the main one
// (Schema::kMain). Every call may also fail with the codes of Database::WithWriter/WithReader.
class CursorStore {
 public:
  explicit CursorStore(Database& db) : db_(db) {}

  // The last id a processor (or the worker) recorded under `name`; 0 when never set.
  core::StatusOr<int64_t> GetCursor(std::string_view name);
  // Records `id` under `name` (created or replaced). InvalidArgument for an empty name.
  core::Status SetCursor(std::string_view name, int64_t id);
  // The same on a connection inside a transaction that the caller owns (the quarantine moves the
  // cursor past the row it puts aside in one transaction).
  static core::Status SetCursorOn(SQLite::Database& conn, std::string_view name, int64_t id);

 private:
  Database& db_;
};

}  // namespace scrm::storage
