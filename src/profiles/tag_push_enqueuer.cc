#include "src/profiles/tag_push_enqueuer.h"

#include <set>
#include <utility>
#include <variant>
#include <vector>

#include "src/model/job_kinds.h"
#include "src/profiles/profile_types.h"
#include "src/tagger/scoring.h"

namespace scrm::profiles {
namespace {

using core::Status;
using core::StatusOr;
using Accounts = std::set<std::string, std::less<>>;

// The platform an identity of this kind names a customer on, when tags can be pushed to it:
// "wecom" for an external_userid (mark_tag), "oa" for an openid (batchtagging).
bool IsPushIdentity(const model::Identity& identity) {
  return (identity.kind == model::IdentityKind::kExternalUserid && identity.platform == "wecom") ||
         (identity.kind == model::IdentityKind::kOpenid && identity.platform == "oa");
}

bool MappedOn(const model::TagDetail& tag, std::string_view platform) {
  return platform == "wecom" ? !tag.tag.wecom_tag_id.empty() : tag.tag.oa_tag_id != 0;
}

storage::OutboxJob PushJob(std::string_view account_id, int64_t customer_id, int64_t now_ms) {
  storage::OutboxJob job;
  job.kind = model::kTagPushJobKind;
  job.account_id = std::string(account_id);
  job.dedupe_key = TagPushKeyPrefix(account_id, customer_id);
  job.payload_json = model::EncodeTagPushPayload({customer_id});
  job.due_at_ms = now_ms;
  return job;
}

// Queues a tag push (kTagPushJobKind) for every push account the customer has an identity on —
// only those where `tag` is mapped, when one is given. Coalesced: a job that waits unclaimed
// for the customer and account already will read this change when it runs.
// Returns for how many accounts a job was queued or is waiting already.
StatusOr<size_t> QueueTagPushCounted(storage::ProfileStore& store, storage::WriteTxn& txn,
                                     const Accounts& accounts, int64_t customer_id,
                                     const model::TagDetail* tag, int64_t now_ms) {
  size_t queued = 0;
  if (accounts.empty()) return queued;
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::Identity> identities,
                        store.identities.List(txn, customer_id));
  for (const model::Identity& identity : identities) {
    if (!IsPushIdentity(identity) || !accounts.contains(identity.account_id)) continue;
    if (tag != nullptr && !MappedOn(*tag, identity.platform)) continue;
    SCRM_RETURN_IF_ERROR(
        store.outbox
            .EnqueueCoalesced(txn, PushJob(identity.account_id, customer_id, now_ms), now_ms)
            .status());
    ++queued;
  }
  return queued;
}

Status QueueTagPush(storage::ProfileStore& store, storage::WriteTxn& txn, const Accounts& accounts,
                    int64_t customer_id, const model::TagDetail* tag, int64_t now_ms) {
  return QueueTagPushCounted(store, txn, accounts, customer_id, tag, now_ms).status();
}

// Whether the push job would put the tag on the platform: held at now_ms (decayed score >=
// threshold) through a local source. A tag held because the platform has it (source platform)
// is left alone, so that it is never echoed back.
bool Pushable(const model::CustomerTag* row, const model::TagDetail& tag, int64_t now_ms) {
  if (row == nullptr || row->source == model::TagSource::kPlatform) return false;
  return IsHeldAt(row, tag, now_ms);
}

// Whether the customer holds a tag the push job would put on `platform`: a new follow relation
// then needs a push (the job only sends what that relation lacks).
StatusOr<bool> HoldsPushableTag(storage::ProfileStore& store, storage::WriteTxn& txn,
                                int64_t customer_id, std::string_view platform, int64_t now_ms) {
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::CustomerTag> rows,
                        store.customer_tags.List(txn, customer_id));
  for (const model::CustomerTag& row : rows) {
    if (row.source == model::TagSource::kPlatform) continue;
    SCRM_ASSIGN_OR_RETURN(const model::TagDetail tag, store.tags.Get(txn, row.tag_id));
    if (MappedOn(tag, platform) && Pushable(&row, tag, now_ms)) return true;
  }
  return false;
}

// A tag just mapped (or remapped) on some platform: the customers who hold it through a local
// source get a push, which adds it under its new id (docs/outbound.md "Tag push"). `newly` is
// the tag with only the mappings that are new in this change, so that only the accounts of
// those platforms are queued. Returns how many customers got a push queued.
StatusOr<int64_t> QueueHolderPushes(storage::ProfileStore& store, storage::WriteTxn& txn,
                                    const Accounts& accounts, const model::TagDetail& newly,
                                    int64_t now_ms) {
  int64_t customers = 0;
  if (!MappedOn(newly, "wecom") && !MappedOn(newly, "oa")) return customers;
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::CustomerTag> rows,
                        store.customer_tags.ListLocalHolders(txn, newly.tag.id));
  for (const model::CustomerTag& row : rows) {
    if (!Pushable(&row, newly, now_ms)) continue;
    SCRM_ASSIGN_OR_RETURN(
        const size_t queued,
        QueueTagPushCounted(store, txn, accounts, row.customer_id, &newly, now_ms));
    if (queued > 0) ++customers;
  }
  return customers;
}

}  // namespace

std::string TagPushKeyPrefix(std::string_view account_id, int64_t customer_id) {
  std::string key = "tagpush:";
  key.append(account_id).append(":").append(std::to_string(customer_id)).append(":");
  return key;
}

Status TagPushEnqueuer::OnChange(storage::WriteTxn& txn, const ProfileChange& change) {
  if (accounts_.empty()) return core::OkStatus();
  const int64_t now_ms = change.at_ms;
  const int64_t customer_id = change.customer_id;
  if (const auto* tag = std::get_if<TagScoreChanged>(&change.what)) {
    // A local change of one customer tag (rule, manual, API removal): a replay changes nothing
    // and so reaches no sink.
    if (tag->from_platform) return core::OkStatus();
    if (!MappedOn(*tag->tag, "wecom") && !MappedOn(*tag->tag, "oa")) return core::OkStatus();
    if (Pushable(tag->before, *tag->tag, now_ms) == Pushable(tag->after, *tag->tag, now_ms)) {
      return core::OkStatus();
    }
    return QueueTagPush(store_, txn, accounts_, customer_id, tag->tag, now_ms);
  }
  if (const auto* follower = std::get_if<FollowerAdded>(&change.what)) {
    // A member who starts following a customer with pushed tags gets them on this relation too;
    // an OA follower who subscribes again gets the tags it could not get while unsubscribed.
    const bool oa = follower->platform == "oa";
    if (!oa && follower->userid.empty()) return core::OkStatus();
    if (!accounts_.contains(follower->account_id)) return core::OkStatus();
    SCRM_ASSIGN_OR_RETURN(const bool holds,
                          HoldsPushableTag(store_, txn, customer_id, follower->platform, now_ms));
    if (!holds) return core::OkStatus();
    return QueueTagPush(store_, txn, accounts_, customer_id, nullptr, now_ms);
  }
  if (std::holds_alternative<CustomersMerged>(change.what)) {
    // The survivor now holds both customers' tags and reaches both customers' targets: its push
    // reconciles them (the job sends only what a target lacks).
    return QueueTagPush(store_, txn, accounts_, customer_id, nullptr, now_ms);
  }
  if (const auto* undone = std::get_if<MergeUndone>(&change.what)) {
    // Both customers' tags changed back: each reconciles the targets it has again.
    SCRM_RETURN_IF_ERROR(QueueTagPush(store_, txn, accounts_, customer_id, nullptr, now_ms));
    return QueueTagPush(store_, txn, accounts_, undone->merged_id, nullptr, now_ms);
  }
  if (const auto* mapped = std::get_if<TagMapped>(&change.what)) {
    SCRM_ASSIGN_OR_RETURN(const int64_t customers,
                          QueueHolderPushes(store_, txn, accounts_, *mapped->newly, now_ms));
    if (mapped->holders_queued != nullptr) *mapped->holders_queued += customers;
  }
  return core::OkStatus();
}

StatusOr<FadedTagSweepPage> TagPushEnqueuer::QueueFadedTagPushes(const storage::PushedTagKey& after,
                                                                 size_t limit) {
  SCRM_ASSIGN_OR_RETURN(const std::vector<storage::PushedTagState> rows,
                        store_.tag_pushes.ListPushedTagStates(after, limit));
  FadedTagSweepPage page;
  page.scanned = rows.size();
  page.done = rows.size() < limit;
  page.next = rows.empty() ? after : rows.back().key;
  const int64_t now_ms = clock_.NowUnixMillis();
  std::set<std::pair<int64_t, std::string>> faded;
  for (const storage::PushedTagState& state : rows) {
    if (!accounts_.contains(state.key.account_id)) continue;
    // Remapped or unmapped since the push: the push job forgets it, there is nothing to remove.
    const bool still_mapped =
        (!state.wecom_tag_id.empty() && state.platform_tag_id == state.wecom_tag_id) ||
        (state.oa_tag_id != 0 && state.platform_tag_id == std::to_string(state.oa_tag_id));
    if (!still_mapped) continue;
    if (state.row.has_value() && state.row->source == model::TagSource::kPlatform) continue;
    model::TagGroup decay;
    decay.half_life_days = state.half_life_days;
    const bool held =
        state.row.has_value() &&
        tagger::IsHeld(tagger::DecayedScore(state.row->score, state.row->updated_at_ms, now_ms,
                                            HalfLifeMs(decay, state.row->decays)),
                       state.threshold);
    if (!held) faded.emplace(state.key.customer_id, state.key.account_id);
  }
  if (faded.empty()) return page;
  const Status status = store_.db.InTransaction([&](storage::WriteTxn& txn) -> Status {
    page.pushes_queued = 0;  // a retried transaction counts again
    for (const auto& [customer_id, account_id] : faded) {
      auto customer = store_.customers.Get(txn, customer_id);
      if (!customer.ok() && customer.status().code() == core::StatusCode::kNotFound) continue;
      SCRM_RETURN_IF_ERROR(customer.status());
      // A merged customer's push job ends as "merged"; its survivor got its own push.
      if (customer->merged_into.has_value()) continue;
      SCRM_RETURN_IF_ERROR(
          store_.outbox.EnqueueCoalesced(txn, PushJob(account_id, customer_id, now_ms), now_ms)
              .status());
      ++page.pushes_queued;
    }
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

}  // namespace scrm::profiles
