// ProfileService: turns stored interactions into customer profiles — identity resolution
// (openid / external_userid / unionid -> one customer, merging when a unionid joins two), the
// tag rules (tagger::RuleEngine) with decaying scores and evidence, timeline, counters,
// lifecycle stage, followers and owner, follow-up tasks — every effect exactly once per
// interaction; and the operations the REST API offers on profiles (views with decayed scores,
// merge and undo, manual tags, identities, tag mappings, tasks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/model/interaction.h"
#include "src/model/tag_rule.h"
#include "src/profiles/rule_set.h"
#include "src/storage/profile_store.h"
#include "src/tagger/rule_engine.h"

namespace scrm::profiles {

struct ProfileServiceOptions {
  // Half-life and threshold of a tag group that a rule (or a manual tag) creates on first use;
  // name and mapping are ignored. Change a group afterwards with ConfigureTagGroup.
  model::TagGroup default_tag_group;
  // Timeline summaries are cut to this many bytes (on a UTF-8 boundary); >= 16.
  size_t summary_max_bytes = 200;
  // A lost-customer alert (流失提醒) is due this long after the leave event.
  int64_t lost_alert_due_ms = int64_t{24} * 3600 * 1000;
  // Accounts whose new customers are enriched from the platform (docs/outbound.md "Outbox"):
  // when Apply creates a customer from an openid / external_userid of one of them, it queues
  // an "enrich" job in the same transaction. Empty = no enrichment (accounts without an API
  // secret cannot call the platform).
  std::set<std::string, std::less<>> enrichment_accounts;
  // Accounts that scrmd pushes tags to (docs/outbound.md "Tag push"): when a customer starts or
  // stops holding a tag mapped to the account's platform (wecom_tag_id / oa_tag_id) through a
  // local change (a rule, the API, a merge), or a WeCom member starts following (an OA follower
  // subscribes again to) a customer who holds such tags, a "tagpush" job for each of these accounts
  // the customer has an identity on is queued in the same transaction. Changes that came from the
  // platform (SyncPlatformTags) queue nothing. Empty = no pushes.
  std::set<std::string, std::less<>> tag_push_accounts;
};

// The outbox job that enriches a customer created from a platform identity: kind and payload
// in src/model/job_kinds.h (model::kEnrichJobKind), dedupe key
// "enrich:<platform>:<account>:<value>".
std::string EnrichDedupeKey(std::string_view platform, std::string_view account_id,
                            std::string_view value);

// The outbox job that makes a customer's tags on one account's platform match the tags the
// customer holds (docs/outbound.md "Tag push"): kind and payload in src/model/job_kinds.h
// (model::kTagPushJobKind), account = the platform account. Coalesced
// (storage::OutboxStore::EnqueueCoalesced) under the prefix "tagpush:<account>:<customer_id>:":
// while one such job waits unclaimed, further changes queue nothing, since the job reads the
// state when it runs.
std::string TagPushKeyPrefix(std::string_view account_id, int64_t customer_id);

// A customer's tag as the API shows it: the stored row and definition, the score decayed to the
// clock's now, and whether the tag is held (decayed score >= threshold).
struct TagView {
  model::CustomerTagDetail detail;
  double decayed_score = 0;
  bool held = false;
  // Set by AddManualTag alone: the customer held the manual tag already and nothing changed.
  bool unchanged = false;

  friend bool operator==(const TagView&, const TagView&) = default;
};

// GET /api/v1/customers/{id}: the profile with decayed scores. Follower::is_owner is derived
// from customer.owner_userid so that it stays right across merges.
struct CustomerView {
  model::Customer customer;
  std::vector<model::Identity> identities;
  std::vector<TagView> tags;
  std::vector<model::Follower> followers;
  std::vector<model::FollowUpTask> tasks;
  std::vector<model::MergeRecord> merges;

  friend bool operator==(const CustomerView&, const CustomerView&) = default;
};

// A change of a tag's platform mapping: a member that is set replaces the stored value ("" / 0
// unmaps), one that is unset keeps it.
struct TagMappingChange {
  std::optional<std::string> wecom_tag_id;  // WeCom corp tag id ("et..."), <= 128 bytes
  std::optional<int64_t> oa_tag_id;         // OA tag id, 0..2^31-1
};

// The tag after a mapping change, and how many customers who hold it got a tag push queued.
struct MappedTag {
  model::TagDetail tag;
  int64_t pushes_queued = 0;
};

// A change of a tag group's decay: a member that is set replaces the stored value.
struct TagGroupChange {
  std::optional<int> half_life_days;  // 0..3650, 0 = no decay
  std::optional<double> threshold;    // finite
};

// One page of the decay sweep (ProfileService::QueueFadedTagPushes).
struct FadedTagSweepPage {
  storage::PushedTagKey next;  // pass as `after` for the next page
  bool done = false;           // the last page: nothing after `next`
  size_t scanned = 0;          // pushed tags read
  int64_t pushes_queued = 0;   // (customer, account) pairs that got a push queued
};

// Where the ingest worker's cursor goes when a chunk commits.
struct CursorUpdate {
  std::string name;
  int64_t last_id = 0;
};

// Thread-safety: Apply runs on the caller's transaction (the ingest worker thread); the other
// methods may be called from any thread (each opens its own transaction or read). Does not own
// the store, rule holder or clock, which must outlive it.
// Which customers a tag filter keeps (ListCustomers).
enum class TagMatch { kHeld, kFaded, kAny };

class ProfileService {
 public:
  ProfileService(storage::ProfileStore& store, const RuleSetHolder& rules, const core::Clock& clock,
                 ProfileServiceOptions options = {});

  // ---- ingest

  // Applies one interaction inside the transaction `write`: resolves (or creates) the customer by
  // openid / external_userid alone (never interaction.unionid: unionids come through LinkUnionid),
  // then — each once, so that a replay changes nothing — the built-in effects (timeline, counters,
  // followers and owner, lifecycle stage with a 流失提醒 task when a leave makes the customer lost;
  // keyed by the timeline entry, unique per customer, kind and interaction) and every action of
  // every matching rule (keyed in applied_effects as "rule:<id>:<index>"). Interactions without a
  // customer (a WeCom member's own app message, group chat events) only touch what they concern:
  // change_external_tag events unmap deleted WeCom corp tags. An error means the caller must roll
  // the transaction back.
  core::Status Apply(storage::WriteTxn& write, const model::Interaction& interaction,
                     const tagger::RuleEngine& engine) const;

  // Applies every interaction of the chunk in order and, when cursor is set, records it, all in
  // ONE transaction with the rule engine in force: either all of it commits or nothing does.
  core::Status ApplyChunk(std::span<const model::Interaction> chunk,
                          const std::optional<CursorUpdate>& cursor) const;
  // ApplyChunk for the ingest worker's chunks, which may give way: once at least
  // `min_before_yield` (>= 1) interactions are applied and another thread waits to write to the
  // main file (an API write, the outbox runner; the inbox writer has a file of its own), it
  // records the cursor at the last one applied and commits that prefix. Returns how many of the
  // chunk committed (all of it when nobody waited); on an error nothing did.
  core::StatusOr<size_t> ApplyChunkPrefix(std::span<const model::Interaction> chunk,
                                          std::string_view cursor_name,
                                          size_t min_before_yield) const;

  // ---- API: reads

  // NotFound for an unknown id. A merged customer is returned as stored (merged_into set).
  core::StatusOr<CustomerView> GetCustomer(int64_t customer_id) const;
  // Entries with id > after_id ascending, 1..ProfileStore::kMaxListLimit.
  core::StatusOr<std::vector<model::TimelineEntry>> ListTimeline(int64_t customer_id,
                                                                 int64_t after_id,
                                                                 size_t limit) const;
  // With filter.tag_id, `match` says which scores on that tag count: held now (decayed score at
  // or above the threshold), faded (a score below it), or any.
  core::StatusOr<std::vector<model::Customer>> ListCustomers(
      storage::CustomerFilter filter, TagMatch match = TagMatch::kHeld) const;
  // The customer an identity resolves to; nullopt when unknown.
  core::StatusOr<std::optional<int64_t>> FindCustomer(std::string_view platform,
                                                      std::string_view account_id,
                                                      model::IdentityKind kind,
                                                      std::string_view value) const;
  core::StatusOr<std::vector<model::TagDetail>> ListTags() const;
  // A page of tags by id (GET /api/v1/tags). InvalidArgument for a limit out of range.
  core::StatusOr<std::vector<model::TagDetail>> ListTags(const storage::TagFilter& filter) const;
  // NotFound for an unknown id.
  core::StatusOr<model::TagDetail> GetTag(int64_t tag_id) const;
  // Every tag group, by id.
  core::StatusOr<std::vector<model::TagGroup>> ListTagGroups() const;
  // The tag with this group and name; nullopt when it was never used.
  core::StatusOr<std::optional<model::TagDetail>> FindTag(const model::TagRef& tag) const;
  core::StatusOr<std::vector<model::FollowUpTask>> ListTasks(
      const storage::TaskFilter& filter) const;

  // ---- API: changes

  // Merges `other` into `survivor` (POST /api/v1/customers/{survivor}/merge {"other": id}):
  // identities, timeline, tasks and followers move, tag scores add up (decayed to a common
  // time), counters add up, attributes the survivor lacks are copied; `other` is kept with
  // merged_into set. Recorded with what UndoMerge needs. InvalidArgument when both are the same
  // or reason is longer than 256 bytes; NotFound; FailedPrecondition when either is already
  // merged.
  core::StatusOr<model::MergeRecord> Merge(int64_t survivor_id, int64_t other_id,
                                           std::string reason);
  // Reverses a merge (POST /api/v1/merges/{id}/undo): the moved rows go back, the merged
  // customer is restored as it was, and the survivor too when nothing happened to it since
  // (otherwise the merged customer's counters and tag contributions are taken out of it and what
  // happened since stays with it). The pair is never merged automatically again. NotFound;
  // FailedPrecondition when already undone or when the survivor was merged again since (undo
  // that merge first).
  core::StatusOr<model::MergeRecord> UndoMerge(int64_t merge_id);

  // Adds `weight` (non-zero, -1000..1000) to the customer's score on the tag (created on first
  // use), source "manual", at the clock's now. The tag does not decay — held until RemoveTag
  // while the weight reaches the threshold — unless `decay` (then it fades with its group's
  // half-life like a rule's). Idempotent: when the customer holds the tag through a manual add
  // already, nothing changes and the view says `unchanged`. A rule that later adds to a held
  // manual tag keeps it manual and held. InvalidArgument for a bad weight or an empty /
  // over-long (64 bytes) group or name; NotFound for an unknown customer.
  core::StatusOr<TagView> AddManualTag(int64_t customer_id, const model::TagRef& tag, double weight,
                                       bool decay = false);
  // Removes the tag from the customer. NotFound when the customer or the tag is unknown or the
  // customer does not have it.
  core::Status RemoveTag(int64_t customer_id, const model::TagRef& tag);
  // Attaches an identity (phone, ERP number, ...) to the customer. AlreadyExists when it
  // belongs to a customer already (merge them instead); InvalidArgument for an empty value.
  core::StatusOr<model::Identity> AddIdentity(int64_t customer_id, model::Identity identity);
  // Gives the customer a unionid learnt later (user/info, externalcontact/get, an operator):
  // identities that share a unionid are one person (PROTOCOL §5), so when another customer
  // holds it already the two are merged as the ingest path does — the older survives, reason
  // "unionid" — unless an operator undid that merge before (then nothing changes and
  // `merge` is empty). Idempotent: linking a unionid the customer (or its survivor) holds
  // changes nothing. NotFound; FailedPrecondition for a merged customer; InvalidArgument for
  // an empty value.
  struct UnionidLink {
    int64_t customer_id = 0;                  // who holds the unionid now (the survivor)
    std::optional<model::MergeRecord> merge;  // the merge it caused, if any
  };
  core::StatusOr<UnionidLink> LinkUnionid(int64_t customer_id, const std::string& unionid);
  // Applies the WeCom corp tags of a contact (externalcontact/get follow_user[].tags): each
  // 企业标签 (type 1) is mapped to a local tag (by its id, else by group and name, created and
  // mapped when missing) and held with source "platform"; platform-sourced tags that are no
  // longer in the list are removed. Other tag types are ignored.
  core::Status SyncPlatformTags(int64_t customer_id, std::span<const model::PlatformTag> tags);
  // Finds or creates the customer of a platform identity (openid on "oa", external_userid on
  // "wecom") outside the ingest path — a backfill of contacts that existed before scrmd. A new
  // customer starts at stage new (reason "backfill") and gets its enrichment job in the same
  // transaction, like one created by Apply. InvalidArgument for an empty value or another
  // identity kind.
  struct EnsuredCustomer {
    int64_t customer_id = 0;
    bool created = false;
  };
  core::StatusOr<EnsuredCustomer> EnsureCustomer(std::string_view platform,
                                                 std::string_view account_id,
                                                 model::IdentityKind kind, std::string_view value);
  // Sets customer attributes learnt from a platform (name, position, subscribe scene, an
  // enrichment refusal): each key gets its value; an empty value removes the key. Changes
  // nothing (not even updated_at_ms) when every key already has its value. NotFound;
  // FailedPrecondition for a merged customer; InvalidArgument for an empty or over-long key
  // (64 bytes) or value (1024 bytes).
  core::Status SetAttributes(int64_t customer_id,
                             const std::map<std::string, std::string>& attributes);
  // Maps a local tag (created when missing) to a WeCom corp tag id and / or an OA tag id ("" / 0
  // unmaps): UpdateTagMapping with both members set.
  core::StatusOr<model::TagDetail> MapTag(const model::TagRef& tag, std::string wecom_tag_id,
                                          int64_t oa_tag_id);
  // Changes the mapping of a tag (by group and name, created when missing; or by id, NotFound
  // when unknown). In the same transaction, every customer who holds the tag now through a local
  // source gets a tag push on the accounts of each platform whose mapping is new or changed, so
  // that mapping a tag puts it on the customers who have it already (docs/outbound.md "Tag
  // push"); unmapping queues nothing (the pushed tag is forgotten, not removed). AlreadyExists
  // when the WeCom id is mapped to another tag; InvalidArgument for a bad id or a change that
  // sets nothing.
  core::StatusOr<MappedTag> UpdateTagMapping(const model::TagRef& tag,
                                             const TagMappingChange& change);
  core::StatusOr<MappedTag> UpdateTagMapping(int64_t tag_id, const TagMappingChange& change);
  // Sets a group's half-life (0..3650 days, 0 = no decay) and threshold (finite), creating the
  // group when missing.
  core::StatusOr<model::TagGroup> ConfigureTagGroup(std::string_view name, int half_life_days,
                                                    double threshold);
  // The same with only the members the change sets (a new group starts from
  // ProfileServiceOptions::default_tag_group). InvalidArgument when it sets nothing.
  core::StatusOr<model::TagGroup> ConfigureTagGroup(std::string_view name,
                                                    const TagGroupChange& change);
  // The decay sweep (docs/outbound.md "Decay"): reads up to `limit` (1..1000) tags scrmd
  // pushed (tag_pushes) after `after` and queues a tag push for each (customer, account) where
  // one of them is no longer held now — faded below its threshold by time alone, which changes
  // no row and so queued nothing. Tags whose mapping changed since the push (the push job
  // forgets them), tags the platform holds (source platform), merged customers and accounts no
  // longer in tag_push_accounts are left alone.
  core::StatusOr<FadedTagSweepPage> QueueFadedTagPushes(const storage::PushedTagKey& after,
                                                        size_t limit);
  // NotFound for an unknown task.
  core::Status SetTaskStatus(int64_t task_id, model::TaskStatus status);

 private:
  // Two customers share a unionid: one person (PROTOCOL §5). The older survives, reason
  // "unionid", unless an operator undid that merge before: then nullopt and nothing changes.
  core::StatusOr<std::optional<model::MergeRecord>> MergeByUnionid(storage::WriteTxn& write,
                                                                   int64_t a, int64_t b) const;
  core::StatusOr<MappedTag> UpdateTagMapping(storage::WriteTxn& write, model::TagDetail tag,
                                             const TagMappingChange& change) const;
  core::Status ApplyMerge(storage::WriteTxn& write, int64_t survivor_id, int64_t merged_id,
                          const std::string& reason, model::MergeRecord* record) const;

  storage::ProfileStore& store_;
  const RuleSetHolder& rules_;
  const core::Clock& clock_;
  const ProfileServiceOptions options_;
};

// The tag's half-life in milliseconds (0 = no decay).
int64_t HalfLifeMs(const model::TagGroup& group);
// The half-life of a customer's score (CustomerTag::decays): the group's, or 0 for a manual tag
// held until removed (docs/tagging.md "Manual tags").
int64_t HalfLifeMs(const model::TagGroup& group, bool decays);

}  // namespace scrm::profiles
