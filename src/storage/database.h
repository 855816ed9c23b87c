// Database: the SQLite file in WAL mode, one writer connection and a pool of read connections,
// and the numbered, append-only schema migrations. The only module that includes SQLiteCpp.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/core/status.h"

namespace SQLite {
class Database;
}

namespace scrm::storage {

struct DatabaseOptions {
  std::string path;                    // file path; ":memory:" is allowed for tests (single conn)
  std::string synchronous = "normal";  // "normal" | "full" (set explicitly: Debian defaults FULL)
  int read_connections = 4;            // pool size, >= 0; 0 sends reads to the writer connection
  int busy_timeout_ms = 5000;          // >= 0; how long a connection waits for another process
};

// One applied migration as recorded in schema_migrations.
struct MigrationRecord {
  int version = 0;
  std::string name;
  int64_t applied_at_ms = 0;
};

// Owns the connections. Thread-safe: WithWriter serialises writers on one mutex; WithReader
// hands each caller its own read connection from a pool (or the writer for ":memory:").
// Read connections are opened lazily, at most read_connections of them; a caller waits when all
// are in use. The fn given to WithWriter/WithReader must not call back into this Database (the
// locks are not reentrant) and must not keep the connection after it returns.
class Database {
 public:
  // Opens (creating parent directories and the file), sets WAL, synchronous, busy_timeout and
  // foreign_keys. Does not migrate. InvalidArgument for bad options; Internal when the directory
  // or the file cannot be created or WAL cannot be enabled.
  static core::StatusOr<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Applies every pending migration, each in its own transaction, recording it in
  // schema_migrations. Idempotent. Returns how many were applied. FailedPrecondition when the
  // database records a version newer than LatestVersion() (a newer binary migrated it).
  core::StatusOr<int> Migrate(int64_t now_ms);
  // Migrations recorded as applied, ascending (empty before the first Migrate).
  core::StatusOr<std::vector<MigrationRecord>> AppliedMigrations();
  // Highest version this binary knows.
  static int LatestVersion();
  // True when the database answers and every known migration is applied (/readyz).
  // Unavailable when the database does not answer; FailedPrecondition when the schema is behind
  // or ahead of this binary, or after Close.
  core::Status CheckReady();
  // Checkpoints the WAL into the main file (TRUNCATE) and closes every connection. Called on
  // graceful shutdown; afterwards every call fails with FailedPrecondition. Waits for read
  // connections in use to be returned. Unavailable when another process blocked the checkpoint
  // (the connections are closed anyway).
  core::Status Close();

  // Runs fn with the writer connection under the writer lock. SQLiteCpp exceptions thrown by fn
  // are caught and returned as Internal (constraint violations as AlreadyExists).
  // Precisely: UNIQUE / PRIMARY KEY violations -> AlreadyExists; CHECK / NOT NULL ->
  // InvalidArgument; FOREIGN KEY -> FailedPrecondition; SQLITE_BUSY / SQLITE_LOCKED ->
  // Unavailable; anything else -> Internal with the sqlite message. A transaction that fn leaves
  // open is rolled back and reported as Internal. FailedPrecondition after Close.
  core::Status WithWriter(const std::function<core::Status(SQLite::Database&)>& fn);
  // Same with a read connection (never blocks on the writer in WAL mode). The connection is
  // opened SQLite::OPEN_READONLY: writing through it fails with Internal.
  core::Status WithReader(const std::function<core::Status(SQLite::Database&)>& fn);

  const std::string& path() const { return options_.path; }

 private:
  explicit Database(DatabaseOptions options);

  // Opens writer_ and sets its pragmas. Called once from Open.
  core::Status OpenWriter();
  // Takes an idle read connection, opens a new one below the cap, or waits for one.
  core::StatusOr<std::unique_ptr<SQLite::Database>> AcquireReader();
  void ReleaseReader(std::unique_ptr<SQLite::Database> reader);

  DatabaseOptions options_;
  bool reads_use_writer_ = false;  // ":memory:" or read_connections == 0; set once in Open
  std::mutex writer_mu_;
  std::unique_ptr<SQLite::Database> writer_;  // guarded by writer_mu_
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;  // signalled when a reader is returned or on Close
  std::vector<std::unique_ptr<SQLite::Database>> idle_readers_;  // guarded by readers_mu_
  size_t open_readers_ = 0;  // idle + in use + being opened; guarded by readers_mu_
  // Written only with both writer_mu_ and readers_mu_ held, so either lock suffices to read it.
  bool closed_ = false;
};

}  // namespace scrm::storage
