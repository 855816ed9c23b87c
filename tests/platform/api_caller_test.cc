#include "src/platform/api_caller.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "tests/platform/platform_fakes.h"

namespace scrm::platform {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Errcode;
using testing::Harness;
using testing::NotSent;
using testing::OaCredential;
using testing::Reply;
using testing::ReplyJson;
using testing::Unknown;
using testing::WecomCredential;

ApiCall Read(std::string api = "externalcontact/get") {
  ApiCall call;
  call.api = std::move(api);
  call.method = net::HttpMethod::kGet;
  call.query = {{"external_userid", "wo1"}};
  return call;
}

ApiCall Send(bool idempotent) {
  ApiCall call;
  call.api = "message/template/send";
  call.body = R"({"touser":"o1"})";
  call.idempotent = idempotent;
  return call;
}

TEST_CASE("ApiCaller sends the token and query to the API under api_base and returns the reply",
          "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"errmsg":"ok","x":1})"));
  auto reply = h.caller.Call(WecomCredential(), Read());
  REQUIRE(reply.ok());
  CHECK(reply.value()["x"] == 1);
  REQUIRE(h.platform.api_requests.size() == 1);
  CHECK(h.platform.api_requests[0].url ==
        "http://127.0.0.1:1/cgi-bin/externalcontact/get?access_token=TOKEN-1&external_userid=wo1");
  CHECK(h.Calls(WecomCredential(), "externalcontact/get", "ok") == 1);
}

TEST_CASE("ApiCaller posts JSON with a content type", "[unit]") {
  Harness h;
  REQUIRE(h.caller.Call(OaCredential(), Send(true)).ok());
  const net::HttpRequest& request = h.platform.api_requests.at(0);
  CHECK(request.method == net::HttpMethod::kPost);
  CHECK(request.body == R"({"touser":"o1"})");
  CHECK(request.headers.at(0).second == "application/json; charset=utf-8");
}

TEST_CASE("ApiCaller refreshes the token once and retries when the token expired", "[unit]") {
  for (int64_t code : {40014, 42001, 41001}) {
    INFO(code);
    Harness h;
    h.platform.Push(Errcode(code));
    auto reply = h.caller.Call(WecomCredential(), Send(false));
    REQUIRE(reply.ok());
    CHECK(h.platform.TokenFetches() == 2);
    REQUIRE(h.platform.api_requests.size() == 2);
    CHECK(h.platform.api_requests[1].url.find("access_token=TOKEN-2") != std::string::npos);
    CHECK(h.sleeper.sleeps.empty());
  }
}

TEST_CASE("ApiCaller refreshes the OA token on 40001", "[unit]") {
  Harness h;
  h.platform.Push(Errcode(40001, "invalid credential"));
  REQUIRE(h.caller.Call(OaCredential(), Send(false)).ok());
  CHECK(h.platform.TokenFetches() == 2);
}

TEST_CASE("ApiCaller gives up as a configuration error when the fresh token is rejected too",
          "[unit]") {
  Harness h;
  h.platform.Push(Errcode(42001));
  h.platform.Push(Errcode(42001));
  auto reply = h.caller.Call(WecomCredential(), Read());
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kConfigError);
  CHECK(reply.error().errcode == 42001);
  CHECK(reply.error().attempts == 2);
  CHECK(h.platform.TokenFetches() == 2);
}

TEST_CASE("ApiCaller treats WeCom 40001 as a configuration error without a refresh", "[unit]") {
  Harness h;
  h.platform.Push(Errcode(40001, "invalid secret"));
  const Credential credential = WecomCredential();
  auto reply = h.caller.Call(credential, Read());
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kConfigError);
  CHECK(reply.error().errcode == 40001);
  CHECK(h.platform.TokenFetches() == 1);
  CHECK(h.platform.ApiRequests() == 1);
  CHECK(h.ConfigErrors(credential, 40001) == 1);
  CHECK(h.Calls(credential, "externalcontact/get", "config_error") == 1);
}

TEST_CASE("ApiCaller never retries configuration errors and counts them by account and code",
          "[unit]") {
  struct Case {
    Credential credential;
    int64_t code;
  };
  const Case cases[] = {
      {WecomCredential(), 40013}, {WecomCredential(), 40091}, {WecomCredential(), 60020},
      {WecomCredential(), 48002}, {WecomCredential(), 60011}, {OaCredential(), 40013},
      {OaCredential(), 40125},    {OaCredential(), 40164},    {OaCredential(), 48001}};
  for (const Case& c : cases) {
    INFO(c.code);
    Harness h;
    h.platform.Push(Errcode(c.code, "hint: [x]"));
    auto reply = h.caller.Call(c.credential, Read());
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().outcome == Outcome::kConfigError);
    CHECK(reply.error().errcode == c.code);
    CHECK(h.platform.ApiRequests() == 1);
    CHECK(h.ConfigErrors(c.credential, c.code) == 1);
  }
}

TEST_CASE("ApiCaller retries transient errcodes with growing jittered backoff", "[unit]") {
  struct Case {
    Credential credential;
    int64_t code;
  };
  for (const Case& c : {Case{WecomCredential(), -1}, Case{WecomCredential(), 45033},
                        Case{OaCredential(), -1}, Case{OaCredential(), 45011}}) {
    INFO(c.code);
    Harness h;
    for (int i = 0; i < 3; ++i) h.platform.Push(Errcode(c.code));
    auto reply = h.caller.Call(c.credential, Send(false));
    REQUIRE(reply.ok());
    CHECK(h.platform.ApiRequests() == 4);
    REQUIRE(h.sleeper.sleeps.size() == 3);
    // Retry n waits in [d/2, d] with d = 200 ms * 2^(n-1).
    CHECK(h.sleeper.sleeps[0] >= milliseconds(100));
    CHECK(h.sleeper.sleeps[0] <= milliseconds(200));
    CHECK(h.sleeper.sleeps[1] >= milliseconds(200));
    CHECK(h.sleeper.sleeps[1] <= milliseconds(400));
    CHECK(h.sleeper.sleeps[2] >= milliseconds(400));
    CHECK(h.sleeper.sleeps[2] <= milliseconds(800));
  }
}

TEST_CASE("ApiCaller stops after three transient retries with unavailable", "[unit]") {
  Harness h;
  for (int i = 0; i < 10; ++i) h.platform.Push(Errcode(-1, "system busy"));
  auto reply = h.caller.Call(WecomCredential(), Read());
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kUnavailable);
  CHECK(reply.error().errcode == -1);
  CHECK(reply.error().attempts == 4);
  CHECK(h.platform.ApiRequests() == 4);
}

TEST_CASE("ApiCaller stops retrying when the backoff would pass the time budget", "[unit]") {
  Harness h;
  for (int i = 0; i < 10; ++i) h.platform.Push(Errcode(-1));
  ApiCall call = Read();
  call.time_budget = milliseconds(250);
  auto reply = h.caller.Call(WecomCredential(), call);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kUnavailable);
  CHECK(h.platform.ApiRequests() <= 2);
}

TEST_CASE("ApiCaller retries a request that was never sent even when it is not idempotent",
          "[unit]") {
  Harness h;
  h.platform.Push(NotSent());
  auto reply = h.caller.Call(WecomCredential(), Send(false));
  REQUIRE(reply.ok());
  CHECK(h.platform.ApiRequests() == 2);
}

TEST_CASE("ApiCaller never resends a non idempotent send whose outcome is unknown", "[unit]") {
  Harness h;
  h.platform.Push(Unknown());
  const Credential credential = OaCredential();
  auto reply = h.caller.Call(credential, Send(false));
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kUnknown);
  CHECK(h.platform.ApiRequests() == 1);
  CHECK(h.Calls(credential, "message/template/send", "unknown") == 1);
}

TEST_CASE("ApiCaller resends an idempotent call whose outcome is unknown", "[unit]") {
  Harness h;
  h.platform.Push(Unknown());
  REQUIRE(h.caller.Call(OaCredential(), Send(true)).ok());
  CHECK(h.platform.ApiRequests() == 2);
}

TEST_CASE("ApiCaller treats HTTP 5xx as unknown for a send and retries it for a read", "[unit]") {
  {
    Harness h;
    h.platform.Push(Reply("bad gateway", 502));
    auto reply = h.caller.Call(WecomCredential(), Send(false));
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().outcome == Outcome::kUnknown);
    CHECK(reply.error().http_status == 502);
    CHECK(h.platform.ApiRequests() == 1);
  }
  {
    Harness h;
    h.platform.Push(Reply("unavailable", 503));
    h.platform.Push(Reply("unavailable", 500));
    REQUIRE(h.caller.Call(WecomCredential(), Read()).ok());
    CHECK(h.platform.ApiRequests() == 3);
  }
}

TEST_CASE("ApiCaller rejects an HTTP 4xx without retrying", "[unit]") {
  Harness h;
  h.platform.Push(Reply("not found", 404));
  auto reply = h.caller.Call(WecomCredential(), Read());
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kRejected);
  CHECK(reply.error().http_status == 404);
  CHECK(h.platform.ApiRequests() == 1);
}

TEST_CASE("ApiCaller answers OA 45009 with retry after the daily reset and pauses the API",
          "[unit]") {
  Harness h;
  h.platform.Push(Errcode(45009, "reach max api daily quota limit"));
  const Credential credential = OaCredential();
  auto reply = h.caller.Call(credential, Send(true));
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kRetryAfter);
  CHECK(reply.error().errcode == 45009);
  // FakeClock starts 2026-01-01T00:00Z = 08:00 Beijing; the quota resets at 16:00Z.
  CHECK(reply.error().retry_after == h.clock.Now() + std::chrono::hours(16));
  CHECK(h.platform.ApiRequests() == 1);
  // The next call does not reach the platform before the reset.
  auto again = h.caller.Call(credential, Send(true));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().outcome == Outcome::kRetryAfter);
  CHECK(again.error().retry_after == h.clock.Now() + std::chrono::hours(16));
  CHECK(h.platform.ApiRequests() == 1);
}

TEST_CASE("ApiCaller answers WeCom 45009 with retry after the frequency window", "[unit]") {
  Harness h;
  h.platform.Push(Errcode(45009, "api freq out of limit"));
  auto reply = h.caller.Call(WecomCredential(), Read());
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kRetryAfter);
  CHECK(reply.error().retry_after == h.clock.Now() + seconds(60));
  CHECK(h.platform.ApiRequests() == 1);
  h.clock.Advance(seconds(60));
  CHECK(h.caller.Call(WecomCredential(), Read()).ok());
}

TEST_CASE("ApiCaller reports per user refusals with their code and never retries", "[unit]") {
  struct Case {
    Credential credential;
    int64_t code;
  };
  const Case cases[] = {
      {WecomCredential(), 41051}, {WecomCredential(), 84061}, {WecomCredential(), 40096},
      {OaCredential(), 43004},    {OaCredential(), 43101},    {OaCredential(), 45015},
      {OaCredential(), 45047},    {OaCredential(), 48002},    {OaCredential(), 46004}};
  for (const Case& c : cases) {
    INFO(c.code);
    Harness h;
    h.platform.Push(Errcode(c.code));
    auto reply = h.caller.Call(c.credential, Send(true));
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().outcome == Outcome::kRefused);
    CHECK(reply.error().errcode == c.code);
    CHECK(h.platform.ApiRequests() == 1);
    CHECK(h.sleeper.sleeps.empty());
  }
}

TEST_CASE("ApiCaller reports other errcodes as rejected without retrying", "[unit]") {
  Harness h;
  h.platform.Push(Errcode(45157, "duplicate tag name"));
  auto reply = h.caller.Call(OaCredential(), Send(false));
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kRejected);
  CHECK(reply.error().errcode == 45157);
  CHECK(reply.error().message == "duplicate tag name");
}

TEST_CASE("ApiCaller turns a malformed reply into bad reply for reads and unknown for sends",
          "[unit]") {
  for (const char* body : {"", "<html>busy</html>", "[1,2]", R"({"errcode":"x"})",
                           R"({"errcode":0,"errmsg":7})", "{\"errcode\":0"}) {
    INFO(body);
    Harness h;
    h.platform.Push(Reply(std::string(body)));
    auto read = h.caller.Call(WecomCredential(), Read());
    REQUIRE_FALSE(read.ok());
    CHECK(read.error().outcome == Outcome::kBadReply);
    h.platform.Push(Reply(std::string(body)));
    auto send = h.caller.Call(WecomCredential(), Send(false));
    REQUIRE_FALSE(send.ok());
    CHECK(send.error().outcome == Outcome::kUnknown);
    CHECK(h.platform.ApiRequests() == 2);
  }
}

TEST_CASE("ApiCaller retries a transient token fetch failure", "[unit]") {
  Harness h;
  h.platform.token_reply = [](const net::HttpRequest&, int n) {
    if (n == 1) return Errcode(-1);
    return ReplyJson(nlohmann::json{{"access_token", "T"}, {"expires_in", 7200}});
  };
  REQUIRE(h.caller.Call(WecomCredential(), Read()).ok());
  CHECK(h.platform.TokenFetches() == 2);
  CHECK(h.sleeper.sleeps.size() >= 1);
}

TEST_CASE("ApiCaller reports a token configuration error without calling the API", "[unit]") {
  Harness h;
  h.platform.token_reply = [](const net::HttpRequest&, int) { return Errcode(60020, "ip"); };
  const Credential credential = WecomCredential();
  auto reply = h.caller.Call(credential, Read());
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kConfigError);
  CHECK(reply.error().errcode == 60020);
  CHECK(h.platform.ApiRequests() == 0);
  CHECK(h.ConfigErrors(credential, 60020) == 1);
}

TEST_CASE("ApiCaller reports throttled when the governor has no permit within the budget",
          "[unit]") {
  GovernorOptions options;
  options.wecom_default = {{1, seconds(3600), 1}};
  Harness h(options);
  REQUIRE(h.caller.Call(WecomCredential(), Read()).ok());
  ApiCall call = Read();
  call.time_budget = milliseconds(0);
  auto reply = h.caller.Call(WecomCredential(), call);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().outcome == Outcome::kThrottled);
  CHECK(h.platform.ApiRequests() == 1);
}

}  // namespace
}  // namespace scrm::platform
