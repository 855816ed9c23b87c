// Helpers shared by the typed platform clients (WecomClient, OaClient): request building,
// running a call and turning a reply parse into an ApiResult. Internal to src/platform.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <utility>

#include "src/platform/api_caller.h"
#include "src/platform/call_options.h"
#include "src/platform/errors.h"
#include "src/platform/json_fields.h"

namespace scrm::platform {

namespace internal {

// The client's own check refused the request before anything was sent.
inline ApiError Invalid(std::string message) {
  ApiError error;
  error.outcome = Outcome::kRejected;
  error.message = std::move(message);
  return error;
}

// The reply had errcode 0 but not the documented shape.
inline ApiError BadReply(const JsonFields& fields, int attempts = 1) {
  ApiError error;
  error.outcome = Outcome::kBadReply;
  error.http_status = 200;
  error.message = fields.error();
  error.attempts = attempts;
  return error;
}

inline ApiCall Post(std::string api, const CallOptions& options, bool idempotent) {
  ApiCall call;
  call.api = std::move(api);
  call.method = net::HttpMethod::kPost;
  call.idempotent = idempotent;
  call.priority = options.priority;
  call.time_budget = options.time_budget;
  return call;
}

inline ApiCall Get(std::string api, const CallOptions& options) {
  ApiCall call = Post(std::move(api), options, /*idempotent=*/true);
  call.method = net::HttpMethod::kGet;
  return call;
}

// Serializes `body` into call.body and runs the call; `parse` maps the reply object (errcode 0)
// to ApiResult<T>.
template <typename T, typename Parse>
ApiResult<T> Run(ApiCaller& caller, const Credential& credential, ApiCall call,
                 const nlohmann::json* body, Parse parse) {
  if (body != nullptr) {
    auto text = DumpJson(*body);
    if (!text.ok()) return Invalid(text.status().message());
    call.body = std::move(text).value();
  }
  ApiResult<nlohmann::json> reply = caller.Call(credential, call);
  if (!reply.ok()) return reply.error();
  return parse(reply.value());
}

}  // namespace internal
}  // namespace scrm::platform
