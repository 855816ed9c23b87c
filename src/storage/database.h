// Database: one SQLite file in WAL mode, one writer connection, a pool of read connections, the
// background WAL checkpointer, and the file's numbered, append-only schema migrations. scrmd
// opens two: the main file (profiles, outbox, keys, rules, ingest cursors) and the inbox file
// (the durable inbox, `interactions`). The only module that includes SQLiteCpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "src/core/status.h"
#include "src/storage/write_txn.h"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace scrm::storage {

// Which file a Database holds, and so which migrations apply to it (migrations.h).
enum class Schema {
  kMain,   // everything but the inbox; the ingest cursors too
  kInbox,  // the durable inbox (table interactions) only
};

struct DatabaseOptions {
  std::string path;               // file path; ":memory:" is allowed for tests (single conn)
  Schema schema = Schema::kMain;  // which migrations apply (the path names the file)
  // "full" | "normal", always set explicitly. full (the default): a commit is on disk when it
  // returns and survives a power loss; normal: it survives a process crash only.
  std::string synchronous = "full";
  int read_connections = 4;    // pool size, >= 0; 0 sends reads to the writer connection
  int busy_timeout_ms = 5000;  // >= 0; how long a connection waits for another process
  // WAL checkpoints (file databases only). The writer never checkpoints inside a commit (SQLite's
  // auto-checkpoint would fsync there and stall every waiting submitter); the checkpointer thread
  // does, with its own connection. See Database.
  int checkpoint_pages = 1000;        // >= 1; a PASSIVE checkpoint once the WAL holds this many
  int checkpoint_interval_ms = 1000;  // >= 1; and at least this often while new frames arrive
  // >= checkpoint_pages. Under a steady stream of commits a PASSIVE checkpoint never catches up
  // with the last frame, so SQLite never rewinds the WAL; once a round finds it this long, the
  // next writer first runs a RESTART checkpoint (copies the frames that round left and fsyncs
  // the database file: a short stall), and its commit starts the WAL over. Bounds the WAL file.
  int wal_restart_pages = 16000;
  // >= 0. Bytes of the file every connection reads through a memory map (PRAGMA mmap_size) instead
  // of a read() per page that its page cache does not hold; 0 = read(). The inbox's dedupe
  // lookups land on random pages of its key index: mapped, they cost no system call.
  int64_t mmap_bytes = 0;
  // false: no checkpointer thread and no TRUNCATE checkpoint on Close. For a short command next to
  // a running `scrmd serve` (`scrmd keys`): a TRUNCATE checkpoint waits for serve's readers while
  // holding the write lock, which made serve's writers time out. The frames it leaves in the WAL
  // are checkpointed by serve's checkpointer (or by the next process that checkpoints).
  bool checkpoints = true;
};

// What the checkpointer has done (tests, diagnostics).
struct CheckpointStats {
  uint64_t passive = 0;    // PASSIVE checkpoints run
  uint64_t restart = 0;    // RESTART checkpoints run under the writer lock
  int64_t wal_frames = 0;  // frames in the WAL after the last commit, as SQLite reported it
  uint64_t commits = 0;    // commits to the WAL so far
  // Commits that a finished PASSIVE round started after (their frames are in the database file).
  uint64_t covered_commits = 0;
  bool restart_due = false;  // the next writer runs a RESTART checkpoint first
};

// Prepared statements of one connection, each prepared on first use and kept for as long as the
// cache lives: the writer's for as long as the connection is open (preparing costs more than
// running a one-row INSERT), a read session's for one call (Database::WithSession). Statements
// are keyed by the address of their SQL, which must therefore be a named constant (static
// storage, never a temporary string): SQL lives in src/storage as named constants anyway, and a
// pointer is hashed without reading the text. Handed out under the lock of its connection only;
// not thread-safe on its own.
class StatementCache {
 public:
  explicit StatementCache(SQLite::Database& conn);
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // The statement for `sql`, reset and with no parameter bound. Valid until the enclosing
  // WithWriterStatements returns, which resets every statement it handed out (a SELECT left
  // mid-way would otherwise hold a read transaction open). Throws SQLite::Exception when `sql`
  // does not prepare (caught by WithWriterStatements like any other).
  SQLite::Statement& Get(const char* sql);
  // The statement for `sql` as its last user left it, without a reset or clearing its bindings
  // (each a library call on a hot path): for repositories, whose every use binds every parameter
  // and resets the statement when its scope ends (sql_util.h, Done). Throws like Get.
  SQLite::Statement& Prepared(const char* sql);
  // Resets every statement handed out by Get since the last call (Database, at the end of a scope).
  void ResetUsed();
  SQLite::Database& connection() const { return conn_; }

 private:
  SQLite::Database& conn_;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> statements_;
  std::vector<SQLite::Statement*> used_;
};

// One applied migration as recorded in schema_migrations.
struct MigrationRecord {
  int version = 0;
  std::string name;
  int64_t applied_at_ms = 0;
};

class Database;

// What a migration of the main file may need besides that file.
struct MigrationContext {
  // The inbox database (Schema::kInbox, already migrated). Main migration 8 moves the rows of an
  // older store's interactions table into it before dropping the table (inbox_move.h). Without
  // it, migration 8 only runs on a store whose interactions table is empty.
  Database* inbox = nullptr;
};

// Owns the connections. Thread-safe: WithWriter serialises writers on one mutex; WithReader
// hands each caller its own read connection from a pool (or the writer for ":memory:").
// Read connections are opened lazily, at most read_connections of them; a caller waits when all
// are in use. The fn given to WithWriter/WithReader must not call back into this Database (the
// locks are not reentrant) and must not keep the connection after it returns.
//
// Checkpointer: for a file database, Open starts one thread (storage's own, joined by Close) with
// its own read-write connection. The writer's auto-checkpoint is off; a WAL hook on the writer
// connection records the WAL's length after each commit and wakes the checkpointer once
// checkpoint_pages new frames have arrived. The checkpointer runs a PASSIVE checkpoint then, or
// every checkpoint_interval_ms while commits keep arriving: it copies committed frames into the
// database file and fsyncs it while commits go on. When a round finds the WAL at
// wal_restart_pages anyway, the next WithWriter / WithWriterStatements runs a RESTART checkpoint
// before fn (see DatabaseOptions). Durability is unchanged: a commit is
// in the WAL when it returns (synchronous=NORMAL survives a process crash; FULL also a power
// loss), and a checkpoint only copies committed frames. Checkpoint failures are retried on the
// next round (a WAL that cannot be checkpointed keeps growing, as with auto-checkpoint).
class Database {
 public:
  // Opens (creating parent directories and the file), sets WAL, synchronous, busy_timeout and
  // foreign_keys. Does not migrate. InvalidArgument for bad options; Internal when the directory
  // or the file cannot be created or WAL cannot be enabled.
  static core::StatusOr<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Applies every pending migration of the file's schema, each in its own transaction, recording
  // it in schema_migrations. Idempotent. Returns how many were applied. FailedPrecondition when
  // the database records a version newer than LatestVersion() (a newer binary migrated it), and
  // from main migration 8 when the main file still holds interactions and context.inbox is unset
  // (nothing of that migration is applied then). InvalidArgument when context.inbox is this
  // database, holds another schema or has this file's path.
  core::StatusOr<int> Migrate(int64_t now_ms, const MigrationContext& context = {});
  // Migrations recorded as applied, ascending (empty before the first Migrate).
  core::StatusOr<std::vector<MigrationRecord>> AppliedMigrations();
  // Highest version this binary knows for this file's schema.
  int LatestVersion() const;
  Schema schema() const { return options_.schema; }
  // True when the database answers and every known migration is applied (/readyz).
  // Unavailable when the database does not answer; FailedPrecondition when the schema is behind
  // or ahead of this binary, or after Close.
  core::Status CheckReady();
  // Checkpoints the WAL into the main file (TRUNCATE, unless options.checkpoints is false) and
  // closes every connection. Called on
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
  // WithWriter that also hands fn the writer connection's StatementCache, for statements run on
  // every write (the inbox's inserts). Same locking and error mapping.
  core::Status WithWriterStatements(
      const std::function<core::Status(SQLite::Database&, StatementCache&)>& fn);
  // Runs fn inside one write transaction (BEGIN IMMEDIATE) on the writer connection, under the
  // writer lock: commits when fn returns ok, rolls everything back when it returns an error
  // (returned as is) or throws (mapped as WithWriter maps it). fn gets the WriteTxn through which
  // repositories run their statements (prepared once per connection, write_txn.h); it must not
  // call back into this Database nor keep the WriteTxn. The first transaction on a main-schema
  // file raises the writer's page cache to 64 MiB (see kPragmaWriterCacheSize). After a
  // successful COMMIT, still under the writer lock, it runs the WriteTxn::AfterCommit callbacks.
  core::Status InTransaction(const std::function<core::Status(WriteTxn&)>& fn);
  // Runs fn with a Session on a read connection (WithReader; its statements are prepared for this
  // call) or, when reads use the writer, on the writer connection and its statement cache. For
  // the repositories' reads outside a transaction. Same errors as WithReader.
  core::Status WithSession(const std::function<core::Status(Session&)>& fn);
  // Whether another thread is waiting for the writer lock right now. A hint for long
  // transactions (the ingest worker's chunks on the main file): commit early and let the short
  // ones through (API writes, the outbox runner). The inbox writer has a file of its own.
  bool WriterWanted() const { return writer_waiters_.load(std::memory_order_relaxed) > 0; }
  // Same with a read connection (never blocks on the writer in WAL mode). The connection is
  // opened SQLite::OPEN_READONLY: writing through it fails with Internal.
  core::Status WithReader(const std::function<core::Status(SQLite::Database&)>& fn);

  const std::string& path() const { return options_.path; }
  CheckpointStats checkpoint_stats() const;

 private:
  explicit Database(DatabaseOptions options);

  // Opens writer_ and sets its pragmas. Called once from Open.
  core::Status OpenWriter();
  // Takes an idle read connection, opens a new one below the cap, or waits for one.
  core::StatusOr<std::unique_ptr<SQLite::Database>> AcquireReader();
  void ReleaseReader(std::unique_ptr<SQLite::Database> reader);

  // Called by the writer connection's WAL hook inside every commit (writer lock held): records
  // the WAL's length and wakes the checkpointer when it is due. Quick and non-blocking.
  void NoteWalCommit(int frames);
  // Opens the checkpointer's connection and starts its thread. Called once from Open.
  core::Status StartCheckpointer();
  void RunCheckpointer(std::unique_ptr<SQLite::Database> conn);
  // One PASSIVE round; asks for a RESTART when the WAL is still too long (checkpointer thread).
  void Checkpoint(SQLite::Database& conn, uint64_t commits);
  // Takes writer_mu_, counted in writer_waiters_ while it has to wait.
  std::unique_lock<std::mutex> LockWriter();
  // The RESTART checkpoint, on the writer connection with writer_mu_ held.
  void RestartWal();
  // Stops and joins the checkpointer thread (Close). Idempotent.
  void StopCheckpointer();
  DatabaseOptions options_;
  bool reads_use_writer_ = false;  // ":memory:" or read_connections == 0; set once in Open
  std::mutex writer_mu_;
  std::atomic<int> writer_waiters_{0};        // threads blocked on writer_mu_ (see WriterWanted)
  std::unique_ptr<SQLite::Database> writer_;  // guarded by writer_mu_
  // The writer's prepared statements; destroyed before writer_ (a statement keeps its
  // connection from closing). Guarded by writer_mu_.
  std::unique_ptr<StatementCache> writer_statements_;
  uint64_t transactions_ = 0;         // InTransaction calls so far (WriteTxn::serial); writer_mu_
  bool writer_cache_raised_ = false;  // kPragmaWriterCacheSize ran on writer_; writer_mu_
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;  // signalled when a reader is returned or on Close
  std::vector<std::unique_ptr<SQLite::Database>> idle_readers_;  // guarded by readers_mu_
  size_t open_readers_ = 0;  // idle + in use + being opened; guarded by readers_mu_
  // Written only with both writer_mu_ and readers_mu_ held, so either lock suffices to read it.
  bool closed_ = false;

  // Checkpointer.
  std::atomic<int64_t> wal_frames_{0};          // written by the WAL hook
  std::atomic<uint64_t> wal_commits_{0};        // written by the WAL hook
  std::atomic<bool> checkpoint_wanted_{false};  // the hook asked for a round, not yet run
  std::atomic<bool> restart_due_{false};        // the next writer runs RestartWal first
  // The WAL's length when the last round started; the hook counts new frames from here.
  std::atomic<int64_t> checkpointed_frames_{0};
  std::atomic<uint64_t> passive_checkpoints_{0};
  std::atomic<uint64_t> restart_checkpoints_{0};
  std::atomic<uint64_t> covered_commits_{0};
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;  // the checkpointer waits: wanted, stop or interval
  bool checkpoint_stop_ = false;           // guarded by checkpoint_mu_
  std::thread checkpointer_;
};

}  // namespace scrm::storage
