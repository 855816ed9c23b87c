#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "src/config/config.h"
#include "tests/support/test_support.h"

namespace scrm::config {
namespace {

using json = nlohmann::json;

constexpr char kAesKeyOutboundConfig[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

json Wecom() {
  return {{"id", "corp1"},
          {"platform", "wecom"},
          {"corp_id", "ww01"},
          {"token", "Tok"},
          {"encoding_aes_key", kAesKeyOutboundConfig}};
}

std::string ParseError(const json& doc) {
  auto config = ParseConfig(doc.dump());
  REQUIRE_FALSE(config.ok());
  return config.status().message();
}

TEST_CASE("ParseConfig returns the documented outbound defaults when the section is absent",
          "[unit]") {
  auto config = ParseConfig("{}");
  REQUIRE(config.ok());
  const OutboundConfig& outbound = config->outbound;
  CHECK(outbound.request_timeout_ms == 10000);
  CHECK(outbound.connect_timeout_ms == 3000);
  CHECK(outbound.max_retries == 3);
  CHECK(outbound.base_backoff_ms == 200);
  CHECK(outbound.max_backoff_ms == 5000);
  CHECK(outbound.token_refresh_margin_s == 300);
  CHECK(outbound.max_idle_connections == 32);
  CHECK(outbound.wecom_per_minute == 10000);
  CHECK(outbound.wecom_per_hour == 150000);
  CHECK(outbound.oa_per_minute == 10000);
  CHECK(outbound.oa_mass_send_per_minute == 60);
  CHECK(outbound.oa_template_per_day == 100000);
}

TEST_CASE("ParseConfig reads the outbound section when it is set", "[unit]") {
  auto config =
      ParseConfig(R"({"outbound":{"max_retries":1,"wecom_per_minute":500,"wecom_per_hour":9000}})");
  REQUIRE(config.ok());
  CHECK(config->outbound.max_retries == 1);
  CHECK(config->outbound.wecom_per_minute == 500);
  CHECK(config->outbound.wecom_per_hour == 9000);
}

TEST_CASE("ParseConfig rejects outbound values out of range or inconsistent", "[unit]") {
  CHECK(ParseError({{"outbound", {{"max_retries", 11}}}}) ==
        "outbound.max_retries: must be in 0..10");
  CHECK(ParseError({{"outbound", {{"retries", 1}}}}) == "outbound.retries: unknown key");
  CHECK(ParseError({{"outbound", {{"base_backoff_ms", 500}, {"max_backoff_ms", 100}}}}) ==
        "outbound.max_backoff_ms: must be >= outbound.base_backoff_ms (500)");
  CHECK(ParseError({{"outbound", {{"wecom_per_minute", 500}, {"wecom_per_hour", 100}}}}) ==
        "outbound.wecom_per_hour: must be >= outbound.wecom_per_minute");
}

TEST_CASE("ParseConfig reads a WeCom app credential when agent_id and agent_secret are both set",
          "[unit]") {
  json account = Wecom();
  account["agent_id"] = 1000002;
  account["agent_secret"] = "app-s";
  auto config = ParseConfig(json{{"accounts", {account}}}.dump());
  REQUIRE(config.ok());
  CHECK(config->accounts[0].agent_id == 1000002);
  CHECK(config->accounts[0].agent_secret == "app-s");
}

TEST_CASE("ParseConfig rejects half an app credential and app keys on an OA account", "[unit]") {
  json account = Wecom();
  account["agent_id"] = 1000002;
  CHECK(ParseError({{"accounts", {account}}}) ==
        "accounts[0].agent_secret: required when agent_id is set");
  json oa = {{"id", "oa1"},    {"platform", "oa"},        {"app_id", "wx01"},
             {"token", "Tok"}, {"encrypt_mode", "plain"}, {"agent_secret", "x"}};
  CHECK(ParseError({{"accounts", {oa}}}).rfind("accounts[0].agent_secret: not allowed", 0) == 0);
}

TEST_CASE("LoadConfig takes agent_secret from the secrets file", "[unit]") {
  json account = Wecom();
  account["agent_id"] = 7;
  testing::TempDir dir;
  ConfigSources sources;
  sources.config_file = dir.File("scrmd.json");
  sources.secrets_file = dir.File("secrets.json");
  testing::WriteFile(sources.config_file, json{{"accounts", {account}}}.dump());
  testing::WriteSecretsFile(
      sources.secrets_file,
      json{{"accounts", {{"corp1", {{"agent_secret", "from-secrets"}}}}}}.dump());
  auto config = LoadConfig(sources);
  REQUIRE(config.ok());
  CHECK(config->accounts[0].agent_secret == "from-secrets");
}

}  // namespace
}  // namespace scrm::config
