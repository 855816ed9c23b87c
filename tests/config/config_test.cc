#include "src/config/config.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "tests/support/test_support.h"

namespace scrm::config {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using json = nlohmann::json;

// 43 characters of [A-Za-z0-9], the shape of a real EncodingAESKey.
constexpr char kAesKey[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
constexpr char kOtherAesKey[] = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut";

// Tokens are alphanumeric; ids may also hold '-' and '_'.
std::string TokenFor(const std::string& id) {
  std::string token = "Tok";
  for (char ch : id) {
    if (ch != '-' && ch != '_') token.push_back(ch);
  }
  return token;
}

json WecomAccount(const std::string& id) {
  return {{"id", id},
          {"platform", "wecom"},
          {"corp_id", "ww0123456789"},
          {"token", TokenFor(id)},
          {"encoding_aes_key", kAesKey}};
}

json OaAccount(const std::string& id) {
  return {{"id", id},
          {"platform", "oa"},
          {"app_id", "wx0123456789"},
          {"token", TokenFor(id)},
          {"encoding_aes_key", kAesKey}};
}

// A valid config with one account of each platform; tests break one thing in it.
json ValidDoc() { return {{"accounts", {WecomAccount("corp1"), OaAccount("oa1")}}}; }

// The message of a failed load, after checking what every config error promises: the
// InvalidArgument code and a single line.
std::string ErrorOf(const core::StatusOr<Config>& result) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == core::StatusCode::kInvalidArgument);
  CHECK(result.status().message().find('\n') == std::string::npos);
  return result.status().message();
}

std::string ErrorOf(const json& doc) { return ErrorOf(ParseConfig(doc.dump())); }

Config LoadOk(const ConfigSources& sources) {
  auto result = LoadConfig(sources);
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

Config ParseOk(const json& doc) {
  auto result = ParseConfig(doc.dump());
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

// A config file (and optionally a secrets file) on disk plus an environment.
struct Files {
  testing::TempDir dir;
  ConfigSources sources;

  explicit Files(const json& config) {
    sources.config_file = dir.File("scrmd.json");
    testing::WriteFile(sources.config_file, config.dump(2));
  }
  void Secrets(const json& secrets) {
    sources.secrets_file = dir.File("secrets.json");
    testing::WriteSecretsFile(sources.secrets_file, secrets.dump(2));
  }
};

// ---------------------------------------------------------------------------------------------
// Defaults and a full config

TEST_CASE("ParseConfig returns the documented defaults when given an empty object", "[unit]") {
  const Config config = ParseOk(json::object());
  CHECK(config.listen == "127.0.0.1:8080");
  CHECK(config.ListenHost() == "127.0.0.1");
  CHECK(config.ListenPort() == 8080);
  CHECK(config.data_dir == "./var");
  CHECK(config.DatabasePath() == "./var/scrmd.db");
  CHECK(config.log.level == "info");
  CHECK(config.log.format == core::LogFormat::kText);
  CHECK(config.http.threads == 8);
  CHECK(config.http.max_connections == 512);
  CHECK(config.http.keep_alive_max == 1000);
  CHECK(config.http.keep_alive_timeout_s == 5);
  CHECK(config.http.read_timeout_s == 10);
  CHECK(config.http.write_timeout_s == 10);
  CHECK(config.http.max_body_bytes == 1 << 20);
  CHECK(config.storage.path.empty());
  CHECK(config.storage.synchronous == "full");  // durable by default
  CHECK(config.storage.read_connections == 4);
  CHECK(config.storage.busy_timeout_ms == 5000);
  CHECK(config.accounts.empty());
  CHECK(config.tag_rules_file.empty());
}

TEST_CASE("ParseConfig reads tag_rules_file when it is set", "[unit]") {
  CHECK(ParseOk(json{{"tag_rules_file", "/etc/scrmd/规则.json"}}).tag_rules_file ==
        "/etc/scrmd/规则.json");
}

TEST_CASE("ParseConfig rejects tag_rules_file when it is not a string", "[unit]") {
  CHECK_THAT(ErrorOf(json{{"tag_rules_file", 3}}), StartsWith("tag_rules_file: must be a string"));
}

TEST_CASE("ParseConfig rejects tag_rules_file when it has a control character", "[unit]") {
  CHECK_THAT(ErrorOf(json{{"tag_rules_file", "rules\n.json"}}),
             StartsWith("tag_rules_file: must not contain control characters"));
}

TEST_CASE("ParseConfig rejects tag_rules_file when it is longer than a path can be", "[unit]") {
  CHECK_THAT(ErrorOf(json{{"tag_rules_file", std::string(4097, 'a')}}),
             StartsWith("tag_rules_file: must be at most 4096 bytes"));
}

TEST_CASE("ParseConfig reads templates_dir, \"templates\" by default", "[unit]") {
  CHECK(ParseOk(json::object()).templates_dir == "templates");
  CHECK(ParseOk(json{{"templates_dir", "/srv/templates"}}).templates_dir == "/srv/templates");
  CHECK(ParseOk(json{{"templates_dir", ""}}).templates_dir.empty());
}

TEST_CASE("ParseConfig rejects templates_dir when it has a control character", "[unit]") {
  CHECK_THAT(ErrorOf(json{{"templates_dir", "tem\tplates"}}),
             StartsWith("templates_dir: must not contain control characters"));
  CHECK_THAT(ErrorOf(json{{"templates_dir", std::string(4097, 'a')}}),
             StartsWith("templates_dir: must be at most 4096 bytes"));
}

TEST_CASE("LoadConfig sets tag_rules_file from SCRMD_TAG_RULES_FILE when the environment has it",
          "[unit]") {
  ConfigSources sources;
  sources.env = {{"SCRMD_TAG_RULES_FILE", "/srv/rules.json"}};
  CHECK(LoadOk(sources).tag_rules_file == "/srv/rules.json");
}

TEST_CASE("LoadConfig returns the embedded defaults when no config file is given", "[unit]") {
  const Config config = LoadOk(ConfigSources{});
  CHECK(config.listen == "127.0.0.1:8080");
  CHECK(config.DatabasePath() == "./var/scrmd.db");
  CHECK(config.InboxDatabasePath() == "./var/scrmd-inbox.db");
  CHECK(config.accounts.empty());
}

TEST_CASE("ParseConfig reads every key when given a full config with two accounts per platform",
          "[unit]") {
  json corp2 = WecomAccount("corp-2");
  corp2["secret"] = "ContactSecret";
  corp2["api_base"] = "http://127.0.0.1:9000/";
  corp2["timestamp_window_s"] = 60;
  json oa2 = OaAccount("oa_2");
  oa2.erase("encoding_aes_key");
  oa2["encrypt_mode"] = "plain";
  oa2["app_secret"] = "AppSecret";
  json oa1 = OaAccount("oa1");
  oa1["encrypt_mode"] = "compat";
  const json doc = {{"listen", "0.0.0.0:9090"},
                    {"data_dir", "/srv/scrmd"},
                    {"log", {{"level", "debug"}, {"format", "json"}}},
                    {"http",
                     {{"threads", 16},
                      {"max_connections", 256},
                      {"keep_alive_max", 50},
                      {"keep_alive_timeout_s", 2},
                      {"read_timeout_s", 3},
                      {"write_timeout_s", 4},
                      {"max_body_bytes", 65536}}},
                    {"storage",
                     {{"path", "/data/x.db"},
                      {"synchronous", "full"},
                      {"read_connections", 2},
                      {"busy_timeout_ms", 0}}},
                    {"accounts", {WecomAccount("corp1"), corp2, oa1, oa2}}};

  const Config config = ParseOk(doc);
  CHECK(config.ListenHost() == "0.0.0.0");
  CHECK(config.ListenPort() == 9090);
  CHECK(config.data_dir == "/srv/scrmd");
  CHECK(config.DatabasePath() == "/data/x.db");
  CHECK(config.log.level == "debug");
  CHECK(config.log.format == core::LogFormat::kJson);
  CHECK(config.http.threads == 16);
  CHECK(config.http.max_connections == 256);
  CHECK(config.http.keep_alive_max == 50);
  CHECK(config.http.keep_alive_timeout_s == 2);
  CHECK(config.http.read_timeout_s == 3);
  CHECK(config.http.write_timeout_s == 4);
  CHECK(config.http.max_body_bytes == 65536);
  CHECK(config.storage.synchronous == "full");
  CHECK(config.storage.read_connections == 2);
  CHECK(config.storage.busy_timeout_ms == 0);

  REQUIRE(config.accounts.size() == 4);
  const AccountConfig& a0 = config.accounts[0];
  CHECK(a0.id == "corp1");
  CHECK(a0.platform == model::Platform::kWecom);
  CHECK(a0.corp_id == "ww0123456789");
  CHECK(a0.token == "Tokcorp1");
  CHECK(a0.encoding_aes_key == kAesKey);
  CHECK(a0.api_base == "https://qyapi.weixin.qq.com");
  CHECK(a0.timestamp_window_s == 300);
  const AccountConfig& a1 = config.accounts[1];
  CHECK(a1.secret == "ContactSecret");
  CHECK(a1.api_base == "http://127.0.0.1:9000");  // trailing '/' dropped
  CHECK(a1.timestamp_window_s == 60);
  const AccountConfig& a2 = config.accounts[2];
  CHECK(a2.platform == model::Platform::kOfficialAccount);
  CHECK(a2.app_id == "wx0123456789");
  CHECK(a2.encrypt_mode == EncryptMode::kCompat);
  CHECK(a2.api_base == "https://api.weixin.qq.com");
  const AccountConfig& a3 = config.accounts[3];
  CHECK(a3.encrypt_mode == EncryptMode::kPlain);
  CHECK(a3.encoding_aes_key.empty());
  CHECK(a3.app_secret == "AppSecret");

  REQUIRE(config.FindAccount("oa_2") != nullptr);
  CHECK(config.FindAccount("oa_2")->app_secret == "AppSecret");
  CHECK(config.FindAccount("nope") == nullptr);
}

TEST_CASE("ParseConfig defaults an oa account to safe mode when encrypt_mode is absent", "[unit]") {
  const Config config = ParseOk(ValidDoc());
  CHECK(config.accounts[1].encrypt_mode == EncryptMode::kSafe);
}

TEST_CASE("PlatformName and EncryptModeName give the config spelling when asked", "[unit]") {
  CHECK(PlatformName(model::Platform::kWecom) == "wecom");
  CHECK(PlatformName(model::Platform::kOfficialAccount) == "oa");
  CHECK(EncryptModeName(EncryptMode::kPlain) == "plain");
  CHECK(EncryptModeName(EncryptMode::kCompat) == "compat");
  CHECK(EncryptModeName(EncryptMode::kSafe) == "safe");
}

// ---------------------------------------------------------------------------------------------
// Shape errors

TEST_CASE("ParseConfig rejects an unknown key when it appears at any level", "[unit]") {
  const auto [pointer, expected] = GENERATE(table<std::string, std::string>({
      {"/lisen", "lisen: unknown key"},
      {"/log/colour", "log.colour: unknown key"},
      {"/http/thread", "http.thread: unknown key"},
      {"/storage/file", "storage.file: unknown key"},
      {"/accounts/0/corpid", "accounts[0].corpid: unknown key"},
      {"/accounts/1/appid", "accounts[1].appid: unknown key"},
  }));
  json doc = ValidDoc();
  doc[json::json_pointer(pointer)] = "x";
  CHECK(ErrorOf(doc) == expected);
}

TEST_CASE("ParseConfig rejects a value when its JSON type is wrong", "[unit]") {
  const auto [pointer, value, expected] = GENERATE(table<std::string, json, std::string>({
      {"/http/threads", "8", "http.threads: must be an integer"},
      {"/http/threads", 8.5, "http.threads: must be an integer"},
      {"/http/threads", true, "http.threads: must be an integer"},
      {"/http/threads", nullptr, "http.threads: must be an integer"},
      {"/listen", 8080, "listen: must be a string"},
      {"/log/format", 1, "log.format: must be a string"},
      {"/log", "info", "log: must be an object"},
      {"/storage", json::array(), "storage: must be an object"},
      {"/accounts", json::object(), "accounts: must be an array"},
      {"/accounts/0", "corp1", "accounts[0]: must be an object"},
      {"/accounts/1/timestamp_window_s", "300",
       "accounts[1].timestamp_window_s: must be an integer"},
  }));
  json doc = ValidDoc();
  doc[json::json_pointer(pointer)] = value;
  CHECK(ErrorOf(doc) == expected);
}

TEST_CASE("ParseConfig rejects a top level when it is not an object", "[unit]") {
  CHECK(ErrorOf(ParseConfig("[]")) == "config: must be a JSON object");
}

TEST_CASE("ParseConfig rejects a name when it is not one of the documented values", "[unit]") {
  const auto [pointer, value, expected] = GENERATE(table<std::string, std::string, std::string>({
      {"/log/format", "xml", "log.format: must be \"text\" or \"json\""},
      {"/log/level", "verbose", "log.level: must be one of trace, debug, info"},
      {"/storage/synchronous", "off", "storage.synchronous: must be \"normal\" or \"full\""},
      {"/accounts/0/platform", "qq", "accounts[0].platform: must be \"wecom\" or \"oa\""},
      {"/accounts/1/encrypt_mode", "aes",
       "accounts[1].encrypt_mode: must be \"plain\", \"compat\" or \"safe\""},
  }));
  json doc = ValidDoc();
  doc[json::json_pointer(pointer)] = value;
  CHECK_THAT(ErrorOf(doc), StartsWith(expected));
}

// ---------------------------------------------------------------------------------------------
// Ranges

TEST_CASE("ParseConfig rejects an integer when it is outside its documented range", "[unit]") {
  const auto [pointer, value, expected] = GENERATE(table<std::string, json, std::string>({
      {"/http/threads", 0, "http.threads: must be in 1..900"},
      {"/http/threads", 901, "http.threads: must be in 1..900"},
      {"/http/threads", 3000000000LL, "http.threads: must be in 1..900"},
      {"/http/threads", 18446744073709551615ULL, "http.threads: must be in 1..900"},
      {"/http/max_connections", 901, "http.max_connections: must be in 1..900"},
      {"/http/keep_alive_max", 0, "http.keep_alive_max: must be in 1..1000000"},
      {"/http/keep_alive_timeout_s", 3601, "http.keep_alive_timeout_s: must be in 1..3600"},
      {"/http/read_timeout_s", 0, "http.read_timeout_s: must be in 1..3600"},
      {"/http/write_timeout_s", -5, "http.write_timeout_s: must be in 1..3600"},
      {"/http/max_body_bytes", 67108865, "http.max_body_bytes: must be in 1..67108864"},
      {"/storage/read_connections", 65, "storage.read_connections: must be in 1..64"},
      {"/storage/busy_timeout_ms", -1, "storage.busy_timeout_ms: must be in 0..600000"},
      {"/accounts/0/timestamp_window_s", 0, "accounts[0].timestamp_window_s: must be in 1..86400"},
      {"/accounts/1/timestamp_window_s", 86401,
       "accounts[1].timestamp_window_s: must be in 1..86400"},
  }));
  json doc = ValidDoc();
  doc[json::json_pointer(pointer)] = value;
  CHECK(ErrorOf(doc) == expected);
}

TEST_CASE("ParseConfig accepts integers when they sit on their range bounds", "[unit]") {
  json doc = ValidDoc();
  doc["http"] = {{"threads", 900},
                 {"max_connections", 900},
                 {"keep_alive_max", 1},
                 {"read_timeout_s", 3600},
                 {"max_body_bytes", 67108864}};
  doc["storage"] = {{"read_connections", 64}, {"busy_timeout_ms", 600000}};
  doc["accounts"][0]["timestamp_window_s"] = 86400;
  const Config config = ParseOk(doc);
  CHECK(config.http.threads == 900);
  CHECK(config.http.max_body_bytes == 67108864);
  CHECK(config.accounts[0].timestamp_window_s == 86400);
}

TEST_CASE("ParseConfig rejects max_connections when it is below threads", "[unit]") {
  json doc = ValidDoc();
  doc["http"] = {{"threads", 32}, {"max_connections", 16}};
  CHECK_THAT(ErrorOf(doc), StartsWith("http.max_connections: must be >= http.threads"));
}

TEST_CASE("ParseConfig lowers the default per-address cap to a smaller max_connections", "[unit]") {
  json doc = ValidDoc();
  doc["http"] = {{"max_connections", 100}};
  CHECK(ParseOk(doc).http.max_connections_per_ip == 100);
  doc["http"]["max_connections_per_ip"] = 101;
  CHECK_THAT(ErrorOf(doc),
             StartsWith("http.max_connections_per_ip: must be <= http.max_connections (100)"));
}

TEST_CASE("ParseConfig returns the documented defaults of the HTTP client limits", "[unit]") {
  const Config config = ParseOk(json::object());
  CHECK(config.http.max_connections_per_ip == 128);
  CHECK(config.http.request_timeout_s == 30);
  CHECK(config.http.min_body_bytes_per_s == 1024);
  CHECK(config.http.body_rate_grace_s == 5);
  CHECK(config.http.max_pending_body_bytes == int64_t{64} << 20);
  CHECK(config.http.admin_listen.empty());
  CHECK(config.AdminListenHost().empty());
  CHECK(config.AdminListenPort() == -1);
}

TEST_CASE("ParseConfig reads the HTTP client limits and admin_listen when set", "[unit]") {
  json doc = ValidDoc();
  doc["http"] = {{"max_connections_per_ip", 0},       {"request_timeout_s", 60},
                 {"min_body_bytes_per_s", 0},         {"body_rate_grace_s", 0},
                 {"max_pending_body_bytes", 1 << 20}, {"admin_listen", "[::1]:9090"}};
  const Config config = ParseOk(doc);
  CHECK(config.http.max_connections_per_ip == 0);
  CHECK(config.http.request_timeout_s == 60);
  CHECK(config.http.min_body_bytes_per_s == 0);
  CHECK(config.http.max_pending_body_bytes == 1 << 20);
  CHECK(config.AdminListenHost() == "::1");
  CHECK(config.AdminListenPort() == 9090);
}

TEST_CASE("ParseConfig rejects HTTP client limits when they contradict other keys", "[unit]") {
  const auto [http, expected] = GENERATE(table<json, std::string>({
      {json{{"max_connections", 16}, {"max_connections_per_ip", 17}},
       "http.max_connections_per_ip: must be <= http.max_connections (16)"},
      {json{{"max_connections_per_ip", -1}}, "http.max_connections_per_ip: must be in 0..900"},
      {json{{"keep_alive_timeout_s", 30}, {"request_timeout_s", 30}},
       "http.request_timeout_s: must be > http.keep_alive_timeout_s (30)"},
      {json{{"max_body_bytes", 4096}, {"max_pending_body_bytes", 4095}},
       "http.max_pending_body_bytes: must be >= http.max_body_bytes (4096)"},
      {json{{"min_body_bytes_per_s", -1}}, "http.min_body_bytes_per_s: must be in 0..1073741824"},
      {json{{"admin_listen", "9090"}}, "http.admin_listen: must be host:port"},
      {json{{"admin_listen", "127.0.0.1:8080"}}, "http.admin_listen: must differ from listen"},
  }));
  json doc = ValidDoc();
  doc["listen"] = "127.0.0.1:8080";
  doc["http"] = http;
  CHECK_THAT(ErrorOf(doc), StartsWith(expected));
}

TEST_CASE("ParseConfig rejects data_dir when it is empty", "[unit]") {
  CHECK_THAT(ErrorOf(json{{"data_dir", ""}}), StartsWith("data_dir: must not be empty"));
}

// ---------------------------------------------------------------------------------------------
// Accounts

TEST_CASE("ParseConfig reports a required account field when it is missing", "[unit]") {
  const auto [index, key, expected] = GENERATE(table<int, std::string, std::string>({
      {0, "id", "accounts[0].id: required"},
      {0, "platform", "accounts[0].platform: required (\"wecom\" or \"oa\")"},
      {0, "corp_id", "accounts[0].corp_id: required"},
      {0, "token", "accounts[0].token: required"},
      {0, "encoding_aes_key", "accounts[0].encoding_aes_key: required"},
      {1, "app_id", "accounts[1].app_id: required"},
      {1, "token", "accounts[1].token: required"},
      {1, "encoding_aes_key",
       "accounts[1].encoding_aes_key: required unless encrypt_mode is \"plain\""},
  }));
  json doc = ValidDoc();
  doc["accounts"][static_cast<std::size_t>(index)].erase(key);
  CHECK(ErrorOf(doc) == expected);
}

TEST_CASE("ParseConfig treats an empty required string as missing when it is given", "[unit]") {
  json doc = ValidDoc();
  doc["accounts"][0]["token"] = "";
  CHECK(ErrorOf(doc) == "accounts[0].token: required");
}

TEST_CASE("ParseConfig rejects a field when it belongs to the other platform", "[unit]") {
  const auto [index, key, expected] = GENERATE(table<int, std::string, std::string>({
      {0, "app_id", "accounts[0].app_id: not allowed for platform \"wecom\""},
      {0, "app_secret", "accounts[0].app_secret: not allowed for platform \"wecom\""},
      {0, "encrypt_mode", "accounts[0].encrypt_mode: not allowed for platform \"wecom\""},
      {1, "corp_id", "accounts[1].corp_id: not allowed for platform \"oa\""},
      {1, "secret", "accounts[1].secret: not allowed for platform \"oa\""},
  }));
  json doc = ValidDoc();
  doc["accounts"][static_cast<std::size_t>(index)][key] = key == "encrypt_mode" ? "safe" : "x";
  CHECK_THAT(ErrorOf(doc), StartsWith(expected));
}

TEST_CASE("ParseConfig rejects an encoding_aes_key when it is not 43 characters", "[unit]") {
  const std::string bad_key = GENERATE(std::string(42, 'a'), std::string(44, 'a'));
  json doc = ValidDoc();
  doc["accounts"][1]["encoding_aes_key"] = bad_key;
  const std::string message = ErrorOf(doc);
  CHECK(message == "accounts[1].encoding_aes_key: must be 43 characters");
  CHECK_THAT(message, !Contains(bad_key));
}

TEST_CASE("ParseConfig rejects an encoding_aes_key when it has a non-alphanumeric character",
          "[unit]") {
  json doc = ValidDoc();
  doc["accounts"][0]["encoding_aes_key"] = std::string(42, 'a') + "=";
  CHECK(ErrorOf(doc) == "accounts[0].encoding_aes_key: must contain only [A-Za-z0-9]");
}

TEST_CASE("ParseConfig checks an encoding_aes_key when given for a plain oa account", "[unit]") {
  json doc = ValidDoc();
  doc["accounts"][1]["encrypt_mode"] = "plain";
  doc["accounts"][1]["encoding_aes_key"] = "short";
  CHECK(ErrorOf(doc) == "accounts[1].encoding_aes_key: must be 43 characters");
}

TEST_CASE("ParseConfig rejects a token when it is malformed", "[unit]") {
  const std::string bad_token = GENERATE(std::string(129, 't'), std::string("tok-en"));
  json doc = ValidDoc();
  doc["accounts"][0]["token"] = bad_token;
  const std::string message = ErrorOf(doc);
  CHECK(message == "accounts[0].token: must be 1..128 characters of [A-Za-z0-9]");
  CHECK_THAT(message, !Contains(bad_token));
}

TEST_CASE("ParseConfig rejects an account id when it is malformed", "[unit]") {
  const std::string bad_id = GENERATE(std::string("a b"), std::string("x/y"), std::string(65, 'i'));
  json doc = ValidDoc();
  doc["accounts"][1]["id"] = bad_id;
  CHECK(ErrorOf(doc) == "accounts[1].id: must be 1..64 characters of [A-Za-z0-9_-]");
}

TEST_CASE("ParseConfig rejects an account id when an earlier account already has it", "[unit]") {
  json doc = ValidDoc();
  doc["accounts"].push_back(OaAccount("corp1"));
  CHECK(ErrorOf(doc) == "accounts[2].id: duplicate id 'corp1'");
}

TEST_CASE("ParseConfig rejects api_base when it is not an http or https URL", "[unit]") {
  const std::string bad_url =
      GENERATE(std::string("ftp://x"), std::string("qyapi.weixin.qq.com"), std::string("https://"));
  json doc = ValidDoc();
  doc["accounts"][0]["api_base"] = bad_url;
  CHECK_THAT(ErrorOf(doc), StartsWith("accounts[0].api_base: must start with http:// or https://"));
}

TEST_CASE("ParseConfig reports the first error in a fixed order when there are several", "[unit]") {
  // Key and type errors come before value errors; value errors follow the documented order.
  json doc = ValidDoc();
  doc["listen"] = "nope";
  doc["http"]["threads"] = 0;
  doc["zzz"] = 1;
  CHECK(ErrorOf(doc) == "zzz: unknown key");
  doc.erase("zzz");
  CHECK_THAT(ErrorOf(doc), StartsWith("listen: "));
  doc["listen"] = "127.0.0.1:1";
  CHECK_THAT(ErrorOf(doc), StartsWith("http.threads: "));
}

// ---------------------------------------------------------------------------------------------
// listen

TEST_CASE("Config splits listen into host and port when it is well formed", "[unit]") {
  const auto [listen, host, port] = GENERATE(table<std::string, std::string, int>({
      {"127.0.0.1:8080", "127.0.0.1", 8080},
      {"0.0.0.0:0", "0.0.0.0", 0},
      {"localhost:65535", "localhost", 65535},
      {"[::1]:8080", "::1", 8080},
      {"[::]:443", "::", 443},
  }));
  const Config config = ParseOk(json{{"listen", listen}});
  CHECK(config.ListenHost() == host);
  CHECK(config.ListenPort() == port);
}

TEST_CASE("ParseConfig rejects listen when it is not host:port", "[unit]") {
  const auto [listen, expected] = GENERATE(table<std::string, std::string>({
      {"8080", "listen: must be host:port"},
      {"", "listen: must be host:port"},
      {":8080", "listen: host must not be empty"},
      {"host:", "listen: port must be in 0..65535"},
      {"host:65536", "listen: port must be in 0..65535"},
      {"host:-1", "listen: port must be in 0..65535"},
      {"host:+80", "listen: port must be in 0..65535"},
      {"host:80x", "listen: port must be in 0..65535"},
      {"::1:8080", "listen: an IPv6 host must be in brackets"},
      {"[::1:8080", "listen: an IPv6 host must be in brackets"},
      {"[]:80", "listen: an IPv6 host must be in brackets"},
      {"[localhost]:80", "listen: brackets are only for IPv6 hosts"},
      {"my host:80", "listen: host contains a character"},
  }));
  CHECK_THAT(ErrorOf(json{{"listen", listen}}), StartsWith(expected));
}

TEST_CASE("Config returns no host and port -1 when listen was never validated", "[unit]") {
  Config config;
  config.listen = "garbage";
  CHECK(config.ListenHost().empty());
  CHECK(config.ListenPort() == -1);
}

TEST_CASE("Config puts the database under data_dir when storage.path is empty", "[unit]") {
  CHECK(ParseOk(json{{"data_dir", "/srv/scrmd/"}}).DatabasePath() == "/srv/scrmd/scrmd.db");
  CHECK(ParseOk(json{{"data_dir", "/srv/scrmd"}}).DatabasePath() == "/srv/scrmd/scrmd.db");
}

TEST_CASE("Config puts the inbox next to the database when storage.inbox_path is empty", "[unit]") {
  CHECK(ParseOk(json{{"data_dir", "/srv/scrmd"}}).InboxDatabasePath() ==
        "/srv/scrmd/scrmd-inbox.db");
  CHECK(ParseOk(json{{"storage", {{"path", "/data/main.sqlite"}}}}).InboxDatabasePath() ==
        "/data/main-inbox.sqlite");
  CHECK(ParseOk(json{{"storage", {{"path", "/data/main"}}}}).InboxDatabasePath() ==
        "/data/main-inbox");
  CHECK(ParseOk(json{{"storage", {{"path", ":memory:"}}}}).InboxDatabasePath() == ":memory:");
}

TEST_CASE("Config uses storage.inbox_path when it is set", "[unit]") {
  const Config config =
      ParseOk(json{{"storage", {{"path", "/data/main.db"}, {"inbox_path", "/fast/inbox.db"}}}});
  CHECK(config.DatabasePath() == "/data/main.db");
  CHECK(config.InboxDatabasePath() == "/fast/inbox.db");
}

TEST_CASE("LoadConfig sets storage.inbox_path from SCRMD_STORAGE__INBOX_PATH when it is set",
          "[unit]") {
  ConfigSources sources;
  sources.env = {{"SCRMD_STORAGE__INBOX_PATH", "/fast/inbox.db"}};
  const Config config = LoadOk(sources);
  CHECK(config.InboxDatabasePath() == "/fast/inbox.db");
  CHECK(config.DatabasePath() == "./var/scrmd.db");
}

TEST_CASE("Config rejects storage.inbox_path when it names the database file", "[unit]") {
  CHECK(ErrorOf(json{{"storage", {{"path", "/data/x.db"}, {"inbox_path", "/data/./x.db"}}}}) ==
        "storage.inbox_path: must differ from the database path");
  CHECK(ErrorOf(json{{"data_dir", "/d"}, {"storage", {{"inbox_path", "/d/scrmd.db"}}}}) ==
        "storage.inbox_path: must differ from the database path");
}

// ---------------------------------------------------------------------------------------------
// Files

TEST_CASE("LoadConfig reads the config file when it is given", "[unit]") {
  Files files(json{{"listen", "127.0.0.1:9999"}});
  CHECK(LoadOk(files.sources).ListenPort() == 9999);
}

TEST_CASE("LoadConfig fails with the path when a file cannot be read", "[unit]") {
  testing::TempDir dir;
  ConfigSources sources;
  sources.config_file = dir.File("missing.json");
  CHECK(ErrorOf(LoadConfig(sources)) == "config: cannot read " + dir.File("missing.json"));

  sources.config_file = dir.path().string();
  CHECK_THAT(ErrorOf(LoadConfig(sources)),
             StartsWith("config: cannot read " + sources.config_file));

  sources.config_file.clear();
  sources.secrets_file = dir.File("missing-secrets.json");
  CHECK(ErrorOf(LoadConfig(sources)) == "secrets: cannot read " + dir.File("missing-secrets.json"));
}

TEST_CASE("ParseConfig reports the byte offset when the JSON is malformed", "[unit]") {
  // The offending byte is the '}' at (0-based) offset 10, on line 2.
  CHECK(ErrorOf(ParseConfig("{\"a\":\n    }")) ==
        "config: invalid JSON at byte 10 (line 2, column 5)");
  CHECK_THAT(ErrorOf(ParseConfig("")), StartsWith("config: invalid JSON at byte 0"));
  CHECK_THAT(ErrorOf(ParseConfig("{} extra")), StartsWith("config: invalid JSON at byte"));
}

TEST_CASE("LoadConfig keeps the secrets file text out of the message when its JSON is malformed",
          "[unit]") {
  Files files(ValidDoc());
  files.sources.secrets_file = files.dir.File("secrets.json");
  testing::WriteSecretsFile(files.sources.secrets_file,
                            "{\"accounts\": {\"corp1\": {\"token\": VerySecret}}}");
  const std::string message = ErrorOf(LoadConfig(files.sources));
  CHECK_THAT(message, StartsWith("secrets: invalid JSON at byte 33 (line 1, column 34)"));
  CHECK_THAT(message, !Contains("VerySecret"));
}

// ---------------------------------------------------------------------------------------------
// Secrets file

json ConfigWithoutSecrets() {
  json doc = ValidDoc();
  for (auto& account : doc["accounts"]) {
    account.erase("token");
    account.erase("encoding_aes_key");
  }
  doc["http"] = {{"threads", 2}, {"read_timeout_s", 7}};
  return doc;
}

TEST_CASE("LoadConfig merges account secrets by id when a secrets file is given", "[unit]") {
  Files files(ConfigWithoutSecrets());
  files.Secrets(
      {{"accounts",
        {{"corp1", {{"token", "T1"}, {"encoding_aes_key", kAesKey}, {"secret", "S1"}}},
         {"oa1", {{"token", "T2"}, {"encoding_aes_key", kOtherAesKey}, {"app_secret", "S2"}}}}}});
  const Config config = LoadOk(files.sources);
  CHECK(config.accounts[0].token == "T1");
  CHECK(config.accounts[0].encoding_aes_key == kAesKey);
  CHECK(config.accounts[0].secret == "S1");
  CHECK(config.accounts[0].corp_id == "ww0123456789");  // untouched
  CHECK(config.accounts[1].token == "T2");
  CHECK(config.accounts[1].encoding_aes_key == kOtherAesKey);
  CHECK(config.accounts[1].app_secret == "S2");
}

TEST_CASE("LoadConfig deep-merges other sections when the secrets file has them", "[unit]") {
  Files files(ConfigWithoutSecrets());
  files.Secrets({{"http", {{"threads", 4}}},
                 {"accounts",
                  {{"corp1", {{"token", "T1"}, {"encoding_aes_key", kAesKey}}},
                   {"oa1", {{"token", "T2"}, {"encoding_aes_key", kAesKey}}}}}});
  const Config config = LoadOk(files.sources);
  CHECK(config.http.threads == 4);
  CHECK(config.http.read_timeout_s == 7);  // from the config file, not reset to the default
}

TEST_CASE("LoadConfig rejects a secrets file entry when it is not a known secret", "[unit]") {
  const auto [secrets, expected] = GENERATE(table<json, std::string>({
      {json{{"accounts", {{"corp1", {{"foo", "x"}}}}}}, "secrets.accounts.corp1.foo: unknown key"},
      {json{{"accounts", {{"corp1", {{"platform", "oa"}}}}}},
       "secrets.accounts.corp1.platform: not a secret"},
      {json{{"accounts", {{"nope", {{"token", "x"}}}}}},
       "secrets.accounts.nope: no account with this id"},
      {json{{"accounts", {{"corp1", {{"token", 5}}}}}},
       "secrets.accounts.corp1.token: must be a string"},
      {json{{"accounts", {{"corp1", "x"}}}}, "secrets.accounts.corp1: must be an object"},
      {json{{"accounts", json::array()}},
       "secrets.accounts: must be an object keyed by account id"},
      {json{{"lisen", "x"}}, "secrets.lisen: unknown key"},
      {json{{"http", {{"threads", "4"}}}}, "secrets.http.threads: must be an integer"},
      {json::array(), "secrets: must be a JSON object"},
  }));
  Files files(ValidDoc());
  files.Secrets(secrets);
  CHECK_THAT(ErrorOf(LoadConfig(files.sources)), StartsWith(expected));
}

TEST_CASE("LoadConfig names the secrets file when a value from it is invalid", "[unit]") {
  Files files(ValidDoc());
  files.Secrets({{"accounts", {{"oa1", {{"encoding_aes_key", "tooShort"}}}}}});
  const std::string message = ErrorOf(LoadConfig(files.sources));
  CHECK(message == "accounts[1].encoding_aes_key: must be 43 characters (from secrets file)");
}

// ---------------------------------------------------------------------------------------------
// Environment

TEST_CASE("LoadConfig applies SCRMD_ overrides when the environment has them", "[unit]") {
  ConfigSources sources;
  sources.env = {{"SCRMD_LISTEN", "[::1]:7000"},
                 {"SCRMD_DATA_DIR", "/tmp/d"},
                 {"SCRMD_LOG__LEVEL", "warn"},
                 {"SCRMD_LOG__FORMAT", "json"},
                 {"SCRMD_HTTP__THREADS", "16"},
                 {"SCRMD_HTTP__MAX_BODY_BYTES", "2048"},
                 {"SCRMD_STORAGE__SYNCHRONOUS", "full"},
                 {"SCRMD_STORAGE__BUSY_TIMEOUT_MS", "0"},
                 {"PATH", "/usr/bin"},
                 {"scrmd_listen", "ignored:1"}};
  const Config config = LoadOk(sources);
  CHECK(config.ListenHost() == "::1");
  CHECK(config.ListenPort() == 7000);
  CHECK(config.DatabasePath() == "/tmp/d/scrmd.db");
  CHECK(config.log.level == "warn");
  CHECK(config.log.format == core::LogFormat::kJson);
  CHECK(config.http.threads == 16);
  CHECK(config.http.max_body_bytes == 2048);
  CHECK(config.storage.synchronous == "full");
  CHECK(config.storage.busy_timeout_ms == 0);
}

TEST_CASE("LoadConfig sets account fields from SCRMD_ACCOUNTS__ when the id matches", "[unit]") {
  json doc = ConfigWithoutSecrets();
  doc["accounts"][1]["id"] = "oa_main";
  Files files(doc);
  files.sources.env = {{"SCRMD_ACCOUNTS__CORP1__TOKEN", "EnvTok1"},
                       {"SCRMD_ACCOUNTS__corp1__ENCODING_AES_KEY", kAesKey},
                       {"SCRMD_ACCOUNTS__corp1__SECRET", "EnvSecret"},
                       {"SCRMD_ACCOUNTS__OA_MAIN__TOKEN", "EnvTok2"},
                       {"SCRMD_ACCOUNTS__OA_MAIN__ENCODING_AES_KEY", kOtherAesKey},
                       {"SCRMD_ACCOUNTS__OA_MAIN__TIMESTAMP_WINDOW_S", "30"}};
  const Config config = LoadOk(files.sources);
  CHECK(config.accounts[0].token == "EnvTok1");
  CHECK(config.accounts[0].encoding_aes_key == kAesKey);
  CHECK(config.accounts[0].secret == "EnvSecret");
  CHECK(config.accounts[1].token == "EnvTok2");
  CHECK(config.accounts[1].encoding_aes_key == kOtherAesKey);
  CHECK(config.accounts[1].timestamp_window_s == 30);
}

TEST_CASE("LoadConfig prefers the exact account id when ids differ only in case", "[unit]") {
  json doc = ValidDoc();
  doc["accounts"][1]["id"] = "CORP1";
  Files files(doc);
  files.sources.env = {{"SCRMD_ACCOUNTS__corp1__TOKEN", "Lower"},
                       {"SCRMD_ACCOUNTS__CORP1__TOKEN", "Upper"}};
  const Config config = LoadOk(files.sources);
  CHECK(config.accounts[0].token == "Lower");
  CHECK(config.accounts[1].token == "Upper");

  files.sources.env = {{"SCRMD_ACCOUNTS__Corp1__TOKEN", "Either"}};
  CHECK_THAT(ErrorOf(LoadConfig(files.sources)),
             StartsWith("SCRMD_ACCOUNTS__Corp1__TOKEN: matches more than one account id"));
}

TEST_CASE("LoadConfig rejects an integer override when its text is not strictly an integer",
          "[unit]") {
  const std::string text = GENERATE(std::string("16x"), std::string(" 16"), std::string("+16"),
                                    std::string(""), std::string("1.5"), std::string("0x10"));
  ConfigSources sources;
  sources.env = {{"SCRMD_HTTP__THREADS", text}};
  CHECK(ErrorOf(LoadConfig(sources)) ==
        "http.threads: must be an integer (from SCRMD_HTTP__THREADS)");
}

TEST_CASE("LoadConfig names the variable when an override is out of range", "[unit]") {
  ConfigSources sources;
  sources.env = {{"SCRMD_HTTP__THREADS", GENERATE(std::string("0"), std::string("99999999999"),
                                                  std::string("99999999999999999999999"))}};
  CHECK(ErrorOf(LoadConfig(sources)) ==
        "http.threads: must be in 1..900 (from SCRMD_HTTP__THREADS)");
}

TEST_CASE("LoadConfig rejects an SCRMD_ name when it maps to no config key", "[unit]") {
  const auto [name, expected] = GENERATE(table<std::string, std::string>({
      {"SCRMD_LISEN", "SCRMD_LISEN: does not name a config key"},
      {"SCRMD_LOG_LEVEL", "SCRMD_LOG_LEVEL: does not name a config key"},
      {"SCRMD_HTTP__THREAD", "SCRMD_HTTP__THREAD: does not name a config key"},
      {"SCRMD_HTTP", "SCRMD_HTTP: does not name a config key"},
      {"SCRMD_HTTP__THREADS__X", "SCRMD_HTTP__THREADS__X: does not name a config key"},
      {"SCRMD_ACCOUNTS", "SCRMD_ACCOUNTS: does not name a config key"},
      {"SCRMD_ACCOUNTS__CORP1", "SCRMD_ACCOUNTS__CORP1: does not name a config key"},
      {"SCRMD_ACCOUNTS__NOPE__TOKEN", "SCRMD_ACCOUNTS__NOPE__TOKEN: no account with id 'NOPE'"},
      {"SCRMD_ACCOUNTS__CORP1__FOO", "SCRMD_ACCOUNTS__CORP1__FOO: no account key 'foo'"},
      {"SCRMD_ACCOUNTS__CORP1__ID", "SCRMD_ACCOUNTS__CORP1__ID: an account id cannot be set"},
  }));
  Files files(ValidDoc());
  files.sources.env = {{name, "1"}};
  CHECK_THAT(ErrorOf(LoadConfig(files.sources)), StartsWith(expected));
}

TEST_CASE("LoadConfig keeps an override value out of the message when it is invalid", "[unit]") {
  Files files(ValidDoc());
  files.sources.env = {{"SCRMD_ACCOUNTS__CORP1__ENCODING_AES_KEY", "LeakedSecretValue"}};
  const std::string message = ErrorOf(LoadConfig(files.sources));
  CHECK(message ==
        "accounts[0].encoding_aes_key: must be 43 characters "
        "(from SCRMD_ACCOUNTS__CORP1__ENCODING_AES_KEY)");
  CHECK_THAT(message, !Contains("LeakedSecretValue"));
}

// ---------------------------------------------------------------------------------------------
// Precedence

TEST_CASE("LoadConfig takes env over secrets over config over defaults when all set a key",
          "[unit]") {
  json doc = ValidDoc();
  doc["http"] = {{"threads", 2}, {"keep_alive_max", 20}};
  Files files(doc);
  files.Secrets({{"http", {{"threads", 3}, {"read_timeout_s", 30}}},
                 {"accounts", {{"corp1", {{"token", "FromSecrets"}}}}}});
  files.sources.env = {{"SCRMD_HTTP__THREADS", "4"}, {"SCRMD_ACCOUNTS__CORP1__TOKEN", "FromEnv"}};

  const Config with_env = LoadOk(files.sources);
  CHECK(with_env.http.threads == 4);           // env
  CHECK(with_env.http.read_timeout_s == 30);   // secrets file
  CHECK(with_env.http.keep_alive_max == 20);   // config file
  CHECK(with_env.http.write_timeout_s == 10);  // default
  CHECK(with_env.accounts[0].token == "FromEnv");

  files.sources.env.clear();
  const Config without_env = LoadOk(files.sources);
  CHECK(without_env.http.threads == 3);
  CHECK(without_env.accounts[0].token == "FromSecrets");
}

TEST_CASE("LoadConfig accepts a bad file value when a higher source overrides it", "[unit]") {
  json doc = ValidDoc();
  doc["http"] = {{"threads", 5000}};
  Files files(doc);
  files.sources.env = {{"SCRMD_HTTP__THREADS", "8"}};
  CHECK(LoadOk(files.sources).http.threads == 8);
}

TEST_CASE("LoadConfig applies secrets and env when no config file is given", "[unit]") {
  testing::TempDir dir;
  ConfigSources sources;
  sources.secrets_file = dir.File("secrets.json");
  testing::WriteSecretsFile(sources.secrets_file, R"({"log": {"level": "error"}})");
  sources.env = {{"SCRMD_HTTP__THREADS", "2"}};
  const Config config = LoadOk(sources);
  CHECK(config.log.level == "error");
  CHECK(config.http.threads == 2);
}

TEST_CASE("LoadConfig refuses a secrets file that group or others can read or write", "[unit]") {
  using std::filesystem::perms;
  testing::TempDir dir;
  ConfigSources sources;
  sources.secrets_file = dir.File("secrets.json");
  testing::WriteSecretsFile(sources.secrets_file, R"({"log": {"level": "error"}})");
  for (const auto& [mode, octal] :
       {std::pair{perms::group_read, "0640"}, std::pair{perms::others_read, "0604"},
        std::pair{perms::group_write, "0620"}, std::pair{perms::others_write, "0602"}}) {
    std::filesystem::permissions(sources.secrets_file,
                                 perms::owner_read | perms::owner_write | mode,
                                 std::filesystem::perm_options::replace);
    const std::string message = ErrorOf(LoadConfig(sources));
    CHECK(message == "secrets: " + sources.secrets_file +
                         " is readable or writable by group or others (mode " + octal +
                         "); run: chmod 600 " + sources.secrets_file);
    CHECK_THAT(message, !Contains("error"));  // never the file's text
  }
  // 0600 and 0400 load.
  std::filesystem::permissions(sources.secrets_file, perms::owner_read,
                               std::filesystem::perm_options::replace);
  CHECK(LoadOk(sources).log.level == "error");
}

TEST_CASE("ScrmdEnvironment returns only SCRMD_ variables when read from the process", "[unit]") {
  REQUIRE(::setenv("SCRMD_CONFIG_TEST_PROBE", "a=b", 1) == 0);
  REQUIRE(::setenv("NOT_SCRMD_CONFIG_TEST_PROBE", "x", 1) == 0);
  const auto env = ScrmdEnvironment();
  ::unsetenv("SCRMD_CONFIG_TEST_PROBE");
  ::unsetenv("NOT_SCRMD_CONFIG_TEST_PROBE");
  REQUIRE(env.count("SCRMD_CONFIG_TEST_PROBE") == 1);
  CHECK(env.at("SCRMD_CONFIG_TEST_PROBE") == "a=b");
  for (const auto& [name, value] : env) CHECK_THAT(name, StartsWith("SCRMD_"));
}

}  // namespace
}  // namespace scrm::config

namespace scrm::config {
namespace {

TEST_CASE("ParseConfig reads the campaigns section and checks approval and ranges", "[unit]") {
  const Config defaults = ParseOk(json::object());
  CHECK(defaults.campaigns.approval == "required");
  CHECK(defaults.campaigns.monthly_cap == 4);
  const Config off = ParseOk(json{{"campaigns", {{"approval", "off"}, {"monthly_cap", 0}}}});
  CHECK(off.campaigns.approval == "off");
  CHECK(off.campaigns.monthly_cap == 0);
  CHECK(ErrorOf(json{{"campaigns", {{"approval", "maybe"}}}}) ==
        "campaigns.approval: must be \"required\" or \"off\"");
  CHECK(ErrorOf(json{{"campaigns", {{"freeze_chunk", 5}}}}).starts_with("campaigns.freeze_chunk"));
  CHECK(ErrorOf(json{{"campaigns", {{"sender", 1}}}}).starts_with("campaigns.sender"));
}

}  // namespace
}  // namespace scrm::config
