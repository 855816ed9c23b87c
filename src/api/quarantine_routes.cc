#include "src/api/quarantine_routes.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "src/api/api_json.h"

namespace scrm::api {
namespace {

using nlohmann::json;

json RowToJson(const storage::QuarantinedRow& row) {
  return json{{"interaction_id", std::to_string(row.interaction_id)},
              {"account", row.account_id},
              {"error", row.error},
              {"failures", row.failures},
              {"quarantined_at_ms", row.quarantined_at_ms},
              {"updated_at_ms", row.updated_at_ms}};
}

void ListRows(ingest::Quarantine& quarantine, const server::Request& req, server::Response& res,
              const ApiContext& ctx) {
  auto page = PageParamsOf(req, 100, storage::QuarantineStore::kMaxListLimit);
  if (!Check(page.status(), res, ctx)) return;
  auto rows = quarantine.List(page->after_id, page->limit);
  if (!Check(rows.status(), res, ctx)) return;
  json items = json::array();
  for (const storage::QuarantinedRow& row : *rows) items.push_back(RowToJson(row));
  json body = {{"items", std::move(items)}};
  body["next_after"] = rows->size() == page->limit
                           ? json(std::to_string(rows->back().interaction_id))
                           : json(nullptr);
  WriteJson(res, body);
}

}  // namespace

void RegisterQuarantineRoutes(ApiRouter& router, ingest::Quarantine& quarantine,
                              std::shared_ptr<spdlog::logger> log) {
  router.Get("/api/v1/quarantine", {model::Role::kAdmin},
             [&quarantine](const server::Request& req, server::Response& res,
                           const ApiContext& ctx) { ListRows(quarantine, req, res, ctx); });
  router.Post(
      "/api/v1/quarantine/{id}/reapply", {model::Role::kAdmin},
      [&quarantine, log = std::move(log)](const server::Request&, server::Response& res,
                                          const ApiContext& ctx) {
        auto id = PathId(ctx, "id");
        if (!Check(id.status(), res, ctx)) return;
        log->info("ingest: reapply of quarantined interaction {} by key {} (request {})", *id,
                  ctx.caller.id, ctx.request_id);
        auto result = quarantine.Reapply(*id);
        if (!Check(result.status(), res, ctx)) return;
        json body = {{"interaction_id", std::to_string(*id)}, {"reapplied", result->applied}};
        if (!result->applied) body["item"] = RowToJson(result->row);
        WriteJson(res, body);
      });
}

}  // namespace scrm::api
