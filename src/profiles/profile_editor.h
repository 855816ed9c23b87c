// ProfileEditor: the writes the REST API and the jobs make on profiles outside the ingest path —
// manual tags, the platform's own tags, attributes learnt from a platform, a tag's platform
// mapping, a tag group's decay, a task's status. Every change is handed to the ChangeSinks in
// its transaction (src/profiles/profile_change.h).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/profiles/profile_change.h"
#include "src/profiles/profile_types.h"

namespace scrm::storage {
class ProfileStore;
class WriteTxn;
}  // namespace scrm::storage

namespace scrm::profiles {

namespace internal {
struct Txn;
}  // namespace internal

// Thread-safety: any thread; each call opens its own transaction (but the WriteTxn overload,
// which runs in the caller's). Does not own the store, clock or sinks, which must outlive it.
class ProfileEditor {
 public:
  ProfileEditor(storage::ProfileStore& store, const core::Clock& clock, const ChangeSinks& sinks,
                ProfileServiceOptions options = {});

  // Adds `weight` (non-zero, -1000..1000) to the customer's score on the tag (created on first
  // use), source "manual", at the clock's now. The tag does not decay — held until RemoveTag
  // while the weight reaches the threshold — unless `decay` (then it fades with its group's
  // half-life like a rule's). Idempotent: when the customer holds the tag through a manual add
  // already, nothing changes and the view says `unchanged`. A rule that later adds to a held
  // manual tag keeps it manual and held. Emits TagScoreChanged. InvalidArgument for a bad weight
  // or an empty / over-long (64 bytes) group or name; NotFound for an unknown customer.
  core::StatusOr<TagView> AddManualTag(int64_t customer_id, const model::TagRef& tag, double weight,
                                       bool decay = false);
  // The same inside the caller's transaction (a change sink giving a customer who arrived through
  // a contact channel its default tags): the tag commits or rolls back with the caller's change.
  core::StatusOr<TagView> AddManualTag(storage::WriteTxn& write, int64_t customer_id,
                                       const model::TagRef& tag, double weight, bool decay = false);
  // Removes the tag from the customer; emits TagScoreChanged. NotFound when the customer or the
  // tag is unknown or the customer does not have it.
  core::Status RemoveTag(int64_t customer_id, const model::TagRef& tag);
  // Applies the WeCom corp tags of a contact (externalcontact/get follow_user[].tags): each
  // 企业标签 (type 1) is mapped to a local tag (by its id, else by group and name, created and
  // mapped when missing) and held with source "platform"; platform-sourced tags that are no
  // longer in the list are removed. Other tag types are ignored. Emits TagScoreChanged with
  // from_platform set.
  core::Status SyncPlatformTags(int64_t customer_id, std::span<const model::PlatformTag> tags);
  // Sets customer attributes learnt from a platform (name, position, subscribe scene, an
  // enrichment refusal): each key gets its value; an empty value removes the key. Changes
  // nothing (not even updated_at_ms) when every key already has its value; emits
  // AttributeChanged per key that changed. NotFound; FailedPrecondition for a merged customer;
  // InvalidArgument for an empty or over-long key (64 bytes) or value (1024 bytes).
  core::Status SetAttributes(int64_t customer_id,
                             const std::map<std::string, std::string>& attributes);
  // Maps a local tag (created when missing) to a WeCom corp tag id and / or an OA tag id ("" / 0
  // unmaps): UpdateTagMapping with both members set.
  core::StatusOr<model::TagDetail> MapTag(const model::TagRef& tag, std::string wecom_tag_id,
                                          int64_t oa_tag_id);
  // Changes the mapping of a tag (by group and name, created when missing; or by id, NotFound
  // when unknown), and emits TagMapped with the mappings that are new or changed: the tag push
  // enqueuer then queues a push for every customer who holds the tag through a local source
  // (docs/outbound.md "Tag push"), counted in pushes_queued; unmapping queues nothing (the
  // pushed tag is forgotten, not removed). AlreadyExists when the WeCom id is mapped to another
  // tag; InvalidArgument for a bad id or a change that sets nothing.
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
  // NotFound for an unknown task.
  core::Status SetTaskStatus(int64_t task_id, model::TaskStatus status);

 private:
  core::Status AddManualTagIn(internal::Txn& txn, int64_t customer_id, const model::TagRef& tag,
                              double weight, bool decay, int64_t now_ms, TagView& view) const;
  core::StatusOr<MappedTag> UpdateTagMapping(storage::WriteTxn& write, model::TagDetail tag,
                                             const TagMappingChange& change) const;

  storage::ProfileStore& store_;
  const core::Clock& clock_;
  const ChangeSinks& sinks_;
  const ProfileServiceOptions options_;
};

}  // namespace scrm::profiles
