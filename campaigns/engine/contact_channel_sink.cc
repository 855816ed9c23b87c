#include "campaigns/engine/contact_channel_sink.h"

#include <optional>
#include <string>
#include <utility>

#include "src/model/job_kinds.h"

namespace scrm::campaigns {
namespace {

using core::Status;

constexpr std::string_view kQrScenePrefix = "qrscene_";

}  // namespace

std::string WelcomeDedupeKey(std::string_view account_id, std::string_view welcome_code) {
  std::string key = model::kWelcomeJobKind;
  key += ':';
  key += account_id;
  key += ':';
  key += welcome_code;
  return key;
}

std::string_view ChannelStateOf(const model::Interaction& it) {
  std::string_view state;
  if (it.kind == model::InteractionKind::kSubscribe || it.kind == model::InteractionKind::kScan) {
    if (const auto* qr = std::get_if<model::QrScenePayload>(&it.payload)) state = qr->scene;
    if (state.starts_with(kQrScenePrefix)) state.remove_prefix(kQrScenePrefix.size());
  } else if (it.kind == model::InteractionKind::kContactAdd ||
             it.kind == model::InteractionKind::kContactAddHalf) {
    if (const auto* contact = std::get_if<model::ContactChangePayload>(&it.payload)) {
      state = contact->state;
    }
  }
  return state;
}

Status ContactChannelSink::OnChange(storage::WriteTxn& txn, const profiles::ProfileChange& change) {
  if (const auto* added = std::get_if<profiles::FollowerAdded>(&change.what)) {
    return OnArrival(txn, change, *added);
  }
  if (const auto* removed = std::get_if<profiles::FollowerRemoved>(&change.what)) {
    return channels_
        .RecordDeparture(txn, change.customer_id, removed->account_id, removed->userid,
                         change.at_ms)
        .status();
  }
  if (const auto* merged = std::get_if<profiles::CustomersMerged>(&change.what)) {
    return channels_.MoveArrivals(txn, merged->merged_id, change.customer_id);
  }
  return core::OkStatus();
}

Status ContactChannelSink::OnArrival(storage::WriteTxn& txn, const profiles::ProfileChange& change,
                                     const profiles::FollowerAdded& added) {
  if (added.interaction == nullptr) return core::OkStatus();
  const model::Interaction& it = *added.interaction;
  const std::string_view state = ChannelStateOf(it);
  if (state.empty()) return core::OkStatus();
  SCRM_ASSIGN_OR_RETURN(const std::optional<model::ContactChannel> channel,
                        channels_.FindByState(txn, added.account_id, state));
  if (!channel.has_value()) return core::OkStatus();  // a state scrmd did not create

  storage::ChannelArrival arrival;
  arrival.channel_id = channel->id;
  arrival.customer_id = change.customer_id;
  arrival.userid = std::string(added.userid);
  arrival.interaction_id = it.id;
  arrival.added_at_ms = it.occurred_at_ms;
  std::optional<storage::OutboxJob> welcome;
  if (const auto* contact = std::get_if<model::ContactChangePayload>(&it.payload);
      contact != nullptr && it.kind == model::InteractionKind::kContactAdd &&
      !contact->welcome_code.empty() && !channel->retired && channel->welcome_template_id > 0 &&
      welcome_accounts_.contains(it.account_id)) {
    model::WelcomePayload payload;
    payload.customer_id = change.customer_id;
    payload.channel_id = channel->id;
    payload.template_id = channel->welcome_template_id;
    payload.welcome_code = contact->welcome_code;
    payload.userid = it.userid;
    payload.external_userid = it.external_userid;
    payload.received_at_ms = it.received_at_ms;
    welcome.emplace();
    welcome->kind = model::kWelcomeJobKind;
    welcome->account_id = it.account_id;
    welcome->dedupe_key = WelcomeDedupeKey(it.account_id, contact->welcome_code);
    welcome->payload_json = model::EncodeWelcomePayload(payload);
    // Due at 0: the runner claims the oldest due first, so a welcome (20 s to live) goes ahead
    // of every enrichment and tag push queued before it.
    welcome->due_at_ms = 0;
    arrival.welcome_job = welcome->dedupe_key;
  }
  SCRM_ASSIGN_OR_RETURN(const bool recorded, channels_.RecordArrival(txn, arrival));
  if (!recorded || channel->retired) return core::OkStatus();
  for (const model::TagRef& tag : channel->default_tags) {
    SCRM_RETURN_IF_ERROR(editor_.AddManualTag(txn, change.customer_id, tag, 1.0).status());
  }
  if (welcome.has_value()) {
    SCRM_ASSIGN_OR_RETURN(const bool queued, outbox_.Enqueue(txn, *welcome, change.at_ms));
    if (queued && on_welcome_queued_) on_welcome_queued_();
  }
  return core::OkStatus();
}

}  // namespace scrm::campaigns
