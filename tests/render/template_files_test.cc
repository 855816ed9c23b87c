// The templates folder: the shipped templates all load and compile; a bad file is named.
#include "campaigns/render/template_files.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "campaigns/render/renderer.h"
#include "tests/support/test_support.h"

namespace scrm::render {
namespace {

using Catch::Matchers::StartsWith;

// A fresh directory under the system temp dir, removed at scope exit.
struct TemplateDir {
  TemplateDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "scrm-templates-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TemplateDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

TEST_CASE("LoadTemplateFiles loads every shipped template and each one renders", "[unit]") {
  auto files = LoadTemplateFiles(testing::SourcePath("templates"));
  INFO(files.status().ToString());
  REQUIRE(files.ok());
  std::set<std::string> names;
  for (const auto& file : *files) names.insert(file.doc.name);
  CHECK(names == std::set<std::string>{"back_in_stock", "coupon", "new_product", "order_shipped",
                                       "product_trial", "vip_community", "welcome"});
  RenderProfile profile;
  profile.customer_id = 7;
  profile.name = "李四";
  profile.attributes["city"] = "杭州";
  profile.attributes["last_order_no"] = "SF1234567890";
  profile.owner_name = "张三";
  for (const auto& file : *files) {
    INFO(file.file);
    auto compiled = CompiledTemplate::Compile(file.doc.content);
    REQUIRE(compiled.ok());
    auto rendered = compiled->Render(profile, SamplePlaceholders());
    INFO(rendered.status().ToString());
    CHECK(rendered.ok());
  }
}

TEST_CASE("LoadTemplateFiles names the file and member of an invalid template", "[unit]") {
  TemplateDir dir;
  testing::WriteFile(
      dir.path + "/a.json",
      R"({"name":"a","channel":"wecom_message","content":{"text":{"content":"{{nmae}}"}}})");
  auto files = LoadTemplateFiles(dir.path);
  REQUIRE_FALSE(files.ok());
  CHECK(files.status().message() ==
        "a.json: content.text.content: unknown variable {{nmae}} at byte 0");
}

TEST_CASE("LoadTemplateFiles refuses two files with one name and files that are not JSON",
          "[unit]") {
  TemplateDir dir;
  const std::string body =
      R"({"name":"same","channel":"oa_custom_text","content":{"text":{"content":"hi"}}})";
  testing::WriteFile(dir.path + "/a.json", body);
  testing::WriteFile(dir.path + "/b.json", body);
  testing::WriteFile(dir.path + "/notes.txt", "not a template");
  auto files = LoadTemplateFiles(dir.path);
  REQUIRE_FALSE(files.ok());
  CHECK(files.status().message() == "b.json: name \"same\" is used by another file");
  testing::WriteFile(dir.path + "/b.json", "{");
  CHECK(LoadTemplateFiles(dir.path).status().message() == "b.json: not valid JSON");
}

TEST_CASE("LoadTemplateFiles answers NotFound for a missing folder", "[unit]") {
  TemplateDir dir;
  auto files = LoadTemplateFiles(dir.path + "/none");
  REQUIRE_FALSE(files.ok());
  CHECK(files.status().code() == core::StatusCode::kNotFound);
  CHECK_THAT(files.status().message(), StartsWith(dir.path));
}

}  // namespace
}  // namespace scrm::render
