// TagPushEnqueuer: the ChangeSink that queues tag pushes (docs/outbound.md "Tag push") — when a
// customer starts or stops holding a mapped tag through a local change, when a follow relation
// that can carry pushed tags begins, after a merge or its undo, when a held tag gets mapped — and
// the decay sweep that finds tags faded by time alone, which no change reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/profiles/profile_change.h"
#include "src/storage/profile_store.h"

namespace scrm::profiles {

// The outbox job that makes a customer's tags on one account's platform match the tags the
// customer holds (docs/outbound.md "Tag push"): kind and payload in src/model/job_kinds.h
// (model::kTagPushJobKind), account = the platform account. Coalesced
// (storage::OutboxStore::EnqueueCoalesced) under the prefix "tagpush:<account>:<customer_id>:":
// while one such job waits unclaimed, further changes queue nothing, since the job reads the
// state when it runs.
std::string TagPushKeyPrefix(std::string_view account_id, int64_t customer_id);

// One page of the decay sweep (TagPushEnqueuer::QueueFadedTagPushes).
struct FadedTagSweepPage {
  storage::PushedTagKey next;  // pass as `after` for the next page
  bool done = false;           // the last page: nothing after `next`
  size_t scanned = 0;          // pushed tags read
  int64_t pushes_queued = 0;   // (customer, account) pairs that got a push queued
};

// Pushes go to `accounts` (those with an API secret) on which the customer has an identity a
// tag can be pushed to (an external_userid on "wecom", an openid on "oa"). Changes that mirror
// the platform's own tags (TagScoreChanged::from_platform) queue nothing. Thread-safety: any
// thread (OnChange writes only through the caller's transaction; the sweep opens its own).
// Does not own the store or clock, which must outlive it.
class TagPushEnqueuer final : public ChangeSink {
 public:
  TagPushEnqueuer(storage::ProfileStore& store, const core::Clock& clock,
                  std::set<std::string, std::less<>> accounts)
      : store_(store), clock_(clock), accounts_(std::move(accounts)) {}

  // TagScoreChanged: a push when the tag is mapped and the change made the customer start or
  // stop holding it through a local source (a weight that leaves a held tag held queues
  // nothing). FollowerAdded: a push when the customer holds a pushable tag on that platform (a
  // member who starts following gets the tags; an OA follower who subscribes again gets what it
  // could not get while unsubscribed). CustomersMerged: the survivor's push reconciles both
  // customers' targets. MergeUndone: both customers push again. TagMapped: every local holder
  // gets a push on the accounts of the newly mapped platforms, counted in holders_queued.
  core::Status OnChange(storage::WriteTxn& txn, const ProfileChange& change) override;

  // The decay sweep (docs/outbound.md "Decay"): reads up to `limit` (1..1000) tags scrmd
  // pushed (tag_pushes) after `after` and queues a tag push for each (customer, account) where
  // one of them is no longer held now — faded below its threshold by time alone, which changes
  // no row and so queued nothing. Tags whose mapping changed since the push (the push job
  // forgets them), tags the platform holds (source platform), merged customers and accounts not
  // in `accounts` are left alone.
  core::StatusOr<FadedTagSweepPage> QueueFadedTagPushes(const storage::PushedTagKey& after,
                                                        size_t limit);

 private:
  storage::ProfileStore& store_;
  const core::Clock& clock_;
  const std::set<std::string, std::less<>> accounts_;
};

}  // namespace scrm::profiles
