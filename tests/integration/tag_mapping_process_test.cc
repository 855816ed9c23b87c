// Mapping a local tag to a WeCom corp tag with the real processes: scrmd checks the id against
// the corp's tag list (get_corp_tag_list, served by scrm-sim) and refuses one the corp does not
// have, instead of accepting it and failing every later mark_tag that carries it (40068); and
// it says so when the list cannot be read.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

int TagMappingProcessPortOf(const std::string& line) {
  std::smatch m;
  REQUIRE(std::regex_search(line, m, std::regex(R"(:(\d+)\s*$)")));
  return std::stoi(m[1]);
}

// scrmd with the WeCom account "acme" whose API base is `api_base`, and an admin key.
struct MappingScrmd {
  MappingScrmd(const TempDir& dir, const std::string& api_base) {
    const json cfg = {{"listen", "127.0.0.1:0"},
                      {"data_dir", dir.File("var")},
                      {"log", {{"level", "warn"}}},
                      {"accounts",
                       {{{"id", "acme"},
                         {"platform", "wecom"},
                         {"corp_id", "wwcafe0123456789"},
                         {"token", "QDG6eK"},
                         {"encoding_aes_key", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"},
                         {"api_base", api_base}}}}};
    const std::string config = dir.File("scrmd.json");
    WriteFile(config, cfg.dump(2));
    const std::string secrets = dir.File("secrets.json");
    WriteSecretsFile(secrets, R"({"accounts": {"acme": {"secret": "demo-corp-secret"}}})");
    const std::vector<std::string> flags = {"--config", config, "--secrets", secrets};
    std::vector<std::string> create = {ScrmdBinary(), "keys", "create"};
    create.insert(create.end(), flags.begin(), flags.end());
    create.insert(create.end(), {"--role", "marketing", "--name", "m"});
    const RunResult key_run = Run(create);
    REQUIRE(key_run.exit_code == 0);
    key = key_run.out.substr(0, key_run.out.find('\n'));
    std::vector<std::string> serve = {ScrmdBinary(), "serve"};
    serve.insert(serve.end(), flags.begin(), flags.end());
    process = std::make_unique<Subprocess>(serve);
    auto line = process->WaitForStdoutLine("listening on", 20s);
    INFO(process->Stderr());
    REQUIRE(line.has_value());
    port = TagMappingProcessPortOf(*line);
  }
  std::pair<int, json> Put(const std::string& path, const json& body) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    auto r = client.Put(path.c_str(), {{"Authorization", "Bearer " + key}}, body.dump(),
                        "application/json");
    REQUIRE(r);
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  std::unique_ptr<Subprocess> process;
  std::string key;
  int port = 0;
};

TEST_CASE("scrmd maps a tag to a corp tag the corp has and refuses one it does not have",
          "[integration]") {
  TempDir dir;
  const std::string scenario = SourcePath("sim/scenarios/demo.json");
  Subprocess sim({SimBinary(), "serve", "--world", scenario, "--port", "0"});
  auto sim_line = sim.WaitForStdoutLine("listening on", 20s);
  INFO(sim.Stderr());
  REQUIRE(sim_line.has_value());
  MappingScrmd scrmd(dir, "http://127.0.0.1:" + std::to_string(TagMappingProcessPortOf(*sim_line)));

  auto [ok_status, ok] =
      scrmd.Put("/api/v1/tags/mapping",
                {{"group", "意向"}, {"name", "产品A"}, {"wecom_tag_id", "etDEMOtagA"}});
  INFO(ok.dump());
  CHECK(ok_status == 200);
  CHECK(ok["wecom_tag_id"] == "etDEMOtagA");

  auto [bad_status, bad] =
      scrmd.Put("/api/v1/tags/mapping",
                {{"group", "意向"}, {"name", "产品B"}, {"wecom_tag_id", "etNOSUCHTAG"}});
  INFO(bad.dump());
  CHECK(bad_status == 422);
  CHECK(bad["error"]["code"] == "unknown_wecom_tag");
  CHECK(bad["error"]["message"].get<std::string>().find("etNOSUCHTAG") != std::string::npos);
  // By id too, and nothing was stored: the tag keeps its mapping.
  const std::string by_id = "/api/v1/tags/" + ok["id"].get<std::string>() + "/mapping";
  auto [again_status, again] = scrmd.Put(by_id, {{"wecom_tag_id", "etNOSUCHTAG"}});
  CHECK(again_status == 422);
  auto [same_status, same] = scrmd.Put(by_id, {{"wecom_tag_id", "etDEMOtagB"}});
  CHECK(same_status == 200);
  // Unmapping needs no check.
  auto [unmap_status, unmapped] = scrmd.Put(by_id, {{"wecom_tag_id", nullptr}});
  CHECK(unmap_status == 200);
  CHECK(unmapped["wecom_tag_id"] == "");
}

TEST_CASE("scrmd answers 503 corp_tags_not_synced when the corp tag list cannot be read",
          "[integration]") {
  TempDir dir;
  // Nothing listens on port 9 of loopback: every get_corp_tag_list fails to connect.
  MappingScrmd scrmd(dir, "http://127.0.0.1:9");
  auto [status, body] =
      scrmd.Put("/api/v1/tags/mapping",
                {{"group", "意向"}, {"name", "产品A"}, {"wecom_tag_id", "etDEMOtagA"}});
  INFO(body.dump());
  CHECK(status == 503);
  CHECK(body["error"]["code"] == "corp_tags_not_synced");
  CHECK(body["error"]["message"].get<std::string>().find("acme") != std::string::npos);
}

}  // namespace
}  // namespace scrm::testing
