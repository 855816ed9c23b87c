// FollowerRepository: the followers table (main migration 3) — who follows a customer: a WeCom
// member's follow relation (userid) or an OA subscription (userid ""), its state and the owner.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Stateless; every method runs on the connection of the WriteTxn / Session it is given. Errors
// come back as Status (sqlite_errors.h), never as exceptions.
class FollowerRepository {
 public:
  // The customer's relations, by id.
  core::StatusOr<std::vector<model::Follower>> List(Session& session, int64_t customer_id);
  // Creates or replaces the (customer_id, account_id, userid) relation; its id.
  core::StatusOr<int64_t> Put(WriteTxn& txn, const model::Follower& follower);
  // Moves the relations of `from` to `to` (a merge), leaving behind those `to` has already (same
  // account and userid); the ids moved, ascending.
  core::StatusOr<std::vector<int64_t>> MoveAll(WriteTxn& txn, int64_t from, int64_t to);
  // Moves the relations with these ids to `to` (undoing a merge).
  core::Status MoveById(WriteTxn& txn, std::span<const int64_t> ids, int64_t to);
};

}  // namespace scrm::storage
