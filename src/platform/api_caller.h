// ApiCaller: one platform API call with the token, the rate governor and the retry rules of
// PROTOCOL §4.3 applied. The typed clients (WecomClient, OaClient) are built on it.
#pragma once

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/net/http_client.h"
#include "src/platform/credential.h"
#include "src/platform/errors.h"
#include "src/platform/platform_metrics.h"
#include "src/platform/rate_governor.h"
#include "src/platform/sleeper.h"
#include "src/platform/token_service.h"

namespace scrm::platform {

struct RetryPolicy {
  // Transient failures (errcode -1 / 45033 / 45011, HTTP 5xx or 429, not sent, and unknown
  // outcomes of idempotent calls) are retried at most this often: "建议重试次数不超过3次" (§4.3).
  int max_transient_retries = 3;
  // Backoff before retry n (1-based): d = min(max_backoff, base_backoff * 2^(n-1)), then a
  // uniformly random wait in [d/2, d] (equal jitter, from the injected Random).
  std::chrono::milliseconds base_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds request_timeout{10000};  // one HTTP exchange (capped by the budget)
  std::chrono::milliseconds connect_timeout{3000};
  // WeCom 45009 (frequency limit): the API is blocked for the minute window.
  std::chrono::milliseconds wecom_quota_block{60000};
};

// One request to a platform API.
struct ApiCall {
  std::string api;  // "externalcontact/get": governor key, metrics label (path after /cgi-bin/)
  net::HttpMethod method = net::HttpMethod::kPost;
  // Query parameters besides access_token, already URL-encoded values.
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;  // JSON, for kPost
  // Whether the request may be sent again when its outcome is unknown (timeout or reset after
  // sending, HTTP 5xx, a garbled reply). Reads are; a send is only with a platform idempotency
  // key (OA template client_msg_id, mass clientmsgid, WeCom enable_duplicate_check).
  bool idempotent = true;
  Priority priority = Priority::kRealtime;
  // The whole call (governor waits, token fetch, retries and backoff) ends by this long after
  // it starts.
  std::chrono::milliseconds time_budget{30000};
};

// Thread-safe: any number of threads call Call concurrently. Holds references to every
// collaborator; they must outlive it.
class ApiCaller {
 public:
  ApiCaller(net::HttpClient& http, TokenService& tokens, RateGovernor& governor,
            const core::Clock& clock, core::Random& random, Sleeper& sleeper,
            core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log,
            RetryPolicy policy = {});

  // POSTs / GETs {api_base}/cgi-bin/{api}?access_token=…&query for `credential`. Returns the
  // reply object when errcode is 0 (or absent); otherwise the ApiError of docs/outbound.md:
  //   token errcode       -> invalidate, fetch a new token, retry once; again -> kConfigError
  //   transient           -> retry with backoff + jitter up to max_transient_retries
  //                          -> kUnavailable
  //   quota (45009)       -> kRetryAfter (retry_after set); the governor pauses the API
  //   per-user refusal    -> kRefused with the errcode
  //   configuration       -> kConfigError: error log (no secrets) + config_errors counter
  //   unknown outcome     -> retried only when call.idempotent, else kUnknown (never resent)
  ApiResult<nlohmann::json> Call(const Credential& credential, const ApiCall& call);

 private:
  ApiResult<nlohmann::json> Finish(const Credential& credential, const ApiCall& call,
                                   ApiError error);
  // Sleeps before transient retry number `retry` (1-based); false when the retry budget or the
  // time budget does not allow another attempt.
  bool Backoff(int retry, std::chrono::steady_clock::time_point deadline);

  net::HttpClient& http_;
  TokenService& tokens_;
  RateGovernor& governor_;
  const core::Clock& clock_;
  core::Random& random_;
  Sleeper& sleeper_;
  PlatformMetrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  const RetryPolicy policy_;
};

}  // namespace scrm::platform
