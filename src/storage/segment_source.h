// The rows the segment index (campaigns/segments) is built from: customers, their scored tags
// with the tag definitions, follow relations, identities and recent timeline, streamed in
// customer id order (the whole store at start) or for one customer (after a merge, an undo or a
// new identity). Reads only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// One customer_tags row as the index keeps it.
struct IndexTagRow {
  int64_t customer_id = 0;
  int64_t tag_id = 0;
  double score = 0;
  int64_t updated_at_ms = 0;
  bool decays = true;
};

// One follow relation (followers) as the index keeps it.
struct IndexFollowerRow {
  int64_t customer_id = 0;
  std::string account_id;
  std::string userid;  // "" for an OA subscription
  model::FollowerState state = model::FollowerState::kActive;
};

// One identity (identities) as the index keeps it.
struct IndexIdentityRow {
  int64_t customer_id = 0;
  std::string platform;
  std::string account_id;
};

// One timeline entry of an interaction (the system kinds "stage" / "stage.rule" are left out).
struct IndexTimelineRow {
  int64_t customer_id = 0;
  std::string kind;
  int64_t at_ms = 0;
};

// Streams rows to fn (customers and tag rows in customer id order, the others in no particular
// order); `only` restricts them to one customer. The first error
// of fn stops the read and is returned; Internal for an unreadable row. Each call is one statement
// on `session` (a read connection for the build, the WriteTxn itself for a reload, so that it
// sees the transaction's own rows).
class SegmentSourceReader {
 public:
  // Customers not merged into another (merged_into IS NULL).
  static core::Status Customers(Session& session, std::optional<int64_t> only,
                                const std::function<core::Status(const model::Customer&)>& fn);
  // Every tag with its group (ids ascending).
  static core::Status TagDetails(Session& session,
                                 const std::function<core::Status(const model::TagDetail&)>& fn);
  static core::Status TagRows(Session& session, std::optional<int64_t> only,
                              const std::function<core::Status(const IndexTagRow&)>& fn);
  static core::Status Followers(Session& session, std::optional<int64_t> only,
                                const std::function<core::Status(const IndexFollowerRow&)>& fn);
  static core::Status Identities(Session& session, std::optional<int64_t> only,
                                 const std::function<core::Status(const IndexIdentityRow&)>& fn);
  // Entries with at_ms >= since_ms.
  static core::Status Timeline(Session& session, std::optional<int64_t> only, int64_t since_ms,
                               const std::function<core::Status(const IndexTimelineRow&)>& fn);
};

}  // namespace scrm::storage
