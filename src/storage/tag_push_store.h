// TagPushStore: the tag_pushes table of migration 7 — which local tags scrmd has put on which
// platform target of a customer (docs/outbound.md "Tag push"). The tag push job reads it to
// compute what to add and what to remove, and records each target's call once it succeeded; the
// decay sweep reads it with the profile tables it refers to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/database.h"
#include "src/storage/list_limit.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// One tag that scrmd set on one target: a WeCom follow relation (target = the member's userid)
// or an OA follower (target = the openid) of `account_id`.
struct TagPush {
  int64_t customer_id = 0;
  std::string account_id;
  std::string target;
  int64_t tag_id = 0;           // the local tag
  std::string platform_tag_id;  // what was sent: the corp tag id, or the OA tag id as text
  int64_t pushed_at_ms = 0;

  friend bool operator==(const TagPush&, const TagPush&) = default;
};

// The key of a tag_pushes row: customer, platform account, target, local tag. Ordered as stored.
struct PushedTagKey {
  int64_t customer_id = 0;
  std::string account_id;
  std::string target;
  int64_t tag_id = 0;
};

// A tag scrmd pushed to a target, with what decides whether it should still be there: the
// customer's stored score on the tag (unset when the row is gone), the tag's decay and its
// mapping now.
struct PushedTagState {
  PushedTagKey key;
  std::string platform_tag_id;  // what was pushed
  std::optional<model::CustomerTag> row;
  int half_life_days = 0;
  double threshold = 1.0;  // the tag's override, else its group's
  std::string wecom_tag_id;
  int64_t oa_tag_id = 0;
};

// Thread-safe (all access through Database or the caller's WriteTxn). Does not own the Database.
// Calls may also fail with the codes of Database::InTransaction / WithReader.
class TagPushStore {
 public:
  explicit TagPushStore(Database& db) : db_(db) {}

  // The customer's pushes on the account, by target then tag id.
  core::StatusOr<std::vector<TagPush>> List(int64_t customer_id, std::string_view account_id);
  // Records one target's successful call in one transaction: every row of `added` is stored
  // (replacing the row of the same customer, account, target and tag) and the rows of
  // `removed_tag_ids` on (customer_id, account_id, target) are deleted. InvalidArgument when a
  // row of `added` names another customer, account or target.
  core::Status Record(int64_t customer_id, std::string_view account_id, std::string_view target,
                      std::span<const TagPush> added, std::span<const int64_t> removed_tag_ids);
  // The same inside the caller's transaction.
  core::Status Record(WriteTxn& txn, int64_t customer_id, std::string_view account_id,
                      std::string_view target, std::span<const TagPush> added,
                      std::span<const int64_t> removed_tag_ids);
  // Up to `limit` (1..kMaxListLimit) pushed tags with keys after `after`, ascending by key
  // (start with a default key), on a read connection. Reads tag_pushes with the profile tables
  // it refers to (customer_tags, tags, tag_groups).
  core::StatusOr<std::vector<PushedTagState>> ListPushedTagStates(const PushedTagKey& after,
                                                                  size_t limit);

 private:
  Database& db_;
};

}  // namespace scrm::storage
