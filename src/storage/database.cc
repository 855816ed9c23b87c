#include "src/storage/database.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "src/storage/migrations.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr char kMemoryPath[] = ":memory:";

// PRAGMAs take no bound parameters, hence one constant per value.
constexpr char kPragmaJournalModeWal[] = "PRAGMA journal_mode=WAL";
constexpr char kPragmaSynchronousNormal[] = "PRAGMA synchronous=NORMAL";
constexpr char kPragmaSynchronousFull[] = "PRAGMA synchronous=FULL";
constexpr char kPragmaForeignKeysOn[] = "PRAGMA foreign_keys=ON";
// Returns (busy, log frames, checkpointed frames); busy = 1 when another connection blocked it.
// https://www.sqlite.org/pragma.html#pragma_wal_checkpoint
constexpr char kPragmaWalCheckpointTruncate[] = "PRAGMA wal_checkpoint(TRUNCATE)";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kSelectOne[] = "SELECT 1";

constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)";
// SQLite-specific (a PostgreSQL backend would ask information_schema.tables).
constexpr char kCountMigrationsTable[] =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr char kSelectMaxVersion[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr char kCountMigrationVersion[] =
    "SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
constexpr char kInsertMigration[] =
    "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)";
constexpr char kSelectMigrations[] =
    "SELECT version, name, applied_at_ms FROM schema_migrations ORDER BY version";

bool IsMemoryPath(const std::string& path) { return path == kMemoryPath; }

// Maps a SQLite error to a canonical code. The primary code is the low byte of the extended
// one (https://www.sqlite.org/rescode.html).
Status FromSqliteException(const SQLite::Exception& e) {
  const std::string message = std::string("sqlite: ") + e.what();
  const int code = e.getErrorCode() < 0 ? -1 : (e.getErrorCode() & 0xff);
  switch (code) {
    case SQLITE_CONSTRAINT:
      switch (e.getExtendedErrorCode()) {
        case SQLITE_CONSTRAINT_CHECK:
        case SQLITE_CONSTRAINT_NOTNULL: return core::InvalidArgumentError(message);
        case SQLITE_CONSTRAINT_FOREIGNKEY: return core::FailedPreconditionError(message);
        default:  // UNIQUE, PRIMARYKEY and anything unclassified: a duplicate
          return core::AlreadyExistsError(message);
      }
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return core::UnavailableError(message);
    default: return core::InternalError(message);
  }
}

// Runs fn on conn and turns every exception into a Status: this is the one place that lets
// SQLiteCpp exceptions out of library calls.
Status RunGuarded(SQLite::Database& conn, const std::function<Status(SQLite::Database&)>& fn) {
  Status status;
  try {
    status = fn(conn);
  } catch (const SQLite::Exception& e) {
    status = FromSqliteException(e);
  } catch (const std::exception& e) {
    status = core::InternalError(std::string("database: ") + e.what());
  }
  // A transaction left open would hold the write lock, or pin an old WAL snapshot, for the
  // next user of this connection. SQLite::Transaction rolls back in its destructor, so this
  // only catches a bare BEGIN.
  if (sqlite3_get_autocommit(conn.getHandle()) == 0) {
    const int rc = conn.tryExec(kRollback);
    if (status.ok()) {
      status = core::InternalError(
          std::string("database: a transaction was left open and has been rolled back") +
          (rc == SQLITE_OK ? "" : " (rollback failed)"));
    }
  }
  return status;
}

// Version recorded last, 0 when the migrations table does not exist yet.
int ReadSchemaVersion(SQLite::Database& db) {
  if (db.execAndGet(kCountMigrationsTable).getInt() == 0) return 0;
  return db.execAndGet(kSelectMaxVersion).getInt();
}

std::string NewerSchemaMessage(int version) {
  return "database schema version " + std::to_string(version) +
         " is newer than this binary knows (" + std::to_string(Database::LatestVersion()) +
         "): run a newer scrmd";
}

}  // namespace

Database::Database(DatabaseOptions options) : options_(std::move(options)) {}

// Close() answers FailedPrecondition when it already ran; a blocked checkpoint has nobody to
// report to here.
Database::~Database() { Close().IgnoreError(); }

StatusOr<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  if (options.path.empty()) return core::InvalidArgumentError("database path is empty");
  if (options.synchronous != "normal" && options.synchronous != "full") {
    return core::InvalidArgumentError(
        "database synchronous must be \"normal\" or \"full\", got \"" + options.synchronous + "\"");
  }
  if (options.read_connections < 0) {
    return core::InvalidArgumentError("database read_connections must be >= 0");
  }
  if (options.busy_timeout_ms < 0) {
    return core::InvalidArgumentError("database busy_timeout_ms must be >= 0");
  }
  const bool memory = IsMemoryPath(options.path);
  if (!memory) {
    const std::filesystem::path parent = std::filesystem::path(options.path).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return core::InternalError("cannot create database directory " + parent.string() + ": " +
                                   ec.message());
      }
    }
  }
  std::unique_ptr<Database> db(new Database(options));
  // An in-memory database is private to its connection: readers could not see it.
  db->reads_use_writer_ = memory || options.read_connections == 0;
  SCRM_RETURN_IF_ERROR(db->OpenWriter());
  return db;
}

Status Database::OpenWriter() {
  std::lock_guard<std::mutex> lock(writer_mu_);
  try {
    writer_ = std::make_unique<SQLite::Database>(
        options_.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, options_.busy_timeout_ms);
  } catch (const SQLite::Exception& e) {
    const Status status = FromSqliteException(e);
    return Status(status.code(), "cannot open database " + options_.path + ": " + status.message());
  }
  const bool memory = IsMemoryPath(options_.path);
  return RunGuarded(*writer_, [&](SQLite::Database& db) -> Status {
    if (!memory) {
      const std::string mode = db.execAndGet(kPragmaJournalModeWal).getString();
      if (mode != "wal") {
        return core::InternalError("cannot enable WAL on " + options_.path + ": journal_mode is " +
                                   mode);
      }
    }
    // Debian's SQLite defaults to FULL even in WAL mode, so this is always set explicitly.
    db.exec(options_.synchronous == "full" ? kPragmaSynchronousFull : kPragmaSynchronousNormal);
    db.exec(kPragmaForeignKeysOn);
    return core::OkStatus();
  });
}

StatusOr<std::unique_ptr<SQLite::Database>> Database::AcquireReader() {
  {
    std::unique_lock<std::mutex> lock(readers_mu_);
    const auto cap = static_cast<size_t>(options_.read_connections);
    readers_cv_.wait(lock,
                     [&] { return closed_ || !idle_readers_.empty() || open_readers_ < cap; });
    if (closed_) return core::FailedPreconditionError("database is closed");
    if (!idle_readers_.empty()) {
      std::unique_ptr<SQLite::Database> reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
    ++open_readers_;  // reserve the slot; the file is opened outside the lock
  }
  try {
    return std::make_unique<SQLite::Database>(options_.path, SQLite::OPEN_READONLY,
                                              options_.busy_timeout_ms);
  } catch (const SQLite::Exception& e) {
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      --open_readers_;
    }
    readers_cv_.notify_all();
    const Status status = FromSqliteException(e);
    return Status(status.code(),
                  "cannot open read connection to " + options_.path + ": " + status.message());
  }
}

void Database::ReleaseReader(std::unique_ptr<SQLite::Database> reader) {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    // Close() waits for every reader in use, so the pool is still open here.
    idle_readers_.push_back(std::move(reader));
  }
  readers_cv_.notify_all();
}

Status Database::WithWriter(const std::function<Status(SQLite::Database&)>& fn) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  if (closed_) return core::FailedPreconditionError("database is closed");
  return RunGuarded(*writer_, fn);
}

Status Database::WithReader(const std::function<Status(SQLite::Database&)>& fn) {
  if (reads_use_writer_) return WithWriter(fn);
  SCRM_ASSIGN_OR_RETURN(std::unique_ptr<SQLite::Database> reader, AcquireReader());
  Status status = RunGuarded(*reader, fn);
  ReleaseReader(std::move(reader));
  return status;
}

int Database::LatestVersion() {
  const auto migrations = AllMigrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

StatusOr<int> Database::Migrate(int64_t now_ms) {
  SCRM_RETURN_IF_ERROR(WithWriter([](SQLite::Database& db) -> Status {
    db.exec(kCreateMigrationsTable);
    const int version = ReadSchemaVersion(db);
    if (version > LatestVersion())
      return core::FailedPreconditionError(NewerSchemaMessage(version));
    return core::OkStatus();
  }));
  int applied = 0;
  for (const Migration& migration : AllMigrations()) {
    bool did_apply = false;
    const Status status = WithWriter([&](SQLite::Database& db) -> Status {
      SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
      // Checked under the write lock: another process may have applied it meanwhile.
      SQLite::Statement applied_query(db, kCountMigrationVersion);
      applied_query.bind(1, migration.version);
      if (applied_query.executeStep() && applied_query.getColumn(0).getInt() > 0) {
        return core::OkStatus();
      }
      db.exec(migration.sql);
      SQLite::Statement record(db, kInsertMigration);
      record.bind(1, migration.version);
      record.bind(2, migration.name);
      record.bind(3, now_ms);
      record.exec();
      transaction.commit();
      did_apply = true;
      return core::OkStatus();
    });
    if (!status.ok()) {
      return Status(status.code(), "migration " + std::to_string(migration.version) + " (" +
                                       migration.name + ") failed: " + status.message());
    }
    if (did_apply) ++applied;
  }
  return applied;
}

StatusOr<std::vector<MigrationRecord>> Database::AppliedMigrations() {
  std::vector<MigrationRecord> records;
  SCRM_RETURN_IF_ERROR(WithReader([&](SQLite::Database& db) -> Status {
    if (db.execAndGet(kCountMigrationsTable).getInt() == 0) return core::OkStatus();
    SQLite::Statement query(db, kSelectMigrations);
    while (query.executeStep()) {
      MigrationRecord record;
      record.version = query.getColumn(0).getInt();
      record.name = query.getColumn(1).getString();
      record.applied_at_ms = query.getColumn(2).getInt64();
      records.push_back(std::move(record));
    }
    return core::OkStatus();
  }));
  return records;
}

Status Database::CheckReady() {
  int version = 0;
  const Status status = WithReader([&](SQLite::Database& db) -> Status {
    db.execAndGet(kSelectOne);
    version = ReadSchemaVersion(db);
    return core::OkStatus();
  });
  if (status.code() == core::StatusCode::kFailedPrecondition) return status;  // closed
  if (!status.ok()) return core::UnavailableError("database does not answer: " + status.message());
  if (version < LatestVersion()) {
    return core::FailedPreconditionError(
        "database schema is at version " + std::to_string(version) + ", this binary needs " +
        std::to_string(LatestVersion()) + ": migrations have not been applied");
  }
  if (version > LatestVersion()) return core::FailedPreconditionError(NewerSchemaMessage(version));
  return core::OkStatus();
}

Status Database::Close() {
  std::lock_guard<std::mutex> writer_lock(writer_mu_);
  {
    std::unique_lock<std::mutex> readers_lock(readers_mu_);
    if (closed_) return core::FailedPreconditionError("database is already closed");
    closed_ = true;
    readers_cv_.notify_all();  // callers waiting for a reader fail now
    readers_cv_.wait(readers_lock, [&] { return idle_readers_.size() == open_readers_; });
    // Readers go first: an open read connection could keep the checkpoint from truncating.
    idle_readers_.clear();
    open_readers_ = 0;
  }
  Status status;
  if (writer_ != nullptr && !IsMemoryPath(options_.path)) {
    status = RunGuarded(*writer_, [](SQLite::Database& db) -> Status {
      SQLite::Statement checkpoint(db, kPragmaWalCheckpointTruncate);
      if (checkpoint.executeStep() && checkpoint.getColumn(0).getInt() != 0) {
        return core::UnavailableError("WAL checkpoint was blocked by another connection");
      }
      return core::OkStatus();
    });
  }
  writer_.reset();
  return status;
}

}  // namespace scrm::storage
