#include "src/api/campaign_routes.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "campaigns/engine/campaign_options.h"
#include "src/api/api_json.h"
#include "src/storage/list_limit.h"

namespace scrm::api {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultLimit = 50;
constexpr int64_t kDefaultForecastPage = 20;

struct Deps {
  campaigns::CampaignService& service;
  storage::DeliveryStore& deliveries;
};

json CampaignJson(const model::Campaign& c) {
  json options = json::parse(c.options_json, nullptr, false);
  if (options.is_discarded()) options = json::object();
  return json{{"id", IdJson(c.id)},
              {"name", c.name},
              {"kind", model::CampaignKindName(c.kind)},
              {"account_id", c.account_id},
              {"segment_id", IdJson(c.segment_id)},
              {"segment_version", c.segment_version},
              {"template_id", IdJson(c.template_id)},
              {"template_version", c.template_version},
              {"state", model::CampaignStateName(c.state)},
              {"schedule_at_ms", c.schedule_at_ms},
              {"options", std::move(options)},
              {"created_by", c.created_by},
              {"approved_by", c.approved_by},
              {"created_at_ms", c.created_at_ms},
              {"updated_at_ms", c.updated_at_ms},
              {"launched_at_ms", c.launched_at_ms},
              {"completed_at_ms", c.completed_at_ms},
              {"version", c.version}};
}

json DeliveryJson(const model::Delivery& d) {
  return json{{"id", IdJson(d.id)},
              {"customer_id", IdJson(d.customer_id)},
              {"channel_key", d.channel_key},
              {"sender", d.sender},
              {"state", model::DeliveryStateName(d.state)},
              {"skip_reason", model::SkipReasonName(d.skip_reason)},
              {"batch_id", IdJson(d.batch_id)},
              {"last_errcode", d.last_errcode},
              {"last_error", d.last_error},
              {"created_at_ms", d.created_at_ms},
              {"updated_at_ms", d.updated_at_ms}};
}

json AuditJson(const model::CampaignAuditEntry& a) {
  return json{{"id", IdJson(a.id)}, {"from_state", a.from_state}, {"to_state", a.to_state},
              {"actor", a.actor},   {"at_ms", a.at_ms},           {"note", a.note}};
}

json DeliveriesJson(const std::vector<model::Delivery>& rows) {
  json items = json::array();
  for (const auto& d : rows) items.push_back(DeliveryJson(d));
  return items;
}

// An optional integer member (0 when absent or null), at least min.
core::StatusOr<std::optional<int64_t>> OptionalInt(const json& body, const std::string& name,
                                                   int64_t min) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer() || it->get<int64_t>() < min) {
    return core::InvalidArgumentError(name + ": must be an integer >= " + std::to_string(min));
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

core::StatusOr<std::optional<int>> VersionMember(const json& body) {
  SCRM_ASSIGN_OR_RETURN(std::optional<int64_t> v, OptionalInt(body, "version", 1));
  if (!v) return std::optional<int>();
  if (*v > 1'000'000'000) return core::InvalidArgumentError("version: too large");
  return std::optional<int>(static_cast<int>(*v));
}

core::StatusOr<campaigns::CampaignInput> InputOf(const json& body) {
  SCRM_RETURN_IF_ERROR(OnlyMembers(body, {"name", "kind", "account_id", "segment_id", "template_id",
                                          "schedule_at_ms", "options", "version"}));
  campaigns::CampaignInput input;
  SCRM_ASSIGN_OR_RETURN(input.name, StringMember(body, "name", campaigns::kMaxCampaignNameBytes));
  SCRM_ASSIGN_OR_RETURN(std::string kind, StringMember(body, "kind", 32));
  const auto parsed = model::ParseCampaignKind(kind);
  if (!parsed) {
    return core::InvalidArgumentError(
        "kind: must be \"wecom_group\", \"oa_template\", \"oa_custom\" or \"oa_mass\"");
  }
  input.kind = *parsed;
  SCRM_ASSIGN_OR_RETURN(input.account_id, StringMember(body, "account_id", 64));
  SCRM_ASSIGN_OR_RETURN(std::optional<int64_t> segment, IdMember(body, "segment_id"));
  if (!segment) return core::InvalidArgumentError("segment_id: required");
  input.segment_id = *segment;
  SCRM_ASSIGN_OR_RETURN(std::optional<int64_t> tmpl, IdMember(body, "template_id"));
  if (!tmpl) return core::InvalidArgumentError("template_id: required");
  input.template_id = *tmpl;
  SCRM_ASSIGN_OR_RETURN(std::optional<int64_t> at, OptionalInt(body, "schedule_at_ms", 0));
  input.schedule_at_ms = at.value_or(0);
  if (const auto it = body.find("options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return core::InvalidArgumentError("options: must be an object");
    input.options_json = it->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return input;
}

void ListCampaigns(const Deps& d, const server::Request& req, server::Response& res,
                   const ApiContext& ctx) {
  auto page = PageParamsOf(req, kDefaultLimit, storage::kMaxListLimit);
  if (!Check(page.status(), res, ctx)) return;
  auto state_text = TextParam(req, "state", 32);
  if (!Check(state_text.status(), res, ctx)) return;
  std::optional<model::CampaignState> state;
  if (*state_text) {
    state = model::ParseCampaignState(**state_text);
    if (!state) {
      Check(core::InvalidArgumentError("state: not a campaign state"), res, ctx);
      return;
    }
  }
  auto list = d.service.List(state, page->after_id, page->limit);
  if (!Check(list.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& c : *list) items.push_back(CampaignJson(c));
  const bool more = list->size() == page->limit;
  WriteJson(res, json{{"campaigns", std::move(items)},
                      {"next_after", more ? IdJson(list->back().id) : json(nullptr)}});
}

void CreateCampaign(const Deps& d, const server::Request& req, server::Response& res,
                    const ApiContext& ctx) {
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  auto input = InputOf(*body);
  if (!Check(input.status(), res, ctx)) return;
  auto created = d.service.Create(*input, ctx.caller.name);
  if (!Check(created.status(), res, ctx)) return;
  WriteJson(res, CampaignJson(*created), 201);
}

void GetCampaign(const Deps& d, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto campaign = d.service.Get(*id);
  if (!Check(campaign.status(), res, ctx)) return;
  WriteJson(res, CampaignJson(*campaign));
}

void UpdateCampaign(const Deps& d, const server::Request& req, server::Response& res,
                    const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req);
  if (!Check(body.status(), res, ctx)) return;
  auto input = InputOf(*body);
  if (!Check(input.status(), res, ctx)) return;
  auto version = VersionMember(*body);
  if (!Check(version.status(), res, ctx)) return;
  auto updated = d.service.Update(*id, *input, *version);
  if (!Check(updated.status(), res, ctx)) return;
  WriteJson(res, CampaignJson(*updated));
}

void ApplyAction(const Deps& d, campaigns::CampaignAction action, const server::Request& req,
                 server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto body = JsonObjectBody(req, /*allow_empty=*/true);
  if (!Check(body.status(), res, ctx)) return;
  if (!Check(OnlyMembers(*body, {"version", "note", "schedule_at_ms"}), res, ctx)) return;
  campaigns::TransitionArgs args;
  auto version = VersionMember(*body);
  if (!Check(version.status(), res, ctx)) return;
  args.expected_version = *version;
  if (const auto it = body->find("note"); it != body->end() && !it->is_null()) {
    if (!it->is_string()) {
      Check(core::InvalidArgumentError("note: must be a string"), res, ctx);
      return;
    }
    args.note = it->get<std::string>();
  }
  auto at = OptionalInt(*body, "schedule_at_ms", 1);
  if (!Check(at.status(), res, ctx)) return;
  if (*at) args.schedule_at_ms = **at;
  auto applied = d.service.Apply(*id, action, ctx.caller.name, args);
  if (!Check(applied.status(), res, ctx)) return;
  WriteJson(res, CampaignJson(*applied));
}

json SenderJson(const std::string& account, const std::string& sender, int64_t count) {
  return json{{"account_id", account}, {"sender", sender}, {"count", count}};
}

// After launch the plan is the frozen rows: their counts, and the first rows of each list.
core::StatusOr<json> FrozenForecast(const Deps& d, const model::Campaign& c, size_t limit) {
  SCRM_ASSIGN_OR_RETURN(std::vector<storage::DeliveryCount> counts, d.deliveries.Count(c.id));
  int64_t audience = 0;
  int64_t planned = 0;
  std::map<std::string, int64_t> skipped;
  std::map<std::string, int64_t> senders;
  for (const auto& row : counts) {
    audience += row.count;
    if (row.state == model::DeliveryState::kSkipped) {
      skipped[std::string(model::SkipReasonName(row.skip_reason))] += row.count;
    } else {
      planned += row.count;
      senders[row.sender] += row.count;
    }
  }
  json by_sender = json::array();
  for (const auto& [sender, count] : senders) {
    by_sender.push_back(SenderJson(c.account_id, sender, count));
  }
  SCRM_ASSIGN_OR_RETURN(std::vector<model::Delivery> planned_rows,
                        d.deliveries.List(c.id, model::DeliveryState::kPlanned, 0, limit));
  SCRM_ASSIGN_OR_RETURN(
      std::vector<model::Delivery> skipped_rows,
      d.deliveries.List(c.id, model::DeliveryState::kSkipped, 0, storage::kMaxListLimit));
  json skipped_pages = json::object();
  for (const auto& row : skipped_rows) {
    json& page = skipped_pages[std::string(model::SkipReasonName(row.skip_reason))];
    if (page.is_null()) page = json::array();
    if (page.size() < limit) page.push_back(DeliveryJson(row));
  }
  return json{{"frozen", true},
              {"audience", audience},
              {"planned", planned},
              {"skipped", skipped},
              {"by_sender", std::move(by_sender)},
              {"planned_page", DeliveriesJson(planned_rows)},
              {"skipped_pages", std::move(skipped_pages)}};
}

void GetForecast(const Deps& d, const server::Request& req, server::Response& res,
                 const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto limit = IntParam(req, "limit", kDefaultForecastPage, 1, 1000);
  if (!Check(limit.status(), res, ctx)) return;
  auto campaign = d.service.Get(*id);
  if (!Check(campaign.status(), res, ctx)) return;
  if (campaign->launched_at_ms > 0) {
    auto frozen = FrozenForecast(d, *campaign, static_cast<size_t>(*limit));
    if (!Check(frozen.status(), res, ctx)) return;
    WriteJson(res, *frozen);
    return;
  }
  auto forecast = d.service.MakeForecast(*id, static_cast<size_t>(*limit));
  if (!Check(forecast.status(), res, ctx)) return;
  json skipped = json::object();
  json skipped_pages = json::object();
  for (const auto& [reason, count] : forecast->skipped) {
    skipped[std::string(model::SkipReasonName(reason))] = count;
  }
  for (const auto& [reason, rows] : forecast->skipped_pages) {
    skipped_pages[std::string(model::SkipReasonName(reason))] = DeliveriesJson(rows);
  }
  json by_sender = json::array();
  for (const auto& s : forecast->by_sender) {
    by_sender.push_back(SenderJson(s.account_id, s.sender, s.count));
  }
  WriteJson(res, json{{"frozen", false},
                      {"audience", forecast->audience},
                      {"planned", forecast->planned},
                      {"skipped", std::move(skipped)},
                      {"by_sender", std::move(by_sender)},
                      {"planned_page", DeliveriesJson(forecast->planned_page)},
                      {"skipped_pages", std::move(skipped_pages)}});
}

void ListDeliveries(const Deps& d, const server::Request& req, server::Response& res,
                    const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto page = PageParamsOf(req, kDefaultLimit, storage::kMaxListLimit);
  if (!Check(page.status(), res, ctx)) return;
  auto state_text = TextParam(req, "state", 32);
  if (!Check(state_text.status(), res, ctx)) return;
  std::optional<model::DeliveryState> state;
  if (*state_text) {
    state = model::ParseDeliveryState(**state_text);
    if (!state) {
      Check(core::InvalidArgumentError("state: not a delivery state"), res, ctx);
      return;
    }
  }
  if (!Check(d.service.Get(*id).status(), res, ctx)) return;
  auto rows = d.deliveries.List(*id, state, page->after_id, page->limit);
  if (!Check(rows.status(), res, ctx)) return;
  const bool more = rows->size() == page->limit;
  WriteJson(res, json{{"deliveries", DeliveriesJson(*rows)},
                      {"next_after", more ? IdJson(rows->back().id) : json(nullptr)}});
}

void GetAudit(const Deps& d, server::Response& res, const ApiContext& ctx) {
  auto id = PathId(ctx, "id");
  if (!Check(id.status(), res, ctx)) return;
  auto audit = d.service.Audit(*id);
  if (!Check(audit.status(), res, ctx)) return;
  json items = json::array();
  for (const auto& a : *audit) items.push_back(AuditJson(a));
  WriteJson(res, json{{"audit", std::move(items)}});
}

}  // namespace

void RegisterCampaignRoutes(ApiRouter& router, const CampaignRouteDeps& deps) {
  using Req = const server::Request&;
  using Res = server::Response&;
  using Ctx = const ApiContext&;
  using campaigns::CampaignAction;
  // Copied into each handler: references to the service and store, which outlive the server.
  const Deps d{deps.service, deps.deliveries};
  router.Get("/api/v1/campaigns", kAnyRole,
             [d](Req req, Res res, Ctx ctx) { ListCampaigns(d, req, res, ctx); });
  router.Post("/api/v1/campaigns", kCampaignWriters,
              [d](Req req, Res res, Ctx ctx) { CreateCampaign(d, req, res, ctx); });
  router.Get("/api/v1/campaigns/{id}", kAnyRole,
             [d](Req, Res res, Ctx ctx) { GetCampaign(d, res, ctx); });
  router.Put("/api/v1/campaigns/{id}", kCampaignWriters,
             [d](Req req, Res res, Ctx ctx) { UpdateCampaign(d, req, res, ctx); });
  for (CampaignAction action :
       {CampaignAction::kSubmit, CampaignAction::kApprove, CampaignAction::kReject,
        CampaignAction::kSchedule, CampaignAction::kLaunch, CampaignAction::kPause,
        CampaignAction::kResume, CampaignAction::kCancel}) {
    const bool decides = action == CampaignAction::kApprove || action == CampaignAction::kReject;
    router.Post("/api/v1/campaigns/{id}/" + std::string(campaigns::CampaignActionName(action)),
                decides ? kCampaignApprovers : kCampaignWriters,
                [d, action](Req req, Res res, Ctx ctx) { ApplyAction(d, action, req, res, ctx); });
  }
  router.Get("/api/v1/campaigns/{id}/forecast", kAnyRole,
             [d](Req req, Res res, Ctx ctx) { GetForecast(d, req, res, ctx); });
  router.Get("/api/v1/campaigns/{id}/deliveries", kAnyRole,
             [d](Req req, Res res, Ctx ctx) { ListDeliveries(d, req, res, ctx); });
  router.Get("/api/v1/campaigns/{id}/audit", kAnyRole,
             [d](Req, Res res, Ctx ctx) { GetAudit(d, res, ctx); });
}

}  // namespace scrm::api
