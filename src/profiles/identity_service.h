// IdentityService: who a customer is — the customer an interaction's identity names (created on
// first sight), identities attached by the API, unionids learnt later
// (which merge two customers into one person, PROTOCOL §5), customers found or created for a
// backfill — and merge / undo (POST /api/v1/customers/{id}/merge, /api/v1/merges/{id}/undo).
// Every change is handed to the ChangeSinks in its transaction (src/profiles/profile_change.h).
#pragma once

#include <cstdint>
#include <optional>
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

// Thread-safety: any thread; each call opens its own transaction (Resolve runs in the caller's).
// Does not own the store, clock or sinks, which must outlive it.
class IdentityService {
 public:
  IdentityService(storage::ProfileStore& store, const core::Clock& clock, const ChangeSinks& sinks);

  // Merges `other` into `survivor` (POST /api/v1/customers/{survivor}/merge {"other": id}):
  // identities, timeline, tasks and followers move, tag scores add up (decayed to a common
  // time), counters add up, attributes the survivor lacks are copied; `other` is kept with
  // merged_into set. Recorded with what UndoMerge needs; emits CustomersMerged. InvalidArgument
  // when both are the same or reason is longer than 256 bytes; NotFound; FailedPrecondition when
  // either is already merged.
  core::StatusOr<model::MergeRecord> Merge(int64_t survivor_id, int64_t other_id,
                                           std::string reason);
  // Reverses a merge (POST /api/v1/merges/{id}/undo): the moved rows go back, the merged
  // customer is restored as it was, and the survivor too when nothing happened to it since
  // (otherwise the merged customer's counters and tag contributions are taken out of it and what
  // happened since stays with it). The pair is never merged automatically again. Emits
  // MergeUndone. NotFound; FailedPrecondition when already undone or when the survivor was
  // merged again since (undo that merge first).
  core::StatusOr<model::MergeRecord> UndoMerge(int64_t merge_id);

  // Attaches an identity (phone, ERP number, ...) to the customer; emits IdentityAdded.
  // AlreadyExists when it belongs to a customer already (merge them instead); InvalidArgument
  // for an empty value.
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
  // Finds or creates the customer of a platform identity (openid on "oa", external_userid on
  // "wecom") outside the ingest path — a backfill of contacts that existed before scrmd. A new
  // customer starts at stage new (reason "backfill") and emits CustomerCreated, like one created
  // by the ingest path (so it gets its enrichment job). InvalidArgument for an empty value or
  // another identity kind.
  struct EnsuredCustomer {
    int64_t customer_id = 0;
    bool created = false;
  };
  core::StatusOr<EnsuredCustomer> EnsureCustomer(std::string_view platform,
                                                 std::string_view account_id,
                                                 model::IdentityKind kind, std::string_view value);

  // Identity resolution of the ingest path (PROTOCOL §5), inside the caller's transaction: the
  // customer `identity` (an openid / external_userid) names, followed through merges to the
  // survivor. Unknown: created when `may_create` (stage new, reason "first_interaction",
  // CustomerCreated emitted at now_ms), else nullopt. InternalError for a merge cycle (a store
  // edited by hand).
  core::StatusOr<std::optional<model::Customer>> Resolve(storage::WriteTxn& write,
                                                         const IdentityKey& identity,
                                                         bool may_create, int64_t now_ms) const;

 private:
  // Two customers share a unionid: one person (PROTOCOL §5). The older survives, reason
  // "unionid", unless an operator undid that merge before: then nullopt and nothing changes.
  core::StatusOr<std::optional<model::MergeRecord>> MergeByUnionid(storage::WriteTxn& write,
                                                                   int64_t a, int64_t b) const;
  core::Status ApplyMerge(storage::WriteTxn& write, int64_t survivor_id, int64_t merged_id,
                          const std::string& reason, model::MergeRecord* record) const;

  storage::ProfileStore& store_;
  const core::Clock& clock_;
  const ChangeSinks& sinks_;
};

}  // namespace scrm::profiles
