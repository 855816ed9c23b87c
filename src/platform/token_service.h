// TokenService: one access token per (account, app id, secret), fetched on first use, refreshed
// before it expires, one fetch at a time however many callers wait.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/net/http_client.h"
#include "src/platform/credential.h"
#include "src/platform/errors.h"
#include "src/platform/platform_metrics.h"

namespace scrm::platform {

struct TokenServiceOptions {
  // A token is refreshed this long before it expires (OA stable_token rolls a token >= 5 min
  // before expiry, so a fetch in that window returns the new one). Capped at expires_in / 2.
  std::chrono::seconds refresh_margin{300};
  // After a failed fetch every caller gets the same error for this long instead of fetching
  // again: concurrent callers share one failure. No longer than ApiCaller's first backoff, so
  // that a retried call really fetches again.
  std::chrono::milliseconds failure_backoff{100};
  // ...and this long when the failure is a configuration error (wrong secret, IP whitelist):
  // WeCom blocks gettoken for an hour after ~2000 failing calls in an hour (§4.1).
  std::chrono::milliseconds config_failure_backoff{60000};
  std::chrono::milliseconds fetch_timeout{10000};
  // OA only: when stable_token hands back the very token the platform just rejected, fetch
  // again with force_refresh=true, at most this often (the platform allows >= 30 s apart,
  // 20 a day).
  std::chrono::seconds force_refresh_interval{60};
  // WeCom 45009 on gettoken: how long the frequency block lasts.
  std::chrono::milliseconds wecom_quota_block{60000};
};

// Token lifecycle (docs/outbound.md):
//   WeCom: GET  {api_base}/cgi-bin/gettoken?corpid=&corpsecret=          (PROTOCOL §4.1)
//   OA:    POST {api_base}/cgi-bin/stable_token {"grant_type":"client_credential",...}
//          (never the plain /cgi-bin/token, which revokes other holders' tokens; §4.2)
// Get() returns the cached token until refresh_at; the first caller after that fetches while
// the others keep using the old token until it expires; with no usable token every caller waits
// for the single fetch in flight. Invalidate() drops a token the platform rejected (token-class
// errcode) so the next Get() fetches a new one. Times come from the injected Clock.
//
// Thread-safe; Get blocks the calling thread during a fetch. Holds references to the
// HttpClient, Clock and MetricsRegistry, which must outlive it.
class TokenService {
 public:
  TokenService(net::HttpClient& http, const core::Clock& clock, core::MetricsRegistry& metrics,
               std::shared_ptr<spdlog::logger> log, TokenServiceOptions options = {});

  // The current access token for `credential`, or the fetch's error: kUnavailable (transport,
  // HTTP 5xx, system busy: worth retrying later), kConfigError (logged and counted),
  // kRetryAfter, kRejected, kBadReply.
  ApiResult<std::string> Get(const Credential& credential);

  // The platform rejected `token` with a token-class errcode. It is dropped unless a newer token
  // already replaced it (so late reports of an old token do not discard a fresh one).
  void Invalidate(const Credential& credential, const std::string& token);

  // Fetches made so far (tests, single-flight).
  uint64_t fetches() const;

 private:
  struct Entry {
    std::string token;
    std::chrono::steady_clock::time_point refresh_at{};
    std::chrono::steady_clock::time_point expires_at{};
    bool fetching = false;
    uint64_t generation = 0;  // bumped when a fetch completes
    std::optional<ApiError> last_error;
    std::chrono::steady_clock::time_point error_until{};
    std::string rejected_token;  // the last token Invalidate() dropped
    std::optional<std::chrono::steady_clock::time_point> last_force_refresh;
    std::condition_variable fetched;
  };
  struct Fetched {
    std::string token;
    std::chrono::seconds expires_in{0};
  };

  ApiResult<Fetched> Fetch(const Credential& credential, bool force_refresh);
  ApiError FetchError(const Credential& credential, Outcome outcome, int64_t errcode,
                      int http_status, std::string message);
  static std::string KeyOf(const Credential& credential);

  net::HttpClient& http_;
  const core::Clock& clock_;
  PlatformMetrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  const TokenServiceOptions options_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;  // guarded by mu_
  uint64_t fetches_ = 0;                                   // guarded by mu_
};

}  // namespace scrm::platform
