#include "campaigns/engine/reconcile.h"

#include <map>
#include <set>
#include <string>

namespace scrm::campaigns {
namespace {

std::string Address(const model::Delivery& delivery) {
  const size_t colon = delivery.channel_key.rfind(':');
  return colon == std::string::npos ? "" : delivery.channel_key.substr(colon + 1);
}

ReconcileDecision Unknown(std::string why) {
  ReconcileDecision decision;
  decision.action = ReconcileAction::kSettle;
  decision.outcome.state = model::BatchState::kUnknown;
  decision.outcome.deliveries = model::DeliveryState::kUnknown;
  decision.outcome.error = std::move(why);
  return decision;
}

ReconcileDecision Wait() { return ReconcileDecision{}; }

ReconcileDecision Resend() {
  ReconcileDecision decision;
  decision.action = ReconcileAction::kResend;
  return decision;
}

core::StatusOr<ReconcileDecision> DecideWecom(const ReconcileContext& c,
                                              GroupMessageRecords* records,
                                              storage::SendBatchStore& batches) {
  const int64_t since_call_ms = c.now_ms - c.batch.updated_at_ms;
  const bool settled = since_call_ms >= c.options.records_settle.count();
  if (records == nullptr) {
    if (!settled) return Wait();
    return Unknown("no group-message records reader for account " + c.campaign.account_id);
  }
  std::set<std::string> ours;
  for (const model::Delivery& d : c.deliveries) ours.insert(Address(d));
  // The window: from a minute before the call began (clock skew) to a minute from now.
  const int64_t start_s = c.batch.updated_at_ms / 1000 - 60;
  const int64_t end_s = c.now_ms / 1000 + 60;
  auto tasks = records->ListTasks(c.campaign.account_id, c.batch.sender, start_s, end_s);
  if (!tasks.ok()) return Wait();
  for (const GroupTaskRecord& task : tasks.value()) {
    SCRM_ASSIGN_OR_RETURN(const auto owner,
                          batches.FindByMessageId(c.campaign.account_id, task.msgid));
    if (owner && owner->id != c.batch.id) continue;  // another batch's task
    auto results = records->SendResults(c.campaign.account_id, task.msgid, c.batch.sender);
    if (!results.ok()) return Wait();
    bool match = false;
    for (const RecipientResult& r : results.value()) {
      if (ours.count(r.external_userid) > 0) {
        match = true;
        break;
      }
    }
    if (!match) continue;
    ReconcileDecision decision;
    decision.action = ReconcileAction::kSettle;
    decision.outcome.state = model::BatchState::kSent;
    decision.outcome.platform_msg_id = task.msgid;
    decision.outcome.deliveries = model::DeliveryState::kSent;
    std::set<std::string> named;
    for (const RecipientResult& r : results.value()) named.insert(r.external_userid);
    decision.outcome.exceptions = OutcomesFromResults(c.deliveries, results.value());
    for (const model::Delivery& d : c.deliveries) {
      // Ours but not in the task: the reply's fail_list left it out.
      if (named.count(Address(d)) == 0) {
        decision.outcome.exceptions.push_back(storage::DeliveryOutcome{
            d.id, model::DeliveryState::kNotReached, 0, "not in the task's recipients"});
      }
    }
    return decision;
  }
  if (!settled) return Wait();
  if (c.batch.attempts >= c.options.max_attempts) {
    return Unknown("no group-message task found after " + std::to_string(c.batch.attempts) +
                   " attempts");
  }
  return Resend();
}

}  // namespace

core::StatusOr<ReconcileDecision> DecideReconcile(const ReconcileContext& context,
                                                  GroupMessageRecords* records,
                                                  storage::SendBatchStore& batches) {
  switch (context.campaign.kind) {
    case model::CampaignKind::kWecomGroup: return DecideWecom(context, records, batches);
    case model::CampaignKind::kOaTemplate:
      // openid + client_msg_id is sent once within 10 minutes (PROTOCOL §4.2 template/send).
      if (context.now_ms - context.batch.updated_at_ms <= context.options.template_dedupe.count()) {
        return Resend();
      }
      return Unknown("outcome unknown and the 10-minute client_msg_id window has passed");
    case model::CampaignKind::kOaCustom:
      return Unknown("outcome unknown; custom messages have no idempotency key");
    case model::CampaignKind::kOaMass: return Unknown("outcome unknown");
  }
  return Unknown("outcome unknown");
}

std::vector<storage::DeliveryOutcome> OutcomesFromResults(
    const std::vector<model::Delivery>& deliveries, const std::vector<RecipientResult>& results) {
  std::map<std::string, int64_t> status;
  for (const RecipientResult& r : results) status[r.external_userid] = r.status;
  std::vector<storage::DeliveryOutcome> out;
  for (const model::Delivery& d : deliveries) {
    if (d.state != model::DeliveryState::kSending && d.state != model::DeliveryState::kSent) {
      continue;
    }
    const auto it = status.find(Address(d));
    if (it == status.end()) continue;
    if (it->second == 1) {
      out.push_back(storage::DeliveryOutcome{d.id, model::DeliveryState::kDelivered, 0, ""});
    } else if (it->second == 2 || it->second == 3) {
      out.push_back(storage::DeliveryOutcome{
          d.id, model::DeliveryState::kNotReached, 0,
          it->second == 2 ? "not a contact of the sender" : "recipient's monthly quota used up"});
    }
  }
  return out;
}

}  // namespace scrm::campaigns
