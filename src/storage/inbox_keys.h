// The inbox's dedupe keys, indexed in bulk (docs/architecture.md "Storage", "Deduplication").
//
// Every stored interaction is identified by (occurred_at_ms, dedupe_hash, dedupe_seq). A unique
// index on the interactions table kept that identity in a b-tree keyed by a hash: each insert
// landed on a random leaf, so a group commit of 20 callbacks rewrote ~20 index pages in the WAL
// and again at the checkpoint (bench/ingest_bench: ~2 WAL frames per callback; without the index
// the same run took 22-48 % more callbacks per second). Now the interactions table is appended to
// only, and the keys live in interaction_keys, a WITHOUT ROWID table filled in sorted batches of
// thousands: one page rewrite serves many keys.
//
// The rows are the truth and the keys are derived from them: inbox_meta.keys_indexed_upto names
// the highest id whose key is in interaction_keys. The keys of the rows above it are held in
// memory by the InteractionStore that wrote them, rebuilt from the rows whenever it is not sure
// of them (at start, after a crash, after a failed transaction, when another writer was there).
#pragma once

#include <cstdint>

#include "src/core/status.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace scrm::storage {

// inbox_meta's row holding the highest interaction id whose key is in interaction_keys.
inline constexpr char kKeysIndexedUpto[] = "keys_indexed_upto";

// What the rows above the mark and the mark are, read on one connection in one statement.
struct InboxKeyState {
  int64_t max_id = 0;        // MAX(id) of interactions, 0 when empty
  int64_t indexed_upto = 0;  // inbox_meta.keys_indexed_upto
};
InboxKeyState ReadInboxKeyState(SQLite::Database& conn);

// Inserts into interaction_keys the key of every row above keys_indexed_upto, sorted, and moves
// the mark to MAX(id); returns the state after (indexed_upto == max_id). Runs on the inbox's
// writer connection inside the caller's transaction. A key already there (a copy inserted it) is
// left as it is. Throws SQLite::Exception like any statement (the caller's WithWriter maps it).
InboxKeyState IndexInboxKeys(SQLite::Database& conn);

}  // namespace scrm::storage
