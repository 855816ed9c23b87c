// The /metrics families of the outbound platform clients (one place for names and labels).
#pragma once

#include "src/core/metrics.h"

namespace scrm::platform {

// References into the registry, which outlives this struct. Thread-safe like the families.
struct PlatformMetrics {
  explicit PlatformMetrics(core::MetricsRegistry& registry);

  // scrmd_platform_api_calls_total{account,api,outcome}: outcome "ok" or an OutcomeName.
  core::CounterFamily& calls;
  // scrmd_platform_api_retries_total{account,api,reason}: reason token_refresh | token (a
  // failed token fetch) | transient | not_sent | unknown | http_5xx | http_429.
  core::CounterFamily& retries;
  // scrmd_platform_config_errors_total{account,code}: configuration errcodes (PROTOCOL §4.3),
  // including those of token fetches. An alert fires on any increase.
  core::CounterFamily& config_errors;
  // scrmd_platform_token_fetches_total{account,result}: result ok | error.
  core::CounterFamily& token_fetches;
};

}  // namespace scrm::platform
