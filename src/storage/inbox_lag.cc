#include "src/storage/inbox_lag.h"

#include <SQLiteCpp/SQLiteCpp.h>

namespace scrm::storage {
namespace {

constexpr char kSelectOldestAfter[] =
    "SELECT received_at_ms FROM interactions WHERE id > ? ORDER BY id LIMIT 1";
constexpr char kCountAfterCapped[] =
    "SELECT COUNT(*) FROM (SELECT 1 FROM interactions WHERE id > ? LIMIT ?)";

}  // namespace

core::StatusOr<InboxLag> InboxLagReader::Read(int64_t cursor, int64_t max_count) {
  if (max_count < 1) return core::InvalidArgumentError("max_count must be >= 1");
  InboxLag lag;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> core::Status {
    SQLite::Statement oldest(db, kSelectOldestAfter);
    oldest.bind(1, cursor);
    if (!oldest.executeStep()) return core::OkStatus();  // nothing pending
    lag.oldest_received_at_ms = oldest.getColumn(0).getInt64();
    SQLite::Statement count(db, kCountAfterCapped);
    count.bind(1, cursor);
    count.bind(2, max_count);
    if (count.executeStep()) lag.pending = count.getColumn(0).getInt64();
    lag.capped = lag.pending >= max_count;
    return core::OkStatus();
  }));
  return lag;
}

}  // namespace scrm::storage
