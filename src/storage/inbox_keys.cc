#include "src/storage/inbox_keys.h"

#include <SQLiteCpp/SQLiteCpp.h>

namespace scrm::storage {
namespace {

constexpr char kSelectState[] =
    "SELECT (SELECT COALESCE(MAX(id), 0) FROM interactions), "
    "(SELECT value FROM inbox_meta WHERE name = 'keys_indexed_upto')";
// Sorted so that consecutive inserts land on the same leaf. OR IGNORE: a key already indexed (a
// copy inserts its rows' keys itself) stays; two rows never share a key (the store checks), so
// nothing else can be ignored.
constexpr char kIndexKeysAbove[] =
    "INSERT OR IGNORE INTO interaction_keys (occurred_at_ms, dedupe_hash, dedupe_seq, id) "
    "SELECT occurred_at_ms, dedupe_hash, dedupe_seq, id FROM interactions "
    "WHERE id > ? AND id <= ? ORDER BY occurred_at_ms, dedupe_hash, dedupe_seq";
constexpr char kSetIndexedUpto[] =
    "UPDATE inbox_meta SET value = ? WHERE name = 'keys_indexed_upto'";

}  // namespace

InboxKeyState ReadInboxKeyState(SQLite::Database& conn) {
  SQLite::Statement query(conn, kSelectState);
  InboxKeyState state;
  if (query.executeStep()) {
    state.max_id = query.getColumn(0).getInt64();
    state.indexed_upto = query.getColumn(1).getInt64();
  }
  return state;
}

InboxKeyState IndexInboxKeys(SQLite::Database& conn) {
  InboxKeyState state = ReadInboxKeyState(conn);
  if (state.max_id <= state.indexed_upto) return state;
  SQLite::Statement index(conn, kIndexKeysAbove);
  index.bind(1, state.indexed_upto);
  index.bind(2, state.max_id);
  index.exec();
  SQLite::Statement mark(conn, kSetIndexedUpto);
  mark.bind(1, state.max_id);
  mark.exec();
  state.indexed_upto = state.max_id;
  return state;
}

}  // namespace scrm::storage
