// Profile change events: what applying an interaction, a merge or an API / job write changed on
// a customer, handed as typed ProfileChange values to the ChangeSinks registered in src/app,
// inside the write transaction that made the change (docs/architecture.md "Reacting to profile
// changes"). A sink writes through the same storage::WriteTxn, so its rows commit with the
// change or not at all; a sink's error rolls the whole transaction back.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/model/interaction.h"

namespace scrm::storage {
class WriteTxn;
}  // namespace scrm::storage

namespace scrm::profiles {

// The views and pointers in a change are valid only during the OnChange call that receives it.

// A customer was created from a platform identity: by the first interaction of an openid /
// external_userid (reason "first_interaction") or a backfill (reason "backfill").
struct CustomerCreated {
  std::string_view platform;
  std::string_view account_id;
  model::IdentityKind kind = model::IdentityKind::kOpenid;
  std::string_view value;
  std::string_view reason;
};

// An identity was attached to an existing customer (AddIdentity, a unionid learnt later).
struct IdentityAdded {
  const model::Identity* identity = nullptr;
};

// The customer (the survivor) absorbed `merged_id`: identities, tags, timeline, tasks and
// followers moved to it.
struct CustomersMerged {
  int64_t merge_id = 0;
  int64_t merged_id = 0;
};

// A merge was undone: the customer (the survivor) gave `merged_id` its rows back.
struct MergeUndone {
  int64_t merge_id = 0;
  int64_t merged_id = 0;
};

// A customer's score on a tag changed, or the row went away (after == nullptr). Held or
// released follows from the rows: IsHeldAt(before / after, *tag, change.at_ms); the score is
// after->score (stored at after->updated_at_ms). `from_platform`: the change mirrors the
// platform's own tags (SyncPlatformTags), it was not made here.
struct TagScoreChanged {
  const model::TagDetail* tag = nullptr;
  const model::CustomerTag* before = nullptr;
  const model::CustomerTag* after = nullptr;
  bool from_platform = false;
};

// A tag was mapped (or remapped) to a platform tag id. `newly` is the tag with only the mappings
// that are new in this change (the others cleared). customer_id is 0: the change concerns every
// holder. A sink that queues work for the tag's holders adds how many it reached to
// *holders_queued (what the API reports as pushes_queued).
struct TagMapped {
  const model::TagDetail* newly = nullptr;
  int64_t* holders_queued = nullptr;
};

// The lifecycle stage moved (a built-in transition or a rule's set_stage).
struct StageChanged {
  model::LifecycleStage from = model::LifecycleStage::kNew;
  model::LifecycleStage to = model::LifecycleStage::kNew;
  std::string_view reason;
};

// A follow relation became connected (a WeCom member added the customer, an OA follower
// subscribed): new, or again after it ended. userid is "" for an OA subscription.
struct FollowerAdded {
  std::string_view platform;  // "wecom" | "oa"
  std::string_view account_id;
  std::string_view userid;
  // The interaction that connected it (its State / QR scene, WelcomeCode, received_at_ms tell a
  // contact channel's sink where the customer came from); nullptr when not from an interaction.
  const model::Interaction* interaction = nullptr;
};

// A connected follow relation ended (deleted by either side, unsubscribed).
struct FollowerRemoved {
  std::string_view platform;
  std::string_view account_id;
  std::string_view userid;
};

// A customer attribute got a new value ("" = removed).
struct AttributeChanged {
  std::string_view key;
  std::string_view value;
};

// An interaction was attributed to the customer and applied for the first time (a replay emits
// nothing): it may move last_interaction_at_ms and counts in count(kind, window) segments.
struct InteractionApplied {
  std::string_view kind;  // model::KindName, as the timeline stores it ("message.text")
  int64_t occurred_at_ms = 0;
};

// The customer's owner (owner_userid) changed: the first WeCom member to follow, the next one
// when the owner left, the merged customer's owner taken by a survivor without one.
struct OwnerChanged {
  std::string_view from;
  std::string_view to;
};

// The customer got its channel (model::Customer::channel): first touch only, so at most once,
// unless a merge gives a survivor without one the merged customer's.
struct ChannelAttributed {
  std::string_view channel;
};

// A tag group's half-life or threshold was set (ProfileEditor::ConfigureTagGroup): whether each
// holder of its tags holds them now follows from the new values. customer_id is 0.
struct TagGroupConfigured {
  const model::TagGroup* group = nullptr;
};

// What changed: one of the kinds above.
using ChangeDetail =
    std::variant<CustomerCreated, IdentityAdded, CustomersMerged, MergeUndone, TagScoreChanged,
                 TagMapped, StageChanged, FollowerAdded, FollowerRemoved, AttributeChanged,
                 InteractionApplied, OwnerChanged, ChannelAttributed, TagGroupConfigured>;

struct ProfileChange {
  int64_t customer_id = 0;  // the customer changed (the survivor of a merge); 0 for TagMapped
  int64_t at_ms = 0;        // the clock's now when the change was made
  ChangeDetail what;
};

// A module that reacts to profile changes inside their transaction. Implementations are final,
// built in src/app and registered with the ChangeSinks the profile services share. Called on the
// thread that holds the transaction (the ingest worker, an API or outbox runner thread), so it
// must be safe to call from any of them; it writes only through `txn`.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // A non-OK status rolls the whole transaction back: the change and everything with it.
  virtual core::Status OnChange(storage::WriteTxn& txn, const ProfileChange& change) = 0;
};

// The sinks in registration order. Filled in src/app before any thread starts and read-only
// afterwards (so it needs no lock). Does not own the sinks, which must outlive it.
class ChangeSinks {
 public:
  void Add(ChangeSink& sink) { sinks_.push_back(&sink); }
  // No sink: callers skip building changes (the ingest path's per-row cost stays as it was).
  bool empty() const { return sinks_.empty(); }
  // Hands the change to every sink in order; the first error stops and is returned.
  core::Status Emit(storage::WriteTxn& txn, const ProfileChange& change) const;

 private:
  std::vector<ChangeSink*> sinks_;
};

}  // namespace scrm::profiles
