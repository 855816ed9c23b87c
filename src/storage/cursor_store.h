// CursorStore: the ingest cursors (table ingest_cursors in the main file), the last inbox id each
// consumer has fully processed. The only code that writes that table: the profile transaction
// advances the worker's cursor through SetCursor(WriteTxn&), atomically with the profile
// changes, and the quarantine moves it past a row it puts aside the same way.
#pragma once

#include <cstdint>
#include <string_view>

#include "src/core/status.h"
#include "src/storage/database.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Thread-safe (all access through Database or the caller's WriteTxn). Does not own the Database,
// which is the main one (Schema::kMain). Every call may also fail with the codes of
// Database::InTransaction / WithReader.
class CursorStore {
 public:
  explicit CursorStore(Database& db) : db_(db) {}

  // The last id a processor (or the worker) recorded under `name`; 0 when never set.
  core::StatusOr<int64_t> GetCursor(std::string_view name);
  // Records `id` under `name` (created or replaced) in a transaction of its own.
  // InvalidArgument for an empty name.
  core::Status SetCursor(std::string_view name, int64_t id);
  // The same inside the caller's transaction.
  core::Status SetCursor(WriteTxn& txn, std::string_view name, int64_t id);

 private:
  Database& db_;
};

}  // namespace scrm::storage
