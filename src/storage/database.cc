#include "src/storage/database.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "src/core/thread_name.h"
#include "src/storage/migrations.h"
#include "src/storage/sqlite_errors.h"

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
// The writer never checkpoints inside a commit: the checkpointer thread does (see Database).
constexpr char kPragmaWalAutocheckpointOff[] = "PRAGMA wal_autocheckpoint=0";
// Returns (busy, log frames, checkpointed frames); busy = 1 when another connection blocked it.
// https://www.sqlite.org/pragma.html#pragma_wal_checkpoint
constexpr char kPragmaSchemaVersion[] = "PRAGMA schema_version";
constexpr char kPragmaWalCheckpointTruncate[] = "PRAGMA wal_checkpoint(TRUNCATE)";

// Takes its value inline (no bound parameters in a PRAGMA); the caller passes a validated int.
void SetMmapSize(SQLite::Database& conn, int64_t bytes) {
  if (bytes > 0) conn.exec("PRAGMA mmap_size=" + std::to_string(bytes));
}

// The main file's writer page cache. SQLite's default (2 MiB) holds a fraction of the
// customer-keyed b-trees the ingest worker touches on every interaction, so most page reads
// became pread() calls: ~1.6x slower on bench/profile_bench. 64 MiB is a cap (pages are
// allocated as used), the OS page cache holds the rest. Set once per connection (it lasts as
// long as the connection), by the first InTransaction; belongs with DatabaseOptions once storage
// grows per-connection tuning. Only the main file's writer has it: the inbox writer (its own
// file and connection) keeps SQLite's default, because each of its commits walks a structure
// that grows with its connection's page cache (most likely pcache1's hash table, truncated at
// the end of each transaction), which cost the inbox writer ~20 % of its time at 64 MiB
// (docs/performance.md "Durable ingest").
constexpr char kPragmaWriterCacheSize[] = "PRAGMA cache_size=-65536";

constexpr char kRollback[] = "ROLLBACK";
constexpr char kMainSchema[] = "main";

// A RESTART checkpoint runs under the writer lock and waits for readers to leave the WAL; it
// gives up after this long (and is asked for again later) rather than stall every writer.
constexpr int kRestartBusyTimeoutMs = 100;
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

// Runs fn on conn and turns every exception into a Status (Guarded), then rolls back a
// transaction fn left open.
Status RunGuarded(SQLite::Database& conn, const std::function<Status(SQLite::Database&)>& fn) {
  Status status = Guarded([&] { return fn(conn); });
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

// How messages name the file: operators have two of them.
std::string SchemaLabel(Schema schema) {
  return schema == Schema::kInbox ? "inbox database" : "database";
}

std::string NewerSchemaMessage(Schema schema, int version, int latest) {
  return SchemaLabel(schema) + " schema version " + std::to_string(version) +
         " is newer than this binary knows (" + std::to_string(latest) + "): run a newer scrmd";
}

// Creates the missing directories above `path` with mode 0700 and the file itself, when it
// does not exist, with 0600: profiles and callbacks are personal data. SQLite gives the -wal and
// -shm files the database file's mode. O_EXCL: a file that exists is left alone (and an fd
// closed on a file some connection of this process holds would drop its POSIX locks).
Status CreatePrivately(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (std::filesystem::path dir = parent; !dir.empty() && !std::filesystem::exists(dir, ec);
       dir = dir.parent_path()) {
    missing.push_back(dir);
    if (dir == dir.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return core::InternalError("cannot create database directory " + it->string() + ": " +
                                 std::strerror(errno));
    }
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    return core::InternalError("cannot create database file " + path + ": " + std::strerror(errno));
  }
  return core::OkStatus();
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
  if (options.checkpoint_pages < 1 || options.checkpoint_interval_ms < 1 ||
      options.wal_restart_pages < options.checkpoint_pages) {
    return core::InvalidArgumentError(
        "database checkpoint_pages and checkpoint_interval_ms must be >= 1 and "
        "wal_restart_pages >= checkpoint_pages");
  }
  if (options.mmap_bytes < 0) return core::InvalidArgumentError("database mmap_bytes must be >= 0");
  const bool memory = IsMemoryPath(options.path);
  if (!memory) SCRM_RETURN_IF_ERROR(CreatePrivately(options.path));
  std::unique_ptr<Database> db(new Database(options));
  // An in-memory database is private to its connection: readers could not see it.
  db->reads_use_writer_ = memory || options.read_connections == 0;
  SCRM_RETURN_IF_ERROR(db->OpenWriter());
  if (!memory && options.checkpoints) SCRM_RETURN_IF_ERROR(db->StartCheckpointer());
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
  SCRM_RETURN_IF_ERROR(RunGuarded(*writer_, [&](SQLite::Database& db) -> Status {
    if (!memory) {
      const std::string mode = db.execAndGet(kPragmaJournalModeWal).getString();
      if (mode != "wal") {
        return core::InternalError("cannot enable WAL on " + options_.path + ": journal_mode is " +
                                   mode);
      }
      db.exec(kPragmaWalAutocheckpointOff);
      // Replaces the auto-checkpoint hook (which the PRAGMA has already removed): the writer only
      // reports the WAL's length. https://www.sqlite.org/c3ref/wal_hook.html
      sqlite3_wal_hook(
          db.getHandle(),
          [](void* self, sqlite3*, const char*, int frames) {
            static_cast<Database*>(self)->NoteWalCommit(frames);
            return SQLITE_OK;
          },
          this);
    }
    // Debian's SQLite defaults to FULL even in WAL mode, so this is always set explicitly.
    db.exec(options_.synchronous == "full" ? kPragmaSynchronousFull : kPragmaSynchronousNormal);
    db.exec(kPragmaForeignKeysOn);
    SetMmapSize(db, options_.mmap_bytes);
    return core::OkStatus();
  }));
  writer_statements_ = std::make_unique<StatementCache>(*writer_);
  return core::OkStatus();
}

void Database::NoteWalCommit(int frames) {
  wal_frames_.store(frames, std::memory_order_relaxed);
  wal_commits_.fetch_add(1, std::memory_order_relaxed);
  const int64_t mark = checkpointed_frames_.load(std::memory_order_relaxed);
  // Below the mark the WAL has started over since the last round: every frame is new.
  const int64_t fresh = frames >= mark ? frames - mark : frames;
  if (fresh >= options_.checkpoint_pages && !checkpoint_wanted_.exchange(true)) {
    // Taking the mutex orders this wake-up after the checkpointer's check of checkpoint_wanted_
    // (or before it): it cannot be lost. It happens once per round, not once per commit.
    { std::lock_guard<std::mutex> lock(checkpoint_mu_); }
    checkpoint_cv_.notify_one();
  }
}

Status Database::StartCheckpointer() {
  std::unique_ptr<SQLite::Database> conn;
  try {
    conn = std::make_unique<SQLite::Database>(options_.path, SQLite::OPEN_READWRITE,
                                              options_.busy_timeout_ms);
  } catch (const SQLite::Exception& e) {
    const Status status = FromSqliteException(e);
    return Status(status.code(), "cannot open the checkpoint connection to " + options_.path +
                                     ": " + status.message());
  }
  // A checkpoint fsyncs the WAL before copying and the database file after, as the writer's
  // auto-checkpoint did; the connection's synchronous level decides, so it is the same one.
  SCRM_RETURN_IF_ERROR(RunGuarded(*conn, [&](SQLite::Database& db) -> Status {
    db.exec(options_.synchronous == "full" ? kPragmaSynchronousFull : kPragmaSynchronousNormal);
    return core::OkStatus();
  }));
  checkpointer_ = std::thread(&Database::RunCheckpointer, this, std::move(conn));
  return core::OkStatus();
}

void Database::RunCheckpointer(std::unique_ptr<SQLite::Database> conn) {
  core::NameThisThread(options_.schema == Schema::kInbox ? "ckpt-inbox" : "ckpt-main");
  const std::chrono::milliseconds interval(options_.checkpoint_interval_ms);
  uint64_t commits_seen = wal_commits_.load();
  std::unique_lock<std::mutex> lock(checkpoint_mu_);
  for (;;) {
    // While a RESTART is due no round runs: a PASSIVE one would hold the checkpoint lock and make
    // the writer's RESTART fail at once (SQLite does not wait for that lock).
    checkpoint_cv_.wait_for(lock, interval, [&] {
      return checkpoint_stop_ || (checkpoint_wanted_.load() && !restart_due_.load());
    });
    if (checkpoint_stop_) break;
    if (restart_due_.load()) continue;
    const uint64_t commits = wal_commits_.load();
    // The interval only matters while commits arrive: an idle WAL was checkpointed already.
    if (!checkpoint_wanted_.load() && commits == commits_seen) continue;
    commits_seen = commits;
    // Cleared before the round: a commit during it that finds enough new frames asks again.
    checkpoint_wanted_.store(false);
    lock.unlock();
    Checkpoint(*conn, commits);
    lock.lock();
  }
  lock.unlock();
  conn.reset();  // closes before Close checkpoints with TRUNCATE
}

void Database::Checkpoint(SQLite::Database& conn, uint64_t commits) {
  // https://www.sqlite.org/c3ref/wal_checkpoint_v2.html. A failed round (another process is
  // checkpointing, an I/O error) changes nothing and is tried again on the next one.
  // The round covers the WAL as it is now: the next one is due after checkpoint_pages more
  // frames (or the interval), not as soon as a commit lands during this one.
  checkpointed_frames_.store(wal_frames_.load());
  int log_frames = 0;
  int checkpointed = 0;
  if (sqlite3_wal_checkpoint_v2(conn.getHandle(), kMainSchema, SQLITE_CHECKPOINT_PASSIVE,
                                &log_frames, &checkpointed) != SQLITE_OK) {
    return;
  }
  passive_checkpoints_.fetch_add(1);
  covered_commits_.store(commits);
  // Commits kept the WAL from ever being fully checkpointed when one of them started, so SQLite
  // has not rewound it: the next writer runs a RESTART first (see RestartWal).
  if (log_frames >= options_.wal_restart_pages) restart_due_.store(true);
}

void Database::RestartWal() {
  // Called with the writer lock held, so no commit runs meanwhile. RESTART copies the frames the
  // last PASSIVE round left (those committed during it), fsyncs the database file and waits for
  // readers to leave the WAL; the transaction that follows then starts the WAL over. A reader
  // that stays longer than kRestartBusyTimeoutMs makes it give up (SQLITE_BUSY): the writer goes
  // on and the next PASSIVE round asks again. Done here rather than on the checkpointer thread
  // because a steady stream of writers can keep the checkpointer from ever getting the lock.
  restart_due_.store(false);
  sqlite3* handle = writer_->getHandle();
  sqlite3_busy_timeout(handle, kRestartBusyTimeoutMs);
  int log_frames = 0;
  int checkpointed = 0;
  const int rc = sqlite3_wal_checkpoint_v2(handle, kMainSchema, SQLITE_CHECKPOINT_RESTART,
                                           &log_frames, &checkpointed);
  sqlite3_busy_timeout(handle, options_.busy_timeout_ms);
  if (rc == SQLITE_OK) {
    restart_checkpoints_.fetch_add(1);
    checkpointed_frames_.store(0);
  }
  // Rounds asked for meanwhile may run now.
  { std::lock_guard<std::mutex> lock(checkpoint_mu_); }
  checkpoint_cv_.notify_one();
}

void Database::StopCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    checkpoint_stop_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
}

CheckpointStats Database::checkpoint_stats() const {
  CheckpointStats stats;
  stats.passive = passive_checkpoints_.load();
  stats.restart = restart_checkpoints_.load();
  stats.wal_frames = wal_frames_.load();
  stats.commits = wal_commits_.load();
  stats.covered_commits = covered_commits_.load();
  stats.restart_due = restart_due_.load();
  return stats;
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
    auto reader = std::make_unique<SQLite::Database>(options_.path, SQLite::OPEN_READONLY,
                                                     options_.busy_timeout_ms);
    SetMmapSize(*reader, options_.mmap_bytes);
    return reader;
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

std::unique_lock<std::mutex> Database::LockWriter() {
  std::unique_lock<std::mutex> lock(writer_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    writer_waiters_.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    writer_waiters_.fetch_sub(1, std::memory_order_relaxed);
  }
  return lock;
}

Status Database::WithWriter(const std::function<Status(SQLite::Database&)>& fn) {
  const std::unique_lock<std::mutex> lock = LockWriter();
  if (closed_) return core::FailedPreconditionError("database is closed");
  if (restart_due_.load(std::memory_order_relaxed)) RestartWal();
  return RunGuarded(*writer_, fn);
}

Status Database::WithWriterStatements(
    const std::function<Status(SQLite::Database&, StatementCache&)>& fn) {
  const std::unique_lock<std::mutex> lock = LockWriter();
  if (closed_) return core::FailedPreconditionError("database is closed");
  if (restart_due_.load(std::memory_order_relaxed)) RestartWal();
  StatementCache& statements = *writer_statements_;
  Status status = RunGuarded(*writer_, [&](SQLite::Database& db) { return fn(db, statements); });
  statements.ResetUsed();
  return status;
}

Status Database::InTransaction(const std::function<Status(WriteTxn&)>& fn) {
  return WithWriterStatements([&](SQLite::Database& db, StatementCache& statements) -> Status {
    if (!writer_cache_raised_ && options_.schema == Schema::kMain) {
      db.exec(kPragmaWriterCacheSize);
      writer_cache_raised_ = true;
    }
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    WriteTxn txn(*this, statements, ++transactions_);
    SCRM_RETURN_IF_ERROR(fn(txn));  // the Transaction's destructor rolls back
    statements.ResetUsed();         // no statement still reading at COMMIT
    transaction.commit();
    // Still under the writer lock: the next transaction's callbacks come after these.
    for (const std::function<void()>& callback : txn.after_commit_) callback();
    return core::OkStatus();
  });
}

Status Database::WithSession(const std::function<Status(Session&)>& fn) {
  if (reads_use_writer_) {
    return WithWriterStatements([&](SQLite::Database&, StatementCache& statements) -> Status {
      Session session(statements);
      return fn(session);
    });
  }
  return WithReader([&](SQLite::Database& db) -> Status {
    StatementCache statements(db);
    Session session(statements);
    return fn(session);
  });
}

Status Database::WithReader(const std::function<Status(SQLite::Database&)>& fn) {
  if (reads_use_writer_) return WithWriter(fn);
  SCRM_ASSIGN_OR_RETURN(std::unique_ptr<SQLite::Database> reader, AcquireReader());
  Status status = RunGuarded(*reader, fn);
  ReleaseReader(std::move(reader));
  return status;
}

int Database::LatestVersion() const {
  const auto migrations = MigrationsOf(options_.schema);
  return migrations.empty() ? 0 : migrations.back().version;
}

StatusOr<int> Database::Migrate(int64_t now_ms, const MigrationContext& context) {
  if (context.inbox != nullptr &&
      (context.inbox == this || context.inbox->schema() != Schema::kInbox ||
       options_.schema != Schema::kMain ||
       (!IsMemoryPath(options_.path) && context.inbox->path() == options_.path))) {
    return core::InvalidArgumentError(
        "migrate: the inbox must be a separate inbox database, given to the main database");
  }
  const int latest = LatestVersion();
  SCRM_RETURN_IF_ERROR(WithWriter([&](SQLite::Database& db) -> Status {
    db.exec(kCreateMigrationsTable);
    const int version = ReadSchemaVersion(db);
    if (version > latest) {
      return core::FailedPreconditionError(NewerSchemaMessage(options_.schema, version, latest));
    }
    return core::OkStatus();
  }));
  int applied = 0;
  for (const Migration& migration : MigrationsOf(options_.schema)) {
    bool did_apply = false;
    const Status status = WithWriter([&](SQLite::Database& db) -> Status {
      SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
      // Checked under the write lock: another process may have applied it meanwhile.
      SQLite::Statement applied_query(db, kCountMigrationVersion);
      applied_query.bind(1, migration.version);
      if (applied_query.executeStep() && applied_query.getColumn(0).getInt() > 0) {
        return core::OkStatus();
      }
      // A statement still running would keep a migration from dropping a table (SQLITE_LOCKED).
      applied_query.reset();
      if (migration.before != nullptr) SCRM_RETURN_IF_ERROR(migration.before(db, context));
      db.exec(migration.sql);
      if (migration.edits_schema_text) {
        const int64_t schema_version = db.execAndGet(kPragmaSchemaVersion).getInt64();
        db.exec(std::string(kPragmaSchemaVersion) + "=" + std::to_string(schema_version + 1));
      }
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
      return Status(status.code(), SchemaLabel(options_.schema) + " migration " +
                                       std::to_string(migration.version) + " (" + migration.name +
                                       ") failed: " + status.message());
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
  if (!status.ok()) {
    return core::UnavailableError(SchemaLabel(options_.schema) +
                                  " does not answer: " + status.message());
  }
  const int latest = LatestVersion();
  if (version < latest) {
    return core::FailedPreconditionError(
        SchemaLabel(options_.schema) + " schema is at version " + std::to_string(version) +
        ", this binary needs " + std::to_string(latest) + ": migrations have not been applied");
  }
  if (version > latest) {
    return core::FailedPreconditionError(NewerSchemaMessage(options_.schema, version, latest));
  }
  return core::OkStatus();
}

Status Database::Close() {
  StopCheckpointer();
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
  if (writer_ != nullptr && !IsMemoryPath(options_.path) && options_.checkpoints) {
    status = RunGuarded(*writer_, [](SQLite::Database& db) -> Status {
      SQLite::Statement checkpoint(db, kPragmaWalCheckpointTruncate);
      if (checkpoint.executeStep() && checkpoint.getColumn(0).getInt() != 0) {
        return core::UnavailableError("WAL checkpoint was blocked by another connection");
      }
      return core::OkStatus();
    });
  }
  writer_statements_.reset();  // finalizes the statements; the connection cannot close before
  writer_.reset();
  return status;
}

StatementCache::StatementCache(SQLite::Database& conn) : conn_(conn) {}

StatementCache::~StatementCache() = default;

SQLite::Statement& StatementCache::Prepared(const char* sql) {
  std::unique_ptr<SQLite::Statement>& slot = statements_[sql];
  if (slot == nullptr) slot = std::make_unique<SQLite::Statement>(conn_, sql);
  return *slot;
}

SQLite::Statement& StatementCache::Get(const char* sql) {
  SQLite::Statement& statement = Prepared(sql);
  // tryReset: reset() would throw the error of a step that failed on the previous use.
  statement.tryReset();
  statement.clearBindings();
  used_.push_back(&statement);
  return statement;
}

void StatementCache::ResetUsed() {
  for (SQLite::Statement* statement : used_) statement->tryReset();
  used_.clear();
}

}  // namespace scrm::storage
