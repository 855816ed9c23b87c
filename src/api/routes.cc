#include "src/api/routes.h"

#include <nlohmann/json.hpp>

#include "src/api/api_json.h"

namespace scrm::api {
namespace {

using nlohmann::json;

json KeyToJson(const model::ApiKey& key) {
  json j = {{"id", IdJson(key.id)},
            {"name", key.name},
            {"role", model::RoleName(key.role)},
            {"prefix", key.prefix},
            {"created_at_ms", key.created_at_ms},
            {"revoked", key.revoked_at_ms.has_value()}};
  j["revoked_at_ms"] = key.revoked_at_ms ? json(*key.revoked_at_ms) : json(nullptr);
  j["last_used_at_ms"] = key.last_used_at_ms ? json(*key.last_used_at_ms) : json(nullptr);
  return j;
}

}  // namespace

std::string ApiKeyJson(const model::ApiKey& key) { return KeyToJson(key).dump(); }

std::string RedactPaths(std::string message, const std::string& main_path,
                        const std::string& inbox_path) {
  for (const auto& [path, name] :
       {std::pair{&main_path, "<main database>"}, std::pair{&inbox_path, "<inbox database>"}}) {
    if (path->empty()) continue;
    for (size_t at = message.find(*path); at != std::string::npos; at = message.find(*path, at)) {
      message.replace(at, path->size(), name);
    }
  }
  std::string out;
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find(' ', start);
    if (end == std::string::npos) end = message.size();
    const std::string_view word(message.data() + start, end - start);
    out += word.find('/') == std::string_view::npos ? std::string(word) : std::string("<path>");
    if (end < message.size()) out += ' ';
    start = end + 1;
  }
  return out;
}

void RegisterOpsRoutes(server::HttpServer& server, storage::Database& db, storage::Database& inbox,
                       core::MetricsRegistry& metrics, OpsExposure exposure) {
  server.Get("/healthz",
             [](const server::Request&, server::Response& res, const server::RequestContext&) {
               res.SetContent(R"({"status":"ok"})", "application/json");
             });
  const bool detail = exposure == OpsExposure::kAll;
  server.Get("/readyz", [&db, &inbox, detail](const server::Request&, server::Response& res,
                                              const server::RequestContext& ctx) {
    core::Status ready = db.CheckReady();
    if (ready.ok()) ready = inbox.CheckReady();
    if (!ready.ok()) {
      // Not ready is an expected state, not an internal error: say why where that is wanted,
      // without file paths or the database's own text (both go to the log).
      std::string why = RedactPaths(ready.message(), db.path(), inbox.path());
      if (const size_t cut = why.find(": sqlite"); cut != std::string::npos) {
        res.SetHeader(server::kErrorDetailHeader, why);
        why.resize(cut);
      }
      server::WriteJsonError(res, 503, "unavailable", detail ? why : std::string("not ready"),
                             ctx.request_id);
      return;
    }
    res.SetContent(R"({"status":"ready"})", "application/json");
  });
  if (!detail) return;
  server.Get("/metrics", [&metrics](const server::Request&, server::Response& res,
                                    const server::RequestContext&) {
    res.SetContent(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

void RegisterKeyRoutes(ApiRouter& router, storage::ApiKeyStore& keys) {
  router.Get("/api/v1/me", kAnyRole,
             [](const server::Request&, server::Response& res, const ApiContext& ctx) {
               json body = KeyToJson(ctx.caller);
               body["request_id"] = ctx.request_id;
               WriteJson(res, body);
             });
  router.Get("/api/v1/keys", {model::Role::kAdmin},
             [&keys](const server::Request&, server::Response& res, const ApiContext& ctx) {
               auto list = keys.List();
               if (!list.ok()) {
                 server::WriteStatusError(res, list.status(), ctx.request_id);
                 return;
               }
               json items = json::array();
               for (const auto& key : *list) items.push_back(KeyToJson(key));
               WriteJson(res, json{{"keys", items}});
             });
}

}  // namespace scrm::api
