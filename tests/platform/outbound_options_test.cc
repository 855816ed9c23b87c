#include "src/platform/outbound_options.h"

#include <catch2/catch.hpp>
#include <chrono>

namespace scrm::platform {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("OutboundOptionsFrom maps every outbound key onto the options", "[unit]") {
  config::OutboundConfig config;
  config.request_timeout_ms = 1500;
  config.connect_timeout_ms = 700;
  config.max_retries = 2;
  config.base_backoff_ms = 50;
  config.max_backoff_ms = 900;
  config.token_refresh_margin_s = 120;
  config.max_idle_connections = 4;
  config.wecom_per_minute = 100;
  config.wecom_per_hour = 1000;
  config.oa_per_minute = 200;
  config.oa_mass_send_per_minute = 5;
  config.oa_template_per_day = 9000;
  const OutboundOptions options = OutboundOptionsFrom(config);
  CHECK(options.http.max_idle_handles == 4);
  CHECK(options.tokens.refresh_margin == seconds(120));
  CHECK(options.retry.max_transient_retries == 2);
  CHECK(options.retry.base_backoff == milliseconds(50));
  CHECK(options.retry.max_backoff == milliseconds(900));
  CHECK(options.retry.request_timeout == milliseconds(1500));
  CHECK(options.retry.connect_timeout == milliseconds(700));
  REQUIRE(options.governor.wecom_default.size() == 2);
  CHECK(options.governor.wecom_default[0].limit == 100);
  CHECK(options.governor.wecom_default[1].limit == 1000);
  CHECK(options.governor.wecom_default[1].window == seconds(3600));
  CHECK(options.governor.oa_default.at(0).limit == 200);
  CHECK(options.governor.oa_api.at("message/mass/sendall").at(0).limit == 5);
  CHECK(options.governor.oa_api.at("message/template/send").at(1).limit == 9000);
}

TEST_CASE("AppCredentialFor uses the agent secret of a WeCom account and nothing else", "[unit]") {
  config::AccountConfig account;
  account.id = "corp1";
  account.platform = model::Platform::kWecom;
  account.corp_id = "ww01";
  account.secret = "contact";
  account.api_base = "http://127.0.0.1:9";
  CHECK_FALSE(AppCredentialFor(account).has_value());
  account.agent_id = 1000002;
  account.agent_secret = "app";
  const auto app = AppCredentialFor(account);
  REQUIRE(app.has_value());
  CHECK(app->secret == "app");
  CHECK(app->app_id == "ww01");
  CHECK(app->api_base == "http://127.0.0.1:9");
  CHECK(CredentialFor(account).secret == "contact");
}

}  // namespace
}  // namespace scrm::platform
