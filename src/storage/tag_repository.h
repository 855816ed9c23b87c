// TagRepository: the tag library — tag_groups and tags (main migration 3): names, decay
// (half-life, threshold) and the platform mappings (WeCom corp tag / group id, OA tag id).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/database.h"
#include "src/storage/list_limit.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// List(TagFilter): tags ascending by id, optionally of one group. Page by passing the last id
// seen as after_id.
struct TagFilter {
  std::optional<std::string> group;  // the group's name
  int64_t after_id = 0;
  size_t limit = 50;  // 1..kMaxListLimit
};

// Thread-safety and errors as CustomerRepository. GetOrCreate keeps the tags it resolved for the
// length of one transaction (the ingest worker resolves the same few tags for every interaction
// of a chunk); that memo is only touched inside a WriteTxn of the repository's Database, whose
// writer lock guards it.
class TagRepository {
 public:
  explicit TagRepository(Database& db) : db_(db) {}

  // The tag `name` in group `group_name`, creating the group (with defaults' half-life,
  // threshold and mapping) and the tag when missing. Remembered for the transaction.
  core::StatusOr<model::TagDetail> GetOrCreate(WriteTxn& txn, std::string_view group_name,
                                               std::string_view name,
                                               const model::TagGroup& defaults);
  core::StatusOr<std::optional<model::TagDetail>> Find(Session& session,
                                                       std::string_view group_name,
                                                       std::string_view name);
  // The same on a read connection.
  core::StatusOr<std::optional<model::TagDetail>> Find(std::string_view group_name,
                                                       std::string_view name);
  // NotFound when there is no such tag.
  core::StatusOr<model::TagDetail> Get(Session& session, int64_t tag_id);
  // On a read connection: nullopt when there is no such tag.
  core::StatusOr<std::optional<model::TagDetail>> FindById(int64_t tag_id);
  core::StatusOr<std::optional<model::TagDetail>> FindByWecomId(Session& session,
                                                                std::string_view wecom_tag_id);
  core::StatusOr<std::optional<model::TagGroup>> FindGroup(Session& session, std::string_view name);
  // The group called `name`, created with defaults' half-life, threshold and mapping if missing.
  core::StatusOr<model::TagGroup> GetOrCreateGroup(WriteTxn& txn, std::string_view name,
                                                   const model::TagGroup& defaults);
  // Writes name, threshold and mappings of tag.id. NotFound; AlreadyExists when the name or the
  // WeCom id is taken.
  core::Status Update(WriteTxn& txn, const model::Tag& tag);
  core::Status UpdateGroup(WriteTxn& txn, const model::TagGroup& group);
  // Unmaps the WeCom corp tag (or group, and every tag in it) with this id; rows changed.
  core::StatusOr<int64_t> ClearWecomTagMapping(WriteTxn& txn, std::string_view wecom_tag_id);
  core::StatusOr<int64_t> ClearWecomGroupMapping(WriteTxn& txn, std::string_view wecom_group_id);

  // --- on a read connection
  // Every tag with its group, by group id then tag id.
  core::StatusOr<std::vector<model::TagDetail>> List();
  // A page of tags with their groups (TagFilter). InvalidArgument for a limit out of range.
  core::StatusOr<std::vector<model::TagDetail>> List(const TagFilter& filter);
  // Every tag group, by id.
  core::StatusOr<std::vector<model::TagGroup>> ListGroups();

 private:
  // The memo of GetOrCreate, emptied when a new transaction (serial) uses it.
  std::unordered_map<std::string, model::TagDetail>& Memo(const WriteTxn& txn);

  Database& db_;
  std::unordered_map<std::string, model::TagDetail> memo_;  // by "group\x1fname"
  uint64_t memo_serial_ = 0;                                // the transaction memo_ is of
};

}  // namespace scrm::storage
