// InteractionApplier: the ingest path of the profiles — turns stored interactions into customer
// profiles: the customer of the interaction's openid / external_userid (IdentityService::Resolve),
// the tag rules (tagger::RuleEngine)
// with decaying scores and evidence, timeline, counters, lifecycle stage, followers and owner,
// follow-up tasks — every effect exactly once per interaction — and hands each change to the
// ChangeSinks in the same transaction (src/profiles/profile_change.h).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/interaction.h"
#include "src/profiles/identity_service.h"
#include "src/profiles/profile_change.h"
#include "src/profiles/profile_types.h"
#include "src/profiles/rule_set.h"
#include "src/storage/profile_store.h"
#include "src/tagger/rule_engine.h"

namespace scrm::profiles {

// Thread-safety: Apply runs on the caller's transaction (the ingest worker thread); the chunk
// methods may be called from any thread (each opens its own transaction: the worker, a
// quarantine reapply). Does not own the store, rule holder, clock, sinks or identity service,
// which must outlive it.
class InteractionApplier {
 public:
  InteractionApplier(storage::ProfileStore& store, const RuleSetHolder& rules,
                     const core::Clock& clock, const ChangeSinks& sinks,
                     const IdentityService& identities, ProfileServiceOptions options = {});

  // Applies one interaction inside the transaction `write`: resolves (or creates) the customer by
  // openid / external_userid alone (never interaction.unionid: unionids come through
  // IdentityService::LinkUnionid), then — each once, so that a replay changes nothing — the
  // built-in effects (timeline, counters, followers and owner, lifecycle stage with a 流失提醒
  // task when a leave makes the customer lost; keyed by the timeline entry, unique per customer,
  // kind and interaction) and every action of every matching rule (keyed in applied_effects as
  // "rule:<id>:<index>"). Interactions without a customer (a WeCom member's own app message, group
  // chat events) only touch what they concern: change_external_tag events unmap deleted WeCom corp
  // tags. Emits CustomerCreated, FollowerAdded / FollowerRemoved, StageChanged, TagScoreChanged and
  // AttributeChanged. An error (a sink's too) means the caller must roll the transaction back.
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

 private:
  storage::ProfileStore& store_;
  const RuleSetHolder& rules_;
  const core::Clock& clock_;
  const ChangeSinks& sinks_;
  const IdentityService& identities_;
  const ProfileServiceOptions options_;
};

}  // namespace scrm::profiles
