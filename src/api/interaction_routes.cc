#include "src/api/interaction_routes.h"

#include <nlohmann/json.hpp>

#include "src/api/api_json.h"
#include "src/model/interaction_json.h"

namespace scrm::api {
namespace {

using nlohmann::json;

constexpr auto kReplayTimeout = std::chrono::seconds(30);

void ListInteractions(storage::InteractionStore& store, const server::Request& req,
                      server::Response& res, const ApiContext& ctx) {
  storage::InteractionFilter filter;
  if (req.HasParam("account")) filter.account_id = req.Param("account");
  if (req.HasParam("kind")) {
    filter.kind = model::ParseKind(req.Param("kind"));
    if (!filter.kind) {
      server::WriteStatusError(res, core::InvalidArgumentError("kind: unknown interaction kind"),
                               ctx.request_id);
      return;
    }
  }
  auto page = PageParamsOf(req, 100, storage::InteractionStore::kMaxListLimit);
  if (!page.ok()) {
    server::WriteStatusError(res, page.status(), ctx.request_id);
    return;
  }
  filter.after_id = page->after_id;
  filter.limit = page->limit;
  auto items = store.List(filter);
  if (!items.ok()) {
    server::WriteStatusError(res, items.status(), ctx.request_id);
    return;
  }
  json out = json::array();
  for (const auto& interaction : *items) {
    json item = model::InteractionToJson(interaction, /*include_raw=*/true);
    item["id"] = IdJson(interaction.id);  // docs/api.md "Ids are strings"
    out.push_back(std::move(item));
  }
  json body = {{"items", std::move(out)}};
  // A full page may have more after it; a short page is the end (for now).
  body["next_after"] = items->size() == filter.limit ? IdJson(items->back().id) : json(nullptr);
  WriteJson(res, body);
}

void Replay(ingest::IngestWorker& worker, const server::Request& req, server::Response& res,
            const ApiContext& ctx) {
  const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    server::WriteStatusError(res, core::InvalidArgumentError("body: must be a JSON object"),
                             ctx.request_id);
    return;
  }
  ingest::ReplayRequest request;
  for (const auto& [key, value] : body.items()) {
    if (key == "from_ms" || key == "to_ms") {
      if (!value.is_number_integer()) {
        server::WriteStatusError(res, core::InvalidArgumentError(key + ": must be an integer"),
                                 ctx.request_id);
        return;
      }
      (key == "from_ms" ? request.from_ms : request.to_ms) = value.get<int64_t>();
    } else if (key == "account") {
      if (!value.is_string()) {
        server::WriteStatusError(res, core::InvalidArgumentError("account: must be a string"),
                                 ctx.request_id);
        return;
      }
      request.account_id = value.get<std::string>();
    } else {
      server::WriteStatusError(res, core::InvalidArgumentError(key + ": unknown key"),
                               ctx.request_id);
      return;
    }
  }
  if (!body.contains("from_ms") || !body.contains("to_ms")) {
    server::WriteStatusError(res, core::InvalidArgumentError("from_ms and to_ms are required"),
                             ctx.request_id);
    return;
  }
  auto result = worker.Replay(request, kReplayTimeout);
  if (!result.ok()) {
    server::WriteStatusError(res, result.status(), ctx.request_id);
    return;
  }
  WriteJson(res,
            json{{"reprocessed", result->reprocessed}, {"up_to_id", IdJson(result->up_to_id)}});
}

}  // namespace

void RegisterInteractionRoutes(ApiRouter& router, storage::InteractionStore& store,
                               ingest::IngestWorker& worker) {
  router.Get("/api/v1/interactions", {model::Role::kAdmin},
             [&store](const server::Request& req, server::Response& res, const ApiContext& ctx) {
               ListInteractions(store, req, res, ctx);
             });
  router.Post("/api/v1/interactions/replay", {model::Role::kAdmin},
              [&worker](const server::Request& req, server::Response& res, const ApiContext& ctx) {
                Replay(worker, req, res, ctx);
              });
}

}  // namespace scrm::api
