#include "src/platform/api_caller.h"

#include <algorithm>

#include "src/platform/reply.h"

namespace scrm::platform {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string BuildUrl(const Credential& credential, const ApiCall& call, const std::string& token) {
  std::string url = credential.api_base + "/cgi-bin/" + call.api + "?access_token=" + token;
  for (const auto& [name, value] : call.query) url += "&" + name + "=" + value;
  return url;
}

}  // namespace

ApiCaller::ApiCaller(net::HttpClient& http, TokenService& tokens, RateGovernor& governor,
                     const core::Clock& clock, core::Random& random, Sleeper& sleeper,
                     core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log,
                     RetryPolicy policy)
    : http_(http),
      tokens_(tokens),
      governor_(governor),
      clock_(clock),
      random_(random),
      sleeper_(sleeper),
      metrics_(metrics),
      log_(std::move(log)),
      policy_(policy) {}

bool ApiCaller::Backoff(int retry, SteadyTime deadline) {
  if (retry > policy_.max_transient_retries) return false;
  const int shift = std::min(retry - 1, 20);
  const int64_t cap = policy_.max_backoff.count();
  const int64_t d = std::min(cap, policy_.base_backoff.count() << shift);
  const int64_t half = d / 2;
  const int64_t jitter =
      half > 0 ? static_cast<int64_t>(random_.NextU64() % static_cast<uint64_t>(half + 1)) : 0;
  const milliseconds wait(d - half + jitter);
  if (clock_.SteadyNow() + wait >= deadline) return false;
  sleeper_.SleepFor(wait);
  return true;
}

ApiResult<nlohmann::json> ApiCaller::Finish(const Credential& credential, const ApiCall& call,
                                            ApiError error) {
  metrics_.calls.Inc({credential.account_id, call.api, std::string(OutcomeName(error.outcome))});
  if (error.outcome == Outcome::kConfigError) {
    metrics_.config_errors.Inc({credential.account_id, std::to_string(error.errcode)});
    // Account, API, code and errmsg only: the URL carries the access token.
    log_->error("platform config error: account={} api={} errcode={} errmsg={}",
                credential.account_id, call.api, error.errcode, error.message);
  } else if (error.outcome == Outcome::kUnknown) {
    log_->warn("platform call outcome unknown, not resent: account={} api={} detail={}",
               credential.account_id, call.api, error.message);
  }
  return error;
}

ApiResult<nlohmann::json> ApiCaller::Call(const Credential& credential, const ApiCall& call) {
  const SteadyTime deadline = clock_.SteadyNow() + call.time_budget;
  int attempts = 0;
  int transient_retries = 0;
  bool token_refreshed = false;
  auto fail = [&](Outcome outcome, int64_t errcode, int http_status, std::string message) {
    ApiError error;
    error.outcome = outcome;
    error.errcode = errcode;
    error.http_status = http_status;
    error.message = std::move(message);
    error.attempts = attempts;
    return error;
  };
  // A transient failure: retry after a backoff, or give up with kUnavailable.
  auto retry_transient = [&](const char* reason) {
    ++transient_retries;
    if (!Backoff(transient_retries, deadline)) return false;
    metrics_.retries.Inc({credential.account_id, call.api, reason});
    return true;
  };

  while (true) {
    core::Status permit = governor_.Acquire(credential.account_id, credential.platform, call.api,
                                            call.priority, deadline);
    if (!permit.ok()) {
      if (permit.code() == core::StatusCode::kResourceExhausted) {
        ApiError error = fail(Outcome::kRetryAfter, 0, 0, permit.message());
        const auto paused = governor_.PausedUntil(credential.account_id, call.api);
        error.retry_after = clock_.Now() + duration_cast<std::chrono::system_clock::duration>(
                                               paused - clock_.SteadyNow());
        return Finish(credential, call, std::move(error));
      }
      return Finish(credential, call, fail(Outcome::kThrottled, 0, 0, permit.message()));
    }

    ApiResult<std::string> token = tokens_.Get(credential);
    if (!token.ok()) {
      ApiError error = token.error();
      error.attempts = attempts;
      if (error.outcome == Outcome::kUnavailable && retry_transient("token")) continue;
      // The token fetch logged and counted a configuration error already.
      metrics_.calls.Inc(
          {credential.account_id, call.api, std::string(OutcomeName(error.outcome))});
      return error;
    }

    net::HttpRequest request;
    request.method = call.method;
    request.url = BuildUrl(credential, call, token.value());
    if (call.method == net::HttpMethod::kPost) {
      request.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
      request.body = call.body;
    }
    const auto remaining = duration_cast<milliseconds>(deadline - clock_.SteadyNow());
    request.timeout = std::clamp(remaining, milliseconds(100), policy_.request_timeout);
    request.connect_timeout = std::min(policy_.connect_timeout, request.timeout);
    request.idempotent = call.idempotent;
    ++attempts;
    const PlatformReply reply = ReadReply(http_.Send(request));

    switch (reply.kind) {
      case PlatformReply::Kind::kNotSent:
        if (retry_transient("not_sent")) continue;
        return Finish(credential, call, fail(Outcome::kUnavailable, 0, 0, reply.detail));
      case PlatformReply::Kind::kUnknown:
        if (!call.idempotent) {
          return Finish(credential, call, fail(Outcome::kUnknown, 0, 0, reply.detail));
        }
        if (retry_transient("unknown")) continue;
        return Finish(credential, call, fail(Outcome::kUnavailable, 0, 0, reply.detail));
      case PlatformReply::Kind::kHttpStatus:
        if (reply.http_status == 429) {  // refused before any processing: always safe
          if (retry_transient("http_429")) continue;
          return Finish(credential, call,
                        fail(Outcome::kUnavailable, 0, reply.http_status, reply.detail));
        }
        if (reply.http_status >= 500) {
          // A gateway may answer 5xx after the platform acted: an unknown outcome for a send.
          if (!call.idempotent) {
            return Finish(credential, call,
                          fail(Outcome::kUnknown, 0, reply.http_status, reply.detail));
          }
          if (retry_transient("http_5xx")) continue;
          return Finish(credential, call,
                        fail(Outcome::kUnavailable, 0, reply.http_status, reply.detail));
        }
        return Finish(credential, call,
                      fail(Outcome::kRejected, 0, reply.http_status, reply.detail));
      case PlatformReply::Kind::kMalformed:
        // errcode unreadable: whether a send happened cannot be told.
        return Finish(
            credential, call,
            fail(call.idempotent ? Outcome::kBadReply : Outcome::kUnknown, 0, 200, reply.detail));
      case PlatformReply::Kind::kJson: break;
    }

    switch (ClassifyErrcode(credential.platform, reply.errcode)) {
      case ErrorClass::kNone:
        metrics_.calls.Inc({credential.account_id, call.api, "ok"});
        return std::move(reply.json);
      case ErrorClass::kToken:
        // The platform refused the token before doing anything: always safe to repeat, once.
        if (!token_refreshed) {
          token_refreshed = true;
          tokens_.Invalidate(credential, token.value());
          metrics_.retries.Inc({credential.account_id, call.api, "token_refresh"});
          continue;
        }
        return Finish(credential, call,
                      fail(Outcome::kConfigError, reply.errcode, 200,
                           "token rejected again right after a refresh: " + reply.errmsg));
      case ErrorClass::kTransient:
        if (retry_transient("transient")) continue;
        return Finish(credential, call,
                      fail(Outcome::kUnavailable, reply.errcode, 200, reply.errmsg));
      case ErrorClass::kQuota: {
        ApiError error = fail(Outcome::kRetryAfter, reply.errcode, 200, reply.errmsg);
        const auto now = clock_.Now();
        error.retry_after = QuotaResetTime(credential.platform, now, policy_.wecom_quota_block);
        governor_.PauseUntil(
            credential.account_id, credential.platform, call.api,
            clock_.SteadyNow() + duration_cast<milliseconds>(error.retry_after - now));
        return Finish(credential, call, std::move(error));
      }
      case ErrorClass::kUserRefused:
        return Finish(credential, call, fail(Outcome::kRefused, reply.errcode, 200, reply.errmsg));
      case ErrorClass::kConfig:
        return Finish(credential, call,
                      fail(Outcome::kConfigError, reply.errcode, 200, reply.errmsg));
      case ErrorClass::kRejected:
        return Finish(credential, call, fail(Outcome::kRejected, reply.errcode, 200, reply.errmsg));
    }
    return Finish(credential, call, fail(Outcome::kRejected, reply.errcode, 200, reply.errmsg));
  }
}

}  // namespace scrm::platform
