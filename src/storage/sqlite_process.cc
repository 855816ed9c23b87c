#include "src/storage/sqlite_process.h"

#include <sqlite3.h>

namespace scrm::storage {

core::Status ConfigureSqliteForProcess() {
  // https://www.sqlite.org/c3ref/c_config_covering_index_scan.html
  if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK ||
      sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
    return core::FailedPreconditionError(
        "sqlite is already initialised: process-wide settings must come first");
  }
  return core::OkStatus();
}

}  // namespace scrm::storage
