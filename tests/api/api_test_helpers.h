// Helpers for the /api/v1 route tests: a real HttpServer on an ephemeral loopback port over a
// migrated SQLite file in a TempDir, the profile, tag-rule and template services wired as scrmd
// wires them, one API key per role, and a small JSON client.
#pragma once

#include <httplib.h>

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "src/api/auth.h"
#include "src/api/customer_routes.h"
#include "src/api/tag_routes.h"
#include "src/api/tag_rule_routes.h"
#include "src/api/template_routes.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/profiles/tag_rule_service.h"
#include "src/server/http_server.h"
#include "src/storage/api_key_store.h"
#include "src/storage/tag_rule_store.h"
#include "src/storage/template_store.h"
#include "tests/profiles/profiles_test_helpers.h"
#include "tests/support/api_ids.h"

namespace scrm::api::testing {

using nlohmann::json;
using ::scrm::testing::ApiId;
using ::scrm::testing::IdStr;

// A status and the parsed JSON body (null when the body is not JSON).
struct Reply {
  int status = 0;
  json body;
};

inline server::ServerOptions LoopbackOptions() {
  server::ServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.max_connections = 16;
  options.keep_alive_timeout_s = 1;
  return options;
}

// Members are initialised in declaration order and destroyed in reverse: the server (last)
// stops before anything its handlers use goes away.
struct ApiFixture {
  explicit ApiFixture(
      std::unique_ptr<profiles::RuleSetHolder> rules = std::make_unique<profiles::RuleSetHolder>(),
      profiles::testing::ServiceOptions options = {})
      : p(std::move(rules), std::move(options)) {
    for (model::Role role : {model::Role::kAdmin, model::Role::kMarketing, model::Role::kSales,
                             model::Role::kReadonly}) {
      auto issued = IssueApiKey(keys, random, p.clock, std::string(model::RoleName(role)), role);
      REQUIRE(issued.ok());
      key[role] = issued->secret;
    }
    RegisterCustomerRoutes(router, {p.service.queries, p.service.identities, p.service.editor});
    RegisterTagRuleRoutes(router, rule_service);
    RegisterTagRoutes(router, p.service.queries, p.service.editor);
    RegisterTemplateRoutes(router, template_service);
    const core::Status started = http.Start();
    INFO(started.ToString());
    REQUIRE(started.ok());
  }
  ~ApiFixture() { http.Stop(); }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", http.port());
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    return client;
  }

  // method: GET, POST, PUT, PATCH, DELETE. An empty `secret` sends no Authorization header.
  Reply CallWithSecret(const std::string& method, const std::string& path,
                       const std::string& secret, const std::string& body = "") {
    httplib::Headers headers;
    if (!secret.empty()) headers.emplace("Authorization", "Bearer " + secret);
    auto client = Client();
    const auto send = [&]() -> httplib::Result {
      if (method == "GET") return client.Get(path.c_str(), headers);
      if (method == "POST") return client.Post(path.c_str(), headers, body, "application/json");
      if (method == "PUT") return client.Put(path.c_str(), headers, body, "application/json");
      if (method == "PATCH") return client.Patch(path.c_str(), headers, body, "application/json");
      return body.empty() ? client.Delete(path.c_str(), headers)
                          : client.Delete(path.c_str(), headers, body, "application/json");
    };
    httplib::Result result = send();
    REQUIRE(result);
    Reply reply;
    reply.status = result->status;
    reply.body = json::parse(result->body, nullptr, false);
    if (reply.body.is_discarded()) reply.body = nullptr;
    return reply;
  }
  Reply Call(const std::string& method, const std::string& path, const json& body = nullptr,
             model::Role role = model::Role::kAdmin) {
    return CallWithSecret(method, path, key.at(role), body.is_null() ? "" : body.dump());
  }

  profiles::testing::Fixture p;
  storage::ApiKeyStore keys{*p.db};
  storage::TagRuleStore rule_store{*p.db};
  profiles::TagRuleService rule_service{rule_store, *p.rules, p.clock};
  storage::TemplateStore template_store{*p.db};
  TemplateService template_service{template_store, p.service.queries, p.clock};
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  Authenticator auth{keys, p.clock};
  std::map<model::Role, std::string> key;
  server::HttpServer http{LoopbackOptions(), p.clock, random, core::MakeNullLogger(), metrics};
  ApiRouter router{http, auth};
};

// The error code of a JSON error reply ("invalid_argument", "not_found", ...).
inline std::string ErrorCode(const Reply& reply) {
  if (!reply.body.is_object() || !reply.body.contains("error")) return "";
  return reply.body["error"].value("code", "");
}
inline std::string ErrorMessage(const Reply& reply) {
  if (!reply.body.is_object() || !reply.body.contains("error")) return "";
  return reply.body["error"].value("message", "");
}

}  // namespace scrm::api::testing
