// ProfileStore: the customer-profile tables of migration 3 (customers, identities, tag groups
// and tags, customer tags, timeline, follow-up tasks, followers, applied effects, merges).
// Writes go through ProfileTxn, a transaction-scoped handle, so that the ingest worker can run
// identity -> tagger -> profile -> triggers for a whole chunk of interactions and advance its
// cursor in ONE SQLite transaction while the domain code (src/profiles) never sees SQLite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/model/tag_rule.h"
#include "src/storage/database.h"
#include "src/storage/outbox_store.h"

namespace scrm::storage {

// A stored merge with what is needed to undo it.
struct StoredMerge {
  model::MergeRecord record;
  model::MergeUndoState undo;
};

// ListCustomers() filter; every member that is set must hold. Results ascend by id: page by
// passing the last id seen as after_id. Merged customers are left out.
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
  size_t limit = 50;  // 1..ProfileStore::kMaxListLimit
};

// ListTags(TagFilter): tags ascending by id, optionally of one group. Page by passing the last
// id seen as after_id.
struct TagFilter {
  std::optional<std::string> group;  // the group's name
  int64_t after_id = 0;
  size_t limit = 50;  // 1..ProfileStore::kMaxListLimit
};

// The key of a tag_pushes row (migration 7): customer, platform account, target (a WeCom
// member's userid or an OA openid), local tag. Ordered as stored.
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

// Tasks of one owner, by id.
struct TaskFilter {
  std::string owner_userid;
  std::optional<model::TaskStatus> status;
  int64_t after_id = 0;
  size_t limit = 50;  // 1..ProfileStore::kMaxListLimit
};

// The write handle of one transaction, valid only inside ProfileStore::RunInTransaction's fn.
// Every method runs its SQL on the transaction's connection with statements prepared once per
// transaction; SQLite errors come back as Status (UNIQUE -> AlreadyExists, CHECK / NOT NULL ->
// InvalidArgument, busy -> Unavailable, else Internal) and never as exceptions. A failed
// statement undoes only itself: the caller decides whether to go on or to return the error,
// which rolls the whole transaction back. Not thread-safe (one transaction, one thread).
class ProfileTxn {
 public:
  ~ProfileTxn();
  ProfileTxn(const ProfileTxn&) = delete;
  ProfileTxn& operator=(const ProfileTxn&) = delete;

  // Another thread waits to write to the main file (Database::WriterWanted): a long transaction
  // may end early.
  bool OthersWaiting() const;

  // --- customers
  // Inserts every field but id (assigned, returned).
  core::StatusOr<int64_t> CreateCustomer(const model::Customer& customer);
  // NotFound when there is no such customer.
  core::StatusOr<model::Customer> GetCustomer(int64_t customer_id);
  // Writes every field of customer.id's row. NotFound when there is no such row.
  core::Status UpdateCustomer(const model::Customer& customer);

  // --- identities
  // The customer the identity resolves to (one statement: the ingest worker's first read).
  core::StatusOr<std::optional<model::Customer>> FindCustomerByIdentity(std::string_view platform,
                                                                        std::string_view account_id,
                                                                        model::IdentityKind kind,
                                                                        std::string_view value);
  core::StatusOr<std::optional<model::Identity>> FindIdentity(std::string_view platform,
                                                              std::string_view account_id,
                                                              model::IdentityKind kind,
                                                              std::string_view value);
  // Stores identity (id and created_at_ms as given, id assigned); the stored row. AlreadyExists
  // when (platform, account_id, kind, value) belongs to a customer already.
  core::StatusOr<model::Identity> AddIdentity(const model::Identity& identity);
  core::StatusOr<std::vector<model::Identity>> ListIdentities(int64_t customer_id);

  // --- tag groups and tags
  // The tag `name` in group `group_name`, creating the group (with defaults' half-life,
  // threshold and mapping) and the tag when missing. Cached for the transaction.
  core::StatusOr<model::TagDetail> GetOrCreateTag(std::string_view group_name,
                                                  std::string_view name,
                                                  const model::TagGroup& defaults);
  core::StatusOr<std::optional<model::TagDetail>> FindTag(std::string_view group_name,
                                                          std::string_view name);
  // NotFound when there is no such tag.
  core::StatusOr<model::TagDetail> GetTag(int64_t tag_id);
  core::StatusOr<std::optional<model::TagDetail>> FindTagByWecomId(std::string_view wecom_tag_id);
  core::StatusOr<std::optional<model::TagGroup>> FindTagGroup(std::string_view name);
  // The group called `name`, created with defaults' half-life, threshold and mapping if missing.
  core::StatusOr<model::TagGroup> GetOrCreateTagGroup(std::string_view name,
                                                      const model::TagGroup& defaults);
  // Writes name, threshold and mappings of tag.id. NotFound; AlreadyExists when the name or the
  // WeCom id is taken.
  core::Status UpdateTag(const model::Tag& tag);
  core::Status UpdateTagGroup(const model::TagGroup& group);
  // Unmaps the WeCom corp tag (or group, and every tag in it) with this id; rows changed.
  core::StatusOr<int64_t> ClearWecomTagMapping(std::string_view wecom_tag_id);
  core::StatusOr<int64_t> ClearWecomGroupMapping(std::string_view wecom_group_id);

  // --- customer tags
  core::StatusOr<std::optional<model::CustomerTag>> GetCustomerTag(int64_t customer_id,
                                                                   int64_t tag_id);
  // Creates or replaces the (customer_id, tag_id) row.
  core::Status PutCustomerTag(const model::CustomerTag& tag);
  // False when there was no such row.
  core::StatusOr<bool> DeleteCustomerTag(int64_t customer_id, int64_t tag_id);
  core::StatusOr<std::vector<model::CustomerTag>> ListCustomerTags(int64_t customer_id);
  // The rows on the tag whose source is not "platform" (the ones a tag push may concern), by
  // customer id. Served by customer_tags_tag (tag_id, customer_id).
  core::StatusOr<std::vector<model::CustomerTag>> ListLocalTagHolders(int64_t tag_id);
  // Moves one row to another customer (who must not have the tag).
  core::Status MoveCustomerTag(int64_t from_customer, int64_t to_customer, int64_t tag_id);

  // --- timeline
  // Adds the entry; its id, or nullopt when (customer_id, interaction_id, kind) is there already.
  core::StatusOr<std::optional<int64_t>> AddTimeline(const model::TimelineEntry& entry);
  // Entries of `kind` with from_ms <= at_ms <= to_ms from interactions with min_interaction_id
  // <= id <= max_interaction_id. Served by timeline_entry (customer, kind, interaction): the id
  // range bounds the scan, at_ms is checked on the rows in it.
  core::StatusOr<int64_t> CountTimeline(int64_t customer_id, std::string_view kind, int64_t from_ms,
                                        int64_t to_ms, int64_t min_interaction_id,
                                        int64_t max_interaction_id);

  // --- tasks
  // Adds the task; its id, or nullopt when a task with the same (source_interaction_id,
  // source_rule_id, title) exists (source_interaction_id 0 never conflicts).
  core::StatusOr<std::optional<int64_t>> AddTask(const model::FollowUpTask& task);
  core::StatusOr<model::FollowUpTask> GetTask(int64_t task_id);              // NotFound
  core::Status UpdateTaskStatus(int64_t task_id, model::TaskStatus status);  // NotFound

  // --- followers
  core::StatusOr<std::vector<model::Follower>> ListFollowers(int64_t customer_id);
  // Creates or replaces the (customer_id, account_id, userid) relation; its id.
  core::StatusOr<int64_t> PutFollower(const model::Follower& follower);

  // --- idempotency
  // Records that `effect_key` of the interaction has been applied: true the first time, false
  // when it was recorded before (a replay or a re-delivery), in which case the caller skips it.
  core::StatusOr<bool> RecordEffectOnce(int64_t interaction_id, std::string_view effect_key);

  // --- merges: the data moves (the profile service decides what to combine)
  // Move every row of `from` to `to`; the ids moved, ascending.
  core::StatusOr<std::vector<int64_t>> MoveIdentities(int64_t from, int64_t to);
  core::StatusOr<std::vector<int64_t>> MoveTasks(int64_t from, int64_t to);
  // Same, leaving behind the entries / relations `to` already has (same interaction and kind /
  // same account and userid).
  core::StatusOr<std::vector<int64_t>> MoveTimeline(int64_t from, int64_t to);
  core::StatusOr<std::vector<int64_t>> MoveFollowers(int64_t from, int64_t to);
  // Move the rows with these ids to `to` (the reverse of the moves above).
  core::Status MoveIdentitiesById(std::span<const int64_t> ids, int64_t to);
  core::Status MoveTasksById(std::span<const int64_t> ids, int64_t to);
  core::Status MoveTimelineById(std::span<const int64_t> ids, int64_t to);
  core::Status MoveFollowersById(std::span<const int64_t> ids, int64_t to);
  // Stores a merge record (id assigned, returned) with its undo state.
  core::StatusOr<int64_t> InsertMerge(const model::MergeRecord& record,
                                      const model::MergeUndoState& undo);
  core::StatusOr<StoredMerge> GetMerge(int64_t merge_id);  // NotFound
  // Merges where the customer is survivor or merged, by id.
  core::StatusOr<std::vector<model::MergeRecord>> ListMerges(int64_t customer_id);
  // FailedPrecondition when the merge is already undone; NotFound when missing.
  core::Status MarkMergeUndone(int64_t merge_id, int64_t at_ms);
  // The pair (in either order) must not be merged automatically again.
  core::Status AddMergeExclusion(int64_t customer_a, int64_t customer_b);
  core::StatusOr<bool> IsMergeExcluded(int64_t customer_a, int64_t customer_b);

  // --- outbox
  // Queues a platform job in this transaction (the rules of OutboxStore::Enqueue): it commits
  // or rolls back with the profile change that needs it. False when the dedupe key is queued
  // already (a replay).
  core::StatusOr<bool> EnqueueJob(const OutboxJob& job, int64_t now_ms);
  // OutboxStore::EnqueueCoalescedOn in this transaction: false when a job for the same subject
  // (the prefix in job.dedupe_key) is waiting unclaimed already.
  core::StatusOr<bool> EnqueueCoalescedJob(const OutboxJob& job, int64_t now_ms);

  // --- ingest
  // Records `last_id` as ingest cursor `name` in this transaction (table ingest_cursors).
  core::Status SetCursor(std::string_view name, int64_t last_id);

  // --- reads inside the transaction
  core::StatusOr<model::CustomerProfile> GetProfile(int64_t customer_id);  // NotFound

 private:
  friend class ProfileStore;
  struct Impl;
  explicit ProfileTxn(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail
// with the codes of Database::WithWriter / WithReader.
class ProfileStore {
 public:
  static constexpr size_t kMaxListLimit = 1000;

  explicit ProfileStore(Database& db) : db_(db) {}

  // Runs fn inside one write transaction (BEGIN IMMEDIATE): commits when fn returns ok, rolls
  // everything back when it returns an error (returned as is) or throws. fn must not call back
  // into this store or the Database, nor keep the ProfileTxn. The first call raises the writer
  // connection's page cache to 64 MiB (see kPragmaWriterCacheSize).
  core::Status RunInTransaction(const std::function<core::Status(ProfileTxn&)>& fn);

  // --- reads (a read connection; never blocks on the writer)
  core::StatusOr<model::CustomerProfile> GetProfile(int64_t customer_id);  // NotFound
  // Entries of the customer with id > after_id, ascending by id, at most limit (1..kMaxListLimit).
  core::StatusOr<std::vector<model::TimelineEntry>> ListTimeline(int64_t customer_id,
                                                                 int64_t after_id, size_t limit);
  core::StatusOr<std::vector<model::Customer>> ListCustomers(const CustomerFilter& filter);
  core::StatusOr<std::optional<model::Identity>> FindIdentity(std::string_view platform,
                                                              std::string_view account_id,
                                                              model::IdentityKind kind,
                                                              std::string_view value);
  core::StatusOr<std::optional<model::TagDetail>> FindTag(std::string_view group_name,
                                                          std::string_view name);
  // The tag with this id and its group; nullopt when there is none.
  core::StatusOr<std::optional<model::TagDetail>> GetTag(int64_t tag_id);
  // Every tag with its group, by group id then tag id.
  core::StatusOr<std::vector<model::TagDetail>> ListTags();
  // A page of tags with their groups (TagFilter). InvalidArgument for a limit out of range.
  core::StatusOr<std::vector<model::TagDetail>> ListTags(const TagFilter& filter);
  // Every tag group, by id.
  core::StatusOr<std::vector<model::TagGroup>> ListTagGroups();
  // Up to `limit` (1..kMaxListLimit) pushed tags with keys after `after`, ascending by key
  // (start with a default key). Reads tag_pushes with the profile tables it refers to.
  core::StatusOr<std::vector<PushedTagState>> ListPushedTagStates(const PushedTagKey& after,
                                                                  size_t limit);
  core::StatusOr<std::vector<model::FollowUpTask>> ListTasks(const TaskFilter& filter);
  core::StatusOr<StoredMerge> GetMerge(int64_t merge_id);  // NotFound

 private:
  Database& db_;
  bool writer_cache_set_ = false;  // only read and written under the writer lock
};

}  // namespace scrm::storage
