#include "src/profiles/enrich_enqueuer.h"

#include <variant>

#include "src/model/job_kinds.h"

namespace scrm::profiles {

std::string EnrichDedupeKey(std::string_view platform, std::string_view account_id,
                            std::string_view value) {
  std::string key = "enrich:";
  key.append(platform).append(":").append(account_id).append(":").append(value);
  return key;
}

core::Status EnrichEnqueuer::OnChange(storage::WriteTxn& txn, const ProfileChange& change) {
  const auto* created = std::get_if<CustomerCreated>(&change.what);
  if (created == nullptr || !accounts_.contains(created->account_id)) return core::OkStatus();
  storage::OutboxJob job;
  job.kind = model::kEnrichJobKind;
  job.account_id = std::string(created->account_id);
  job.dedupe_key = EnrichDedupeKey(created->platform, created->account_id, created->value);
  job.payload_json = model::EncodeEnrichPayload(
      {std::string(created->platform), created->kind, std::string(created->value)});
  job.due_at_ms = change.at_ms;
  // false = queued before (a replay of the interaction that created the customer): fine.
  return store_.outbox.Enqueue(txn, job, change.at_ms).status();
}

}  // namespace scrm::profiles
