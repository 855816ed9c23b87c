#include "src/storage/inbox_move.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "src/storage/inbox_keys.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

// The columns of interactions (main migration 2, inbox migration 1), in one order for both.
#define SCRM_INBOX_COLUMNS                                                                \
  "id, account_id, platform, kind, dedupe_key, dedupe_hash, dedupe_seq, msg_id, openid, " \
  "unionid, external_userid, userid, chat_id, to_user, occurred_at_ms, received_at_ms, "  \
  "payload_json, raw_format, raw_body"
constexpr int kColumnCount = 19;
// Positions in SCRM_INBOX_COLUMNS of what identifies an interaction.
constexpr int kIdColumn = 0;
constexpr int kAccountColumn = 1;
constexpr int kDedupeKeyColumn = 4;
constexpr int kDedupeHashColumn = 5;
constexpr int kDedupeSeqColumn = 6;
constexpr int kOccurredColumn = 14;

constexpr char kSelectBatchAfter[] =
    "SELECT " SCRM_INBOX_COLUMNS " FROM interactions WHERE id > ? ORDER BY id LIMIT ?";
// A row whose id or dedupe key the inbox holds already changes nothing (then checked by id).
constexpr char kInsertCopy[] =
    "INSERT INTO interactions (" SCRM_INBOX_COLUMNS
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
// The copied row's key, so that a row of the same key under another id is refused (the rows
// above keys_indexed_upto are indexed at the end of the copy, IndexInboxKeys).
constexpr char kInsertKey[] =
    "INSERT INTO interaction_keys (occurred_at_ms, dedupe_hash, dedupe_seq, id) "
    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
constexpr char kSelectKeyId[] =
    "SELECT id FROM interaction_keys WHERE occurred_at_ms = ? AND dedupe_hash = ? AND "
    "dedupe_seq = ?";
constexpr char kSelectIdentityById[] =
    "SELECT account_id, dedupe_key, occurred_at_ms FROM interactions WHERE id = ?";
constexpr char kAnyInteraction[] = "SELECT EXISTS (SELECT 1 FROM interactions)";
// SQLite-specific, as in database.cc.
constexpr char kCountInteractionsTable[] =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'interactions'";

#undef SCRM_INBOX_COLUMNS

// One column's value as stored, whatever its type, so that the copy is exact.
struct Value {
  int type = SQLITE_NULL;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;  // TEXT or BLOB
};
using Row = std::array<Value, kColumnCount>;

Value ReadValue(const SQLite::Column& column) {
  Value value;
  value.type = column.getType();
  switch (value.type) {
    case SQLITE_INTEGER: value.integer = column.getInt64(); break;
    case SQLITE_FLOAT: value.real = column.getDouble(); break;
    case SQLITE_TEXT: value.bytes = column.getString(); break;
    case SQLITE_BLOB:
      value.bytes.assign(static_cast<const char*>(column.getBlob()),
                         static_cast<size_t>(column.getBytes()));
      break;
    default: break;  // NULL (no column of the table allows it; copied as is all the same)
  }
  return value;
}

// `value` must outlive the statement's execution (bindNoCopy).
void BindValue(SQLite::Statement& statement, int index, const Value& value) {
  switch (value.type) {
    case SQLITE_INTEGER: statement.bind(index, value.integer); break;
    case SQLITE_FLOAT: statement.bind(index, value.real); break;
    case SQLITE_TEXT: statement.bindNoCopy(index, value.bytes); break;
    case SQLITE_BLOB:
      statement.bindNoCopy(index, value.bytes.data(), static_cast<int>(value.bytes.size()));
      break;
    default: statement.bind(index); break;
  }
}

// The next batch after `after_id` on the source connection.
std::vector<Row> ReadBatch(SQLite::Database& source, int64_t after_id) {
  std::vector<Row> batch;
  SQLite::Statement query(source, kSelectBatchAfter);
  query.bind(1, after_id);
  query.bind(2, kInboxCopyBatchRows);
  while (query.executeStep()) {
    Row row;
    for (int i = 0; i < kColumnCount; ++i) row[i] = ReadValue(query.getColumn(i));
    batch.push_back(std::move(row));
  }
  return batch;
}

// Whether the inbox holds the same interaction as `row` under row's id (same account, dedupe key
// and CreateTime); false when it holds none there.
bool StoredAlike(SQLite::Statement& by_id, const Row& row) {
  by_id.reset();
  by_id.bind(1, row[kIdColumn].integer);
  const bool alike = by_id.executeStep() &&
                     by_id.getColumn(0).getString() == row[kAccountColumn].bytes &&
                     by_id.getColumn(1).getString() == row[kDedupeKeyColumn].bytes &&
                     by_id.getColumn(2).getInt64() == row[kOccurredColumn].integer;
  by_id.reset();  // no read left running in the transaction
  return alike;
}

// Stores the key of a copied row; false when the inbox holds that key under another id.
bool InsertKey(SQLite::Statement& insert_key, SQLite::Statement& key_id, const Row& row) {
  insert_key.reset();
  insert_key.bind(1, row[kOccurredColumn].integer);
  insert_key.bind(2, row[kDedupeHashColumn].integer);
  insert_key.bind(3, row[kDedupeSeqColumn].integer);
  insert_key.bind(4, row[kIdColumn].integer);
  if (insert_key.exec() > 0) return true;
  key_id.reset();
  key_id.bind(1, row[kOccurredColumn].integer);
  key_id.bind(2, row[kDedupeHashColumn].integer);
  key_id.bind(3, row[kDedupeSeqColumn].integer);
  const bool same =
      key_id.executeStep() && key_id.getColumn(0).getInt64() == row[kIdColumn].integer;
  key_id.reset();
  return same;
}

// Inserts one batch into the inbox in one transaction; how many rows were new.
StatusOr<int64_t> InsertBatch(Database& inbox, const std::vector<Row>& batch) {
  int64_t inserted = 0;
  SCRM_RETURN_IF_ERROR(inbox.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(db, kInsertCopy);
    SQLite::Statement insert_key(db, kInsertKey);
    SQLite::Statement key_id(db, kSelectKeyId);
    SQLite::Statement by_id(db, kSelectIdentityById);
    for (const Row& row : batch) {
      insert.reset();
      insert.clearBindings();
      for (int i = 0; i < kColumnCount; ++i) BindValue(insert, i + 1, row[i]);
      if (insert.exec() > 0) {
        if (!InsertKey(insert_key, key_id, row)) {
          return core::FailedPreconditionError(
              "interaction " + std::to_string(row[kIdColumn].integer) +
              " of the main database has a dedupe key the inbox database holds under another "
              "id: the inbox was not moved");
        }
        ++inserted;
        continue;
      }
      // Already there from an earlier, interrupted run, or a different row in the way.
      if (!StoredAlike(by_id, row)) {
        return core::FailedPreconditionError(
            "interaction " + std::to_string(row[kIdColumn].integer) +
            " of the main database is not the one the inbox database holds under its id or "
            "dedupe key: the inbox was not moved");
      }
    }
    transaction.commit();
    return core::OkStatus();
  }));
  return inserted;
}

}  // namespace

StatusOr<InboxCopyReport> CopyInteractions(SQLite::Database& source, Database& inbox) {
  InboxCopyReport report;
  int64_t after_id = 0;  // inbox ids are > 0
  for (;;) {
    const std::vector<Row> batch = ReadBatch(source, after_id);
    if (batch.empty()) break;
    SCRM_ASSIGN_OR_RETURN(const int64_t inserted, InsertBatch(inbox, batch));
    report.rows += static_cast<int64_t>(batch.size());
    report.inserted += inserted;
    after_id = batch.back()[kIdColumn].integer;
  }
  // Every copied row's key is in interaction_keys: move the mark past them, so that no store
  // holds them in memory (inbox_keys.h).
  SCRM_RETURN_IF_ERROR(inbox.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    IndexInboxKeys(db);
    transaction.commit();
    return core::OkStatus();
  }));
  return report;
}

StatusOr<InboxCopyReport> CopyInteractionsToInbox(Database& main, Database& inbox) {
  if (&main == &inbox || main.schema() != Schema::kMain || inbox.schema() != Schema::kInbox) {
    return core::InvalidArgumentError("copy: expected a main database and an inbox database");
  }
  StatusOr<InboxCopyReport> report = InboxCopyReport{};
  SCRM_RETURN_IF_ERROR(main.WithWriter([&](SQLite::Database& db) -> Status {
    if (db.execAndGet(kCountInteractionsTable).getInt() == 0) return core::OkStatus();
    report = CopyInteractions(db, inbox);
    return core::OkStatus();
  }));
  return report;
}

Status MoveInteractionsBeforeDrop(SQLite::Database& conn, const MigrationContext& context) {
  if (context.inbox == nullptr) {
    if (conn.execAndGet(kAnyInteraction).getInt() == 0) return core::OkStatus();
    return core::FailedPreconditionError(
        "the database holds interactions that belong in the inbox database now: migrate it "
        "together with the inbox database (scrmd migrate or scrmd serve do)");
  }
  // The inbox's table must exist before rows go there: its own migrations come first.
  SCRM_RETURN_IF_ERROR(context.inbox->CheckReady());
  return CopyInteractions(conn, *context.inbox).status();
}

}  // namespace scrm::storage
