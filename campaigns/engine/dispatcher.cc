#include "campaigns/engine/dispatcher.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <variant>

#include "campaigns/engine/reconcile.h"

namespace scrm::campaigns {
namespace {

using core::Status;
using core::StatusOr;

constexpr size_t kPendingPerRound = 1000;

// The address part of "<account>:<sender>:<address>" (model::DeliveryChannelKey).
std::string AddressOf(const model::Delivery& delivery) {
  const size_t colon = delivery.channel_key.rfind(':');
  return colon == std::string::npos ? "" : delivery.channel_key.substr(colon + 1);
}

nlohmann::json WecomAttachmentsJson(const model::WecomMessageContent& content) {
  nlohmann::json out = nlohmann::json::array();
  for (const model::WecomAttachment& attachment : content.attachments) {
    nlohmann::json one;
    one["msgtype"] = std::string(model::WecomAttachmentType(attachment));
    std::visit(
        [&](const auto& a) {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, model::WecomImage>) {
            if (!a.media_id.empty()) one["image"]["media_id"] = a.media_id;
            if (!a.pic_url.empty()) one["image"]["pic_url"] = a.pic_url;
          } else if constexpr (std::is_same_v<A, model::WecomLink>) {
            one["link"] = {{"title", a.title}, {"url", a.url}};
            if (!a.desc.empty()) one["link"]["desc"] = a.desc;
            if (!a.picurl.empty()) one["link"]["picurl"] = a.picurl;
          } else {
            one["miniprogram"] = {{"title", a.title},
                                  {"appid", a.appid},
                                  {"page", a.page},
                                  {"pic_media_id", a.pic_media_id}};
          }
        },
        attachment);
    out.push_back(std::move(one));
  }
  return out;
}

// The rendered content as the outbound message of `kind` for `address` (openid for OA).
StatusOr<channels::OutboundMessage> ToOutbound(model::CampaignKind kind,
                                               const model::MessageContent& content,
                                               const std::vector<std::string>& addresses,
                                               const std::string& sender,
                                               const std::string& idempotency_key) {
  switch (kind) {
    case model::CampaignKind::kWecomGroup: {
      const auto* wecom = std::get_if<model::WecomMessageContent>(&content);
      if (wecom == nullptr) break;
      platform::WecomGroupMessage message;
      message.chat_type = "single";
      message.external_userids = addresses;
      // The member whose client gets the task (and whose contacts the recipients are).
      message.sender = sender;
      message.text = wecom->text;
      message.attachments = WecomAttachmentsJson(*wecom);
      return channels::OutboundMessage(std::move(message));
    }
    case model::CampaignKind::kOaTemplate: {
      const auto* oa = std::get_if<model::OaTemplateContent>(&content);
      if (oa == nullptr || addresses.size() != 1) break;
      platform::OaTemplateMessage message;
      message.touser = addresses.front();
      message.template_id = oa->template_id;
      message.url = oa->url;
      if (oa->miniprogram) {
        message.miniprogram_appid = oa->miniprogram->appid;
        message.miniprogram_pagepath = oa->miniprogram->pagepath;
      }
      // client_msg_id: the platform sends openid + id once within 10 minutes (PROTOCOL §4.2).
      message.client_msg_id = idempotency_key;
      for (const auto& [key, field] : oa->data) message.data[key] = field.value;
      return channels::OutboundMessage(std::move(message));
    }
    case model::CampaignKind::kOaCustom: {
      if (addresses.size() != 1) break;
      platform::OaCustomMessage message;
      message.touser = addresses.front();
      if (const auto* text = std::get_if<model::OaCustomTextContent>(&content)) {
        message.msgtype = "text";
        message.content = {{"content", text->content}};
        return channels::OutboundMessage(std::move(message));
      }
      if (const auto* news = std::get_if<model::OaCustomNewsContent>(&content)) {
        message.msgtype = "news";
        nlohmann::json articles = nlohmann::json::array();
        for (const model::OaNewsArticle& a : news->articles) {
          articles.push_back({{"title", a.title},
                              {"description", a.description},
                              {"url", a.url},
                              {"picurl", a.picurl}});
        }
        message.content = {{"articles", std::move(articles)}};
        return channels::OutboundMessage(std::move(message));
      }
      break;
    }
    case model::CampaignKind::kOaMass: break;
  }
  return core::FailedPreconditionError(
      "a " + std::string(model::CampaignKindName(kind)) + " campaign cannot send a " +
      std::string(model::TemplateChannelName(model::ChannelOf(content))) + " message this way");
}

}  // namespace

Dispatcher::Dispatcher(storage::CampaignStore& campaigns, storage::SendBatchStore& batches,
                       const channels::OutboundDirectory& outbound, MessageSource& messages,
                       GroupMessageRecords* records, const core::Clock& clock,
                       core::MetricsRegistry& metrics, DispatcherOptions options)
    : campaigns_(campaigns),
      batches_(batches),
      outbound_(outbound),
      messages_(messages),
      records_(records),
      clock_(clock),
      events_(metrics.Counter("scrm_campaign_dispatch_total",
                              "Campaign dispatcher events (batches and deliveries) by campaign "
                              "kind and event",
                              {"kind", "event"})),
      options_(options) {}

void Dispatcher::Count(const model::Campaign& campaign, std::string_view event, int64_t by) {
  if (by <= 0) return;
  events_.Inc({std::string(model::CampaignKindName(campaign.kind)), std::string(event)},
              static_cast<uint64_t>(by));
}

StatusOr<DispatchReport> Dispatcher::RunOnce() {
  DispatchReport report;
  int64_t after = 0;
  while (true) {
    SCRM_ASSIGN_OR_RETURN(const std::vector<model::Campaign> running,
                          campaigns_.List(model::CampaignState::kRunning, after, 100));
    for (const model::Campaign& campaign : running) {
      SCRM_RETURN_IF_ERROR(RunCampaign(campaign, report));
    }
    if (running.size() < 100) break;
    after = running.back().id;
  }
  // Members confirm WeCom tasks later: completed campaigns' results are still read for a while.
  const int64_t horizon_ms = clock_.NowUnixMillis() - options_.poll_horizon.count();
  after = 0;
  while (true) {
    SCRM_ASSIGN_OR_RETURN(const std::vector<model::Campaign> done,
                          campaigns_.List(model::CampaignState::kCompleted, after, 100));
    for (const model::Campaign& campaign : done) {
      if (campaign.completed_at_ms >= horizon_ms) {
        SCRM_RETURN_IF_ERROR(PollResults(campaign, report));
      }
    }
    if (done.size() < 100) break;
    after = done.back().id;
  }
  return report;
}

Status Dispatcher::RunCampaign(const model::Campaign& campaign, DispatchReport& report) {
  channels::OutboundChannel* channel = outbound_.Find(campaign.account_id);
  if (channel == nullptr || campaign.kind == model::CampaignKind::kOaMass) {
    // No API secret for the account (or a kind this dispatcher does not send yet): the
    // deliveries stay planned, visible in the stats, until the configuration allows a send.
    return core::OkStatus();
  }
  SCRM_RETURN_IF_ERROR(Reconcile(campaign, *channel, report));
  SCRM_RETURN_IF_ERROR(PlanBatches(campaign));
  SCRM_RETURN_IF_ERROR(SendPending(campaign, *channel, report));
  SCRM_RETURN_IF_ERROR(PollResults(campaign, report));
  return MaybeComplete(campaign, report);
}

Status Dispatcher::PlanBatches(const model::Campaign& campaign) {
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::Delivery> planned,
                        batches_.ListUnbatched(campaign.id, options_.round_deliveries));
  const int64_t now_ms = clock_.NowUnixMillis();
  std::vector<std::vector<const model::Delivery*>> groups;
  if (campaign.kind == model::CampaignKind::kWecomGroup) {
    // One task per sender member, its recipients in id order, split at the per-call limit.
    std::map<std::string, std::vector<const model::Delivery*>> by_sender;
    std::vector<std::string> order;
    for (const model::Delivery& d : planned) {
      auto& list = by_sender[d.sender];
      if (list.empty()) order.push_back(d.sender);
      list.push_back(&d);
    }
    for (const std::string& sender : order) {
      const auto& list = by_sender[sender];
      for (size_t i = 0; i < list.size(); i += options_.max_wecom_recipients) {
        const size_t end = std::min(list.size(), i + options_.max_wecom_recipients);
        groups.emplace_back(list.begin() + static_cast<std::ptrdiff_t>(i),
                            list.begin() + static_cast<std::ptrdiff_t>(end));
      }
    }
  } else {
    for (const model::Delivery& d : planned) groups.push_back({&d});
  }
  std::vector<model::SendBatch> rows;
  std::vector<std::vector<int64_t>> ids;
  rows.reserve(groups.size());
  ids.reserve(groups.size());
  for (const auto& group : groups) {
    model::SendBatch batch;
    batch.campaign_id = campaign.id;
    batch.account_id = campaign.account_id;
    batch.sender = group.front()->sender;
    // A batch of one takes its delivery's key (the OA client_msg_id); a WeCom task its first
    // delivery's id, which no other batch of the campaign can start with.
    batch.idempotency_key =
        group.size() == 1 && campaign.kind != model::CampaignKind::kWecomGroup
            ? group.front()->idempotency_key
            : std::to_string(campaign.id) + ":b:" + std::to_string(group.front()->id);
    batch.created_at_ms = now_ms;
    std::vector<int64_t> members;
    members.reserve(group.size());
    for (const model::Delivery* d : group) members.push_back(d->id);
    rows.push_back(std::move(batch));
    ids.push_back(std::move(members));
  }
  // One commit for the round's batches: nothing is sent before they are all written.
  return batches_.CreateMany(rows, ids).status();
}

Status Dispatcher::SendPending(const model::Campaign& campaign, channels::OutboundChannel& channel,
                               DispatchReport& report) {
  // OA template calls carry the platform's idempotency key: a group of them is begun in one
  // transaction and settled in one (a crash in between leaves them 'sending', and the reconcile
  // resends them under their client_msg_id within the dedupe window). Calls without a key go
  // one at a time: begun, called, settled.
  const size_t group = campaign.kind == model::CampaignKind::kOaTemplate
                           ? std::max<size_t>(1, options_.template_group)
                           : 1;
  int64_t after = 0;
  while (true) {
    SCRM_ASSIGN_OR_RETURN(
        const std::vector<model::SendBatch> pending,
        batches_.List(campaign.id, model::BatchState::kPending, after, kPendingPerRound));
    for (size_t i = 0; i < pending.size(); i += group) {
      std::vector<int64_t> ids;
      for (size_t k = i; k < std::min(pending.size(), i + group); ++k) {
        ids.push_back(pending[k].id);
      }
      SCRM_ASSIGN_OR_RETURN(const std::vector<model::SendBatch> sending,
                            batches_.BeginSendMany(ids, clock_.NowUnixMillis()));
      std::vector<storage::BatchEnd> ends;
      bool blocked = false;
      for (const model::SendBatch& batch : sending) {
        if (blocked) {
          // Begun but not called: back to pending.
          storage::BatchEnd end;
          end.batch_id = batch.id;
          end.release = true;
          ends.push_back(std::move(end));
          continue;
        }
        SCRM_ASSIGN_OR_RETURN(std::optional<storage::BatchEnd> end,
                              Attempt(campaign, channel, batch, report));
        if (!end) continue;  // unknown outcome: left 'sending' for the reconcile
        // The platform is blocking this API (quota, throttle): the rest waits for next round.
        if (end->release) blocked = true;
        ends.push_back(std::move(*end));
      }
      SCRM_RETURN_IF_ERROR(batches_.Settle(ends, clock_.NowUnixMillis()));
      if (blocked) return core::OkStatus();
    }
    if (pending.size() < kPendingPerRound) return core::OkStatus();
    after = pending.back().id;
  }
}

Status Dispatcher::Call(const model::Campaign& campaign, channels::OutboundChannel& channel,
                        const model::SendBatch& batch, DispatchReport& report) {
  SCRM_ASSIGN_OR_RETURN(std::optional<storage::BatchEnd> end,
                        Attempt(campaign, channel, batch, report));
  if (!end) return core::OkStatus();
  return batches_.Settle(std::span<const storage::BatchEnd>(&*end, 1), clock_.NowUnixMillis());
}

StatusOr<std::optional<storage::BatchEnd>> Dispatcher::Attempt(const model::Campaign& campaign,
                                                               channels::OutboundChannel& channel,
                                                               const model::SendBatch& batch,
                                                               DispatchReport& report) {
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::Delivery> deliveries,
                        batches_.Deliveries(batch.id));
  std::vector<const model::Delivery*> sending;
  for (const model::Delivery& d : deliveries) {
    if (d.state == model::DeliveryState::kSending) sending.push_back(&d);
  }
  storage::BatchEnd end;
  end.batch_id = batch.id;
  storage::BatchOutcome& outcome = end.outcome;
  if (sending.empty()) {
    outcome.state = model::BatchState::kSent;
    return std::optional<storage::BatchEnd>(std::move(end));
  }
  std::vector<std::string> addresses;
  for (const model::Delivery* d : sending) addresses.push_back(AddressOf(*d));
  const bool shared = campaign.kind == model::CampaignKind::kWecomGroup;
  auto content = messages_.Render(campaign, shared ? 0 : sending.front()->customer_id, batch.sender,
                                  std::nullopt);
  StatusOr<channels::OutboundMessage> message =
      content.ok()
          ? ToOutbound(campaign.kind, *content, addresses, batch.sender, batch.idempotency_key)
          : StatusOr<channels::OutboundMessage>(content.status());
  if (!message.ok()) {
    // Nothing was sent: the campaign's message cannot be made for these recipients.
    outcome.state = model::BatchState::kFailed;
    outcome.error = "render: " + message.status().message();
    outcome.deliveries = model::DeliveryState::kFailed;
    ++report.batches_failed;
    Count(campaign, "failed", static_cast<int64_t>(sending.size()));
    return std::optional<storage::BatchEnd>(std::move(end));
  }
  platform::CallOptions call;
  call.priority = platform::Priority::kBulk;
  call.time_budget = options_.call_budget;
  const platform::ApiResult<channels::SendReceipt> sent = channel.Send(*message, call);
  if (sent.ok()) {
    outcome.state = model::BatchState::kSent;
    outcome.platform_msg_id = sent.value().message_id;
    outcome.deliveries = model::DeliveryState::kSent;
    // WeCom fail_list: recipients the task cannot reach (not a contact of the sender, ...).
    const std::set<std::string> unreached(sent.value().unreached.begin(),
                                          sent.value().unreached.end());
    for (const model::Delivery* d : sending) {
      if (unreached.count(AddressOf(*d)) > 0) {
        outcome.exceptions.push_back(storage::DeliveryOutcome{
            d->id, model::DeliveryState::kNotReached, 0, "fail_list of the send reply"});
      }
    }
    ++report.batches_sent;
    Count(campaign, "sent", static_cast<int64_t>(sending.size() - outcome.exceptions.size()));
    Count(campaign, "not_reached", static_cast<int64_t>(outcome.exceptions.size()));
    return std::optional<storage::BatchEnd>(std::move(end));
  }
  const platform::ApiError& error = sent.error();
  switch (error.outcome) {
    case platform::Outcome::kRetryAfter:   // 45009 quota / frequency block: the governor pauses
    case platform::Outcome::kThrottled:    // no permit within the budget
    case platform::Outcome::kUnavailable:  // transient failures: the platform processed nothing
      ++report.batches_released;
      Count(campaign, "released", 1);
      end.release = true;
      return std::optional<storage::BatchEnd>(std::move(end));
    case platform::Outcome::kUnknown:
    case platform::Outcome::kBadReply:
      // Maybe delivered: never sent again blindly. Left 'sending', the next round reconciles it
      // (OA template: resent under its client_msg_id within the dedupe window; WeCom: from the
      // group-message records).
      return std::optional<storage::BatchEnd>();
    case platform::Outcome::kRefused:
    case platform::Outcome::kRejected:
    case platform::Outcome::kConfigError: break;
  }
  outcome.state = model::BatchState::kFailed;
  outcome.errcode = error.errcode;
  outcome.error = std::string(platform::OutcomeName(error.outcome)) + ": " + error.message;
  outcome.deliveries = model::DeliveryState::kFailed;
  ++report.batches_failed;
  Count(campaign, "failed", static_cast<int64_t>(sending.size()));
  return std::optional<storage::BatchEnd>(std::move(end));
}

Status Dispatcher::Reconcile(const model::Campaign& campaign, channels::OutboundChannel& channel,
                             DispatchReport& report) {
  SCRM_ASSIGN_OR_RETURN(
      const std::vector<model::SendBatch> stuck,
      batches_.List(campaign.id, model::BatchState::kSending, 0, kPendingPerRound));
  for (const model::SendBatch& batch : stuck) {
    SCRM_ASSIGN_OR_RETURN(const std::vector<model::Delivery> deliveries,
                          batches_.Deliveries(batch.id));
    const ReconcileContext context{campaign, batch, deliveries, clock_.NowUnixMillis(), options_};
    SCRM_ASSIGN_OR_RETURN(const ReconcileDecision decision,
                          DecideReconcile(context, records_, batches_));
    switch (decision.action) {
      case ReconcileAction::kWait: break;
      case ReconcileAction::kSettle:
        SCRM_RETURN_IF_ERROR(batches_.Finish(batch.id, decision.outcome, clock_.NowUnixMillis()));
        ++report.reconciled;
        if (decision.outcome.state == model::BatchState::kUnknown) {
          ++report.batches_unknown;
          Count(campaign, "unknown", static_cast<int64_t>(deliveries.size()));
        } else {
          Count(campaign, "reconciled", static_cast<int64_t>(deliveries.size()));
        }
        break;
      case ReconcileAction::kResend: {
        SCRM_ASSIGN_OR_RETURN(
            const model::SendBatch again,
            batches_.BeginSend(batch.id, model::BatchState::kSending, clock_.NowUnixMillis()));
        ++report.resent;
        SCRM_RETURN_IF_ERROR(Call(campaign, channel, again, report));
        break;
      }
    }
  }
  return core::OkStatus();
}

Status Dispatcher::PollResults(const model::Campaign& campaign, DispatchReport& report) {
  if (campaign.kind != model::CampaignKind::kWecomGroup || records_ == nullptr) {
    return core::OkStatus();
  }
  int64_t& cursor = poll_cursor_[campaign.id];
  SCRM_ASSIGN_OR_RETURN(
      std::vector<model::SendBatch> sent,
      batches_.List(campaign.id, model::BatchState::kSent, cursor, options_.polls_per_round));
  if (sent.size() < options_.polls_per_round) cursor = 0;  // wrap around next round
  if (!sent.empty() && sent.size() == options_.polls_per_round) cursor = sent.back().id;
  for (const model::SendBatch& batch : sent) {
    SCRM_ASSIGN_OR_RETURN(const std::vector<model::Delivery> deliveries,
                          batches_.Deliveries(batch.id));
    const bool waiting = std::any_of(deliveries.begin(), deliveries.end(), [](const auto& d) {
      return d.state == model::DeliveryState::kSent;
    });
    if (!waiting || batch.platform_msg_id.empty()) continue;
    auto results = records_->SendResults(campaign.account_id, batch.platform_msg_id, batch.sender);
    ++report.polled;
    if (!results.ok()) continue;  // read again next round
    const std::vector<storage::DeliveryOutcome> outcomes =
        OutcomesFromResults(deliveries, results.value());
    SCRM_ASSIGN_OR_RETURN(const size_t changed,
                          batches_.ApplyDeliveryOutcomes(outcomes, clock_.NowUnixMillis()));
    (void)changed;
    for (const storage::DeliveryOutcome& o : outcomes) {
      Count(campaign, model::DeliveryStateName(o.state), 1);
    }
  }
  return core::OkStatus();
}

Status Dispatcher::MaybeComplete(const model::Campaign& campaign, DispatchReport& report) {
  SCRM_ASSIGN_OR_RETURN(const int64_t open, batches_.OpenWork(campaign.id));
  if (open > 0) return core::OkStatus();
  SCRM_ASSIGN_OR_RETURN(model::Campaign current, campaigns_.Get(campaign.id));
  if (current.state != model::CampaignState::kRunning) return core::OkStatus();
  const int64_t now_ms = clock_.NowUnixMillis();
  const int expected = current.version;
  current.state = model::CampaignState::kCompleted;
  current.completed_at_ms = now_ms;
  current.updated_at_ms = now_ms;
  model::CampaignAuditEntry audit;
  audit.campaign_id = current.id;
  audit.from_state = std::string(model::CampaignStateName(model::CampaignState::kRunning));
  audit.to_state = std::string(model::CampaignStateName(model::CampaignState::kCompleted));
  audit.actor = "dispatcher";
  audit.at_ms = now_ms;
  audit.note = "nothing left planned or sending";
  auto saved = campaigns_.Save(current, expected, model::CampaignState::kRunning, audit);
  if (!saved.ok()) {
    // Paused or cancelled in between: that change wins.
    if (saved.status().code() == core::StatusCode::kFailedPrecondition) return core::OkStatus();
    return saved.status();
  }
  ++report.completed;
  Count(campaign, "completed", 1);
  return core::OkStatus();
}

}  // namespace scrm::campaigns
