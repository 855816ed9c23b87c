// The outbound objects' options built from the validated `outbound` config section.
#pragma once

#include <optional>

#include "src/config/config.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/credential.h"
#include "src/platform/rate_governor.h"
#include "src/platform/token_service.h"

namespace scrm::platform {

struct OutboundOptions {
  net::CurlHttpClientOptions http;
  TokenServiceOptions tokens;
  GovernorOptions governor;
  RetryPolicy retry;
};

// Maps config::OutboundConfig onto the options of CurlHttpClient, TokenService, RateGovernor
// and ApiCaller; everything the config does not name keeps its documented default.
OutboundOptions OutboundOptionsFrom(const config::OutboundConfig& config);

// A WeCom account's app credential (agent_id + agent_secret) for message/send, or nullopt when
// the account has none (or is not WeCom).
std::optional<Credential> AppCredentialFor(const config::AccountConfig& account);

}  // namespace scrm::platform
