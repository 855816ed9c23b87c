#include "src/storage/space_usage.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>

namespace scrm::storage {
namespace {

// https://www.sqlite.org/dbstat.html
constexpr char kSelectSpaceByObject[] =
    "SELECT name, SUM(pgsize), COUNT(*) FROM dbstat GROUP BY name ORDER BY 2 DESC, 1";

}  // namespace

core::StatusOr<std::vector<ObjectSpace>> MeasureSpace(Database& db) {
  std::vector<ObjectSpace> out;
  bool available = true;
  SCRM_RETURN_IF_ERROR(db.WithReader([&](SQLite::Database& conn) -> core::Status {
    std::unique_ptr<SQLite::Statement> prepared;
    try {
      prepared = std::make_unique<SQLite::Statement>(conn, kSelectSpaceByObject);
    } catch (const SQLite::Exception&) {
      // "no such table: dbstat": the only way to ask whether the module exists in every build.
      available = false;
      return core::OkStatus();
    }
    SQLite::Statement& query = *prepared;
    while (query.executeStep()) {
      out.push_back(ObjectSpace{query.getColumn(0).getString(), query.getColumn(1).getInt64(),
                                query.getColumn(2).getInt64()});
    }
    return core::OkStatus();
  }));
  if (!available) {
    return core::UnavailableError("this SQLite library was built without the dbstat table");
  }
  return out;
}

}  // namespace scrm::storage
