// TagPushStore: the tag_pushes table of migration 7 — which local tags scrmd has put on which
// platform target of a customer (docs/outbound.md "Tag push"). The tag push job reads it to
// compute what to add and what to remove, and records each target's call once it succeeded.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"

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

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail
// with the codes of Database::WithWriter / WithReader.
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

 private:
  Database& db_;
};

}  // namespace scrm::storage
