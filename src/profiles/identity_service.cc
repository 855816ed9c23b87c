#include "src/profiles/identity_service.h"

#include "src/storage/profile_store.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "src/profiles/profile_ops.h"
#include "src/tagger/scoring.h"

namespace scrm::profiles {
namespace {

using core::Status;
using core::StatusOr;
using internal::FindTagRow;
using internal::InTransaction;
using internal::Txn;

constexpr size_t kMaxMergeReasonBytes = 256;
// A merged customer's chain is followed this far at most (merges are one level deep unless a
// survivor is merged again; the bound only guards against a corrupt cycle).
constexpr int kMaxMergeHops = 16;
// A tag score this close to zero after taking a merged contribution out is zero.
constexpr double kScoreEpsilon = 1e-9;

model::TagRef RefOf(const model::TagDetail& tag) { return {tag.group.name, tag.tag.name}; }

StatusOr<std::optional<model::Identity>> Lookup(Txn& txn, const IdentityKey& key) {
  return txn.store.identities.Find(txn.write, key.platform, key.account_id, key.kind, key.value);
}

}  // namespace

IdentityService::IdentityService(storage::ProfileStore& store, const core::Clock& clock,
                                 const ChangeSinks& sinks)
    : store_(store), clock_(clock), sinks_(sinks) {}

StatusOr<std::optional<model::Customer>> IdentityService::Resolve(storage::WriteTxn& write,
                                                                  const IdentityKey& key,
                                                                  bool may_create,
                                                                  int64_t now_ms) const {
  Txn txn{write, store_};
  // Every step is idempotent by construction: a replay finds the identity the first delivery
  // made. The common case — a known openid / external_userid — is one statement.
  SCRM_ASSIGN_OR_RETURN(
      std::optional<model::Customer> customer,
      store_.identities.FindCustomer(write, key.platform, key.account_id, key.kind, key.value));
  if (!customer.has_value()) {
    if (!may_create) return customer;
    customer.emplace();
    SCRM_RETURN_IF_ERROR(
        internal::CreateCustomer(txn, sinks_, key, "first_interaction", now_ms, *customer));
  }
  for (int hop = 0; customer->merged_into.has_value(); ++hop) {
    // Identities move with a merge, so this only happens to a store edited by hand.
    if (hop == kMaxMergeHops) {
      return core::InternalError("customer " + std::to_string(customer->id) +
                                 " is in a merge cycle");
    }
    SCRM_ASSIGN_OR_RETURN(*customer, store_.customers.Get(write, *customer->merged_into));
  }
  return customer;
}

StatusOr<std::optional<model::MergeRecord>> IdentityService::MergeByUnionid(
    storage::WriteTxn& write, int64_t a, int64_t b) const {
  Txn txn{write, store_};
  const int64_t survivor = std::min(a, b);
  const int64_t merged = std::max(a, b);
  SCRM_ASSIGN_OR_RETURN(const bool excluded,
                        txn.store.merges.IsExcluded(txn.write, survivor, merged));
  if (excluded) return std::optional<model::MergeRecord>();
  model::MergeRecord record;
  SCRM_RETURN_IF_ERROR(ApplyMerge(txn.write, survivor, merged, "unionid", &record));
  return std::optional<model::MergeRecord>(std::move(record));
}

Status IdentityService::ApplyMerge(storage::WriteTxn& write, int64_t survivor_id, int64_t merged_id,
                                   const std::string& reason, model::MergeRecord* record) const {
  Txn txn{write, store_};
  if (survivor_id == merged_id) {
    return core::InvalidArgumentError("a customer cannot be merged into itself");
  }
  const int64_t now_ms = clock_.NowUnixMillis();
  SCRM_ASSIGN_OR_RETURN(model::Customer survivor, txn.store.customers.Get(txn.write, survivor_id));
  SCRM_ASSIGN_OR_RETURN(model::Customer merged, txn.store.customers.Get(txn.write, merged_id));
  SCRM_RETURN_IF_ERROR(internal::CheckActive(survivor));
  SCRM_RETURN_IF_ERROR(internal::CheckActive(merged));

  model::MergeUndoState undo;
  undo.survivor_before = survivor;
  undo.merged_before = merged;

  // Tags: a tag only the merged customer has moves; one both have adds up — the merged score is
  // a weight at its own time (tagger::ApplyDelta), so the sum decays like both did — and the
  // evidence of the later change wins.
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::CustomerTag> survivor_tags,
                        txn.store.customer_tags.List(txn.write, survivor_id));
  SCRM_ASSIGN_OR_RETURN(undo.merged_tags, txn.store.customer_tags.List(txn.write, merged_id));
  for (const model::CustomerTag& theirs : undo.merged_tags) {
    const model::CustomerTag* ours = FindTagRow(survivor_tags, theirs.tag_id);
    if (ours == nullptr) {
      SCRM_RETURN_IF_ERROR(
          txn.store.customer_tags.Move(txn.write, merged_id, survivor_id, theirs.tag_id));
      model::CustomerTag moved = theirs;
      moved.customer_id = survivor_id;
      undo.survivor_tags_after.push_back(moved);
      continue;
    }
    SCRM_ASSIGN_OR_RETURN(const model::TagDetail tag, txn.store.tags.Get(txn.write, theirs.tag_id));
    // A manual tag either of them holds without decay stays held (docs/tagging.md).
    const bool decays = ours->decays && theirs.decays;
    const tagger::TagScore sum =
        tagger::ApplyDelta(tagger::TagScore{ours->score, ours->updated_at_ms},
                           tagger::TagDelta{RefOf(tag), theirs.score, theirs.updated_at_ms},
                           HalfLifeMs(tag.group, decays));
    model::CustomerTag combined = theirs.updated_at_ms > ours->updated_at_ms ? theirs : *ours;
    combined.customer_id = survivor_id;
    combined.decays = decays;
    combined.score = sum.score;
    combined.updated_at_ms = sum.updated_at_ms;
    SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, combined));
    SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Delete(txn.write, merged_id, theirs.tag_id));
    undo.survivor_tags_before.push_back(*ours);
    undo.survivor_tags_after.push_back(combined);
  }

  SCRM_ASSIGN_OR_RETURN(undo.identity_ids,
                        txn.store.identities.MoveAll(txn.write, merged_id, survivor_id));
  SCRM_ASSIGN_OR_RETURN(undo.timeline_ids,
                        txn.store.timeline.MoveAll(txn.write, merged_id, survivor_id));
  SCRM_ASSIGN_OR_RETURN(undo.task_ids, txn.store.tasks.MoveAll(txn.write, merged_id, survivor_id));
  SCRM_ASSIGN_OR_RETURN(undo.follower_ids,
                        txn.store.followers.MoveAll(txn.write, merged_id, survivor_id));

  model::CustomerCounters& counters = survivor.counters;
  counters.interactions += merged.counters.interactions;
  counters.messages += merged.counters.messages;
  counters.events += merged.counters.events;
  counters.orders += merged.counters.orders;
  counters.paid_orders += merged.counters.paid_orders;
  if (merged.first_interaction_at_ms != 0 &&
      (survivor.first_interaction_at_ms == 0 ||
       merged.first_interaction_at_ms < survivor.first_interaction_at_ms)) {
    survivor.first_interaction_at_ms = merged.first_interaction_at_ms;
  }
  survivor.last_interaction_at_ms =
      std::max(survivor.last_interaction_at_ms, merged.last_interaction_at_ms);
  for (const auto& [key, value] : merged.attributes) survivor.attributes.emplace(key, value);
  const std::string owner_before = survivor.owner_userid;
  if (survivor.owner_userid.empty()) survivor.owner_userid = merged.owner_userid;
  const bool channel_taken = survivor.channel.empty() && !merged.channel.empty();
  if (channel_taken) survivor.channel = merged.channel;  // the earlier touch is unknown: keep one
  // A survivor that left (lost / at_risk) while the other record is active is active: the
  // person is still reachable through the other record's channel.
  const auto dormant = [](model::LifecycleStage s) {
    return s == model::LifecycleStage::kLost || s == model::LifecycleStage::kAtRisk;
  };
  if (dormant(survivor.stage) && !dormant(merged.stage)) {
    survivor.stage = merged.stage;
    survivor.stage_reason = merged.stage_reason;
    survivor.stage_staff = merged.stage_staff;
  }
  survivor.updated_at_ms = now_ms;
  merged.merged_into = survivor_id;
  merged.updated_at_ms = now_ms;
  undo.survivor_after = survivor;
  SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, survivor));
  SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, merged));

  record->survivor_id = survivor_id;
  record->merged_id = merged_id;
  record->at_ms = now_ms;
  record->reason = reason;
  record->undone_at_ms.reset();
  SCRM_ASSIGN_OR_RETURN(record->id, txn.store.merges.Insert(txn.write, *record, undo));
  if (survivor.owner_userid != owner_before) {
    SCRM_RETURN_IF_ERROR(internal::Emit(sinks_, txn, survivor_id, now_ms,
                                        OwnerChanged{owner_before, survivor.owner_userid}));
  }
  if (channel_taken) {
    SCRM_RETURN_IF_ERROR(
        internal::Emit(sinks_, txn, survivor_id, now_ms, ChannelAttributed{survivor.channel}));
  }
  // The survivor now holds both customers' tags and reaches both customers' targets: its push
  // reconciles them (the job sends only what a target lacks).
  return internal::Emit(sinks_, txn, survivor_id, now_ms, CustomersMerged{record->id, merged_id});
}

StatusOr<model::MergeRecord> IdentityService::Merge(int64_t survivor_id, int64_t other_id,
                                                    std::string reason) {
  if (reason.size() > kMaxMergeReasonBytes) {
    return core::InvalidArgumentError("merge reason must be at most 256 bytes");
  }
  if (reason.empty()) reason = "manual";
  model::MergeRecord record;
  const Status status = InTransaction(store_, [&](Txn& txn) {
    return ApplyMerge(txn.write, survivor_id, other_id, reason, &record);
  });
  if (!status.ok()) return status;
  return record;
}

StatusOr<model::MergeRecord> IdentityService::UndoMerge(int64_t merge_id) {
  model::MergeRecord result;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const storage::StoredMerge stored,
                          txn.store.merges.Get(txn.write, merge_id));
    const model::MergeRecord& record = stored.record;
    const model::MergeUndoState& undo = stored.undo;
    if (record.undone_at_ms.has_value()) {
      return core::FailedPreconditionError("merge " + std::to_string(merge_id) +
                                           " is already undone");
    }
    const int64_t now_ms = clock_.NowUnixMillis();
    SCRM_ASSIGN_OR_RETURN(model::Customer survivor,
                          txn.store.customers.Get(txn.write, record.survivor_id));
    SCRM_ASSIGN_OR_RETURN(const model::Customer merged,
                          txn.store.customers.Get(txn.write, record.merged_id));
    if (survivor.merged_into.has_value()) {
      return core::FailedPreconditionError(
          "customer " + std::to_string(survivor.id) + " was merged into " +
          std::to_string(*survivor.merged_into) + " since: undo that merge first");
    }
    if (merged.merged_into != record.survivor_id) {
      return core::FailedPreconditionError("customer " + std::to_string(merged.id) +
                                           " is no longer merged into " +
                                           std::to_string(record.survivor_id));
    }

    // Tags: a survivor row nobody touched since the merge is put back as it was; one that moved
    // on keeps what happened since, minus the merged customer's contribution.
    for (const model::CustomerTag& theirs : undo.merged_tags) {
      const model::CustomerTag* before = FindTagRow(undo.survivor_tags_before, theirs.tag_id);
      const model::CustomerTag* after = FindTagRow(undo.survivor_tags_after, theirs.tag_id);
      SCRM_ASSIGN_OR_RETURN(
          const std::optional<model::CustomerTag> current,
          txn.store.customer_tags.Get(txn.write, record.survivor_id, theirs.tag_id));
      if (current.has_value() && after != nullptr && *current == *after) {
        if (before != nullptr) {
          SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, *before));
        } else {
          SCRM_RETURN_IF_ERROR(
              txn.store.customer_tags.Delete(txn.write, record.survivor_id, theirs.tag_id));
        }
      } else if (current.has_value()) {
        SCRM_ASSIGN_OR_RETURN(const model::TagDetail tag,
                              txn.store.tags.Get(txn.write, theirs.tag_id));
        model::CustomerTag rest = *current;
        rest.score -=
            tagger::DecayedScore(theirs.score, theirs.updated_at_ms, current->updated_at_ms,
                                 HalfLifeMs(tag.group, current->decays));
        if (before == nullptr && std::fabs(rest.score) < kScoreEpsilon) {
          SCRM_RETURN_IF_ERROR(
              txn.store.customer_tags.Delete(txn.write, record.survivor_id, theirs.tag_id));
        } else {
          SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, rest));
        }
      }
      SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, theirs));
    }

    SCRM_RETURN_IF_ERROR(
        txn.store.identities.MoveById(txn.write, undo.identity_ids, record.merged_id));
    SCRM_RETURN_IF_ERROR(
        txn.store.timeline.MoveById(txn.write, undo.timeline_ids, record.merged_id));
    SCRM_RETURN_IF_ERROR(txn.store.tasks.MoveById(txn.write, undo.task_ids, record.merged_id));
    SCRM_RETURN_IF_ERROR(
        txn.store.followers.MoveById(txn.write, undo.follower_ids, record.merged_id));

    if (survivor == undo.survivor_after) {
      survivor = undo.survivor_before;
    } else {
      model::CustomerCounters& counters = survivor.counters;
      const model::CustomerCounters& theirs = undo.merged_before.counters;
      counters.interactions = std::max<int64_t>(0, counters.interactions - theirs.interactions);
      counters.messages = std::max<int64_t>(0, counters.messages - theirs.messages);
      counters.events = std::max<int64_t>(0, counters.events - theirs.events);
      counters.orders = std::max<int64_t>(0, counters.orders - theirs.orders);
      counters.paid_orders = std::max<int64_t>(0, counters.paid_orders - theirs.paid_orders);
      survivor.updated_at_ms = now_ms;
    }
    SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, survivor));
    SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, undo.merged_before));
    SCRM_RETURN_IF_ERROR(txn.store.merges.MarkUndone(txn.write, merge_id, now_ms));
    // An automatic (unionid) merge of the pair would otherwise happen again on their next
    // interaction.
    SCRM_RETURN_IF_ERROR(
        txn.store.merges.AddExclusion(txn.write, record.survivor_id, record.merged_id));
    SCRM_RETURN_IF_ERROR(internal::Emit(sinks_, txn, record.survivor_id, now_ms,
                                        MergeUndone{record.id, record.merged_id}));
    result = record;
    result.undone_at_ms = now_ms;
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

StatusOr<model::Identity> IdentityService::AddIdentity(int64_t customer_id,
                                                       model::Identity identity) {
  if (identity.value.empty()) return core::InvalidArgumentError("identity value is empty");
  if (identity.kind == model::IdentityKind::kUnionid) {
    identity.platform = std::string(model::kUnionidPlatform);
    identity.account_id.clear();
  }
  identity.customer_id = customer_id;
  identity.created_at_ms = clock_.NowUnixMillis();
  model::Identity stored;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(internal::CheckActive(customer));
    SCRM_ASSIGN_OR_RETURN(stored, txn.store.identities.Add(txn.write, identity));
    return internal::Emit(sinks_, txn, customer_id, identity.created_at_ms, IdentityAdded{&stored});
  });
  if (!status.ok()) return status;
  return stored;
}

StatusOr<IdentityService::UnionidLink> IdentityService::LinkUnionid(int64_t customer_id,
                                                                    const std::string& unionid) {
  if (unionid.empty()) return core::InvalidArgumentError("unionid is empty");
  const IdentityKey key{model::kUnionidPlatform, "", model::IdentityKind::kUnionid, unionid};
  UnionidLink link;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(internal::CheckActive(customer));
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::Identity> holder, Lookup(txn, key));
    link.customer_id = customer.id;
    if (!holder.has_value()) {
      model::Identity identity;
      identity.customer_id = customer.id;
      identity.platform = std::string(model::kUnionidPlatform);
      identity.kind = model::IdentityKind::kUnionid;
      identity.value = unionid;
      identity.created_at_ms = clock_.NowUnixMillis();
      SCRM_ASSIGN_OR_RETURN(const model::Identity stored,
                            txn.store.identities.Add(txn.write, identity));
      return internal::Emit(sinks_, txn, customer.id, identity.created_at_ms,
                            IdentityAdded{&stored});
    }
    if (holder->customer_id == customer.id) return core::OkStatus();
    SCRM_ASSIGN_OR_RETURN(link.merge, MergeByUnionid(txn.write, customer.id, holder->customer_id));
    if (link.merge.has_value()) link.customer_id = link.merge->survivor_id;
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return link;
}

StatusOr<IdentityService::EnsuredCustomer> IdentityService::EnsureCustomer(
    std::string_view platform, std::string_view account_id, model::IdentityKind kind,
    std::string_view value) {
  if (value.empty()) return core::InvalidArgumentError("identity value is empty");
  if (kind != model::IdentityKind::kOpenid && kind != model::IdentityKind::kExternalUserid) {
    return core::InvalidArgumentError("only an openid or external_userid names a new customer");
  }
  const IdentityKey key{platform, account_id, kind, value};
  EnsuredCustomer ensured;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(
        const std::optional<model::Customer> found,
        txn.store.identities.FindCustomer(txn.write, platform, account_id, kind, value));
    if (found.has_value()) {
      ensured.customer_id = found->id;
      return core::OkStatus();
    }
    model::Customer customer;
    SCRM_RETURN_IF_ERROR(
        internal::CreateCustomer(txn, sinks_, key, "backfill", clock_.NowUnixMillis(), customer));
    ensured.customer_id = customer.id;
    ensured.created = true;
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return ensured;
}

}  // namespace scrm::profiles
