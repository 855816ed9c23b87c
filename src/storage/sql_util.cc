#include "src/storage/sql_util.h"

namespace scrm::storage {

core::Status ValidateLimit(size_t limit) {
  if (limit == 0 || limit > kMaxListLimit) {
    return core::InvalidArgumentError("limit must be between 1 and " +
                                      std::to_string(kMaxListLimit));
  }
  return core::OkStatus();
}

std::vector<int64_t> QueryIds(StatementCache& s, const char* sql, int64_t first, int64_t second,
                              bool bind_second) {
  SQLite::Statement& q = s.Prepared(sql);
  Done done(q);
  q.bind(1, first);
  if (bind_second) q.bind(2, second);
  std::vector<int64_t> ids;
  while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
  return ids;
}

void MoveByIds(StatementCache& s, const char* sql, std::span<const int64_t> ids, int64_t to) {
  for (int64_t id : ids) {
    SQLite::Statement& update = s.Prepared(sql);
    Done done(update);
    update.bind(1, to);
    update.bind(2, id);
    update.exec();
  }
}

}  // namespace scrm::storage
