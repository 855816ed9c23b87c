// The typed clients over the real CurlHttpClient against a platform stand-in on 127.0.0.1:
// only api_base changes, as with the scrm-sim simulator.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/oa_client.h"
#include "src/platform/wecom_client.h"

namespace scrm::platform {
namespace {

using std::chrono::milliseconds;

class LoopbackPlatform {
 public:
  LoopbackPlatform() {
    server_.Get("/cgi-bin/gettoken", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("corpid") != "ww01" ||
          req.get_param_value("corpsecret") != "s3cret") {
        res.set_content(R"({"errcode":40001,"errmsg":"invalid secret"})", "application/json");
        return;
      }
      const int n = ++token_fetches_;
      res.set_content(R"({"errcode":0,"errmsg":"ok","access_token":"LOOP)" + std::to_string(n) +
                          R"(","expires_in":7200})",
                      "application/json");
    });
    server_.Get("/cgi-bin/externalcontact/get", [this](const httplib::Request& req,
                                                       httplib::Response& res) {
      ++contact_calls_;
      if (req.get_param_value("access_token") != "LOOP2") {
        // The first token "expired" on the platform side.
        res.set_content(R"({"errcode":42001,"errmsg":"access_token expired"})", "application/json");
        return;
      }
      res.set_content(R"({"errcode":0,"errmsg":"ok","external_contact":
                    {"external_userid":")" +
                          req.get_param_value("external_userid") +
                          R"(","name":"王五"},"follow_user":[]})",
                      "application/json");
    });
    server_.Post("/cgi-bin/stable_token", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"access_token":"OA","expires_in":7200})", "application/json");
    });
    server_.Post("/cgi-bin/message/custom/send",
                 [this](const httplib::Request&, httplib::Response& res) {
                   ++custom_sends_;
                   const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
                   while (!stopping_.load() && std::chrono::steady_clock::now() < give_up) {
                     std::this_thread::sleep_for(milliseconds(5));
                   }
                   res.set_content(R"({"errcode":0})", "application/json");
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  ~LoopbackPlatform() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> token_fetches_{0};
  std::atomic<int> contact_calls_{0};
  std::atomic<int> custom_sends_{0};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

struct RealStack {
  RealStack()
      : tokens(http, clock, metrics, core::MakeNullLogger()),
        governor(clock),
        caller(http, tokens, governor, clock, random, sleeper, metrics, core::MakeNullLogger(),
               Policy()) {}
  static RetryPolicy Policy() {
    RetryPolicy policy;
    policy.base_backoff = milliseconds(10);
    policy.request_timeout = milliseconds(300);
    return policy;
  }

  net::CurlGlobal curl;
  core::SystemClock clock;
  core::FakeRandom random;
  RealSleeper sleeper;
  core::MetricsRegistry metrics;
  net::CurlHttpClient http;
  TokenService tokens;
  RateGovernor governor;
  ApiCaller caller;
};

TEST_CASE("WecomClient over curl refreshes an expired token on a loopback platform",
          "[integration]") {
  LoopbackPlatform platform;
  RealStack stack;
  Credential credential;
  credential.account_id = "corp1";
  credential.platform = model::Platform::kWecom;
  credential.api_base = platform.base();
  credential.app_id = "ww01";
  credential.secret = "s3cret";
  WecomClient client(credential, stack.caller);
  auto detail = client.GetExternalContact("wo 1/+");
  REQUIRE(detail.ok());
  CHECK(detail.value().contact.external_userid == "wo 1/+");  // query encoding round trip
  CHECK(detail.value().contact.name == "王五");
  CHECK(platform.token_fetches_.load() == 2);
  CHECK(platform.contact_calls_.load() == 2);
}

TEST_CASE("WecomClient over curl reports a wrong secret as a configuration error",
          "[integration]") {
  LoopbackPlatform platform;
  RealStack stack;
  Credential credential;
  credential.account_id = "corp1";
  credential.platform = model::Platform::kWecom;
  credential.api_base = platform.base();
  credential.app_id = "ww01";
  credential.secret = "wrong";
  WecomClient client(credential, stack.caller);
  auto detail = client.GetExternalContact("wo1");
  REQUIRE_FALSE(detail.ok());
  CHECK(detail.error().outcome == Outcome::kConfigError);
  CHECK(detail.error().errcode == 40001);
  CHECK(platform.contact_calls_.load() == 0);
}

TEST_CASE("OaClient over curl does not resend a custom message that timed out", "[integration]") {
  LoopbackPlatform platform;
  RealStack stack;
  Credential credential;
  credential.account_id = "oa1";
  credential.platform = model::Platform::kOfficialAccount;
  credential.api_base = platform.base();
  credential.app_id = "wx01";
  credential.secret = "s";
  OaClient client(credential, stack.caller);
  OaCustomMessage message;
  message.touser = "o1";
  message.content = {{"content", "hi"}};
  auto sent = client.SendCustom(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kUnknown);
  CHECK(sent.error().attempts == 1);
  CHECK(platform.custom_sends_.load() == 1);
}

}  // namespace
}  // namespace scrm::platform
