#include "src/storage/migrations.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <string>

#include "src/storage/database.h"
#include "tests/storage/storage_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusCode;
using scrm::testing::TempDir;
using testing::kNowMs;
using testing::OpenFileOrDie;

// Test-only: what a newer binary would have recorded.
constexpr char kInsertFutureMigration[] =
    "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, 'from_the_future', 0)";

void RecordFutureMigration(Database& db) {
  const int future = db.LatestVersion() + 1;
  REQUIRE(db.WithWriter([future](SQLite::Database& conn) {
              SQLite::Statement insert(conn, kInsertFutureMigration);
              insert.bind(1, future);
              insert.exec();
              return core::OkStatus();
            }).ok());
}

TEST_CASE("Migrations are numbered from 1 without gaps when listed", "[db]") {
  const auto migrations = AllMigrations();
  REQUIRE_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) {
    CHECK(migrations[i].version == static_cast<int>(i) + 1);
    CHECK(std::string(migrations[i].name).size() > 0);
    CHECK(std::string(migrations[i].sql).size() > 0);
  }
  TempDir dir;
  CHECK(OpenFileOrDie(dir)->LatestVersion() == migrations.back().version);
}

TEST_CASE("Inbox migrations are numbered from 1 without gaps when listed", "[db]") {
  const auto migrations = InboxMigrations();
  REQUIRE_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) {
    CHECK(migrations[i].version == static_cast<int>(i) + 1);
    CHECK(std::string(migrations[i].name).size() > 0);
    CHECK(std::string(migrations[i].sql).size() > 0);
    CHECK(migrations[i].before == nullptr);  // the inbox file's own changes are plain SQL
  }
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("inbox.db");
  options.schema = Schema::kInbox;
  CHECK(testing::OpenOrDie(options)->LatestVersion() == migrations.back().version);
}

TEST_CASE("Database Migrate applies every migration when the database is new", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  auto applied = db->Migrate(kNowMs);
  REQUIRE(applied.ok());
  CHECK(applied.value() == db->LatestVersion());
  auto records = db->AppliedMigrations();
  REQUIRE(records.ok());
  REQUIRE(records->size() == AllMigrations().size());
  for (size_t i = 0; i < records->size(); ++i) {
    CHECK(records->at(i).version == AllMigrations()[i].version);
    CHECK(records->at(i).name == AllMigrations()[i].name);
    CHECK(records->at(i).applied_at_ms == kNowMs);
  }
}

TEST_CASE("Database Migrate applies nothing when run a second time", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  REQUIRE(db->Migrate(kNowMs).ok());
  auto before = db->AppliedMigrations();
  REQUIRE(before.ok());
  auto again = db->Migrate(kNowMs + 60000);
  REQUIRE(again.ok());
  CHECK(again.value() == 0);
  auto after = db->AppliedMigrations();
  REQUIRE(after.ok());
  REQUIRE(after->size() == before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    CHECK(after->at(i).version == before->at(i).version);
    CHECK(after->at(i).name == before->at(i).name);
    CHECK(after->at(i).applied_at_ms == before->at(i).applied_at_ms);
  }
}

TEST_CASE("Database Migrate applies nothing when a reopened database is migrated", "[db]") {
  TempDir dir;
  {
    auto db = OpenFileOrDie(dir);
    REQUIRE(db->Migrate(kNowMs).ok());
    REQUIRE(db->Close().ok());
  }
  auto db = OpenFileOrDie(dir);
  auto applied = db->Migrate(kNowMs);
  REQUIRE(applied.ok());
  CHECK(applied.value() == 0);
}

TEST_CASE("Database AppliedMigrations returns nothing when the database was never migrated",
          "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  auto records = db->AppliedMigrations();
  REQUIRE(records.ok());
  CHECK(records->empty());
}

TEST_CASE("Database Migrate returns FailedPrecondition when the schema is newer than the binary",
          "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  REQUIRE(db->Migrate(kNowMs).ok());
  RecordFutureMigration(*db);
  auto applied = db->Migrate(kNowMs);
  CHECK(applied.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(applied.status().message(), Catch::Contains("newer"));
}

TEST_CASE("Database Migrate returns FailedPrecondition when a newer schema is all there is",
          "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              conn.exec(
                  "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
                  "NULL, applied_at_ms INTEGER NOT NULL)");
              return core::OkStatus();
            }).ok());
  RecordFutureMigration(*db);
  CHECK(db->Migrate(kNowMs).status().code() == StatusCode::kFailedPrecondition);
  // Nothing of this binary's schema was applied on top of the newer one.
  auto records = db->AppliedMigrations();
  REQUIRE(records.ok());
  CHECK(records->size() == 1);
}

TEST_CASE("Database CheckReady returns FailedPrecondition when migrations are pending", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  const Status before = db->CheckReady();
  CHECK(before.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(before.message(), Catch::Contains("migrations have not been applied"));
  REQUIRE(db->Migrate(kNowMs).ok());
  CHECK(db->CheckReady().ok());
}

TEST_CASE("Database CheckReady returns FailedPrecondition when the schema is newer", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  REQUIRE(db->Migrate(kNowMs).ok());
  RecordFutureMigration(*db);
  const Status status = db->CheckReady();
  CHECK(status.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(status.message(), Catch::Contains("newer"));
}

// The tables whose CHECK lists allowed values, with the column and one allowed value.
struct EnumColumn {
  const char* table;
  const char* column;
  const char* allowed;
};
constexpr EnumColumn kEnumColumns[] = {
    {"api_keys", "role", "sales"},     {"customers", "stage", "engaged"},
    {"identities", "kind", "unionid"}, {"customer_tags", "source", "manual"},
    {"tasks", "status", "done"},       {"followers", "state", "half"},
    {"outbox", "state", "unknown"},
};

std::string TableSql(SQLite::Database& conn, const std::string& table) {
  SQLite::Statement q(conn, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?");
  q.bind(1, table);
  REQUIRE(q.executeStep());
  return q.getColumn(0).getString();
}

// Applies migrations 1..last the way an older binary did, without Migrate.
void MigrateUpTo(Database& db, int last) {
  REQUIRE(db.WithWriter([last](SQLite::Database& conn) {
              conn.exec(
                  "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
                  "NULL, applied_at_ms INTEGER NOT NULL)");
              for (const Migration& migration : AllMigrations()) {
                if (migration.version > last) break;
                conn.exec(migration.sql);
                SQLite::Statement record(conn, "INSERT INTO schema_migrations VALUES (?, ?, 0)");
                record.bind(1, migration.version);
                record.bind(2, migration.name);
                record.exec();
              }
              return core::OkStatus();
            }).ok());
}

TEST_CASE("Database Migrate writes CHECK value lists without IN and they still refuse bad values",
          "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  REQUIRE(db->Migrate(kNowMs).ok());
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              for (const EnumColumn& c : kEnumColumns) {
                const std::string sql = TableSql(conn, c.table);
                INFO(sql);
                CHECK(sql.find(std::string(c.column) + " IN (") == std::string::npos);
                CHECK(sql.find(std::string(c.column) + " = '" + c.allowed + "'") !=
                      std::string::npos);
              }
              // The point of the rewrite: checking a row builds no ephemeral table any more.
              SQLite::Statement explain(conn,
                                        "EXPLAIN UPDATE customers SET stage = 'lost' WHERE id = 1");
              while (explain.executeStep()) {
                CHECK(explain.getColumn(1).getString() != "OpenEphemeral");
              }
              return core::OkStatus();
            }).ok());
  for (const EnumColumn& c : kEnumColumns) {
    INFO(c.table);
    const Status status = db->WithWriter([&](SQLite::Database& conn) {
      // A row with every required column (0 where any value does) and a bad value in c.column.
      SQLite::Statement columns(conn, std::string("SELECT name FROM pragma_table_info('") +
                                          c.table +
                                          "') WHERE (\"notnull\" = 1 OR pk > 0) AND name <> 'id'");
      std::string names;
      std::string values;
      while (columns.executeStep()) {
        const std::string name = columns.getColumn(0).getString();
        names += (names.empty() ? "" : ", ") + name;
        values += values.empty() ? "" : ", ";
        values += name == c.column ? "'bogus'" : "0";
      }
      conn.exec(std::string("INSERT INTO ") + c.table + " (" + names + ") VALUES (" + values + ")");
      return core::OkStatus();
    });
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(status.message(), Catch::Contains(c.column));
  }
}

TEST_CASE("Database Migrate rewrites the CHECKs of a version 5 store and keeps its rows", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  MigrateUpTo(*db, 5);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              CHECK(TableSql(conn, "customers").find("stage IN (") != std::string::npos);
              conn.exec(
                  "INSERT INTO customers (stage, stage_reason, stage_staff, owner_userid, "
                  "attributes_json, first_interaction_at_ms, last_interaction_at_ms, "
                  "interaction_count, message_count, event_count, order_count, "
                  "paid_order_count, created_at_ms, updated_at_ms) VALUES ('engaged', 'r', '', "
                  "'zhangsan', '{}', 1, 2, 3, 2, 1, 0, 0, 1, 2)");
              return core::OkStatus();
            }).ok());
  auto applied = db->Migrate(kNowMs);
  REQUIRE(applied.ok());
  CHECK(applied.value() == db->LatestVersion() - 5);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              CHECK(TableSql(conn, "customers").find("stage IN (") == std::string::npos);
              CHECK(conn.execAndGet("SELECT owner_userid FROM customers WHERE stage = 'engaged'")
                        .getString() == "zhangsan");
              CHECK(conn.execAndGet("PRAGMA integrity_check").getString() == "ok");
              return core::OkStatus();
            }).ok());
  // A connection opened afterwards reads the rewritten schema, and the CHECK still holds there.
  REQUIRE(db->Close().ok());
  auto reopened = OpenFileOrDie(dir);
  const Status bad = reopened->WithWriter([](SQLite::Database& conn) {
    conn.exec("UPDATE customers SET stage = 'bogus'");
    return core::OkStatus();
  });
  CHECK(bad.code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::storage
