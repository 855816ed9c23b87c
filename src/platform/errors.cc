#include "src/platform/errors.h"

namespace scrm::platform {

std::string_view ErrorClassName(ErrorClass error_class) {
  switch (error_class) {
    case ErrorClass::kNone: return "none";
    case ErrorClass::kToken: return "token";
    case ErrorClass::kConfig: return "config";
    case ErrorClass::kTransient: return "transient";
    case ErrorClass::kQuota: return "quota";
    case ErrorClass::kUserRefused: return "user_refused";
    case ErrorClass::kRejected: return "rejected";
  }
  return "rejected";
}

namespace {

// The class of an errcode listed in PROTOCOL §4.3 (docs/outbound.md); nullopt for any other.
std::optional<ErrorClass> KnownClass(model::Platform platform, int64_t errcode) {
  if (errcode == 0) return ErrorClass::kNone;
  if (errcode == -1) return ErrorClass::kTransient;  // system busy, "建议重试次数不超过3次"
  if (platform == model::Platform::kWecom) {
    switch (errcode) {
      case 40014:  // invalid access_token
      case 42001:  // access_token expired
      case 41001:  // access_token missing
        return ErrorClass::kToken;
      case 40001:  // invalid secret: in WeCom this is never a token problem (PROTOCOL §7.15)
      case 40013:  // invalid corpid
      case 40091:  // secret invalid
      case 60020:  // IP not whitelisted
      case 48002:  // API not authorized
      case 60011:  // no privilege
        return ErrorClass::kConfig;
      case 45033:  // concurrency limit
        return ErrorClass::kTransient;
      case 45009:  // API frequency out of limit: blocked for the window (60 s / 60 min)
        return ErrorClass::kQuota;
      case 41051:  // welcome message already sent / customer started chatting
      case 84061:  // no follow relation
      case 40096:  // invalid external_userid
        return ErrorClass::kUserRefused;
      default: return std::nullopt;
    }
  }
  switch (errcode) {
    case 40001:  // invalid credential: wrong secret OR invalid token; the token is refreshed once
    case 40014:  // invalid access_token
    case 42001:  // access_token expired
    case 41001:  // access_token missing
      return ErrorClass::kToken;
    case 40013:  // invalid appid
    case 40125:  // invalid appsecret
    case 40164:  // caller IP not whitelisted
    case 48001:  // API unauthorized
      return ErrorClass::kConfig;
    case 45011:  // API minute quota
    case 45033:  // concurrency limit: "retry with jitter" on both platforms (PROTOCOL §4.3)
      return ErrorClass::kTransient;
    case 45009:  // daily quota reached: only after the daily reset
      return ErrorClass::kQuota;
    case 45015:  // outside the 48 h window / unsubscribed
    case 45047:  // custom-message quota for this user used up
    case 45065:  // mass send: clientmsgid already used (the first send went through)
    case 45066:  // mass send: same clientmsgid retried within 1 min
    case 43004:  // user must subscribe
    case 43101:  // user refuses to receive
    case 48002:  // the fan blocked messages (OA meaning of 48002)
    case 40003:  // invalid openid
    case 46004:  // user does not exist
      return ErrorClass::kUserRefused;
    default: return std::nullopt;
  }
}

}  // namespace

ErrorClass ClassifyErrcode(model::Platform platform, int64_t errcode) {
  return KnownClass(platform, errcode).value_or(ErrorClass::kRejected);
}

bool IsKnownErrcode(model::Platform platform, int64_t errcode) {
  return KnownClass(platform, errcode).has_value();
}

bool IsUnreachable(model::Platform platform, int64_t errcode) {
  if (platform == model::Platform::kWecom) {
    return errcode == 84061 || errcode == 40096;  // no follow relation, invalid external_userid
  }
  switch (errcode) {
    case 43004:  // user must subscribe
    case 43101:  // user refuses to receive
    case 48002:  // the fan blocked messages
    case 40003:  // invalid openid
    case 46004:  // user does not exist
      return true;
    default: return false;  // 45015 / 45047 / 45065 / 45066: a matter of time or of a key
  }
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRefused: return "refused";
    case Outcome::kRetryAfter: return "retry_after";
    case Outcome::kUnknown: return "unknown";
    case Outcome::kConfigError: return "config_error";
    case Outcome::kRejected: return "rejected";
    case Outcome::kUnavailable: return "unavailable";
    case Outcome::kBadReply: return "bad_reply";
    case Outcome::kThrottled: return "throttled";
  }
  return "unavailable";
}

core::Status ApiError::ToStatus() const {
  std::string text = std::string(OutcomeName(outcome));
  if (errcode != 0) text += " (errcode " + std::to_string(errcode) + ")";
  if (!message.empty()) text += ": " + message;
  switch (outcome) {
    case Outcome::kRefused: return core::FailedPreconditionError(std::move(text));
    case Outcome::kRetryAfter: return core::ResourceExhaustedError(std::move(text));
    case Outcome::kUnknown:
    case Outcome::kUnavailable: return core::UnavailableError(std::move(text));
    case Outcome::kConfigError: return core::PermissionDeniedError(std::move(text));
    case Outcome::kRejected: return core::InvalidArgumentError(std::move(text));
    case Outcome::kBadReply: return core::InternalError(std::move(text));
    case Outcome::kThrottled: return core::DeadlineExceededError(std::move(text));
  }
  return core::InternalError(std::move(text));
}

}  // namespace scrm::platform
