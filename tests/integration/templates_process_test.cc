// The templates folder against the real scrmd process: `scrmd serve` stores the shipped
// templates at start, keeps one marketing edited across a restart, and refuses to start with an
// invalid template file, naming it.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/scrmd_fixture.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;

json GetTemplatesJson(const ScrmdServer& server, const std::string& key) {
  auto client = server.Client();
  auto r = client.Get("/api/v1/templates", {{"Authorization", "Bearer " + key}});
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  return json::parse(r->body)["templates"];
}

TEST_CASE("scrmd serve seeds the shipped templates and keeps an edited one across a restart",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"templates_dir", SourcePath("templates")}});
  const std::string marketing = CreateKey(config, "marketing", "m");
  std::string welcome_id;
  {
    ScrmdServer server(config);
    const json templates = GetTemplatesJson(server, marketing);
    CHECK(templates.size() == 7);
    json welcome;
    for (const auto& t : templates) {
      CHECK(t["source"] == "file");
      if (t["name"] == "welcome") welcome = t;
    }
    REQUIRE(welcome.is_object());
    welcome_id = welcome["id"].get<std::string>();
    welcome["content"]["text"]["content"] = "欢迎{{customer.name}}";
    auto client = server.Client();
    auto put =
        client.Put(("/api/v1/templates/" + welcome_id).c_str(),
                   {{"Authorization", "Bearer " + marketing}}, welcome.dump(), "application/json");
    REQUIRE(put);
    INFO(put->body);
    REQUIRE(put->status == 200);
    server.Stop();
  }
  ScrmdServer again(config);
  const json templates = GetTemplatesJson(again, marketing);
  CHECK(templates.size() == 7);
  for (const auto& t : templates) {
    if (t["id"] != welcome_id) continue;
    CHECK(t["version"] == 2);
    CHECK(t["source"] == "api");
    CHECK(t["content"]["text"]["content"] == "欢迎{{customer.name}}");
  }
  again.Stop();
}

TEST_CASE("scrmd serve refuses to start when a template file is invalid", "[integration]") {
  TempDir dir;
  const std::string folder = dir.File("templates");
  REQUIRE(std::filesystem::create_directory(folder));
  WriteFile(
      folder + "/bad.json",
      R"({"name":"bad","channel":"oa_custom_text","content":{"text":{"content":"{{nmae}}"}}})");
  const std::string config = WriteScrmdConfig(dir, {{"templates_dir", folder}});
  auto r = Run({ScrmdBinary(), "serve", "--config", config});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("templates_dir: bad.json: content.text.content: unknown variable {{nmae}} at "
                   "byte 0") != std::string::npos);
}

}  // namespace
}  // namespace scrm::testing
