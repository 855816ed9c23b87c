#include "src/profiles/profile_ops.h"

#include <string>

#include "src/tagger/scoring.h"

namespace scrm::profiles {

int64_t HalfLifeMs(const model::TagGroup& group, bool decays) {
  return decays ? HalfLifeMs(group) : 0;  // a manual tag is held until removed (docs/tagging.md)
}

int64_t HalfLifeMs(const model::TagGroup& group) {
  return group.half_life_days <= 0 ? 0 : int64_t{group.half_life_days} * internal::kDayMs;
}

bool IsHeldAt(const model::CustomerTag* row, const model::TagDetail& tag, int64_t at_ms) {
  if (row == nullptr) return false;
  return tagger::IsHeld(tagger::DecayedScore(row->score, row->updated_at_ms, at_ms,
                                             HalfLifeMs(tag.group, row->decays)),
                        tag.Threshold());
}

namespace internal {

using core::Status;
using core::StatusOr;

Status InTransaction(storage::ProfileStore& store, const std::function<Status(Txn&)>& fn) {
  return store.db.InTransaction([&](storage::WriteTxn& write) -> Status {
    Txn txn{write, store};
    return fn(txn);
  });
}

Status AddIdentityTo(Txn& txn, int64_t customer_id, const IdentityKey& key, int64_t now_ms) {
  model::Identity identity;
  identity.customer_id = customer_id;
  identity.platform = std::string(key.platform);
  identity.account_id = std::string(key.account_id);
  identity.kind = key.kind;
  identity.value = std::string(key.value);
  identity.created_at_ms = now_ms;
  return txn.store.identities.Add(txn.write, identity).status();
}

Status CreateCustomer(Txn& txn, const ChangeSinks& sinks, const IdentityKey& key,
                      std::string_view reason, int64_t now_ms, model::Customer& customer) {
  customer.stage = model::LifecycleStage::kNew;
  customer.stage_reason = std::string(reason);
  customer.created_at_ms = now_ms;
  customer.updated_at_ms = now_ms;
  SCRM_ASSIGN_OR_RETURN(customer.id, txn.store.customers.Create(txn.write, customer));
  SCRM_RETURN_IF_ERROR(AddIdentityTo(txn, customer.id, key, now_ms));
  return Emit(sinks, txn, customer.id, now_ms,
              CustomerCreated{key.platform, key.account_id, key.kind, key.value, reason});
}

StatusOr<model::CustomerTag> ApplyTagDelta(Txn& txn, const ChangeSinks& sinks, int64_t customer_id,
                                           const model::TagDetail& tag, const TagDelta& delta,
                                           int64_t now_ms) {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::CustomerTag> stored,
                        txn.store.customer_tags.Get(txn.write, customer_id, tag.tag.id));
  tagger::TagScore score;
  if (stored.has_value()) score = {stored->score, stored->updated_at_ms};
  // The stored score decays (or not: a held manual tag) up to the delta as it was stored.
  const tagger::TagScore next = tagger::ApplyDelta(
      score,
      tagger::TagDelta{model::TagRef{tag.group.name, tag.tag.name}, delta.weight, delta.at_ms},
      HalfLifeMs(tag.group, stored.has_value() ? stored->decays : delta.decays));
  model::CustomerTag row;
  row.customer_id = customer_id;
  row.tag_id = tag.tag.id;
  row.score = next.score;
  row.updated_at_ms = stored.has_value() ? next.updated_at_ms : delta.at_ms;
  row.source = delta.source;
  row.decays = delta.decays;
  if (stored.has_value() && !stored->decays) {
    // A manual tag held until removed stays so: a rule adds to its score, it keeps holding.
    row.source = model::TagSource::kManual;
    row.decays = false;
  }
  row.evidence_rule_id = delta.rule_id;
  row.evidence_rule_version = delta.rule_version;
  row.evidence_interaction_id = delta.interaction_id;
  SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, row));
  if (!sinks.empty()) {
    SCRM_RETURN_IF_ERROR(
        Emit(sinks, txn, customer_id, now_ms,
             TagScoreChanged{&tag, stored.has_value() ? &*stored : nullptr, &row, false}));
  }
  return row;
}

Status CheckActive(const model::Customer& customer) {
  if (customer.merged_into.has_value()) {
    return core::FailedPreconditionError("customer " + std::to_string(customer.id) +
                                         " is merged into " +
                                         std::to_string(*customer.merged_into));
  }
  return core::OkStatus();
}

Status ValidateTagRef(const model::TagRef& tag) {
  if (tag.group.empty() || tag.group.size() > kMaxTagNameBytes) {
    return core::InvalidArgumentError("tag group must be 1..64 bytes");
  }
  if (tag.name.empty() || tag.name.size() > kMaxTagNameBytes) {
    return core::InvalidArgumentError("tag name must be 1..64 bytes");
  }
  return core::OkStatus();
}

TagView ToTagView(const model::CustomerTagDetail& detail, int64_t now_ms) {
  TagView view;
  view.detail = detail;
  view.decayed_score = tagger::DecayedScore(detail.value.score, detail.value.updated_at_ms, now_ms,
                                            HalfLifeMs(detail.tag.group, detail.value.decays));
  view.held = tagger::IsHeld(view.decayed_score, detail.tag.Threshold());
  return view;
}

const model::CustomerTag* FindTagRow(const std::vector<model::CustomerTag>& rows, int64_t tag_id) {
  for (const model::CustomerTag& row : rows) {
    if (row.tag_id == tag_id) return &row;
  }
  return nullptr;
}

}  // namespace internal
}  // namespace scrm::profiles
