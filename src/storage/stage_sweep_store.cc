#include "src/storage/stage_sweep_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>

namespace scrm::storage {
namespace {

// The last id of the page: the range (after, last] is what one call looks at.
constexpr char kSelectPageEnd[] =
    "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?)";
// Rule L7 (tagger::StageAfterInactivity): active stages only; at_risk and lost stay. The stage
// is tested with OR, not IN (see migration 6).
constexpr char kMarkInactive[] =
    "UPDATE customers SET stage = 'at_risk', stage_reason = 'inactive', stage_staff = '', "
    "updated_at_ms = ?1 WHERE id > ?2 AND id <= ?3 AND merged_into IS NULL AND "
    "(stage = 'new' OR stage = 'engaged' OR stage = 'customer' OR stage = 'repeat') AND "
    "(CASE WHEN last_interaction_at_ms > 0 THEN last_interaction_at_ms ELSE created_at_ms END) "
    "<= ?4";

}  // namespace

core::StatusOr<InactivePage> StageSweepStore::MarkInactive(int64_t after_id, size_t page,
                                                           int64_t cutoff_ms, int64_t now_ms) {
  if (page < 1 || page > kMaxPage) {
    return core::InvalidArgumentError("page must be within 1.." + std::to_string(kMaxPage));
  }
  InactivePage result;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> core::Status {
    SQLite::Transaction txn(db);
    SQLite::Statement end(db, kSelectPageEnd);
    end.bind(1, after_id);
    end.bind(2, static_cast<int64_t>(page));
    end.executeStep();
    const int64_t count = end.getColumn(1).getInt64();
    if (count == 0) {
      result.next_after_id = after_id;
      result.done = true;
      return core::OkStatus();
    }
    const int64_t last_id = end.getColumn(0).getInt64();
    SQLite::Statement mark(db, kMarkInactive);
    mark.bind(1, now_ms);
    mark.bind(2, after_id);
    mark.bind(3, last_id);
    mark.bind(4, cutoff_ms);
    result.marked = mark.exec();
    txn.commit();
    result.next_after_id = last_id;
    result.done = count < static_cast<int64_t>(page);
    return core::OkStatus();
  }));
  return result;
}

}  // namespace scrm::storage
