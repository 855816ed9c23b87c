// Fakes for the platform tests: a scripted platform behind the HttpClient seam, a sleeper that
// moves a FakeClock, and one bundle wiring TokenService, RateGovernor and ApiCaller together.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/net/http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/credential.h"
#include "src/platform/rate_governor.h"
#include "src/platform/sleeper.h"
#include "src/platform/token_service.h"

namespace scrm::platform::testing {

inline net::HttpResult Reply(const std::string& body, int status = 200) {
  net::HttpResult result;
  result.outcome = net::HttpOutcome::kResponse;
  result.status = status;
  result.body = body;
  return result;
}
inline net::HttpResult ReplyJson(const nlohmann::json& body) { return Reply(body.dump()); }
inline net::HttpResult Errcode(int64_t code, const std::string& msg = "err") {
  return ReplyJson(nlohmann::json{{"errcode", code}, {"errmsg", msg}});
}
inline net::HttpResult NotSent() {
  net::HttpResult result;
  result.outcome = net::HttpOutcome::kNotSent;
  result.error = "connection refused";
  return result;
}
inline net::HttpResult Unknown() {
  net::HttpResult result;
  result.outcome = net::HttpOutcome::kUnknown;
  result.error = "timeout after send";
  return result;
}

// Token endpoints answer from token_reply (default: TOKEN-<n>, 7200 s); every other request
// pops api_replies (default {"errcode":0,"errmsg":"ok"}). Records everything. Thread-safe.
class FakePlatform final : public net::HttpClient {
 public:
  net::HttpResult Send(const net::HttpRequest& request) override {
    std::unique_lock lock(mu_);
    const bool token = request.url.find("/cgi-bin/gettoken") != std::string::npos ||
                       request.url.find("/cgi-bin/stable_token") != std::string::npos ||
                       request.url.find("/cgi-bin/token") != std::string::npos;
    if (token) {
      token_requests.push_back(request);
      const int n = static_cast<int>(token_requests.size());
      auto handler = token_reply;
      lock.unlock();
      if (handler) return handler(request, n);
      return ReplyJson(
          nlohmann::json{{"access_token", "TOKEN-" + std::to_string(n)}, {"expires_in", 7200}});
    }
    api_requests.push_back(request);
    if (api_replies.empty()) return ReplyJson(nlohmann::json{{"errcode", 0}, {"errmsg", "ok"}});
    net::HttpResult next = api_replies.front();
    api_replies.pop_front();
    return next;
  }

  void Push(net::HttpResult result) {
    std::lock_guard lock(mu_);
    api_replies.push_back(std::move(result));
  }
  size_t TokenFetches() {
    std::lock_guard lock(mu_);
    return token_requests.size();
  }
  size_t ApiRequests() {
    std::lock_guard lock(mu_);
    return api_requests.size();
  }

  std::function<net::HttpResult(const net::HttpRequest&, int)> token_reply;
  std::deque<net::HttpResult> api_replies;
  std::vector<net::HttpRequest> token_requests;
  std::vector<net::HttpRequest> api_requests;

 private:
  std::mutex mu_;
};

// Moves the FakeClock instead of sleeping; records every wait.
class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(core::FakeClock& clock) : clock_(clock) {}
  void SleepFor(std::chrono::milliseconds duration) override {
    std::lock_guard lock(mu_);
    sleeps.push_back(duration);
    clock_.Advance(duration);
  }
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  core::FakeClock& clock_;
  std::mutex mu_;
};

inline Credential WecomCredential() {
  Credential credential;
  credential.account_id = "corp1";
  credential.platform = model::Platform::kWecom;
  credential.api_base = "http://127.0.0.1:1";
  credential.app_id = "ww0001";
  credential.secret = "contact-secret";
  return credential;
}

inline Credential OaCredential() {
  Credential credential;
  credential.account_id = "oa1";
  credential.platform = model::Platform::kOfficialAccount;
  credential.api_base = "http://127.0.0.1:2";
  credential.app_id = "wx0001";
  credential.secret = "app-secret";
  return credential;
}

// Everything an ApiCaller needs, on a FakeClock.
struct Harness {
  explicit Harness(GovernorOptions governor_options = {}, RetryPolicy policy = {},
                   TokenServiceOptions token_options = {})
      : sleeper(clock),
        tokens(platform, clock, metrics, core::MakeNullLogger(), token_options),
        governor(clock, std::move(governor_options)),
        caller(platform, tokens, governor, clock, random, sleeper, metrics, core::MakeNullLogger(),
               policy) {}

  uint64_t Calls(const Credential& credential, const std::string& api, const std::string& outcome) {
    return metrics.Counter("scrmd_platform_api_calls_total", "", {"account", "api", "outcome"})
        .Value({credential.account_id, api, outcome});
  }
  uint64_t ConfigErrors(const Credential& credential, int64_t code) {
    return metrics.Counter("scrmd_platform_config_errors_total", "", {"account", "code"})
        .Value({credential.account_id, std::to_string(code)});
  }

  core::FakeClock clock;
  core::FakeRandom random;
  FakeSleeper sleeper;
  core::MetricsRegistry metrics;
  FakePlatform platform;
  TokenService tokens;
  RateGovernor governor;
  ApiCaller caller;
};

}  // namespace scrm::platform::testing
