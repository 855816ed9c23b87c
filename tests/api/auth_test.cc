#include "src/api/auth.h"

#include <catch2/catch.hpp>

#include "src/core/crypto_util.h"
#include "tests/support/test_support.h"

namespace scrm::api {
namespace {

struct Fixture {
  Fixture() {
    auto opened = storage::Database::Open({dir.File("t.db")});
    REQUIRE(opened.ok());
    db = std::move(opened).value();
    REQUIRE(db->Migrate(clock.NowUnixMillis()).ok());
  }
  server::Request WithAuthorization(const std::string& value) {
    server::Request req;
    req.headers.emplace("Authorization", value);
    return req;
  }
  testing::TempDir dir;
  core::FakeClock clock;
  core::FakeRandom random;
  std::unique_ptr<storage::Database> db;
};

TEST_CASE("IssueApiKey stores only the hash of the secret when creating a key", "[db]") {
  Fixture f;
  storage::ApiKeyStore store(*f.db);
  auto issued = IssueApiKey(store, f.random, f.clock, "ops", model::Role::kAdmin);
  REQUIRE(issued.ok());
  CHECK(issued->secret.rfind("scrm_", 0) == 0);
  CHECK(issued->secret.size() == 45);
  auto listed = store.List();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].secret_sha256 == core::Sha256Hex(issued->secret));
  CHECK(issued->secret.find((*listed)[0].secret_sha256) == std::string::npos);
  CHECK((*listed)[0].prefix == issued->secret.substr(0, 12));
}

TEST_CASE("IssueApiKey rejects an empty name", "[db]") {
  Fixture f;
  storage::ApiKeyStore store(*f.db);
  CHECK(IssueApiKey(store, f.random, f.clock, "", model::Role::kAdmin).status().code() ==
        core::StatusCode::kInvalidArgument);
}

TEST_CASE("Authenticator accepts a bearer key whatever the scheme's case", "[db]") {
  Fixture f;
  storage::ApiKeyStore store(*f.db);
  auto issued = IssueApiKey(store, f.random, f.clock, "sales-1", model::Role::kSales);
  REQUIRE(issued.ok());
  Authenticator auth(store, f.clock);
  for (const std::string scheme : {"Bearer ", "bearer ", "BEARER "}) {
    auto key = auth.Authenticate(f.WithAuthorization(scheme + issued->secret));
    REQUIRE(key.ok());
    CHECK(key->name == "sales-1");
    CHECK(key->role == model::Role::kSales);
  }
}

TEST_CASE("Authenticator answers unauthenticated when the header is missing or malformed", "[db]") {
  Fixture f;
  storage::ApiKeyStore store(*f.db);
  Authenticator auth(store, f.clock);
  CHECK(auth.Authenticate(server::Request{}).status().code() == core::StatusCode::kUnauthenticated);
  for (const std::string value : {"", "Bearer", "Bearer ", "Basic abc", "Token scrm_x"}) {
    CHECK(auth.Authenticate(f.WithAuthorization(value)).status().code() ==
          core::StatusCode::kUnauthenticated);
  }
}

TEST_CASE("Authenticator answers unauthenticated when the key was revoked", "[db]") {
  Fixture f;
  storage::ApiKeyStore store(*f.db);
  auto issued = IssueApiKey(store, f.random, f.clock, "temp", model::Role::kReadonly);
  REQUIRE(issued.ok());
  Authenticator auth(store, f.clock);
  REQUIRE(auth.Authenticate(f.WithAuthorization("Bearer " + issued->secret)).ok());
  REQUIRE(store.Revoke(issued->key.id, f.clock.NowUnixMillis()).ok());
  CHECK(auth.Authenticate(f.WithAuthorization("Bearer " + issued->secret)).status().code() ==
        core::StatusCode::kUnauthenticated);
}

TEST_CASE("Authenticator records the last use at most once a minute", "[db]") {
  Fixture f;
  storage::ApiKeyStore store(*f.db);
  auto issued = IssueApiKey(store, f.random, f.clock, "k", model::Role::kReadonly);
  REQUIRE(issued.ok());
  Authenticator auth(store, f.clock);
  const auto header = f.WithAuthorization("Bearer " + issued->secret);
  REQUIRE(auth.Authenticate(header).ok());
  const int64_t first_use = f.clock.NowUnixMillis();
  f.clock.Advance(std::chrono::seconds(10));
  REQUIRE(auth.Authenticate(header).ok());
  CHECK(store.List()->at(0).last_used_at_ms == first_use);
  f.clock.Advance(std::chrono::seconds(60));
  REQUIRE(auth.Authenticate(header).ok());
  CHECK(store.List()->at(0).last_used_at_ms == f.clock.NowUnixMillis());
}

}  // namespace
}  // namespace scrm::api
