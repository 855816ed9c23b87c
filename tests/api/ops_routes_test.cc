// /healthz, /readyz and /metrics as each listener shows them (http.admin_listen): a real
// HttpServer on loopback over real SQLite files, one of them left unmigrated (not ready).
#include <httplib.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "src/api/routes.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/server/http_server.h"
#include "src/storage/database.h"
#include "tests/support/test_support.h"

namespace scrm::api {
namespace {

TEST_CASE("RedactPaths replaces the database paths and every word with a slash", "[unit]") {
  CHECK(RedactPaths("inbox database does not answer: unable to open /srv/x/a-inbox.db now",
                    "/srv/x/a.db", "/srv/x/a-inbox.db") ==
        "inbox database does not answer: unable to open <inbox database> now");
  CHECK(RedactPaths("cannot open /srv/x/a.db: disk I/O error at ./var/y", "/srv/x/a.db", "") ==
        "cannot open <main database>: disk <path> error at <path>");
  CHECK(RedactPaths("main database schema is at version 0", "/a.db", "/b.db") ==
        "main database schema is at version 0");
}

struct OpsFixture {
  explicit OpsFixture(OpsExposure exposure) {
    storage::DatabaseOptions main_options;
    main_options.path = dir.File("scrmd.db");
    auto opened = storage::Database::Open(main_options);
    REQUIRE(opened.ok());
    db = std::move(opened).value();  // never migrated: not ready
    storage::DatabaseOptions inbox_options;
    inbox_options.path = dir.File("scrmd-inbox.db");
    inbox_options.schema = storage::Schema::kInbox;
    auto inbox_opened = storage::Database::Open(inbox_options);
    REQUIRE(inbox_opened.ok());
    inbox = std::move(inbox_opened).value();
    server::ServerOptions options;
    options.port = 0;
    options.threads = 1;
    options.max_connections = 8;
    http = std::make_unique<server::HttpServer>(options, clock, random, core::MakeNullLogger(),
                                                metrics);
    RegisterOpsRoutes(*http, *db, *inbox, metrics, exposure);
    REQUIRE(http->Start().ok());
  }
  ~OpsFixture() { http->Stop(); }
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", http->port());
    client.set_read_timeout(10);
    return client;
  }

  scrm::testing::TempDir dir;
  core::FakeClock clock;
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::Database> inbox;
  std::unique_ptr<server::HttpServer> http;
};

TEST_CASE("Ops routes give the readiness reason and metrics on a listener that shows all", "[db]") {
  OpsFixture f(OpsExposure::kAll);
  auto client = f.Client();
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(ready->body.find("schema is at version 0") != std::string::npos);
  CHECK(ready->body.find(f.dir.File("")) == std::string::npos);
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(client.Get("/healthz")->status == 200);
}

TEST_CASE("Ops routes answer only not ready and no metrics on the public listener", "[db]") {
  OpsFixture f(OpsExposure::kPublic);
  auto client = f.Client();
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(ready->body.find("\"message\":\"not ready\"") != std::string::npos);
  CHECK(ready->body.find("schema") == std::string::npos);
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 404);
  CHECK(client.Get("/healthz")->status == 200);
}

}  // namespace
}  // namespace scrm::api
