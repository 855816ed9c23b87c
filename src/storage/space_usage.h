// Space usage: the bytes each table and index takes in the database file, for operators and the
// capacity figures of bench/profile_bench.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace scrm::storage {

struct ObjectSpace {
  std::string name;   // table or index ("customer_tags", "customer_tags_tag", ...)
  int64_t bytes = 0;  // pages used (including free space inside them), times the page size
  int64_t pages = 0;
};

// Every table and index with the space it uses, largest first, read from SQLite's dbstat
// virtual table on a read connection (it scans the whole file: seconds for gigabytes).
// Unavailable when the SQLite library was built without dbstat (SQLITE_ENABLE_DBSTAT_VTAB).
core::StatusOr<std::vector<ObjectSpace>> MeasureSpace(Database& db);

}  // namespace scrm::storage
