// Error bodies never carry the database's text: a status the storage layer built from a SQLite
// error ("sqlite: UNIQUE constraint failed: ...") reaches the client as its code and a stable
// message (server::WriteStatusError); the detail is logged, not sent.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "src/api/auth.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/server/http_server.h"
#include "tests/api/api_test_helpers.h"

namespace scrm::api {
namespace {

using testing::ApiFixture;
using testing::ErrorCode;
using testing::ErrorMessage;
using testing::json;

void CheckClean(const std::string& body) {
  INFO(body);
  for (const char* leak : {"constraint", "sqlite", "SQLite", "UNIQUE", "CHECK", "api_keys."}) {
    CHECK(body.find(leak) == std::string::npos);
  }
}

TEST_CASE("WriteStatusError answers storage errors with their code and a message for the user",
          "[integration]") {
  core::FakeClock clock;
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  server::HttpServer http{testing::LoopbackOptions(), clock, random, core::MakeNullLogger(),
                          metrics};
  struct Case {
    core::Status status;
    int http_status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {core::AlreadyExistsError("sqlite: UNIQUE constraint failed: api_keys.name"), 409,
       "already_exists"},
      {core::InvalidArgumentError("sqlite: CHECK constraint failed: weight <> 0"), 400,
       "invalid_argument"},
      {core::FailedPreconditionError("sqlite: FOREIGN KEY constraint failed"), 400,
       "failed_precondition"},
      {core::UnavailableError("sqlite: database is locked"), 503, "unavailable"},
      {core::InternalError("database: a transaction was left open"), 500, "internal"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const core::Status status = cases[i].status;
    http.Get("/e" + std::to_string(i), [status](const server::Request&, server::Response& res,
                                                const server::RequestContext& ctx) {
      server::WriteStatusError(res, status, ctx.request_id);
    });
  }
  // A message the service wrote itself goes through unchanged.
  http.Get("/mine",
           [](const server::Request&, server::Response& res, const server::RequestContext& ctx) {
             server::WriteStatusError(
                 res, core::AlreadyExistsError("an active api key named \"crm\" already exists"),
                 ctx.request_id);
           });
  REQUIRE(http.Start().ok());
  httplib::Client client("127.0.0.1", http.port());
  client.set_read_timeout(5, 0);
  for (size_t i = 0; i < cases.size(); ++i) {
    auto r = client.Get(("/e" + std::to_string(i)).c_str());
    REQUIRE(r);
    CHECK(r->status == cases[i].http_status);
    CheckClean(r->body);
    CHECK_FALSE(r->has_header(server::kErrorDetailHeader));
    const json body = json::parse(r->body);
    CHECK(body["error"]["code"] == cases[i].code);
    CHECK_FALSE(body["error"]["message"].get<std::string>().empty());
  }
  auto mine = client.Get("/mine");
  REQUIRE(mine);
  CHECK(mine->status == 409);
  CHECK(json::parse(mine->body)["error"]["message"] ==
        "an active api key named \"crm\" already exists");
  http.Stop();
}

TEST_CASE("a duplicate key name answers a clean already_exists", "[integration]") {
  ApiFixture f;
  auto again = IssueApiKey(f.keys, f.random, f.p.clock, "admin", model::Role::kAdmin);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == core::StatusCode::kAlreadyExists);
  CheckClean(again.status().message());
}

}  // namespace
}  // namespace scrm::api
