// The `outbound` section: keys, ranges and the checks across them.
#include "src/config/outbound_config.h"

#include <string>

#include "src/config/sections.h"

namespace scrm::config::internal {
namespace {

const Field<OutboundConfig> kOutboundFields[] = {
    {"request_timeout_ms", &OutboundConfig::request_timeout_ms, {100, 120000}},
    {"connect_timeout_ms", &OutboundConfig::connect_timeout_ms, {100, 60000}},
    {"max_retries", &OutboundConfig::max_retries, {0, 10}},
    {"base_backoff_ms", &OutboundConfig::base_backoff_ms, {1, 60000}},
    {"max_backoff_ms", &OutboundConfig::max_backoff_ms, {1, 600000}},
    {"token_refresh_margin_s", &OutboundConfig::token_refresh_margin_s, {0, 3600}},
    {"max_idle_connections", &OutboundConfig::max_idle_connections, {1, 1024}},
    {"wecom_per_minute", &OutboundConfig::wecom_per_minute, {1, 10000000}},
    {"wecom_per_hour", &OutboundConfig::wecom_per_hour, {1, 100000000}},
    {"oa_per_minute", &OutboundConfig::oa_per_minute, {1, 10000000}},
    {"oa_mass_send_per_minute", &OutboundConfig::oa_mass_send_per_minute, {1, 10000}},
    {"oa_template_per_day", &OutboundConfig::oa_template_per_day, {1, 100000000}},
};

core::Status CheckOutbound(const Checks& checks, const Config& config) {
  const OutboundConfig& outbound = config.outbound;
  SCRM_RETURN_IF_ERROR(checks.CheckRanges<OutboundConfig>(kOutboundFields, "outbound", outbound));
  if (outbound.max_backoff_ms < outbound.base_backoff_ms) {
    return checks.Fail(
        "outbound.max_backoff_ms",
        "must be >= outbound.base_backoff_ms (" + std::to_string(outbound.base_backoff_ms) + ")");
  }
  // Limits per minute above the hourly limit would be dead configuration.
  if (outbound.wecom_per_hour < outbound.wecom_per_minute) {
    return checks.Fail("outbound.wecom_per_hour", "must be >= outbound.wecom_per_minute");
  }
  return core::OkStatus();
}

}  // namespace

const Section<OutboundConfig>& OutboundSection() {
  static const Section<OutboundConfig> section = {"outbound", kOutboundFields, &CheckOutbound};
  return section;
}

}  // namespace scrm::config::internal
