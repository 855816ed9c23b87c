#include "src/storage/sql_util.h"

#include "src/storage/sqlite_errors.h"

namespace scrm::storage {

core::Status ValidateLimit(size_t limit) {
  if (limit == 0 || limit > kMaxListLimit) {
    return core::InvalidArgumentError("limit must be between 1 and " +
                                      std::to_string(kMaxListLimit));
  }
  return core::OkStatus();
}

namespace {

void MoveByIds(StatementCache& s, const char* move, std::span<const int64_t> ids, int64_t to) {
  for (int64_t id : ids) {
    SQLite::Statement& update = s.Prepared(move);
    Done done(update);
    update.bind(1, to);
    update.bind(2, id);
    update.exec();
  }
}

}  // namespace

core::StatusOr<std::vector<int64_t>> MoveAllRows(WriteTxn& txn, const char* select_ids,
                                                 const char* move, int64_t from, int64_t to,
                                                 bool select_binds_to) {
  return Guarded([&]() -> core::StatusOr<std::vector<int64_t>> {
    std::vector<int64_t> ids;
    {
      SQLite::Statement& q = txn.statements().Prepared(select_ids);
      Done done(q);
      q.bind(1, from);
      if (select_binds_to) q.bind(2, to);
      while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
    }
    MoveByIds(txn.statements(), move, ids, to);
    return ids;
  });
}

core::Status MoveRowsById(WriteTxn& txn, const char* move, std::span<const int64_t> ids,
                          int64_t to) {
  return Guarded([&]() -> core::Status {
    MoveByIds(txn.statements(), move, ids, to);
    return core::OkStatus();
  });
}

}  // namespace scrm::storage
