// Reading one HTTP exchange with a platform: transport outcome, HTTP status, JSON, errcode.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "src/model/platform.h"
#include "src/net/http_client.h"

namespace scrm::platform {

struct PlatformReply {
  enum class Kind {
    kJson,        // HTTP 200 with a JSON object; errcode / errmsg read (errcode absent = 0)
    kNotSent,     // transport: the request never left
    kUnknown,     // transport: sent, outcome unknown
    kHttpStatus,  // a response with a status other than 200 (http_status)
    kMalformed,   // HTTP 200 but not a JSON object, or errcode not an integer (detail)
  };
  Kind kind = Kind::kNotSent;
  nlohmann::json json;  // kJson: the whole reply object
  int64_t errcode = 0;  // kJson
  std::string errmsg;   // kJson: platform errmsg, cut to 256 bytes (may contain rid / hint)
  int http_status = 0;  // kJson, kHttpStatus
  std::string detail;   // transport or parse detail otherwise
};

// Never throws; every shape of `result` maps to one Kind (PROTOCOL §4: HTTP 200 even for
// errors, always parse errcode; OA success replies sometimes omit it).
PlatformReply ReadReply(const net::HttpResult& result);

// When a kQuota errcode (45009) stops blocking: WeCom blocks for the frequency window
// (`wecom_block`, 60 s by default); OA's daily quota resets at 00:00 Beijing time (UTC+8).
std::chrono::system_clock::time_point QuotaResetTime(model::Platform platform,
                                                     std::chrono::system_clock::time_point now,
                                                     std::chrono::milliseconds wecom_block);

}  // namespace scrm::platform
