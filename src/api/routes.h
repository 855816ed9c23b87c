// Route registration: operational endpoints and the /api/v1 REST routes.
#pragma once

#include <string>

#include "src/api/auth.h"
#include "src/core/metrics.h"
#include "src/server/http_server.h"
#include "src/storage/api_key_store.h"
#include "src/storage/database.h"

namespace scrm::api {

// What the operational routes show on a listener (http.admin_listen).
enum class OpsExposure {
  kAll,     // /healthz, /readyz with the reason when not ready, /metrics
  kPublic,  // /healthz, /readyz saying only ready (200) or not ready (503)
};

// /healthz (process up), /readyz (both databases, the main one and the inbox, open and
// migrated; a reason never names a file path), /metrics (Prometheus text), as `exposure` says.
// The references must outlive the server.
void RegisterOpsRoutes(server::HttpServer& server, storage::Database& db, storage::Database& inbox,
                       core::MetricsRegistry& metrics, OpsExposure exposure = OpsExposure::kAll);

// GET /api/v1/me (any role): who the caller is.
// GET /api/v1/keys (admin): the stored keys, never their secrets.
void RegisterKeyRoutes(ApiRouter& router, storage::ApiKeyStore& keys);

// A readiness reason as /readyz shows it: the two database paths become "<main database>" and
// "<inbox database>", and any other word holding a "/" (a driver message may name a file)
// becomes "<path>". The network never learns where the files are.
std::string RedactPaths(std::string message, const std::string& main_path,
                        const std::string& inbox_path);

// JSON of a key record without its hash.
std::string ApiKeyJson(const model::ApiKey& key);

}  // namespace scrm::api
