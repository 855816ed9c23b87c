// CustomerRepository: the customers table (main migration 3) — one row per person, with stage,
// owner, attributes and counters; merged customers stay with merged_into set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/database.h"
#include "src/storage/list_limit.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// List() filter; every member that is set must hold. Results ascend by id: page by passing the
// last id seen as after_id. Merged customers are left out.
struct CustomerFilter {
  std::optional<int64_t> tag_id;  // has a score on this tag
  // With tag_id: keeps only the customers whose stored score on the tag and the time it last
  // moved pass this (the caller decays the score: "holds the tag now"). Unset keeps every score.
  // Pages still hold up to `limit` matching customers.
  std::function<bool(double score, int64_t updated_at_ms, bool decays)> tag_score_filter;
  std::optional<model::LifecycleStage> stage;
  std::optional<std::string> owner_userid;
  // An identity value equal to it (openid, external_userid, unionid, phone, ERP number), or a
  // substring of an attribute key or value.
  std::optional<std::string> query;
  std::optional<int64_t> updated_after_ms;  // updated_at_ms > this
  int64_t after_id = 0;
  size_t limit = 50;  // 1..kMaxListLimit
};

// One page of CustomerRepository::MarkInactive.
struct InactivePage {
  int64_t next_after_id = 0;  // pass as after_id for the next page
  bool done = false;          // no customer after next_after_id
  int64_t marked = 0;         // customers moved to at_risk by this page
  // Those customers (ids ascending) and the stage each left: what a change sink is told.
  std::vector<std::pair<int64_t, model::LifecycleStage>> moved;
};

// Thread-safe: the methods that take a WriteTxn / Session run on its connection (its thread);
// List runs on a read connection of the Database, which it does not own. Errors come back as
// Status (sqlite_errors.h), never as exceptions; a read connection's errors as WithReader's.
class CustomerRepository {
 public:
  explicit CustomerRepository(Database& db) : db_(db) {}

  // Inserts every field but id (assigned, returned).
  core::StatusOr<int64_t> Create(WriteTxn& txn, const model::Customer& customer);
  // NotFound when there is no such customer.
  core::StatusOr<model::Customer> Get(Session& session, int64_t customer_id);
  // Writes every field of customer.id's row. NotFound when there is no such row.
  core::Status Update(WriteTxn& txn, const model::Customer& customer);
  // The lifecycle sweep (docs/tagging.md rule L7): looks at up to `page` (1..kMaxInactivePage)
  // customers with id > after_id (merged ones are skipped) and moves those in an active stage
  // (new, engaged, customer, repeat) whose last activity — the last interaction, or the creation
  // when there was none (a backfilled contact) — is at or before cutoff_ms to at_risk, reason
  // "inactive", updated_at_ms = now_ms.
  static constexpr size_t kMaxInactivePage = 10000;
  core::StatusOr<InactivePage> MarkInactive(WriteTxn& txn, int64_t after_id, size_t page,
                                            int64_t cutoff_ms, int64_t now_ms);
  // A page of customers (CustomerFilter), on a read connection. InvalidArgument for a limit out
  // of range.
  core::StatusOr<std::vector<model::Customer>> List(const CustomerFilter& filter);

 private:
  Database& db_;
};

}  // namespace scrm::storage
