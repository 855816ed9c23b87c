// SendBatchStore: the dispatcher's side of campaigns (main migration 14): campaign_send_batches
// rows and the delivery state moves that go with them (campaigns/engine/dispatcher.h). Every
// move that must be on disk before a platform call is one transaction here: a batch is written
// with its deliveries attached while nothing is sent (pending), then moved to sending with
// attempts + 1 before the call, then to its outcome. docs/campaigns.md "Delivery, exactly once".
// (Kept apart from delivery_store.h, which the plan owns.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/model/send_batch.h"
#include "src/storage/database.h"

namespace scrm::storage {

// The outcome of one delivery (a send reply's fail list, a job-finish callback, a poll).
struct DeliveryOutcome {
  int64_t delivery_id = 0;
  model::DeliveryState state = model::DeliveryState::kSent;
  int64_t errcode = 0;
  std::string error;
};

// The outcome of one batch's call: the batch's new state and what every delivery of the batch
// still 'sending' becomes, except those named in `exceptions`.
struct BatchOutcome {
  model::BatchState state = model::BatchState::kSent;
  std::string platform_msg_id;
  int64_t errcode = 0;
  std::string error;
  model::DeliveryState deliveries = model::DeliveryState::kSent;
  std::vector<DeliveryOutcome> exceptions;
};

// One batch's end in Settle: its outcome, or back to pending (release).
struct BatchEnd {
  int64_t batch_id = 0;
  bool release = false;
  BatchOutcome outcome;
};

// How many failed (or unknown) deliveries of a campaign share (state, errcode).
struct FailureCount {
  model::DeliveryState state = model::DeliveryState::kFailed;
  int64_t errcode = 0;
  int64_t count = 0;

  friend bool operator==(const FailureCount&, const FailureCount&) = default;
};

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail with
// the codes of Database::WithWriter / WithReader; a stored state that is not a model name is
// Internal.
class SendBatchStore {
 public:
  explicit SendBatchStore(Database& db) : db_(db) {}

  // Planned deliveries of a campaign not yet in a batch, by id, at most limit (1..10000).
  core::StatusOr<std::vector<model::Delivery>> ListUnbatched(int64_t campaign_id, size_t limit);

  // Writes `batch` as 'pending' (its id, state, attempts are ignored) and attaches the deliveries
  // `delivery_ids` that are still planned and in no batch, in one transaction. Returns the batch
  // as stored. FailedPrecondition (nothing written) when none of them could be attached;
  // AlreadyExists when a batch with its idempotency key is stored.
  core::StatusOr<model::SendBatch> Create(const model::SendBatch& batch,
                                          std::span<const int64_t> delivery_ids);

  // Create for many batches in ONE transaction (one commit for a round's batches): batches[i]
  // takes delivery_ids[i]. A batch whose key is stored or whose deliveries are all taken is
  // skipped (nothing written for it). Returns the batches written, as stored.
  core::StatusOr<std::vector<model::SendBatch>> CreateMany(
      std::span<const model::SendBatch> batches,
      std::span<const std::vector<int64_t>> delivery_ids);

  // Moves the batch from `expected` (pending, or sending for a reconciled resend) to 'sending'
  // with attempts + 1 and updated_at_ms = now_ms, and its planned deliveries to 'sending', in
  // one transaction: committed before the call. Returns the batch as stored.
  // FailedPrecondition when the batch is not in `expected`; NotFound.
  core::StatusOr<model::SendBatch> BeginSend(int64_t batch_id, model::BatchState expected,
                                             int64_t now_ms);

  // BeginSend (from pending) for many batches in ONE transaction; a batch no longer pending is
  // left out. Returns the batches moved, as stored.
  core::StatusOr<std::vector<model::SendBatch>> BeginSendMany(std::span<const int64_t> batch_ids,
                                                              int64_t now_ms);

  // Stores the call's outcome on a 'sending' batch and its 'sending' deliveries, in one
  // transaction. FailedPrecondition when the batch is not 'sending'; NotFound.
  core::Status Finish(int64_t batch_id, const BatchOutcome& outcome, int64_t now_ms);

  // Finish or Release for many batches in ONE transaction (all or nothing).
  core::Status Settle(std::span<const BatchEnd> ends, int64_t now_ms);

  // Later outcomes of single deliveries (callbacks, polls): applied to a delivery that is
  // sending, sent or unknown (a delivered / failed / not_reached one keeps its outcome). Returns
  // how many changed.
  core::StatusOr<size_t> ApplyDeliveryOutcomes(std::span<const DeliveryOutcome> outcomes,
                                               int64_t now_ms);

  // NotFound.
  core::StatusOr<model::SendBatch> Get(int64_t batch_id);
  // Batches of a campaign in `state`, by id, id > after, at most limit (1..10000).
  core::StatusOr<std::vector<model::SendBatch>> List(int64_t campaign_id, model::BatchState state,
                                                     int64_t after, size_t limit);
  // The batch with this platform message id on this account (msgid / msg_id); nullopt when none.
  core::StatusOr<std::optional<model::SendBatch>> FindByMessageId(const std::string& account_id,
                                                                  const std::string& msg_id);
  // The deliveries of one batch, by id.
  core::StatusOr<std::vector<model::Delivery>> Deliveries(int64_t batch_id);

  // Deliveries of the campaign still planned or sending, plus batches pending or sending: 0
  // means the campaign has nothing left to send.
  core::StatusOr<int64_t> OpenWork(int64_t campaign_id);
  // Failed and unknown deliveries grouped by (state, errcode).
  core::StatusOr<std::vector<FailureCount>> CountFailures(int64_t campaign_id);

  // The explicit retry (POST .../retry): the campaign's failed and unknown batches go back to
  // pending (same idempotency key: an OA template keeps its client_msg_id) with their failed and
  // unknown deliveries planned; any other failed or unknown delivery goes back to planned in no
  // batch. The dispatcher then sends them again. Returns how many deliveries.
  core::StatusOr<size_t> Requeue(int64_t campaign_id, int64_t now_ms);
  // Puts a 'sending' batch back to 'pending' and its 'sending' deliveries back to 'planned'
  // (the platform did not process the call: quota block, throttle, unavailable). attempts stays.
  core::Status Release(int64_t batch_id, int64_t now_ms);

 private:
  Database& db_;
};

}  // namespace scrm::storage
