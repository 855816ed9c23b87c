// The enrichment path with the real processes: scrm-sim serves the platform APIs and plays
// sim/scenarios/demo.json to a real scrmd, whose outbox runner then asks the simulator about
// the new customers (user/info, externalcontact/get) and merges the OA follower and the WeCom
// contact that share a unionid.
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/api_ids.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kFollower[] = "oDEMOfollower000000000000001";
constexpr char kContact[] = "wmDEMOcustomer0000000000000001";

int PortOf(const std::string& line) {
  std::smatch m;
  REQUIRE(std::regex_search(line, m, std::regex(R"(:(\d+)\s*$)")));
  return std::stoi(m[1]);
}

TEST_CASE("scrmd merges the demo's OA follower and WeCom contact after enrichment",
          "[integration]") {
  TempDir dir;
  const std::string scenario = scrm::testing::SourcePath("sim/scenarios/demo.json");
  Subprocess sim({scrm::testing::SimBinary(), "serve", "--world", scenario, "--port", "0"});
  auto sim_line = sim.WaitForStdoutLine("listening on", 20s);
  INFO(sim.Stderr());
  REQUIRE(sim_line.has_value());
  const std::string sim_url = "http://127.0.0.1:" + std::to_string(PortOf(*sim_line));

  const std::string aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
  const json cfg = {{"listen", "127.0.0.1:0"},
                    {"data_dir", dir.File("var")},
                    {"log", {{"level", "warn"}}},
                    {"accounts",
                     {{{"id", "acme"},
                       {"platform", "wecom"},
                       {"corp_id", "wwcafe0123456789"},
                       {"token", "QDG6eK"},
                       {"encoding_aes_key", aes_key},
                       {"api_base", sim_url}},
                      {{"id", "shop"},
                       {"platform", "oa"},
                       {"app_id", "wx5823bf96d3bd56c7"},
                       {"token", "QDG6eK"},
                       {"encoding_aes_key", aes_key},
                       {"encrypt_mode", "safe"},
                       {"api_base", sim_url}}}}};
  const std::string config = dir.File("scrmd.json");
  WriteFile(config, cfg.dump(2));
  const std::string secrets = dir.File("secrets.json");
  WriteSecretsFile(secrets, R"({"accounts": {"acme": {"secret": "demo-corp-secret"},
                                      "shop": {"app_secret": "demo-app-secret"}}})");
  const std::vector<std::string> flags = {"--config", config, "--secrets", secrets};

  std::vector<std::string> create = {ScrmdBinary(), "keys", "create"};
  create.insert(create.end(), flags.begin(), flags.end());
  create.insert(create.end(), {"--role", "admin", "--name", "t"});
  const RunResult key_run = Run(create);
  REQUIRE(key_run.exit_code == 0);
  const std::string key = key_run.out.substr(0, key_run.out.find('\n'));

  std::vector<std::string> serve = {ScrmdBinary(), "serve"};
  serve.insert(serve.end(), flags.begin(), flags.end());
  Subprocess scrmd(serve);
  auto scrmd_line = scrmd.WaitForStdoutLine("listening on", 20s);
  INFO(scrmd.Stderr());
  REQUIRE(scrmd_line.has_value());
  const int scrmd_port = PortOf(*scrmd_line);

  const RunResult played =
      Run({scrm::testing::SimBinary(), "play", "--scenario", scenario, "--target",
           "http://127.0.0.1:" + std::to_string(scrmd_port), "--sim", sim_url});
  INFO(played.out + played.err);
  REQUIRE(played.exit_code == 0);

  httplib::Client client("127.0.0.1", scrmd_port);
  client.set_read_timeout(10, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer " + key}};
  // The runner polls every second; the merge follows the ingest of both callbacks.
  bool merged = false;
  json view;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!merged && std::chrono::steady_clock::now() < deadline) {
    auto list = client.Get((std::string("/api/v1/customers?q=") + kContact).c_str(), auth);
    REQUIRE(list);
    REQUIRE(list->status == 200);
    const json items = json::parse(list->body)["items"];
    if (items.size() == 1) {
      auto one =
          client.Get(("/api/v1/customers/" + std::to_string(ApiId(items[0]["id"]))).c_str(), auth);
      REQUIRE(one);
      view = json::parse(one->body);
      for (const json& identity : view["identities"]) {
        if (identity["value"] == kFollower) merged = true;
      }
    }
    if (!merged) std::this_thread::sleep_for(200ms);
  }
  INFO(view.dump(2));
  INFO(scrmd.Stderr());
  CHECK(merged);
  bool has_unionid = false;
  for (const json& identity : view["identities"]) {
    if (identity["value"] == "ozDEMOunion0001") has_unionid = true;
  }
  CHECK(has_unionid);

  scrmd.Signal(SIGTERM);
  CHECK(scrmd.Wait(20s) == 0);
  sim.Signal(SIGTERM);
  sim.Wait(10s);
}

}  // namespace
}  // namespace scrm::testing
