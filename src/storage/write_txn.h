// Session and WriteTxn: the handles through which the repositories of src/storage run their SQL.
// A WriteTxn is one write transaction of a Database (Database::InTransaction), shared by every
// repository that takes part in it, so that any module can make its writes to several table
// groups atomically (a chunk of interactions with the ingest cursor; later an order with its
// stock reservation, journal and outbox job). A Session is a connection with prepared statements
// for reads (Database::WithSession), and every WriteTxn is one too: a repository read that takes
// a Session& runs inside a transaction or on a read connection alike.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace SQLite {
class Database;
}  // namespace SQLite

namespace scrm::storage {

class Database;
class StatementCache;

// A connection and its statement cache, valid only inside the Database call that handed it out.
// Repositories (src/storage) use statements() and connection(); outside storage SQLite's types
// are incomplete, so other modules only pass a Session on. Not thread-safe: one thread, the
// caller of that Database call.
class Session {
 public:
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  StatementCache& statements() const { return statements_; }
  SQLite::Database& connection() const;

 protected:
  explicit Session(StatementCache& statements) : statements_(statements) {}
  ~Session() = default;

 private:
  friend class Database;
  StatementCache& statements_;
};

// One write transaction (BEGIN IMMEDIATE) on a Database's writer connection, under its writer
// lock, valid only inside the fn of Database::InTransaction: it commits when fn returns ok and
// rolls back otherwise. Repository methods that write take it; a failed statement undoes only
// itself, the caller decides whether to go on or return the error. Not thread-safe.
class WriteTxn final : public Session {
 public:
  // Another thread waits to write to this file (Database::WriterWanted): a long transaction may
  // end early.
  bool OthersWaiting() const;
  // Distinct for every transaction of this Database: a repository that keeps something for the
  // length of one transaction (the tags it resolved) keys it by this.
  uint64_t serial() const { return serial_; }
  // The Database this transaction writes to.
  const Database& database() const { return database_; }
  // The rowid of the last INSERT on the connection.
  int64_t LastInsertRowid() const;
  // Runs fn once this transaction has committed: callbacks run in registration order right after
  // a successful COMMIT, still on this thread and under the writer lock, so the callbacks of
  // successive transactions run in commit order (an in-memory index follows the file exactly).
  // Never after a rollback (fn returned an error, or COMMIT failed): they are dropped. A callback
  // must not call back into the Database (its writer lock is held) and cannot fail: what it does
  // happens after the data is durable.
  void AfterCommit(std::function<void()> fn) { after_commit_.push_back(std::move(fn)); }

 private:
  friend class Database;
  WriteTxn(const Database& database, StatementCache& statements, uint64_t serial)
      : Session(statements), database_(database), serial_(serial) {}
  const Database& database_;
  const uint64_t serial_;
  std::vector<std::function<void()>> after_commit_;  // run by Database::InTransaction
};

}  // namespace scrm::storage
