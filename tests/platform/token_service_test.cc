#include "src/platform/token_service.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/platform/platform_fakes.h"

namespace scrm::platform {
namespace {

using std::chrono::seconds;
using testing::Errcode;
using testing::Harness;
using testing::NotSent;
using testing::OaCredential;
using testing::Reply;
using testing::ReplyJson;
using testing::WecomCredential;

TEST_CASE("TokenService fetches a WeCom token with gettoken once and then serves it from cache",
          "[unit]") {
  Harness h;
  const Credential credential = WecomCredential();
  auto first = h.tokens.Get(credential);
  REQUIRE(first.ok());
  CHECK(first.value() == "TOKEN-1");
  auto second = h.tokens.Get(credential);
  REQUIRE(second.ok());
  CHECK(second.value() == "TOKEN-1");
  REQUIRE(h.platform.TokenFetches() == 1);
  const net::HttpRequest& request = h.platform.token_requests[0];
  CHECK(request.method == net::HttpMethod::kGet);
  CHECK(request.url ==
        "http://127.0.0.1:1/cgi-bin/gettoken?corpid=ww0001&corpsecret=contact-secret");
}

TEST_CASE("TokenService fetches an OA token with stable_token and never the plain token API",
          "[unit]") {
  Harness h;
  REQUIRE(h.tokens.Get(OaCredential()).ok());
  REQUIRE(h.platform.TokenFetches() == 1);
  const net::HttpRequest& request = h.platform.token_requests[0];
  CHECK(request.method == net::HttpMethod::kPost);
  CHECK(request.url == "http://127.0.0.1:2/cgi-bin/stable_token");
  const auto body = nlohmann::json::parse(request.body);
  CHECK(body["grant_type"] == "client_credential");
  CHECK(body["appid"] == "wx0001");
  CHECK(body["secret"] == "app-secret");
  CHECK(body["force_refresh"] == false);
}

TEST_CASE("TokenService refreshes a token the margin before it expires", "[unit]") {
  Harness h;
  const Credential credential = WecomCredential();
  REQUIRE(h.tokens.Get(credential).value() == "TOKEN-1");
  h.clock.Advance(seconds(7200 - 300 - 1));
  CHECK(h.tokens.Get(credential).value() == "TOKEN-1");
  h.clock.Advance(seconds(1));
  CHECK(h.tokens.Get(credential).value() == "TOKEN-2");
  CHECK(h.platform.TokenFetches() == 2);
}

TEST_CASE("TokenService keeps one token per account and secret", "[unit]") {
  Harness h;
  Credential a = WecomCredential();
  Credential b = WecomCredential();
  b.secret = "app-secret-2";
  Credential c = WecomCredential();
  c.account_id = "corp2";
  CHECK(h.tokens.Get(a).value() == "TOKEN-1");
  CHECK(h.tokens.Get(b).value() == "TOKEN-2");
  CHECK(h.tokens.Get(c).value() == "TOKEN-3");
  CHECK(h.tokens.Get(a).value() == "TOKEN-1");
}

void RunConcurrentGets(int threads) {
  Harness h;
  std::atomic<int> entered{0};
  // The fetch does not answer before every thread has at least started asking, so most of them
  // really wait for the one fetch in flight.
  h.platform.token_reply = [&](const net::HttpRequest&, int n) {
    const auto give_up = std::chrono::steady_clock::now() + seconds(10);
    while (entered.load() < threads && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
    return ReplyJson(
        nlohmann::json{{"access_token", "T" + std::to_string(n)}, {"expires_in", 7200}});
  };
  const Credential credential = WecomCredential();
  std::atomic<int> good{0};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      ++entered;
      auto token = h.tokens.Get(credential);
      if (token.ok() && token.value() == "T1") ++good;
    });
  }
  for (auto& t : pool) t.join();
  CHECK(h.platform.TokenFetches() == 1);
  CHECK(h.tokens.fetches() == 1);
  CHECK(good.load() == threads);
}

TEST_CASE("TokenService makes one fetch when 100 threads ask at once", "[unit]") {
  RunConcurrentGets(100);
}

TEST_CASE("TokenService makes one fetch when 1000 threads ask at once", "[unit]") {
  RunConcurrentGets(1000);
}

TEST_CASE("TokenService shares a failed fetch with the waiters and retries after the backoff",
          "[unit]") {
  Harness h;
  h.platform.token_reply = [](const net::HttpRequest&, int n) {
    if (n == 1) return NotSent();
    return ReplyJson(nlohmann::json{{"access_token", "OK"}, {"expires_in", 7200}});
  };
  const Credential credential = WecomCredential();
  auto first = h.tokens.Get(credential);
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().outcome == Outcome::kUnavailable);
  auto cached = h.tokens.Get(credential);
  REQUIRE_FALSE(cached.ok());
  CHECK(h.platform.TokenFetches() == 1);
  h.clock.Advance(std::chrono::milliseconds(1000));
  CHECK(h.tokens.Get(credential).value() == "OK");
  CHECK(h.platform.TokenFetches() == 2);
}

TEST_CASE("TokenService reports WeCom 40001 on gettoken as a configuration error and counts it",
          "[unit]") {
  Harness h;
  h.platform.token_reply = [](const net::HttpRequest&, int) {
    return Errcode(40001, "invalid secret");
  };
  const Credential credential = WecomCredential();
  auto token = h.tokens.Get(credential);
  REQUIRE_FALSE(token.ok());
  CHECK(token.error().outcome == Outcome::kConfigError);
  CHECK(token.error().errcode == 40001);
  CHECK(h.ConfigErrors(credential, 40001) == 1);
  // Not fetched again for a minute (no hammering of gettoken).
  h.clock.Advance(seconds(30));
  CHECK_FALSE(h.tokens.Get(credential).ok());
  CHECK(h.platform.TokenFetches() == 1);
  h.clock.Advance(seconds(31));
  CHECK_FALSE(h.tokens.Get(credential).ok());
  CHECK(h.platform.TokenFetches() == 2);
}

TEST_CASE("TokenService reports OA 40001 on stable_token as a configuration error", "[unit]") {
  Harness h;
  h.platform.token_reply = [](const net::HttpRequest&, int) { return Errcode(40001); };
  auto token = h.tokens.Get(OaCredential());
  REQUIRE_FALSE(token.ok());
  CHECK(token.error().outcome == Outcome::kConfigError);
}

TEST_CASE("TokenService rejects malformed token replies as bad replies", "[unit]") {
  const char* bodies[] = {
      "not json",
      "[]",
      R"({"expires_in":7200})",
      R"({"access_token":"","expires_in":7200})",
      R"({"access_token":5,"expires_in":7200})",
      R"({"access_token":"t","expires_in":"7200"})",
      R"({"access_token":"t","expires_in":-5})",
      R"({"access_token":"t"})",
  };
  for (const char* body : bodies) {
    INFO(body);
    Harness h;
    h.platform.token_reply = [&](const net::HttpRequest&, int) { return Reply(std::string(body)); };
    auto token = h.tokens.Get(WecomCredential());
    REQUIRE_FALSE(token.ok());
    CHECK(token.error().outcome == Outcome::kBadReply);
  }
}

TEST_CASE("TokenService Invalidate drops the current token but not a newer one", "[unit]") {
  Harness h;
  const Credential credential = WecomCredential();
  REQUIRE(h.tokens.Get(credential).value() == "TOKEN-1");
  h.tokens.Invalidate(credential, "TOKEN-1");
  CHECK(h.tokens.Get(credential).value() == "TOKEN-2");
  h.tokens.Invalidate(credential, "TOKEN-1");  // a late report about the old token
  CHECK(h.tokens.Get(credential).value() == "TOKEN-2");
  CHECK(h.platform.TokenFetches() == 2);
}

TEST_CASE("TokenService forces an OA refresh when stable_token returns the rejected token",
          "[unit]") {
  Harness h;
  h.platform.token_reply = [](const net::HttpRequest& request, int) {
    const auto body = nlohmann::json::parse(request.body);
    const std::string token = body["force_refresh"] == true ? "FRESH" : "STALE";
    return ReplyJson(nlohmann::json{{"access_token", token}, {"expires_in", 7200}});
  };
  const Credential credential = OaCredential();
  REQUIRE(h.tokens.Get(credential).value() == "STALE");
  h.tokens.Invalidate(credential, "STALE");
  CHECK(h.tokens.Get(credential).value() == "FRESH");
  CHECK(h.platform.TokenFetches() == 3);
}

TEST_CASE("TokenService keeps serving the old token while a refresh fails", "[unit]") {
  Harness h;
  h.platform.token_reply = [](const net::HttpRequest&, int n) {
    if (n == 1) return ReplyJson(nlohmann::json{{"access_token", "OLD"}, {"expires_in", 7200}});
    return Errcode(-1, "system busy");
  };
  const Credential credential = WecomCredential();
  REQUIRE(h.tokens.Get(credential).value() == "OLD");
  h.clock.Advance(seconds(7200 - 200));  // inside the refresh margin, not yet expired
  CHECK(h.tokens.Get(credential).value() == "OLD");
  h.clock.Advance(seconds(200));  // expired now
  auto token = h.tokens.Get(credential);
  REQUIRE_FALSE(token.ok());
  CHECK(token.error().outcome == Outcome::kUnavailable);
}

TEST_CASE("TokenService does not ask again while gettoken is blocked by 45009", "[unit]") {
  Harness h;
  h.platform.token_reply = [](const net::HttpRequest&, int n) {
    if (n == 1) return Errcode(45009, "api freq out of limit");
    return ReplyJson(nlohmann::json{{"access_token", "T"}, {"expires_in", 7200}});
  };
  const Credential credential = WecomCredential();
  auto first = h.tokens.Get(credential);
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().outcome == Outcome::kRetryAfter);
  CHECK(first.error().retry_after == h.clock.Now() + seconds(60));
  h.clock.Advance(seconds(59));
  CHECK_FALSE(h.tokens.Get(credential).ok());
  CHECK(h.platform.TokenFetches() == 1);
  h.clock.Advance(seconds(1));
  CHECK(h.tokens.Get(credential).value() == "T");
}

}  // namespace
}  // namespace scrm::platform
