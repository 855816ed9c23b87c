// Reconcile: what to do with a send batch found 'sending' — its call began and no outcome was
// stored (a crash between the call and the write, or an unknown outcome). It is never sent
// again blindly (docs/campaigns.md "Delivery, exactly once"):
//   WeCom group message: the sender's tasks of get_groupmsg_list_v2 around the call's start,
//     each task's recipients (get_groupmsg_send_result): a task holding the batch's recipients
//     that no other batch claims is the batch's (sent, with per-recipient results); none found
//     once the records have settled means the call never created a task, and the batch is sent
//     again (at most max_attempts in all, then unknown);
//   OA template: resent with the same client_msg_id while the platform's 10-minute dedupe
//     window still covers the first call, else unknown;
//   OA custom message: no idempotency key, so unknown.
// Pure decisions over reads; the dispatcher applies them.
#pragma once

#include <cstdint>
#include <vector>

#include "campaigns/engine/dispatcher.h"
#include "campaigns/engine/dispatcher_seams.h"
#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/model/send_batch.h"
#include "src/storage/send_batch_store.h"

namespace scrm::campaigns {

enum class ReconcileAction {
  kWait,    // not decidable yet (records not settled, a read failed): look again next round
  kSettle,  // store `outcome` (sent with the found msgid, or unknown)
  kResend,  // send again under the batch's idempotency key / as a task never created
};

struct ReconcileDecision {
  ReconcileAction action = ReconcileAction::kWait;
  storage::BatchOutcome outcome;  // kSettle only
};

struct ReconcileContext {
  const model::Campaign& campaign;
  const model::SendBatch& batch;                   // state 'sending'
  const std::vector<model::Delivery>& deliveries;  // the batch's
  int64_t now_ms = 0;
  const DispatcherOptions& options;
};

// `records` may be null (no WeCom records reader): a WeCom batch is then unknown once settled.
core::StatusOr<ReconcileDecision> DecideReconcile(const ReconcileContext& context,
                                                  GroupMessageRecords* records,
                                                  storage::SendBatchStore& batches);

// The later outcomes of `deliveries` (those still sending or sent) from a task's send results:
// status 1 delivered, 2 / 3 not reached (PROTOCOL §4.1 get_groupmsg_send_result); status 0 and
// recipients the results do not name are left as they are.
std::vector<storage::DeliveryOutcome> OutcomesFromResults(
    const std::vector<model::Delivery>& deliveries, const std::vector<RecipientResult>& results);

}  // namespace scrm::campaigns
