#include "src/storage/sqlite_errors.h"

#include <sqlite3.h>

namespace scrm::storage {

core::Status FromSqliteException(const SQLite::Exception& e) {
  const std::string message = std::string("sqlite: ") + e.what();
  // The primary code is the low byte of the extended one.
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

}  // namespace scrm::storage
