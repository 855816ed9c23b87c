#include "src/storage/inbox_move.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "src/model/interaction.h"
#include "src/storage/cursor_store.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "src/storage/migrations.h"
#include "tests/storage/storage_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::storage {
namespace {

using core::StatusCode;
using model::Interaction;
using scrm::testing::TempDir;
using testing::InboxOptions;
using testing::kNowMs;
using testing::OpenFileOrDie;
using testing::OpenMigratedOrDie;
using testing::OpenOrDie;
using testing::ReaderScalar;

// The release before the split: main migrations 1..7, interactions in the main file.
constexpr int kVersionBeforeSplit = 7;
// More rows than one copy batch, so that the move commits several batches.
constexpr int64_t kOldRows = kInboxCopyBatchRows + 904;
constexpr int64_t kBaseId = kNowMs << 16;  // what IdGenerator would hand out at kNowMs

// Test-only SQL.
constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at_ms INTEGER NOT NULL)";
constexpr char kRecordMigration[] = "INSERT INTO schema_migrations VALUES (?, ?, 0)";
constexpr char kSchemaVersion[] = "PRAGMA schema_version";
// Every column of every row, quoted (type and value exact), in id order.
constexpr char kDumpInteractions[] =
    "SELECT quote(id) || '|' || quote(account_id) || '|' || quote(platform) || '|' || "
    "quote(kind) || '|' || quote(dedupe_key) || '|' || quote(dedupe_hash) || '|' || "
    "quote(dedupe_seq) || '|' || quote(msg_id) || '|' || quote(openid) || '|' || "
    "quote(unionid) || '|' || quote(external_userid) || '|' || quote(userid) || '|' || "
    "quote(chat_id) || '|' || quote(to_user) || '|' || quote(occurred_at_ms) || '|' || "
    "quote(received_at_ms) || '|' || quote(payload_json) || '|' || quote(raw_format) || '|' || "
    "quote(raw_body) FROM interactions ORDER BY id";
constexpr char kHasInteractionsTable[] =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'interactions'";
constexpr char kMaxAppliedVersion[] = "SELECT MAX(version) FROM schema_migrations";

// Applies main migrations 1..last as an older binary did (schema_version bumped after a schema
// text edit, as Migrate does), then closes, so that every later connection reads that schema.
void MigrateMainUpTo(const TempDir& dir, int last) {
  auto db = OpenFileOrDie(dir);
  REQUIRE(db->WithWriter([last](SQLite::Database& conn) {
              conn.exec(kCreateMigrationsTable);
              for (const Migration& migration : AllMigrations()) {
                if (migration.version > last) break;
                conn.exec(migration.sql);
                if (migration.edits_schema_text) {
                  const int64_t version = conn.execAndGet(kSchemaVersion).getInt64();
                  conn.exec(std::string(kSchemaVersion) + "=" + std::to_string(version + 1));
                }
                SQLite::Statement record(conn, kRecordMigration);
                record.bind(1, migration.version);
                record.bind(2, migration.name);
                record.exec();
              }
              return core::OkStatus();
            }).ok());
  REQUIRE(db->Close().ok());
}

// A WeCom text message; every field set, a raw body with bytes that are not ASCII.
Interaction MakeOld(int64_t n) {
  Interaction it;
  it.id = kBaseId + n;
  it.platform = model::Platform::kWecom;
  it.account_id = n % 3 == 0 ? "corp2" : "corp1";
  it.kind = model::InteractionKind::kMessageText;
  it.msg_id = std::to_string(7000000000000000000LL + n);
  it.dedupe_key = "msg\x1f" + it.msg_id;
  it.external_userid = "wmUser" + std::to_string(n % 97);
  it.userid = "zhangsan";
  it.to_user = "ww0123";
  it.occurred_at_ms = kNowMs - 60000 + n;
  it.received_at_ms = kNowMs + n;
  it.payload = model::TextPayload{"你好 " + std::to_string(n)};
  it.raw_format = "xml";
  it.raw_body = "<xml><Content><![CDATA[你好]]></Content><N>" + std::to_string(n) + "</N></xml>";
  return it;
}

// A main file at the release before the split, holding kOldRows interactions (stored by
// InteractionStore, as that release did) and the worker's cursor at `cursor`.
void WriteOldStore(const TempDir& dir, int64_t cursor) {
  MigrateMainUpTo(dir, kVersionBeforeSplit);
  auto db = OpenFileOrDie(dir);
  std::vector<Interaction> rows;
  for (int64_t n = 1; n <= kOldRows; ++n) rows.push_back(MakeOld(n));
  testing::InsertRowsAsBeforeSplit(*db, rows);
  REQUIRE(CursorStore(*db).SetCursor("worker", cursor).ok());
  REQUIRE(db->Close().ok());
}

std::vector<std::string> Dump(Database& db) {
  std::vector<std::string> rows;
  REQUIRE(db.WithReader([&](SQLite::Database& conn) {
              SQLite::Statement query(conn, kDumpInteractions);
              while (query.executeStep()) rows.push_back(query.getColumn(0).getString());
              return core::OkStatus();
            }).ok());
  return rows;
}

// The old store's rows as the main file holds them.
std::vector<std::string> DumpOldStore(const TempDir& dir) {
  auto db = OpenFileOrDie(dir);
  std::vector<std::string> rows = Dump(*db);
  REQUIRE(db->Close().ok());
  return rows;
}

std::unique_ptr<Database> OpenInbox(const TempDir& dir) {
  return OpenMigratedOrDie(InboxOptions(dir));
}

TEST_CASE("Database Migrate moves an older store's interactions to the inbox file when opened",
          "[db]") {
  TempDir dir;
  const int64_t cursor = kBaseId + 2000;
  WriteOldStore(dir, cursor);
  const std::vector<std::string> before = DumpOldStore(dir);
  REQUIRE(before.size() == static_cast<size_t>(kOldRows));

  auto inbox = OpenInbox(dir);
  auto main = OpenFileOrDie(dir);
  auto applied = main->Migrate(kNowMs, {inbox.get()});
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  CHECK(applied.value() == main->LatestVersion() - 7);  // 8 and those after it
  CHECK(main->CheckReady().ok());
  CHECK(inbox->CheckReady().ok());

  // Every row, every column, the same ids; the main file no longer has the table.
  CHECK(Dump(*inbox) == before);
  CHECK(ReaderScalar(*main, kHasInteractionsTable) == "0");
  CHECK(ReaderScalar(*main, kMaxAppliedVersion) == std::to_string(main->LatestVersion()));

  // The worker's cursor (main file) still points into the moved rows: it resumes at the next one,
  // and new ids are assigned above the old ones (InboxWriter starts from MaxId).
  CursorStore cursors(*main);
  CHECK(cursors.GetCursor("worker").value() == cursor);
  InteractionStore moved(*inbox);
  auto next = moved.ReadAfter(cursor, 1);
  REQUIRE(next.ok());
  REQUIRE(next->size() == 1);
  CHECK(next->front().id == cursor + 1);
  CHECK(next->front().dedupe_key == MakeOld(2001).dedupe_key);
  CHECK(next->front().raw_body == MakeOld(2001).raw_body);
  CHECK(moved.SummarizeAfter(cursor).value().count == kOldRows - 2000);
  CHECK(moved.MaxId().value() == kBaseId + kOldRows);
  // A re-delivery of a moved interaction is still a duplicate in its new file.
  auto again = moved.InsertBatch(std::vector<Interaction>{MakeOld(7)});
  REQUIRE(again.ok());
  CHECK(again->front().duplicate);
  CHECK(again->front().id == kBaseId + 7);
}

TEST_CASE("Database Migrate finishes the move without duplicates when only the copy had run",
          "[db]") {
  TempDir dir;
  WriteOldStore(dir, kBaseId + 10);
  const std::vector<std::string> before = DumpOldStore(dir);
  {
    // The copy step commits in the inbox file, then the process dies before the main file drops
    // its table (migration 8's transaction never committed).
    auto inbox = OpenInbox(dir);
    auto main = OpenFileOrDie(dir);
    auto copied = CopyInteractionsToInbox(*main, *inbox);
    INFO(copied.status().ToString());
    REQUIRE(copied.ok());
    CHECK(copied->rows == kOldRows);
    CHECK(copied->inserted == kOldRows);
    REQUIRE(inbox->Close().ok());
    REQUIRE(main->Close().ok());
  }
  auto inbox = OpenInbox(dir);
  auto main = OpenFileOrDie(dir);
  CHECK(ReaderScalar(*main, kHasInteractionsTable) == "1");  // both files hold the rows
  CHECK(Dump(*inbox) == before);
  auto applied = main->Migrate(kNowMs, {inbox.get()});
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  CHECK(applied.value() == main->LatestVersion() - 7);  // 8 and those after it
  CHECK(Dump(*inbox) == before);                        // each row once
  CHECK(ReaderScalar(*main, kHasInteractionsTable) == "0");
  CHECK(CursorStore(*main).GetCursor("worker").value() == kBaseId + 10);
  // Nothing is left to copy afterwards.
  auto nothing = CopyInteractionsToInbox(*main, *inbox);
  REQUIRE(nothing.ok());
  CHECK(nothing->rows == 0);
}

TEST_CASE("Database Migrate copies the rest when the copy stopped between two batches", "[db]") {
  TempDir dir;
  WriteOldStore(dir, 0);
  const std::vector<std::string> before = DumpOldStore(dir);
  {
    // The first batch committed, the later ones did not: as a crash inside the copy leaves it.
    auto inbox = OpenInbox(dir);
    auto main = OpenFileOrDie(dir);
    REQUIRE(CopyInteractionsToInbox(*main, *inbox).ok());
    REQUIRE(inbox
                ->WithWriter([](SQLite::Database& conn) {
                  SQLite::Statement drop(conn, "DELETE FROM interactions WHERE id > ?");
                  drop.bind(1, kBaseId + kInboxCopyBatchRows);
                  drop.exec();
                  return core::OkStatus();
                })
                .ok());
    REQUIRE(Dump(*inbox).size() == static_cast<size_t>(kInboxCopyBatchRows));
  }
  auto inbox = OpenInbox(dir);
  auto main = OpenFileOrDie(dir);
  auto copied = CopyInteractionsToInbox(*main, *inbox);
  REQUIRE(copied.ok());
  CHECK(copied->rows == kOldRows);
  CHECK(copied->inserted == kOldRows - kInboxCopyBatchRows);
  REQUIRE(main->Migrate(kNowMs, {inbox.get()}).ok());
  CHECK(Dump(*inbox) == before);
  CHECK(ReaderScalar(*main, kHasInteractionsTable) == "0");
}

TEST_CASE("Database Migrate creates the split layout when the store is new", "[db]") {
  TempDir dir;
  auto inbox = OpenOrDie(InboxOptions(dir));
  auto main = OpenFileOrDie(dir);
  auto inbox_applied = inbox->Migrate(kNowMs);
  REQUIRE(inbox_applied.ok());
  CHECK(inbox_applied.value() == static_cast<int>(InboxMigrations().size()));
  auto applied = main->Migrate(kNowMs, {inbox.get()});
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  CHECK(applied.value() == static_cast<int>(AllMigrations().size()));
  CHECK(main->CheckReady().ok());
  CHECK(inbox->CheckReady().ok());
  CHECK(ReaderScalar(*main, kHasInteractionsTable) == "0");
  CHECK(ReaderScalar(*inbox, kHasInteractionsTable) == "1");
  // The cursors stay with the profiles (the profile transaction writes them).
  CHECK(ReaderScalar(*main, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ingest_cursors'") ==
        "1");
  CHECK(ReaderScalar(*inbox, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ingest_cursors'") ==
        "0");
  const auto main_applied = main->AppliedMigrations().value();
  CHECK(std::any_of(main_applied.begin(), main_applied.end(),
                    [](const auto& m) { return m.name == "move_interactions_to_inbox_file"; }));
  CHECK(main_applied.back().version == main->LatestVersion());
  CHECK(inbox->AppliedMigrations().value().back().name == "create_interactions");
  // A second open applies nothing in either file.
  CHECK(inbox->Migrate(kNowMs).value() == 0);
  CHECK(main->Migrate(kNowMs, {inbox.get()}).value() == 0);
}

TEST_CASE("Database Migrate returns FailedPrecondition when old rows have no inbox to go to",
          "[db]") {
  TempDir dir;
  WriteOldStore(dir, 0);
  auto main = OpenFileOrDie(dir);
  auto applied = main->Migrate(kNowMs);
  CHECK(applied.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(applied.status().message(), Catch::Contains("inbox database"));
  // Nothing changed: the rows and the version are the old ones, and the store is not ready.
  CHECK(Dump(*main).size() == static_cast<size_t>(kOldRows));
  CHECK(ReaderScalar(*main, kMaxAppliedVersion) == std::to_string(kVersionBeforeSplit));
  CHECK(main->CheckReady().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("Database Migrate keeps the old rows when the inbox holds another row under an id",
          "[db]") {
  TempDir dir;
  WriteOldStore(dir, 0);
  auto inbox = OpenInbox(dir);
  Interaction other = MakeOld(42);
  other.dedupe_key =
      "msg\x1f"
      "something else";
  REQUIRE(InteractionStore(*inbox).InsertBatch(std::vector<Interaction>{other}).ok());
  auto main = OpenFileOrDie(dir);
  auto applied = main->Migrate(kNowMs, {inbox.get()});
  CHECK(applied.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(applied.status().message(), Catch::Contains(std::to_string(kBaseId + 42)));
  CHECK(ReaderScalar(*main, kHasInteractionsTable) == "1");
  CHECK(Dump(*main).size() == static_cast<size_t>(kOldRows));
}

TEST_CASE("Database Migrate keeps the old rows when the inbox holds a row's key under another id",
          "[db]") {
  TempDir dir;
  WriteOldStore(dir, 0);
  auto inbox = OpenInbox(dir);
  // The same interaction as old row 42 (account, dedupe key, CreateTime), stored under a new id,
  // its key indexed.
  Interaction same = MakeOld(42);
  same.id = kBaseId + kOldRows + 1000;
  InteractionStore store(*inbox);
  REQUIRE(store.InsertBatch(std::vector<Interaction>{same}).ok());
  REQUIRE(store.IndexKeys().ok());
  auto main = OpenFileOrDie(dir);
  auto applied = main->Migrate(kNowMs, {inbox.get()});
  CHECK(applied.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(applied.status().message(),
             Catch::Contains(std::to_string(kBaseId + 42)) && Catch::Contains("under another id"));
  CHECK(ReaderScalar(*main, kHasInteractionsTable) == "1");
  CHECK(Dump(*main).size() == static_cast<size_t>(kOldRows));
  CHECK(Dump(*inbox).size() == 1);  // the copy's batch rolled back
}

TEST_CASE("Database Migrate returns InvalidArgument when the inbox is not a separate inbox",
          "[db]") {
  TempDir dir;
  auto main = OpenFileOrDie(dir);
  CHECK(main->Migrate(kNowMs, {main.get()}).status().code() == StatusCode::kInvalidArgument);
  auto other_main = OpenFileOrDie(dir, "other.db");
  CHECK(main->Migrate(kNowMs, {other_main.get()}).status().code() == StatusCode::kInvalidArgument);
  DatabaseOptions same_file = InboxOptions(dir, "scrmd.db");
  auto inbox_on_main_file = OpenOrDie(same_file);
  CHECK(main->Migrate(kNowMs, {inbox_on_main_file.get()}).status().code() ==
        StatusCode::kInvalidArgument);
  auto inbox = OpenInbox(dir);
  CHECK(inbox->Migrate(kNowMs, {main.get()}).status().code() == StatusCode::kInvalidArgument);
  CHECK(CopyInteractionsToInbox(*inbox, *main).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::storage
