// CustomerTagRepository: the customer_tags table (main migration 3) — a customer's score on a
// tag, when it last moved, whether it decays, its source and evidence.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Every method runs on the connection of the WriteTxn / Session it is given (its thread);
// stateless otherwise. Errors come back as Status (sqlite_errors.h), never as exceptions.
class CustomerTagRepository {
 public:
  core::StatusOr<std::optional<model::CustomerTag>> Get(Session& session, int64_t customer_id,
                                                        int64_t tag_id);
  // Creates or replaces the (customer_id, tag_id) row.
  core::Status Put(WriteTxn& txn, const model::CustomerTag& tag);
  // False when there was no such row.
  core::StatusOr<bool> Delete(WriteTxn& txn, int64_t customer_id, int64_t tag_id);
  // The customer's rows, by tag id.
  core::StatusOr<std::vector<model::CustomerTag>> List(Session& session, int64_t customer_id);
  // The same with each tag's definition and group.
  core::StatusOr<std::vector<model::CustomerTagDetail>> ListDetails(Session& session,
                                                                    int64_t customer_id);
  // The rows on the tag whose source is not "platform" (the ones a tag push may concern), by
  // customer id. Served by customer_tags_tag (tag_id, customer_id).
  core::StatusOr<std::vector<model::CustomerTag>> ListLocalHolders(Session& session,
                                                                   int64_t tag_id);
  // Moves one row to another customer (who must not have the tag). NotFound when `from` has no
  // such row.
  core::Status Move(WriteTxn& txn, int64_t from_customer, int64_t to_customer, int64_t tag_id);
};

}  // namespace scrm::storage
