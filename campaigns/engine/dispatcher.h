// Dispatcher: sends the frozen deliveries of running campaigns through the outbound seam, exactly
// once (docs/campaigns.md "Delivery, exactly once"). Each RunOnce:
//   1. reconciles every batch found 'sending' (a call began and no outcome was stored: a crash,
//      or a failed write after the call) — never sent again blindly (reconcile.h);
//   2. groups the 'planned' deliveries in no batch, in id order, into batches (WeCom: one
//      add_msg_template per sender member with up to max_wecom_recipients of its recipients; OA
//      template / custom: one call per recipient, client_msg_id = the delivery's idempotency
//      key), writes them 'pending' (one transaction per round), then per batch: pending ->
//      sending (attempts + 1) in one transaction, the call (bulk priority: the rate governor
//      inside the platform client paces it), the outcome (OA template: template_group batches
//      share those transactions, safe under client_msg_id);
//   3. polls WeCom group-message send results of sent batches (status 1 delivered, 2 / 3 not
//      reached), of running campaigns and of WeCom campaigns completed within poll_horizon;
//   4. completes a running campaign that has nothing planned or sending (audited, actor
//      "dispatcher").
// Errors follow PROTOCOL §4.3 through platform::Outcome: a quota block, a throttle or an
// unavailable platform (the request was not processed) puts the batch back to pending for a
// later round; a refusal or rejection fails its deliveries with the errcode; an unknown outcome
// makes them 'unknown'. Nothing failed or unknown is sent again unless POST
// /api/v1/campaigns/{id}/retry requeues it (SendBatchStore::Requeue).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "campaigns/engine/dispatcher_seams.h"
#include "channels/common/outbound.h"
#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/model/send_batch.h"
#include "src/storage/campaign_store.h"
#include "src/storage/send_batch_store.h"

namespace scrm::campaigns {

struct DispatcherOptions {
  // WeCom add_msg_template takes at most 10 000 external_userid per call (PROTOCOL §4.1).
  size_t max_wecom_recipients = 10000;
  // Deliveries read per campaign per round (one round sends at most this many recipients).
  size_t round_deliveries = 10000;
  // Per-call time budget (governor wait included).
  std::chrono::milliseconds call_budget{30000};
  // OA template: the platform de-duplicates openid + client_msg_id for 10 minutes (PROTOCOL
  // §4.2); a 'sending' batch is resent with the same id only this long after its call began.
  std::chrono::milliseconds template_dedupe{std::chrono::minutes(9)};
  // WeCom: a task absent from get_groupmsg_list_v2 this long after its call began was never
  // created, and the batch is sent again; before that the reconcile waits for the records.
  std::chrono::milliseconds records_settle{std::chrono::seconds(60)};
  // WeCom: a batch is sent at most this many times; after that an absent task leaves it unknown.
  int64_t max_attempts = 3;
  // OA template batches begun (and settled) per transaction: they carry client_msg_id, so a
  // crash that leaves a group 'sending' is reconciled by resending within the dedupe window.
  // Fewer commits per call (each commit waits for the disk with synchronous=full).
  size_t template_group = 32;
  // WeCom send results polled per round (sent batches with recipients not yet reported).
  size_t polls_per_round = 20;
  // WeCom: a completed campaign's send results are still polled this long (members confirm a
  // task in their client later).
  std::chrono::milliseconds poll_horizon{std::chrono::hours(72)};
};

// What one RunOnce did (tests, logs).
struct DispatchReport {
  int64_t batches_sent = 0;      // calls that succeeded
  int64_t batches_failed = 0;    // calls refused / rejected
  int64_t batches_unknown = 0;   // outcomes left unknown
  int64_t batches_released = 0;  // back to pending (quota, throttle, unavailable)
  int64_t reconciled = 0;        // 'sending' batches settled without a call
  int64_t resent = 0;            // 'sending' batches sent again under their idempotency key
  int64_t polled = 0;            // send-result polls
  int64_t completed = 0;         // campaigns completed
};

// Called from one dispatcher thread (src/app); not safe for concurrent RunOnce calls (two
// dispatchers of one database would each see the other's 'sending' batches as a crash).
// Does not own its collaborators, which must outlive it.
class Dispatcher {
 public:
  Dispatcher(storage::CampaignStore& campaigns, storage::SendBatchStore& batches,
             const channels::OutboundDirectory& outbound, MessageSource& messages,
             GroupMessageRecords* records, const core::Clock& clock, core::MetricsRegistry& metrics,
             DispatcherOptions options = {});

  // One round over every running campaign. A storage error stops the round (returned); platform
  // errors are outcomes stored on batches and deliveries.
  core::StatusOr<DispatchReport> RunOnce();

 private:
  core::Status RunCampaign(const model::Campaign& campaign, DispatchReport& report);
  core::Status Reconcile(const model::Campaign& campaign, channels::OutboundChannel& channel,
                         DispatchReport& report);
  core::Status PlanBatches(const model::Campaign& campaign);
  core::Status SendPending(const model::Campaign& campaign, channels::OutboundChannel& channel,
                           DispatchReport& report);
  // Sends one batch already moved to 'sending'; returns how it ends (nullopt: unknown outcome,
  // left 'sending'). Stores nothing.
  core::StatusOr<std::optional<storage::BatchEnd>> Attempt(const model::Campaign& campaign,
                                                           channels::OutboundChannel& channel,
                                                           const model::SendBatch& batch,
                                                           DispatchReport& report);
  // Attempt, then its end stored.
  core::Status Call(const model::Campaign& campaign, channels::OutboundChannel& channel,
                    const model::SendBatch& batch, DispatchReport& report);
  core::Status PollResults(const model::Campaign& campaign, DispatchReport& report);
  core::Status MaybeComplete(const model::Campaign& campaign, DispatchReport& report);
  void Count(const model::Campaign& campaign, std::string_view event, int64_t by);

  storage::CampaignStore& campaigns_;
  storage::SendBatchStore& batches_;
  const channels::OutboundDirectory& outbound_;
  MessageSource& messages_;
  GroupMessageRecords* records_;
  const core::Clock& clock_;
  core::CounterFamily& events_;
  const DispatcherOptions options_;
  std::map<int64_t, int64_t> poll_cursor_;  // campaign -> last polled batch id
};

}  // namespace scrm::campaigns
