#include "src/api/campaign_stats_routes.h"

#include <nlohmann/json.hpp>
#include <string>

#include "src/api/api_json.h"

namespace scrm::api {
namespace {

using nlohmann::json;

constexpr std::initializer_list<model::Role> kRetryRoles = {model::Role::kAdmin,
                                                            model::Role::kMarketing};

json FiguresJson(const campaigns::DeliveryFigures& f) {
  return json{{"audience", f.audience}, {"planned", f.planned}, {"skipped", f.skipped},
              {"sending", f.sending},   {"sent", f.sent},       {"delivered", f.delivered},
              {"failed", f.failed},     {"unknown", f.unknown}, {"not_reached", f.not_reached}};
}

// Errcodes as object keys ("0" = no platform errcode).
json ByErrcodeJson(const std::map<int64_t, int64_t>& counts) {
  json out = json::object();
  for (const auto& [errcode, n] : counts) out[std::to_string(errcode)] = n;
  return out;
}

json StatsJson(const campaigns::CampaignStats& s) {
  json out = FiguresJson(s.total);
  out["campaign_id"] = IdJson(s.campaign_id);
  out["kind"] = s.kind;
  out["state"] = s.state;
  out["skipped_by_reason"] = s.skipped_by_reason;
  out["failed_by_errcode"] = ByErrcodeJson(s.failed_by_errcode);
  out["unknown_by_errcode"] = ByErrcodeJson(s.unknown_by_errcode);
  json senders = json::object();
  for (const auto& [sender, f] : s.by_sender) senders[sender] = FiguresJson(f);
  out["by_sender"] = std::move(senders);
  json accounts = json::object();
  for (const auto& [account, f] : s.by_account) accounts[account] = FiguresJson(f);
  out["by_account"] = std::move(accounts);
  return out;
}

}  // namespace

void RegisterCampaignStatsRoutes(ApiRouter& router, campaigns::CampaignStatsService& stats) {
  auto* s = &stats;
  router.Get("/api/v1/campaigns/{id}/stats", kAnyRole,
             [s](const server::Request&, server::Response& res, const ApiContext& ctx) {
               auto id = PathId(ctx, "id");
               if (!Check(id.status(), res, ctx)) return;
               auto figures = s->Stats(*id);
               if (!Check(figures.status(), res, ctx)) return;
               WriteJson(res, StatsJson(*figures));
             });
  router.Post("/api/v1/campaigns/{id}/retry", kRetryRoles,
              [s](const server::Request&, server::Response& res, const ApiContext& ctx) {
                auto id = PathId(ctx, "id");
                if (!Check(id.status(), res, ctx)) return;
                auto requeued = s->Retry(*id, ctx.caller.name);
                if (!Check(requeued.status(), res, ctx)) return;
                WriteJson(res, json{{"requeued", *requeued}});
              });
}

}  // namespace scrm::api
