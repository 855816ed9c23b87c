#include "src/platform/outbound_options.h"

#include <chrono>

namespace scrm::platform {

OutboundOptions OutboundOptionsFrom(const config::OutboundConfig& config) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  OutboundOptions options;
  options.http.max_idle_handles = static_cast<size_t>(config.max_idle_connections);
  options.tokens.refresh_margin = seconds(config.token_refresh_margin_s);
  options.tokens.fetch_timeout = milliseconds(config.request_timeout_ms);
  options.retry.max_transient_retries = config.max_retries;
  options.retry.base_backoff = milliseconds(config.base_backoff_ms);
  options.retry.max_backoff = milliseconds(config.max_backoff_ms);
  options.retry.request_timeout = milliseconds(config.request_timeout_ms);
  options.retry.connect_timeout = milliseconds(config.connect_timeout_ms);
  options.governor.wecom_default = {{config.wecom_per_minute, seconds(60), 0},
                                    {config.wecom_per_hour, seconds(3600), 0}};
  options.governor.oa_default = {{config.oa_per_minute, seconds(60), 0}};
  options.governor.oa_api["message/mass/sendall"] = {
      {config.oa_mass_send_per_minute, seconds(60), 0}};
  options.governor.oa_api["message/template/send"] = {
      {config.oa_per_minute, seconds(60), 0}, {config.oa_template_per_day, seconds(86400), 0}};
  return options;
}

std::optional<Credential> AppCredentialFor(const config::AccountConfig& account) {
  if (account.platform != model::Platform::kWecom || account.agent_secret.empty()) {
    return std::nullopt;
  }
  Credential credential = CredentialFor(account);
  credential.secret = account.agent_secret;
  return credential;
}

}  // namespace scrm::platform
