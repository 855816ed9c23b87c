#include "src/api/callbacks.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace scrm::api {
namespace {

constexpr char kWecomPattern[] = "/callbacks/wecom/{account}";
constexpr char kOaPattern[] = "/callbacks/oa/{account}";

// Shared state of the four routes; lives as long as the server's handlers and every inbox
// completion still pending (they hold it too).
class CallbackHandler : public std::enable_shared_from_this<CallbackHandler> {
 public:
  CallbackHandler(const CallbackDeps& deps)
      : deps_(deps),
        accepted_(deps.metrics.Counter("scrmd_callbacks_total",
                                       "Platform callbacks answered 2xx, by outcome.",
                                       {"platform", "account", "outcome"})),
        rejected_(deps.metrics.Counter(
            "scrmd_callback_rejections_total",
            "Platform callbacks refused, by account and reason (nothing was stored).",
            {"platform", "account", "reason"})),
        malformed_(deps.metrics.Counter(
            "scrmd_callbacks_malformed_total",
            "Authentic callbacks of a shape the normalizer could not read, stored with kind "
            "\"malformed\" (duplicates not counted).",
            {"platform", "account"})) {}

  // GET: the platform's URL verification (a signature check and one decryption).
  void HandleVerify(model::Platform platform, const server::Request& req, server::Response& res,
                    const server::RequestContext& ctx) {
    const std::string account(ctx.params.Get("account"));
    const std::string platform_name(model::PlatformName(platform));
    const channels::ChannelAdapter* adapter =
        FindAdapter(platform, platform_name, account, res, ctx);
    if (adapter == nullptr) return;
    const channels::CallbackRequest request = MakeRequest(req);
    auto verified = adapter->VerifyUrl(request);
    if (!verified.ok()) {
      Reject(platform_name, account, verified.rejection, res, ctx);
      return;
    }
    accepted_.Inc({platform_name, account, "url_verified"});
    res.SetContent(*verified.value, "text/plain; charset=utf-8");
  }

  // POST: an event. Verified, decrypted and normalized on the event loop (cheap CPU), and its
  // acknowledgement (a passive reply included, encrypted when the account is) built there too;
  // then handed to the inbox. The inbox writer's completion only picks the answer for the outcome
  // and sends it (the writer thread does commits and completions, nothing more): no thread waits
  // for the commit, and none but the event loop spends time on the ack.
  void HandleEvent(model::Platform platform, const server::Request& req,
                   const server::RequestContext& ctx, server::Responder responder) {
    std::string account(ctx.params.Get("account"));
    std::string platform_name(model::PlatformName(platform));
    server::Response res;
    const channels::ChannelAdapter* adapter =
        FindAdapter(platform, platform_name, account, res, ctx);
    if (adapter == nullptr) {
      responder.Send(std::move(res));
      return;
    }
    const channels::CallbackRequest request = MakeRequest(req);
    auto decoded = adapter->Decode(request);
    if (!decoded.ok()) {
      Reject(platform_name, account, decoded.rejection, res, ctx);
      responder.Send(std::move(res));
      return;
    }
    server::Response ack = Acknowledgement(*adapter, request, *decoded.value);
    deps_.inbox.SubmitAsync(
        std::move(*decoded.value),
        [self = shared_from_this(), platform_name = std::move(platform_name),
         account = std::move(account), request_id = ctx.request_id, ack = std::move(ack),
         responder = std::move(responder)](core::StatusOr<ingest::SubmitResult> stored,
                                           const model::Interaction& interaction) mutable {
          // Counted first, so that a client that has its answer finds it in /metrics.
          self->CountOutcome(platform_name, account, request_id, stored, interaction);
          responder.Send(stored.ok() ? std::move(ack) : InboxFailed(request_id));
        });
  }

 private:
  const channels::ChannelAdapter* FindAdapter(model::Platform platform,
                                              const std::string& platform_name,
                                              const std::string& account, server::Response& res,
                                              const server::RequestContext& ctx) {
    const channels::ChannelAdapter* adapter = deps_.adapters.Find(platform, account);
    if (adapter == nullptr) {
      // Unknown ids are not counted per account: the label would be attacker-controlled.
      rejected_.Inc({platform_name, "", "unknown_account"});
      server::WriteJsonError(res, 404, "not_found", "unknown callback account", ctx.request_id);
    }
    return adapter;
  }

  channels::CallbackRequest MakeRequest(const server::Request& req) const {
    channels::CallbackRequest request;
    for (const auto& [key, value] : req.query) request.query.emplace(key, value);
    request.body = req.body;
    request.content_type = req.Header("Content-Type");
    request.received_at_ms = deps_.clock.NowUnixMillis();
    return request;
  }

  // The answer to an event once it is durable, stored or a duplicate (event loop, before the
  // submit). A retry of an event we already answered gets the same treatment: a reply is
  // computed from the interaction alone, so the platform sees the same answer.
  server::Response Acknowledgement(const channels::ChannelAdapter& adapter,
                                   const channels::CallbackRequest& request,
                                   const model::Interaction& interaction) const {
    std::optional<channels::ReplyMessage> reply;
    if (deps_.replier != nullptr) reply = deps_.replier->ReplyFor(interaction);
    std::string body = adapter.AckBody(request, interaction, reply ? &*reply : nullptr);
    const char* content_type = body.empty() || body == "success" ? "text/plain; charset=utf-8"
                               : body.front() == '{'             ? "application/json"
                                                                 : "application/xml";
    server::Response res;
    res.status = 200;
    res.SetContent(std::move(body), content_type);
    return res;
  }

  // The answer when the inbox could not store the event (inbox writer thread): not durable, so
  // not acked: a 503 makes the platform retry (PROTOCOL §2).
  static server::Response InboxFailed(const std::string& request_id) {
    server::Response res;
    server::WriteJsonError(res, 503, "unavailable", "temporarily unable to store the event",
                           request_id);
    return res;
  }

  // Counts (and logs, when it failed or the event is malformed) the inbox's outcome for one
  // event (inbox writer thread, before the answer is handed over).
  void CountOutcome(const std::string& platform_name, const std::string& account,
                    const std::string& request_id,
                    const core::StatusOr<ingest::SubmitResult>& stored,
                    const model::Interaction& interaction) {
    if (!stored.ok()) {
      deps_.log->error("callback {} {}: inbox failed: {} (request {})", platform_name, account,
                       stored.status().ToString(), request_id);
      accepted_.Inc({platform_name, account, "inbox_failed"});
      return;
    }
    accepted_.Inc({platform_name, account, stored->duplicate ? "duplicate" : "stored"});
    if (interaction.kind == model::InteractionKind::kMalformed && !stored->duplicate) {
      malformed_.Inc({platform_name, account});
      const auto* generic = std::get_if<model::GenericPayload>(&interaction.payload);
      deps_.log->warn("callback {} {}: stored interaction {} as malformed: {} (request {})",
                      platform_name, account, stored->id,
                      generic != nullptr ? generic->malformed : "", request_id);
    }
  }

  void Reject(const std::string& platform_name, const std::string& account,
              const channels::Rejection& rejection, server::Response& res,
              const server::RequestContext& ctx) {
    const std::string reason(channels::RejectReasonName(rejection.reason));
    rejected_.Inc({platform_name, account, reason});
    // The detail names the failed check only; bodies, signatures and keys are never logged.
    deps_.log->warn("callback {} {} rejected: {} ({}) request {}", platform_name, account, reason,
                    rejection.detail, ctx.request_id);
    const int status = channels::RejectHttpStatus(rejection.reason);
    const char* code = status == 401   ? "unauthenticated"
                       : status == 503 ? "unavailable"
                                       : "invalid_argument";
    server::WriteJsonError(res, status, code, "callback rejected: " + reason, ctx.request_id);
  }

  CallbackDeps deps_;
  core::CounterFamily& accepted_;
  core::CounterFamily& rejected_;
  core::CounterFamily& malformed_;
};

}  // namespace

void AdapterRegistry::Add(std::unique_ptr<channels::ChannelAdapter> adapter) {
  auto key = std::make_pair(adapter->platform(), adapter->account_id());
  adapters_[std::move(key)] = std::move(adapter);
}

const channels::ChannelAdapter* AdapterRegistry::Find(model::Platform platform,
                                                      const std::string& id) const {
  auto it = adapters_.find({platform, id});
  return it == adapters_.end() ? nullptr : it->second.get();
}

void RegisterCallbackRoutes(server::HttpServer& server, const CallbackDeps& deps) {
  auto handler = std::make_shared<CallbackHandler>(deps);
  for (auto [pattern, platform] : {std::pair{kWecomPattern, model::Platform::kWecom},
                                   std::pair{kOaPattern, model::Platform::kOfficialAccount}}) {
    server.Get(pattern,
               [handler, platform = platform](const server::Request& req, server::Response& res,
                                              const server::RequestContext& ctx) {
                 handler->HandleVerify(platform, req, res, ctx);
               });
    server.PostAsync(pattern, [handler, platform = platform](const server::Request& req,
                                                             const server::RequestContext& ctx,
                                                             server::Responder responder) {
      handler->HandleEvent(platform, req, ctx, std::move(responder));
    });
  }
}

}  // namespace scrm::api
