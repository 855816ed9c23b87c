// Moving the durable inbox out of the main file: the copy step of main migration 8, which hands
// an older store's interactions to the inbox file before the main file drops its table.
#pragma once

#include <cstdint>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace scrm::storage {

// Rows the copy commits to the inbox file per transaction: bounds its memory and its WAL.
inline constexpr int64_t kInboxCopyBatchRows = 4096;

// What a copy did.
struct InboxCopyReport {
  int64_t rows = 0;      // rows of the main file's interactions table
  int64_t inserted = 0;  // of them, stored in the inbox file now (the others were there already)
};

// Copies every row of the interactions table on `source` (a main-file connection) into `inbox`'s,
// ids and every column unchanged, in batches of kInboxCopyBatchRows, each committed in the inbox
// file on its own. Idempotent: a row whose id the inbox holds already is not inserted again, after
// checking that it is the same interaction (account, dedupe key, CreateTime); FailedPrecondition
// naming the id when it is not, or when the inbox refuses a row (its dedupe key is stored under
// another id). Errors of `inbox`'s WithWriter otherwise. Migration 8 calls it on the main writer
// inside its transaction, so that nothing changes the rows meanwhile.
core::StatusOr<InboxCopyReport> CopyInteractions(SQLite::Database& source, Database& inbox);

// The copy step alone, on `main`'s writer connection: what migration 8 does before it drops the
// table (tests use it to leave a store as a crash between the two steps would). A main file
// without an interactions table (migrated already) has nothing to copy: {0, 0}.
core::StatusOr<InboxCopyReport> CopyInteractionsToInbox(Database& main, Database& inbox);

// Main migration 8's step before its DROP TABLE: copies the rows into context.inbox. Without an
// inbox, succeeds only when the table is empty (nothing to lose), else FailedPrecondition.
core::Status MoveInteractionsBeforeDrop(SQLite::Database& conn, const MigrationContext& context);

}  // namespace scrm::storage
