// Outcomes of platform API calls and the errcode classification of PROTOCOL §4.3.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "src/core/status.h"
#include "src/model/platform.h"

namespace scrm::platform {

// How a platform errcode is handled (PROTOCOL §4.3; table in docs/outbound.md).
enum class ErrorClass {
  kNone,         // 0: success
  kToken,        // access token invalid / expired / missing: refresh once, retry once
  kConfig,       // credentials, IP whitelist, API permission: alert, never retry
  kTransient,    // system busy, concurrency or minute quota: retry with backoff + jitter, bounded
  kQuota,        // a frequency block (WeCom 45009) or a daily quota (OA 45009): retry after reset
  kUserRefused,  // this recipient cannot be reached now (out of window, refused, unsubscribed,
                 // unknown id): never retry, the caller marks the contact / falls back
  kRejected,     // anything else: the request itself was refused (bad argument, duplicate name)
};

std::string_view ErrorClassName(ErrorClass error_class);

// The class of a non-zero errcode on `platform`. WeCom 40001 (invalid secret) is kConfig, OA
// 40001 (invalid credential: usually the token) is kToken (PROTOCOL §7.15).
// 45033 (concurrency limit) is kTransient on both platforms. An errcode the table does not list
// is kRejected.
ErrorClass ClassifyErrcode(model::Platform platform, int64_t errcode);

// Whether `errcode` is one the table of PROTOCOL §4.3 lists for `platform` (0 included). An
// unknown errcode is kRejected by ClassifyErrcode; a READ caller may still ask again a bounded
// number of times (jobs::EnrichHandlerOptions::unknown_errcode_attempts), a send never does.
bool IsKnownErrcode(model::Platform platform, int64_t errcode);

// Whether a kUserRefused errcode says the person cannot be reached at all — refused messages,
// unsubscribed, unknown id, no follow relation: "do not retry; mark contact" (PROTOCOL §4.3) —
// rather than not right now (outside the 48 h window, a per-user quota, a welcome message
// already sent, a mass-send key already used: "fall back"). False for any other errcode.
bool IsUnreachable(model::Platform platform, int64_t errcode);

// What a caller learns from a call that did not succeed.
enum class Outcome {
  kRefused,      // per-user refusal / out of window; errcode says which. Not retried.
  kRetryAfter,   // quota or frequency block; retry_after says when to try again. Not retried now.
  kUnknown,      // the request was (maybe) delivered and no reply says what happened. It is not
                 // sent again unless the call carries a platform idempotency key.
  kConfigError,  // credentials / whitelist / permission are wrong: logged, counted, not retried.
  kRejected,     // the platform (or the client's own checks) refused the request as invalid.
  kUnavailable,  // transient failures used up the retry budget (or the time budget).
  kBadReply,     // the reply did not have the documented shape.
  kThrottled,    // the rate governor had no permit before the call's deadline.
};

// "refused", "retry_after", "unknown", "config_error", "rejected", "unavailable", "bad_reply",
// "throttled" (metrics label values).
std::string_view OutcomeName(Outcome outcome);

struct ApiError {
  Outcome outcome = Outcome::kUnavailable;
  int64_t errcode = 0;  // platform errcode when one was returned, else 0
  int http_status = 0;  // HTTP status when a response arrived, else 0
  std::string message;  // platform errmsg or the local reason; never secrets or tokens
  // kRetryAfter: the earliest wall-clock time worth trying again.
  std::chrono::system_clock::time_point retry_after{};
  int attempts = 0;  // HTTP requests made for this call (token fetches not counted)

  // A Status for callers that only need the canonical code: kRefused -> FailedPrecondition,
  // kRetryAfter -> ResourceExhausted, kUnknown / kUnavailable -> Unavailable, kConfigError ->
  // PermissionDenied, kRejected -> InvalidArgument, kBadReply -> Internal, kThrottled ->
  // DeadlineExceeded. The message names the outcome and errcode.
  core::Status ToStatus() const;
};

// A value or an ApiError. Accessing value() of an error is a broken invariant (aborts).
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const ApiError& error() const { return error_; }
  const T& value() const& {
    SCRM_CHECK(value_.has_value());  // callers check ok() first
    return *value_;
  }
  T& value() & {
    SCRM_CHECK(value_.has_value());  // callers check ok() first
    return *value_;
  }
  T&& value() && {
    SCRM_CHECK(value_.has_value());  // callers check ok() first
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
  ApiError error_;
};

// Success of a call that returns nothing but errcode 0.
struct Done {};

}  // namespace scrm::platform
