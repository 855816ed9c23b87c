// Database: the SQLite file in WAL mode, one writer connection and a pool of read connections,
// and the numbered, append-only schema migrations. The only module that includes SQLiteCpp.
#pragma once

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
  std::string path;                   // file path; ":memory:" is allowed for tests (single conn)
  std::string synchronous = "normal"; // "normal" | "full" (set explicitly: Debian defaults FULL)
  int read_connections = 4;
  int busy_timeout_ms = 5000;
};

// One applied migration as recorded in schema_migrations.
struct MigrationRecord {
  int version = 0;
  std::string name;
  int64_t applied_at_ms = 0;
};

// Owns the connections. Thread-safe: WithWriter serialises writers on one mutex; WithReader
// hands each caller its own read connection from a pool (or the writer for ":memory:").
class Database {
 public:
  // Opens (creating parent directories and the file), sets WAL, synchronous, busy_timeout and
  // foreign_keys. Does not migrate.
  static core::StatusOr<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Applies every pending migration, each in its own transaction, recording it in
  // schema_migrations. Idempotent. Returns how many were applied.
  core::StatusOr<int> Migrate(int64_t now_ms);
  // Migrations recorded as applied, ascending.
  core::StatusOr<std::vector<MigrationRecord>> AppliedMigrations();
  // Highest version this binary knows.
  static int LatestVersion();
  // True when the database answers and every known migration is applied (/readyz).
  core::Status CheckReady();
  // Checkpoints the WAL into the main file (TRUNCATE) and closes every connection. Called on
  // graceful shutdown; afterwards every call fails with FailedPrecondition.
  core::Status Close();

  // Runs fn with the writer connection under the writer lock. SQLiteCpp exceptions thrown by fn
  // are caught and returned as Internal (constraint violations as AlreadyExists).
  core::Status WithWriter(const std::function<core::Status(SQLite::Database&)>& fn);
  // Same with a read connection (never blocks on the writer in WAL mode).
  core::Status WithReader(const std::function<core::Status(SQLite::Database&)>& fn);

  const std::string& path() const { return options_.path; }

 private:
  explicit Database(DatabaseOptions options);

  DatabaseOptions options_;
  std::mutex writer_mu_;
  std::unique_ptr<SQLite::Database> writer_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_readers_;
  bool closed_ = false;
};

}  // namespace scrm::storage
