// What the integration tests share: the real `scrmd` process on an ephemeral loopback port, its
// config in a TempDir, API keys made with `scrmd keys create`, and the two demo accounts (the
// WeCom corp "acme" and the Official Account "shop", PROTOCOL §6 test keys).
#pragma once

#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/api_ids.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_support.h"

namespace scrm::testing {

inline constexpr char kCorpId[] = "wwcafe0123456789";
inline constexpr char kToken[] = "QDG6eK";
inline constexpr char kAesKey[] = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
inline constexpr char kAppId[] = "wx5823bf96d3bd56c7";

// The accounts member for "acme" (wecom) and "shop" (oa, safe mode).
inline nlohmann::json DemoAccounts() {
  return nlohmann::json::array({{{"id", "acme"},
                                 {"platform", "wecom"},
                                 {"corp_id", kCorpId},
                                 {"token", kToken},
                                 {"encoding_aes_key", kAesKey}},
                                {{"id", "shop"},
                                 {"platform", "oa"},
                                 {"app_id", kAppId},
                                 {"token", kToken},
                                 {"encoding_aes_key", kAesKey},
                                 {"encrypt_mode", "safe"}}});
}

// Writes dir/scrmd.json: loopback, ephemeral port, data under dir/var, warn logs, with `extra`
// merged over it (RFC 7386); returns its path.
inline std::string WriteScrmdConfig(const TempDir& dir,
                                    const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json cfg = {
      {"listen", "127.0.0.1:0"}, {"data_dir", dir.File("var")}, {"log", {{"level", "warn"}}}};
  cfg.merge_patch(extra);
  const std::string path = dir.File("scrmd.json");
  WriteFile(path, cfg.dump(2));
  return path;
}

// `scrmd keys create`: the secret it prints once.
inline std::string CreateKey(const std::string& config, const std::string& role,
                             const std::string& name) {
  auto r =
      Run({ScrmdBinary(), "keys", "create", "--config", config, "--role", role, "--name", name});
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.size() > 6);
  return r.out.substr(0, r.out.find('\n'));
}

// The demo accounts with their platform APIs at `api_base` (a scrm-sim): enrichment and tag
// pushes run when the secrets of WriteDemoSecrets are given too.
inline nlohmann::json DemoAccounts(const std::string& api_base) {
  nlohmann::json accounts = DemoAccounts();
  for (nlohmann::json& account : accounts) account["api_base"] = api_base;
  return accounts;
}

// Writes dir/secrets.json with the API secrets the simulator's demo world accepts; its path.
inline std::string WriteDemoSecrets(const TempDir& dir) {
  const std::string path = dir.File("secrets.json");
  WriteSecretsFile(path, R"({"accounts": {"acme": {"secret": "demo-corp-secret"},
                                   "shop": {"app_secret": "demo-app-secret"}}})");
  return path;
}

// A running `scrm-sim serve --world <world>` on an ephemeral loopback port.
struct SimServer {
  explicit SimServer(const std::string& world)
      : process({SimBinary(), "serve", "--world", world, "--port", "0"}) {
    using namespace std::chrono_literals;
    auto line = process.WaitForStdoutLine("listening on", 20s);
    INFO(process.Stderr());
    REQUIRE(line.has_value());
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex(R"(:(\d+)\s*$)")));
    url = "http://127.0.0.1:" + std::string(m[1]);
    port = std::stoi(m[1]);
  }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c;
  }
  void Stop() {
    using namespace std::chrono_literals;
    process.Signal(SIGTERM);
    process.Wait(10s);
  }
  Subprocess process;
  std::string url;
  int port = 0;
};

// A running `scrmd serve`, with the port it printed (and the API secrets of `secrets` if any).
// `launcher`, when given, runs before the binary ({"/usr/bin/prlimit", "--stack=unlimited"}).
struct ScrmdServer {
  explicit ScrmdServer(const std::string& config, const std::string& secrets = "",
                       std::vector<std::string> launcher = {})
      : process(WithLauncher(std::move(launcher), ServeArgv(config, secrets))) {
    using namespace std::chrono_literals;
    auto line = process.WaitForStdoutLine("listening on", 20s);
    INFO(process.Stderr());
    REQUIRE(line.has_value());
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex(R"(:(\d+)$)")));
    port = std::stoi(m[1]);
  }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    c.set_connection_timeout(5, 0);
    return c;
  }
  // SIGTERM, and a clean exit within 30 s.
  void Stop() {
    using namespace std::chrono_literals;
    process.Signal(SIGTERM);
    CHECK(process.Wait(30s) == 0);
  }
  static std::vector<std::string> ServeArgv(const std::string& config, const std::string& secrets) {
    std::vector<std::string> argv{ScrmdBinary(), "serve", "--config", config};
    if (!secrets.empty()) argv.insert(argv.end(), {"--secrets", secrets});
    return argv;
  }
  static std::vector<std::string> WithLauncher(std::vector<std::string> launcher,
                                               const std::vector<std::string>& argv) {
    launcher.insert(launcher.end(), argv.begin(), argv.end());
    return launcher;
  }
  Subprocess process;
  int port = 0;
};

// GET / POST JSON to /api/v1 with one key, and polling for the ingest worker (which runs behind
// the acks). `read_timeout_s`: how long one answer may take.
struct ApiClient {
  ApiClient(int port, const std::string& key, int read_timeout_s = 10)
      : client("127.0.0.1", port), bearer("Bearer " + key) {
    client.set_read_timeout(read_timeout_s, 0);
    client.set_connection_timeout(5, 0);
  }
  std::pair<int, nlohmann::json> Get(const std::string& path) {
    auto r = client.Get(path.c_str(), {{"Authorization", bearer}});
    REQUIRE(r);
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }
  std::pair<int, nlohmann::json> Post(const std::string& path, const nlohmann::json& body) {
    auto r =
        client.Post(path.c_str(), {{"Authorization", bearer}}, body.dump(), "application/json");
    REQUIRE(r);
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }
  // Polls GET path until pred(body) holds on a 200 (20 s at most).
  nlohmann::json WaitFor(const std::string& path,
                         const std::function<bool(const nlohmann::json&)>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      auto [status, body] = Get(path);
      if (status == 200 && pred(body)) return body;
      if (std::chrono::steady_clock::now() > deadline) {
        INFO(path << " last answered " << status << " " << body.dump());
        FAIL("timed out waiting for the ingest worker");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  httplib::Client client;
  std::string bearer;
};

}  // namespace scrm::testing
