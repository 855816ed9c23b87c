// MergeRepository: the merges table (main migration 3) — who was merged into whom, when and why,
// with the undo state (merges.undo_json) — and merge_exclusions, the pairs an operator unmerged
// that are never merged automatically again.
#pragma once

#include <cstdint>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/database.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// A stored merge with what is needed to undo it.
struct StoredMerge {
  model::MergeRecord record;
  model::MergeUndoState undo;
};

// Thread-safety and errors as CustomerRepository. An undo state that does not parse is Internal.
class MergeRepository {
 public:
  explicit MergeRepository(Database& db) : db_(db) {}

  // Stores a merge record (id assigned, returned) with its undo state.
  core::StatusOr<int64_t> Insert(WriteTxn& txn, const model::MergeRecord& record,
                                 const model::MergeUndoState& undo);
  core::StatusOr<StoredMerge> Get(Session& session, int64_t merge_id);  // NotFound
  core::StatusOr<StoredMerge> Get(int64_t merge_id);  // the same on a read connection
  // Merges where the customer is survivor or merged, by id.
  core::StatusOr<std::vector<model::MergeRecord>> ListOfCustomer(Session& session,
                                                                 int64_t customer_id);
  // FailedPrecondition when the merge is already undone; NotFound when missing.
  core::Status MarkUndone(WriteTxn& txn, int64_t merge_id, int64_t at_ms);
  // The pair (in either order) must not be merged automatically again.
  core::Status AddExclusion(WriteTxn& txn, int64_t customer_a, int64_t customer_b);
  core::StatusOr<bool> IsExcluded(Session& session, int64_t customer_a, int64_t customer_b);

 private:
  Database& db_;
};

}  // namespace scrm::storage
