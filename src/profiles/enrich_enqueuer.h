// EnrichEnqueuer: the ChangeSink that queues the enrichment of a customer created from a
// platform identity (docs/outbound.md "Outbox"), in the transaction that created it.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "src/core/status.h"
#include "src/profiles/profile_change.h"
#include "src/storage/profile_store.h"

namespace scrm::profiles {

// The outbox job that enriches a customer created from a platform identity: kind and payload
// in src/model/job_kinds.h (model::kEnrichJobKind), dedupe key
// "enrich:<platform>:<account>:<value>".
std::string EnrichDedupeKey(std::string_view platform, std::string_view account_id,
                            std::string_view value);

// On CustomerCreated from an identity of one of `accounts` (those with an API secret: the
// others cannot call the platform), queues an "enrich" job. A replay of the creating
// interaction creates nothing, and the dedupe key keeps a job from being queued twice.
// Thread-safety: any thread (it only writes through the caller's transaction). Does not own the
// store, which must outlive it.
class EnrichEnqueuer final : public ChangeSink {
 public:
  EnrichEnqueuer(storage::ProfileStore& store, std::set<std::string, std::less<>> accounts)
      : store_(store), accounts_(std::move(accounts)) {}

  core::Status OnChange(storage::WriteTxn& txn, const ProfileChange& change) override;

 private:
  storage::ProfileStore& store_;
  const std::set<std::string, std::less<>> accounts_;
};

}  // namespace scrm::profiles
