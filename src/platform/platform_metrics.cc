#include "src/platform/platform_metrics.h"

namespace scrm::platform {

PlatformMetrics::PlatformMetrics(core::MetricsRegistry& registry)
    : calls(registry.Counter("scrmd_platform_api_calls_total",
                             "Platform API calls by account, API and final outcome.",
                             {"account", "api", "outcome"})),
      retries(registry.Counter("scrmd_platform_api_retries_total",
                               "Platform API requests repeated within one call, by reason.",
                               {"account", "api", "reason"})),
      config_errors(registry.Counter(
          "scrmd_platform_config_errors_total",
          "Platform replies that say the account's configuration is wrong, by errcode.",
          {"account", "code"})),
      token_fetches(registry.Counter("scrmd_platform_token_fetches_total",
                                     "Access token fetches by account and result.",
                                     {"account", "result"})) {}

}  // namespace scrm::platform
