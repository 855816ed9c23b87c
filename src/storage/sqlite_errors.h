// The one place that turns SQLiteCpp exceptions into core::Status (internal to src/storage: it
// includes SQLiteCpp). Database's writer and reader scopes and every repository call that runs
// statements inside a WriteTxn go through Guarded, so no library exception reaches the caller.
#pragma once

#include <SQLiteCpp/Exception.h>

#include <exception>
#include <string>

#include "src/core/status.h"

namespace scrm::storage {

// Maps a SQLite error to a canonical code (https://www.sqlite.org/rescode.html): UNIQUE /
// PRIMARY KEY -> AlreadyExists; CHECK / NOT NULL -> InvalidArgument; FOREIGN KEY ->
// FailedPrecondition; BUSY / LOCKED -> Unavailable; anything else -> Internal. The message is
// "sqlite: " and SQLite's.
core::Status FromSqliteException(const SQLite::Exception& e);

// Runs fn (returning Status or StatusOr<T>) and returns what it returns, or the mapped error of an
// exception it threw: a SQLite::Exception as FromSqliteException says, any other std::exception
// (a stored JSON document that does not parse, bad_alloc) as Internal "database: ...".
template <typename Fn>
auto Guarded(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const SQLite::Exception& e) {
    return FromSqliteException(e);
  } catch (const std::exception& e) {
    return core::InternalError(std::string("database: ") + e.what());
  }
}

}  // namespace scrm::storage
