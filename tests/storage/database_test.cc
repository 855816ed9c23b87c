#include "src/storage/database.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "src/storage/api_key_store.h"
#include "tests/storage/storage_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusCode;
using scrm::testing::TempDir;
using testing::kNowMs;
using testing::MakeKey;
using testing::OpenFileOrDie;
using testing::OpenMigratedOrDie;
using testing::OpenOrDie;
using testing::ReaderScalar;
using testing::WriterScalar;

// Test-only SQL against a scratch table (never part of the schema).
constexpr char kCreateScratch[] = "CREATE TABLE scratch (x INTEGER NOT NULL UNIQUE CHECK (x > 0))";
constexpr char kInsertScratch[] = "INSERT INTO scratch (x) VALUES (?)";
constexpr char kCountScratch[] = "SELECT COUNT(*) FROM scratch";

Status InsertScratch(SQLite::Database& conn, int x) {
  SQLite::Statement insert(conn, kInsertScratch);
  insert.bind(1, x);
  insert.exec();
  return core::OkStatus();
}

std::unique_ptr<Database> OpenWithScratch(const TempDir& dir) {
  auto db = OpenFileOrDie(dir);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              conn.exec(kCreateScratch);
              return core::OkStatus();
            }).ok());
  return db;
}

uintmax_t WalBytes(const std::string& db_path) {
  const std::filesystem::path wal(db_path + "-wal");
  return std::filesystem::exists(wal) ? std::filesystem::file_size(wal) : 0;
}

// Polls until pred holds; false after 10 s (a passing test never waits that long).
bool WaitUntil(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

bool WalIsEmptyOrGone(const std::string& db_path) {
  const std::filesystem::path wal(db_path + "-wal");
  return !std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0;
}

TEST_CASE("Database open creates the parent directories and the file when they are missing",
          "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("a/b/c/scrmd.db");
  auto db = OpenOrDie(options);
  CHECK(std::filesystem::exists(options.path));
  CHECK(db->path() == options.path);
}

TEST_CASE("Database open creates the file 0600 and missing directories 0700 whatever the umask",
          "[db]") {
  using std::filesystem::perms;
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("a/b/scrmd.db");
  auto db = OpenOrDie(options);  // the test process runs with a permissive umask (022)
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              conn.exec("CREATE TABLE t (x INTEGER)");
              return core::OkStatus();
            }).ok());
  const auto mode = [](const std::string& path) {
    return std::filesystem::status(path).permissions() & perms::all;
  };
  CHECK(mode(dir.File("a")) == perms::owner_all);
  CHECK(mode(dir.File("a/b")) == perms::owner_all);
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    INFO(suffix);
    REQUIRE(std::filesystem::exists(options.path + suffix));
    CHECK(mode(options.path + suffix) == (perms::owner_read | perms::owner_write));
  }
  // A file that exists keeps its mode (and is not reopened by anything but SQLite).
  db.reset();
  std::filesystem::permissions(options.path,
                               perms::owner_read | perms::owner_write | perms::group_read,
                               std::filesystem::perm_options::replace);
  db = OpenOrDie(options);
  CHECK(mode(options.path) == (perms::owner_read | perms::owner_write | perms::group_read));
}

TEST_CASE("Database open sets WAL and synchronous FULL when the options are the defaults", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  CHECK(WriterScalar(*db, "PRAGMA journal_mode") == "wal");
  CHECK(ReaderScalar(*db, "PRAGMA journal_mode") == "wal");
  CHECK(WriterScalar(*db, "PRAGMA synchronous") == "2");  // FULL: durable by default
  CHECK(WriterScalar(*db, "PRAGMA foreign_keys") == "1");
  CHECK(WriterScalar(*db, "PRAGMA busy_timeout") == "5000");
}

TEST_CASE("Database open sets synchronous NORMAL when synchronous is normal", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  options.synchronous = "normal";
  auto db = OpenOrDie(options);
  CHECK(WriterScalar(*db, "PRAGMA synchronous") == "1");  // NORMAL
  CHECK(WriterScalar(*db, "PRAGMA journal_mode") == "wal");
}

TEST_CASE("Database open maps the file on every connection when mmap_bytes is set", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  SECTION("set") {
    options.mmap_bytes = int64_t{64} << 20;
    auto db = OpenOrDie(options);
    CHECK(WriterScalar(*db, "PRAGMA mmap_size") == std::to_string(int64_t{64} << 20));
    CHECK(ReaderScalar(*db, "PRAGMA mmap_size") == std::to_string(int64_t{64} << 20));
  }
  SECTION("left at 0") {
    auto db = OpenOrDie(options);
    CHECK(WriterScalar(*db, "PRAGMA mmap_size") == "0");
    CHECK(ReaderScalar(*db, "PRAGMA mmap_size") == "0");
  }
}

TEST_CASE("Database open returns InvalidArgument when an option is invalid", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  SECTION("unknown synchronous") { options.synchronous = "off"; }
  SECTION("empty path") { options.path.clear(); }
  SECTION("negative read_connections") { options.read_connections = -1; }
  SECTION("negative busy_timeout_ms") { options.busy_timeout_ms = -1; }
  SECTION("zero checkpoint_pages") { options.checkpoint_pages = 0; }
  SECTION("negative mmap_bytes") { options.mmap_bytes = -1; }
  SECTION("zero checkpoint_interval_ms") { options.checkpoint_interval_ms = 0; }
  SECTION("wal_restart_pages below checkpoint_pages") {
    options.checkpoint_pages = 100;
    options.wal_restart_pages = 99;
  }
  auto db = Database::Open(options);
  CHECK(db.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Database open returns Internal when the parent directory cannot be created", "[db]") {
  TempDir dir;
  scrm::testing::WriteFile(dir.File("plain-file"), "not a directory");
  DatabaseOptions options;
  options.path = dir.File("plain-file/sub/scrmd.db");
  auto db = Database::Open(options);
  CHECK(db.status().code() == StatusCode::kInternal);
}

TEST_CASE("Database serves reads from the writer when the path is :memory:", "[db]") {
  DatabaseOptions options;
  options.path = ":memory:";
  auto db = OpenMigratedOrDie(options);
  CHECK(WriterScalar(*db, "PRAGMA journal_mode") == "memory");
  ApiKeyStore store(*db);
  REQUIRE(store.Insert(MakeKey("ops", 1)).ok());
  auto keys = store.List();  // a read: must see the writer's data
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 1);
  CHECK(keys->front().name == "ops");
  CHECK(db->CheckReady().ok());
  CHECK(db->Close().ok());
  CHECK(db->CheckReady().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("Database WithWriter returns AlreadyExists when a unique constraint fails", "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) { return InsertScratch(conn, 1); }).ok());
  const Status status =
      db->WithWriter([](SQLite::Database& conn) { return InsertScratch(conn, 1); });
  CHECK(status.code() == StatusCode::kAlreadyExists);
}

TEST_CASE("Database WithWriter returns InvalidArgument when a CHECK constraint fails", "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  const Status status =
      db->WithWriter([](SQLite::Database& conn) { return InsertScratch(conn, -1); });
  CHECK(status.code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Database WithWriter returns Internal with the sqlite message when SQL is invalid",
          "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  const Status status = db->WithWriter([](SQLite::Database& conn) {
    conn.exec("SELECT * FROM no_such_table");
    return core::OkStatus();
  });
  CHECK(status.code() == StatusCode::kInternal);
  CHECK_THAT(status.message(), Catch::Contains("no such table"));
}

TEST_CASE("Database WithWriter returns Unavailable when another connection holds the write lock",
          "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  options.busy_timeout_ms = 0;  // fail at once instead of waiting
  auto db = OpenOrDie(options);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              conn.exec(kCreateScratch);
              return core::OkStatus();
            }).ok());
  // Another process, in effect: a second connection that keeps a write transaction open.
  SQLite::Database other(options.path, SQLite::OPEN_READWRITE);
  SQLite::Transaction held(other, SQLite::TransactionBehavior::IMMEDIATE);
  const Status status =
      db->WithWriter([](SQLite::Database& conn) { return InsertScratch(conn, 1); });
  CHECK(status.code() == StatusCode::kUnavailable);
}

TEST_CASE("Database WithWriter rolls back and returns Internal when fn leaves a transaction open",
          "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  const Status status = db->WithWriter([](SQLite::Database& conn) {
    conn.exec("BEGIN");
    return InsertScratch(conn, 1);
  });
  CHECK(status.code() == StatusCode::kInternal);
  CHECK(WriterScalar(*db, kCountScratch) == "0");
  // The connection is usable again.
  CHECK(db->WithWriter([](SQLite::Database& conn) { return InsertScratch(conn, 1); }).ok());
}

TEST_CASE("Database WithWriter returns the error of fn when fn fails", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  const Status status =
      db->WithWriter([](SQLite::Database&) { return core::NotFoundError("nothing"); });
  CHECK(status.code() == StatusCode::kNotFound);
  CHECK(status.message() == "nothing");
}

TEST_CASE("Database WithReader returns Internal when fn tries to write", "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  const Status status =
      db->WithReader([](SQLite::Database& conn) { return InsertScratch(conn, 1); });
  CHECK(status.code() == StatusCode::kInternal);
  CHECK_THAT(status.message(), Catch::Contains("readonly"));
}

TEST_CASE("Database WithReader does not block when a write transaction is open", "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  std::promise<void> write_open;
  std::promise<void> read_done;
  std::future<void> read_done_future = read_done.get_future();
  bool read_finished_before_commit = false;
  std::thread writer([&] {
    const Status status = db->WithWriter([&](SQLite::Database& conn) {
      SQLite::Transaction transaction(conn, SQLite::TransactionBehavior::IMMEDIATE);
      const Status inserted = InsertScratch(conn, 1);
      write_open.set_value();
      // Bounded so that a blocking reader fails the test instead of hanging it.
      read_finished_before_commit =
          read_done_future.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
      transaction.commit();
      return inserted;
    });
    status.IgnoreError();
  });
  write_open.get_future().wait();
  const std::string count_during_write = ReaderScalar(*db, kCountScratch);
  read_done.set_value();
  writer.join();
  CHECK(read_finished_before_commit);
  CHECK(count_during_write == "0");  // the uncommitted row is invisible to the snapshot
  CHECK(ReaderScalar(*db, kCountScratch) == "1");
}

TEST_CASE("Database WithReader serves concurrent callers when they outnumber the pool", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  options.read_connections = 2;
  auto db = OpenOrDie(options);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              conn.exec(kCreateScratch);
              return InsertScratch(conn, 7);
            }).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const Status status = db->WithReader([](SQLite::Database& conn) {
          return conn.execAndGet(kCountScratch).getInt() == 1 ? core::OkStatus()
                                                              : core::InternalError("bad count");
        });
        if (!status.ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("Database reads go through the writer when read_connections is 0", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  options.read_connections = 0;
  auto db = OpenOrDie(options);
  // The writer is read-write, so a "read" that writes succeeds: proof it is the writer.
  REQUIRE(db->WithReader([](SQLite::Database& conn) {
              conn.exec(kCreateScratch);
              return core::OkStatus();
            }).ok());
  CHECK(ReaderScalar(*db, kCountScratch) == "0");
}

TEST_CASE("Database Close checkpoints the WAL when data was written", "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  for (int x = 1; x <= 100; ++x) {
    REQUIRE(db->WithWriter([x](SQLite::Database& conn) { return InsertScratch(conn, x); }).ok());
  }
  CHECK(ReaderScalar(*db, kCountScratch) == "100");  // leaves an idle reader in the pool
  REQUIRE_FALSE(WalIsEmptyOrGone(db->path()));
  REQUIRE(db->Close().ok());
  CHECK(WalIsEmptyOrGone(db->path()));
}

TEST_CASE("Database calls return FailedPrecondition when the database is closed", "[db]") {
  TempDir dir;
  auto db = OpenFileOrDie(dir);
  REQUIRE(db->Migrate(kNowMs).ok());
  REQUIRE(db->Close().ok());
  const auto noop = [](SQLite::Database&) { return core::OkStatus(); };
  CHECK(db->WithWriter(noop).code() == StatusCode::kFailedPrecondition);
  CHECK(db->WithReader(noop).code() == StatusCode::kFailedPrecondition);
  CHECK(db->Migrate(kNowMs).status().code() == StatusCode::kFailedPrecondition);
  CHECK(db->AppliedMigrations().status().code() == StatusCode::kFailedPrecondition);
  CHECK(db->CheckReady().code() == StatusCode::kFailedPrecondition);
  CHECK(db->Close().code() == StatusCode::kFailedPrecondition);
  ApiKeyStore store(*db);
  CHECK(store.List().status().code() == StatusCode::kFailedPrecondition);
  CHECK(store.Insert(MakeKey("ops", 1)).status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("Database reopened after Close has all data and passes integrity_check", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  {
    auto db = OpenMigratedOrDie(options);
    ApiKeyStore store(*db);
    for (int i = 1; i <= 20; ++i) {
      REQUIRE(store.Insert(MakeKey("key-" + std::to_string(i), i)).ok());
    }
    REQUIRE(store.RevokeByName("key-3", kNowMs + 1).ok());
    REQUIRE(db->Close().ok());
  }
  auto db = OpenOrDie(options);
  CHECK(db->CheckReady().ok());
  CHECK(ReaderScalar(*db, "PRAGMA integrity_check") == "ok");
  ApiKeyStore store(*db);
  auto keys = store.List();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 20);
  CHECK(keys->at(2).name == "key-3");
  CHECK(keys->at(2).revoked_at_ms == kNowMs + 1);
  CHECK(db->Migrate(kNowMs).value() == 0);
}

TEST_CASE("Database destructor closes and checkpoints when Close was not called", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  {
    auto db = OpenMigratedOrDie(options);
    ApiKeyStore store(*db);
    REQUIRE(store.Insert(MakeKey("ops", 1)).ok());
  }
  CHECK(WalIsEmptyOrGone(options.path));
  auto db = OpenOrDie(options);
  ApiKeyStore store(*db);
  CHECK(store.FindActiveBySecretHash(testing::FakeSha256(1)).ok());
}

TEST_CASE("Database writer does not checkpoint inside its commits", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  // The checkpointer stays out of the way: no page threshold is reached, no interval passes.
  options.checkpoint_pages = 1'000'000;
  options.wal_restart_pages = 1'000'000;
  options.checkpoint_interval_ms = 3'600'000;
  auto db = OpenOrDie(options);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              conn.exec(kCreateScratch);
              return core::OkStatus();
            }).ok());
  // Each commit appends at least one frame. SQLite's auto-checkpoint (1000 pages by default)
  // would have rewound the WAL long before 1200 commits.
  for (int x = 1; x <= 1200; ++x) {
    REQUIRE(db->WithWriter([x](SQLite::Database& conn) { return InsertScratch(conn, x); }).ok());
  }
  CHECK(db->checkpoint_stats().wal_frames >= 1200);
  CHECK(db->checkpoint_stats().passive == 0);
  REQUIRE(db->Close().ok());
  CHECK(WalIsEmptyOrGone(options.path));  // Close still checkpoints everything
}

TEST_CASE("Database checkpointer keeps the WAL bounded when commits keep coming", "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  options.checkpoint_pages = 16;
  options.wal_restart_pages = 64;
  options.checkpoint_interval_ms = 1;
  auto db = OpenOrDie(options);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              conn.exec(kCreateScratch);
              return core::OkStatus();
            }).ok());
  // 20 bursts of 150 commits, two pages each (table and UNIQUE index): ~24 MiB of WAL if nothing
  // checkpointed. After each burst the test waits until a checkpoint round has covered it, or
  // has asked for a RESTART (how fast depends on fsync): the next burst then starts the WAL
  // over, so the WAL never holds much more than one burst.
  constexpr int kBursts = 20;
  constexpr int kPerBurst = 150;
  int x = 0;
  uintmax_t largest = 0;
  for (int burst = 0; burst < kBursts; ++burst) {
    for (int i = 0; i < kPerBurst; ++i) {
      ++x;
      REQUIRE(db->WithWriter([x](SQLite::Database& conn) { return InsertScratch(conn, x); }).ok());
    }
    const uint64_t commits = db->checkpoint_stats().commits;
    REQUIRE(WaitUntil([&] {
      const CheckpointStats stats = db->checkpoint_stats();
      return stats.covered_commits >= commits || stats.restart_due;
    }));
    largest = std::max(largest, WalBytes(db->path()));
  }
  INFO("passive " << db->checkpoint_stats().passive << ", restart "
                  << db->checkpoint_stats().restart);
  CHECK(largest < 4u * 1024 * 1024);
  CHECK(db->checkpoint_stats().restart > 0);
  CHECK(ReaderScalar(*db, kCountScratch) == std::to_string(x));
  REQUIRE(db->Close().ok());
  CHECK(WalIsEmptyOrGone(options.path));
  auto reopened = OpenOrDie(options);
  CHECK(ReaderScalar(*reopened, "PRAGMA integrity_check") == "ok");
  CHECK(ReaderScalar(*reopened, kCountScratch) == std::to_string(x));
}

TEST_CASE("Database checkpointer restarts the WAL under the writer lock when it grows too long",
          "[db]") {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  options.checkpoint_pages = 8;
  options.wal_restart_pages = 8;
  options.checkpoint_interval_ms = 1;
  auto db = OpenOrDie(options);
  REQUIRE(db->WithWriter([](SQLite::Database& conn) {
              conn.exec(kCreateScratch);
              return core::OkStatus();
            }).ok());
  int x = 0;
  // Commits keep coming until the checkpointer has found the WAL at the restart length once.
  REQUIRE(WaitUntil([&] {
    ++x;
    REQUIRE(db->WithWriter([x](SQLite::Database& conn) { return InsertScratch(conn, x); }).ok());
    return db->checkpoint_stats().restart > 0;
  }));
  // The next commit starts the WAL over.
  REQUIRE(db->WithWriter([&](SQLite::Database& conn) { return InsertScratch(conn, ++x); }).ok());
  CHECK(db->checkpoint_stats().wal_frames < 8);
  CHECK(ReaderScalar(*db, kCountScratch) == std::to_string(x));
}

TEST_CASE("Database WithWriterStatements prepares a statement once and reuses it", "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  const SQLite::Statement* first = nullptr;
  const SQLite::Statement* second = nullptr;
  for (const SQLite::Statement** seen : {&first, &second}) {
    REQUIRE(db->WithWriterStatements([&](SQLite::Database&, StatementCache& statements) {
                SQLite::Statement& insert = statements.Get(kInsertScratch);
                insert.bind(1, seen == &first ? 1 : 2);
                insert.exec();
                *seen = &insert;
                return core::OkStatus();
              }).ok());
  }
  CHECK(first == second);
  CHECK(ReaderScalar(*db, kCountScratch) == "2");
}

TEST_CASE("Database WithWriterStatements hands out a statement without the last use's bindings",
          "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  REQUIRE(db->WithWriterStatements([](SQLite::Database&, StatementCache& statements) {
              SQLite::Statement& insert = statements.Get(kInsertScratch);
              insert.bind(1, 7);
              insert.exec();
              return core::OkStatus();
            }).ok());
  // Unbound, x is NULL: the NOT NULL constraint fails instead of inserting 7 again (which would
  // be a UNIQUE violation, AlreadyExists).
  const Status unbound =
      db->WithWriterStatements([](SQLite::Database&, StatementCache& statements) {
        statements.Get(kInsertScratch).exec();
        return core::OkStatus();
      });
  CHECK(unbound.code() == StatusCode::kInvalidArgument);
  // A failed step does not poison the cached statement.
  CHECK(db->WithWriterStatements([](SQLite::Database&, StatementCache& statements) {
            SQLite::Statement& insert = statements.Get(kInsertScratch);
            insert.bind(1, 8);
            insert.exec();
            return core::OkStatus();
          }).ok());
  CHECK(ReaderScalar(*db, kCountScratch) == "2");
}

TEST_CASE("Database WithWriterStatements resets a query left unfinished when fn returns", "[db]") {
  TempDir dir;
  auto db = OpenWithScratch(dir);
  for (int x = 1; x <= 3; ++x) {
    REQUIRE(db->WithWriter([x](SQLite::Database& conn) { return InsertScratch(conn, x); }).ok());
  }
  REQUIRE(db->WithWriterStatements([](SQLite::Database&, StatementCache& statements) {
              SQLite::Statement& query = statements.Get("SELECT x FROM scratch ORDER BY x");
              REQUIRE(query.executeStep());  // one of three rows read: still running
              return core::OkStatus();
            }).ok());
  // A statement still running would hold a read snapshot and block a TRUNCATE checkpoint.
  SQLite::Database other(db->path(), SQLite::OPEN_READWRITE);
  SQLite::Statement checkpoint(other, "PRAGMA wal_checkpoint(TRUNCATE)");
  REQUIRE(checkpoint.executeStep());
  CHECK(checkpoint.getColumn(0).getInt() == 0);  // not busy
}

}  // namespace
}  // namespace scrm::storage
