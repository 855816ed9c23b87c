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
  REQUIRE(db.WithWriter([](SQLite::Database& conn) {
              SQLite::Statement insert(conn, kInsertFutureMigration);
              insert.bind(1, Database::LatestVersion() + 1);
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
  CHECK(Database::LatestVersion() == migrations.back().version);
}

TEST_CASE("Database Migrate applies every migration when the database is new", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  auto applied = db->Migrate(kNowMs);
  REQUIRE(applied.ok());
  CHECK(applied.value() == Database::LatestVersion());
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

}  // namespace
}  // namespace scrm::storage
