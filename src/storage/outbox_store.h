// OutboxStore: the outbox of platform jobs (migration 5) — rows first, platform calls later
// (docs/outbound.md "Outbox"). Jobs are enqueued with a unique dedupe key (also inside the
// caller's WriteTxn, with the change that needs them), claimed with a lease,
// and finished (done / failed / unknown) or rescheduled by the claim that holds them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

enum class OutboxState {
  kPending,  // waiting for due_at_ms (or claimed, until the lease ends)
  kDone,     // finished successfully
  kFailed,   // given up: the reason is in last_outcome / last_errcode / last_error
  kUnknown,  // a send whose outcome nobody knows; never retried automatically
};
std::string_view OutboxStateName(OutboxState state);
std::optional<OutboxState> ParseOutboxState(std::string_view name);

// One job as stored.
struct OutboxJob {
  int64_t id = 0;
  std::string kind;        // what to do: "enrich", ...
  std::string account_id;  // the configured account whose credentials the job uses
  std::string dedupe_key;  // unique over all jobs ever queued, e.g. "enrich:oa:shop:<openid>"
  std::string payload_json = "{}";  // what the kind needs; storage does not interpret it
  OutboxState state = OutboxState::kPending;
  int attempts = 0;       // claims so far; the current claim's token
  int64_t due_at_ms = 0;  // pending: not claimed before this (a claim moves it to the lease end)
  int64_t claimed_at_ms = 0;  // the last claim, 0 = never claimed
  std::string last_outcome;   // "" or the last attempt's outcome ("refused", "unavailable", ...)
  int64_t last_errcode = 0;   // platform errcode of the last attempt, 0 = none
  std::string last_error;     // the last attempt's message (never secrets)
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;

  friend bool operator==(const OutboxJob&, const OutboxJob&) = default;
};

// What the last attempt of a job said (RecordOutcome / Reschedule).
struct OutboxAttempt {
  std::string outcome;
  int64_t errcode = 0;
  std::string error;
};

// Which jobs ListJobs returns: by id after after_id, at most limit (1..OutboxStore::kMaxClaim).
struct OutboxFilter {
  std::optional<OutboxState> state;  // any state when unset
  std::optional<std::string> kind;   // any kind when unset
  int64_t after_id = 0;
  size_t limit = 100;
};

// Thread-safe (all access through Database or the caller's WriteTxn). Does not own the Database.
// Calls may also fail with the codes of Database::WithWriter / InTransaction / WithReader.
class OutboxStore {
 public:
  static constexpr size_t kMaxClaim = 1000;

  explicit OutboxStore(Database& db) : db_(db) {}

  // Queues `job` (kind, account_id, dedupe_key, payload_json, due_at_ms; state pending, no
  // attempts, created / updated at now_ms). True when queued, false when a job with the same
  // dedupe_key exists (in any state): an expected outcome, not an error. InvalidArgument for an
  // empty kind, account or key.
  core::StatusOr<bool> Enqueue(const OutboxJob& job, int64_t now_ms);
  // The same inside the caller's transaction, so that the job commits or rolls back with the
  // change that needs it (a profile change, later an order).
  core::StatusOr<bool> Enqueue(WriteTxn& txn, const OutboxJob& job, int64_t now_ms);

  // Queues a coalesced job inside the caller's transaction, so that the check and the insert are
  // one step: job.dedupe_key is a prefix that names the subject and ends with ':'
  // ("tagpush:acme:42:"). When a pending job under that prefix has never been claimed (so it has
  // not read anything yet and will see this change too) nothing is queued and the result is
  // false; otherwise the job is queued under prefix + a number unique to it, and true.
  // InvalidArgument for an empty kind or account, or a prefix that does not end with ':'.
  core::StatusOr<bool> EnqueueCoalesced(WriteTxn& txn, const OutboxJob& job, int64_t now_ms);

  // Claims up to `limit` (1..kMaxClaim) pending jobs due at now_ms (oldest due first): each gets
  // attempts + 1, claimed_at_ms = now_ms and due_at_ms = now_ms + lease_ms, so that a claim
  // whose runner dies is claimed again after the lease. Returns the claimed rows (as updated).
  core::StatusOr<std::vector<OutboxJob>> Claim(int64_t now_ms, int64_t lease_ms, size_t limit);
  // Finishes the claimed job: state (done, failed or unknown) and the attempt's outcome.
  // `attempt` is the claim's token (OutboxJob::attempts as claimed). FailedPrecondition when
  // the job is no longer pending under that claim (the lease ran out and another claim took
  // it, or it finished); NotFound for an unknown id; InvalidArgument for state pending.
  core::Status Finish(int64_t id, int attempt, OutboxState state, const OutboxAttempt& result,
                      int64_t now_ms);
  // Gives the claimed job back, due again at due_at_ms, with the attempt's outcome. Same
  // claim check and errors as Finish.
  core::Status Reschedule(int64_t id, int attempt, int64_t due_at_ms, const OutboxAttempt& result,
                          int64_t now_ms);

  // Puts a failed or unknown job back to pending, due at now_ms, with a fresh attempt budget
  // (attempts 0, never claimed); the last outcome stays until the next attempt replaces it.
  // Returns the job as updated. NotFound for an unknown id; FailedPrecondition for a job that
  // is pending or done (nothing to retry).
  core::StatusOr<OutboxJob> Retry(int64_t id, int64_t now_ms);

  // --- reads
  core::StatusOr<OutboxJob> Get(int64_t id);  // NotFound
  core::StatusOr<std::optional<OutboxJob>> FindByKey(std::string_view dedupe_key);
  // Jobs in `state`, by id, at most limit (1..kMaxClaim).
  core::StatusOr<std::vector<OutboxJob>> List(OutboxState state, size_t limit);
  // Jobs matching the filter, by id (the admin listing). InvalidArgument for a bad limit.
  core::StatusOr<std::vector<OutboxJob>> ListJobs(const OutboxFilter& filter);
  // How many jobs are in `state` (gauges, tests).
  core::StatusOr<int64_t> Count(OutboxState state);
  // How many jobs of each kind are in `state` (kinds without such jobs are absent).
  core::StatusOr<std::map<std::string, int64_t>> CountByKind(OutboxState state);

 private:
  Database& db_;
};

}  // namespace scrm::storage
