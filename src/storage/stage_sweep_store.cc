#include "src/storage/stage_sweep_store.h"

namespace scrm::storage {

core::StatusOr<InactivePage> StageSweepStore::MarkInactive(int64_t after_id, size_t page,
                                                           int64_t cutoff_ms, int64_t now_ms) {
  InactivePage result;
  SCRM_RETURN_IF_ERROR(db_.InTransaction([&](WriteTxn& txn) -> core::Status {
    SCRM_ASSIGN_OR_RETURN(
        result, CustomerRepository(db_).MarkInactive(txn, after_id, page, cutoff_ms, now_ms));
    if (on_marked_ && !result.moved.empty()) return on_marked_(txn, result, now_ms);
    return core::OkStatus();
  }));
  return result;
}

}  // namespace scrm::storage
