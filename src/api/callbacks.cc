#include "src/api/callbacks.h"

namespace scrm::api {
namespace {

constexpr char kWecomPattern[] = R"(/callbacks/wecom/([A-Za-z0-9_-]{1,64}))";
constexpr char kOaPattern[] = R"(/callbacks/oa/([A-Za-z0-9_-]{1,64}))";

// Shared state of the four routes; lives as long as the server's handlers.
class CallbackHandler {
 public:
  CallbackHandler(const CallbackDeps& deps)
      : deps_(deps),
        accepted_(deps.metrics.Counter("scrmd_callbacks_total",
                                       "Platform callbacks answered 2xx, by outcome.",
                                       {"platform", "account", "outcome"})),
        rejected_(deps.metrics.Counter(
            "scrmd_callback_rejections_total",
            "Platform callbacks refused, by account and reason (nothing was stored).",
            {"platform", "account", "reason"})) {}

  void Handle(model::Platform platform, bool is_post, const httplib::Request& req,
              httplib::Response& res, const server::RequestContext& ctx) {
    const std::string account = req.matches[1];
    const std::string platform_name(model::PlatformName(platform));
    const channels::ChannelAdapter* adapter = deps_.adapters.Find(platform, account);
    if (adapter == nullptr) {
      // Unknown ids are not counted per account: the label would be attacker-controlled.
      rejected_.Inc({platform_name, "", "unknown_account"});
      server::WriteJsonError(res, 404, "not_found", "unknown callback account", ctx.request_id);
      return;
    }
    channels::CallbackRequest request;
    for (const auto& [key, value] : req.params) request.query.emplace(key, value);
    request.body = req.body;
    request.content_type = req.get_header_value("Content-Type");
    request.received_at_ms = deps_.clock.NowUnixMillis();

    if (!is_post) {
      auto verified = adapter->VerifyUrl(request);
      if (!verified.ok()) {
        Reject(platform_name, account, verified.rejection, res, ctx);
        return;
      }
      accepted_.Inc({platform_name, account, "url_verified"});
      res.set_content(*verified.value, "text/plain; charset=utf-8");
      return;
    }

    auto decoded = adapter->Decode(request);
    if (!decoded.ok()) {
      Reject(platform_name, account, decoded.rejection, res, ctx);
      return;
    }
    const model::Interaction& interaction = *decoded.value;
    auto stored = deps_.inbox.Submit(interaction);
    if (!stored.ok()) {
      // Not durable, so not acked: a 503 makes the platform retry (PROTOCOL §2).
      deps_.log->error("callback {} {}: inbox failed: {} (request {})", platform_name, account,
                       stored.status().ToString(), ctx.request_id);
      accepted_.Inc({platform_name, account, "inbox_failed"});
      server::WriteJsonError(res, 503, "unavailable", "temporarily unable to store the event",
                             ctx.request_id);
      return;
    }
    accepted_.Inc({platform_name, account, stored->duplicate ? "duplicate" : "stored"});
    std::optional<channels::ReplyMessage> reply;
    // A retry of an event we already answered gets the same treatment: a reply is computed
    // from the interaction alone, so the platform sees the same answer.
    if (deps_.replier != nullptr) reply = deps_.replier->ReplyFor(interaction);
    const std::string body = adapter->AckBody(request, interaction, reply ? &*reply : nullptr);
    res.status = 200;
    res.set_content(body, body.empty() || body == "success" ? "text/plain; charset=utf-8"
                          : body.front() == '{'             ? "application/json"
                                                            : "application/xml");
  }

 private:
  void Reject(const std::string& platform_name, const std::string& account,
              const channels::Rejection& rejection, httplib::Response& res,
              const server::RequestContext& ctx) {
    const std::string reason(channels::RejectReasonName(rejection.reason));
    rejected_.Inc({platform_name, account, reason});
    // The detail names the failed check only; bodies, signatures and keys are never logged.
    deps_.log->warn("callback {} {} rejected: {} ({}) request {}", platform_name, account, reason,
                    rejection.detail, ctx.request_id);
    const int status = channels::RejectHttpStatus(rejection.reason);
    server::WriteJsonError(res, status, status == 401 ? "unauthenticated" : "invalid_argument",
                           "callback rejected: " + reason, ctx.request_id);
  }

  CallbackDeps deps_;
  core::CounterFamily& accepted_;
  core::CounterFamily& rejected_;
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
  for (auto [pattern, platform, route] :
       {std::tuple{kWecomPattern, model::Platform::kWecom, "/callbacks/wecom/{account}"},
        std::tuple{kOaPattern, model::Platform::kOfficialAccount, "/callbacks/oa/{account}"}}) {
    server.Get(pattern, route,
               [handler, platform = platform](const httplib::Request& req, httplib::Response& res,
                                              const server::RequestContext& ctx) {
                 handler->Handle(platform, false, req, res, ctx);
               });
    server.Post(pattern, route,
                [handler, platform = platform](const httplib::Request& req, httplib::Response& res,
                                               const server::RequestContext& ctx) {
                  handler->Handle(platform, true, req, res, ctx);
                });
  }
}

}  // namespace scrm::api
