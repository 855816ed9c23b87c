// TimelineRepository: the timeline table (main migration 3) — what happened to a customer, one
// entry per (customer, interaction, kind); the ingest path's idempotency key for built-in effects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/database.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Thread-safety and errors as CustomerRepository.
class TimelineRepository {
 public:
  explicit TimelineRepository(Database& db) : db_(db) {}

  // Adds the entry; its id, or nullopt when (customer_id, interaction_id, kind) is there already.
  core::StatusOr<std::optional<int64_t>> Add(WriteTxn& txn, const model::TimelineEntry& entry);
  // Entries of `kind` with from_ms <= at_ms <= to_ms from interactions with min_interaction_id
  // <= id <= max_interaction_id. Served by timeline_entry (customer, kind, interaction): the id
  // range bounds the scan, at_ms is checked on the rows in it.
  core::StatusOr<int64_t> Count(Session& session, int64_t customer_id, std::string_view kind,
                                int64_t from_ms, int64_t to_ms, int64_t min_interaction_id,
                                int64_t max_interaction_id);
  // On a read connection: entries of the customer with id > after_id, ascending by id, at most
  // limit (1..kMaxListLimit).
  core::StatusOr<std::vector<model::TimelineEntry>> List(int64_t customer_id, int64_t after_id,
                                                         size_t limit);
  // Moves the entries of `from` to `to` (a merge), leaving behind those `to` has already (same
  // interaction and kind); the ids moved, ascending.
  core::StatusOr<std::vector<int64_t>> MoveAll(WriteTxn& txn, int64_t from, int64_t to);
  // Moves the entries with these ids to `to` (undoing a merge).
  core::Status MoveById(WriteTxn& txn, std::span<const int64_t> ids, int64_t to);

 private:
  Database& db_;
};

}  // namespace scrm::storage
