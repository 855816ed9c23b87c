// RuleSetHolder: rules loaded from a file at startup and swapped by the tag-rules API.
#include "src/profiles/rule_set.h"

#include <catch2/catch.hpp>
#include <string>

#include "src/tagger/rule_json.h"
#include "tests/profiles/profiles_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::profiles {
namespace {

using core::StatusCode;

TEST_CASE("RuleSetHolder loads the example rules when given the shipped file", "[unit]") {
  auto holder = RuleSetHolder::FromFile(scrm::testing::SourcePath("config/tag_rules.example.json"));
  INFO(holder.status().ToString());
  REQUIRE(holder.ok());
  CHECK((*holder)->rules().size() == 12);
  CHECK((*holder)->engine()->rule_count() == 12);
}

TEST_CASE("RuleSetHolder holds no rules when the path is empty", "[unit]") {
  auto holder = RuleSetHolder::FromFile("");
  REQUIRE(holder.ok());
  CHECK((*holder)->rules().empty());
  CHECK((*holder)->engine()->rule_count() == 0);
}

TEST_CASE("RuleSetHolder fails with the path when the file is missing or invalid", "[unit]") {
  scrm::testing::TempDir dir;
  CHECK(RuleSetHolder::FromFile(dir.File("missing.json")).status().code() == StatusCode::kNotFound);
  const std::string bad = dir.File("bad.json");
  scrm::testing::WriteFile(bad, R"({"rules": [{"name": "x", "condition": {"regex": "预算("},
      "actions": [{"add_tag": {"tag": {"group": "g", "name": "t"}}}]}]})");
  auto holder = RuleSetHolder::FromFile(bad);
  REQUIRE_FALSE(holder.ok());
  CHECK(holder.status().code() == StatusCode::kInvalidArgument);
  CHECK(holder.status().message().find(bad) != std::string::npos);
  CHECK(holder.status().message().find("rules[0].condition.regex") != std::string::npos);
}

TEST_CASE("RuleSetHolder keeps the rules in force when a replacement is invalid", "[unit]") {
  auto holder = testing::Rules(R"({"rules": [{"id": 1, "name": "a",
      "condition": {"kinds": ["oa.subscribe"]},
      "actions": [{"add_tag": {"tag": {"group": "g", "name": "t"}}}]}]})");
  const auto pinned = holder->engine();
  model::TagRule broken;
  broken.name = "no condition";
  CHECK(holder->Replace({broken}).code() == StatusCode::kInvalidArgument);
  CHECK(holder->engine() == pinned);
  CHECK(holder->rules().size() == 1);
  REQUIRE(holder->Replace({}).ok());
  CHECK(holder->engine()->rule_count() == 0);
  CHECK(pinned->rule_count() == 1);  // an evaluation holding the old engine keeps it
}

}  // namespace
}  // namespace scrm::profiles
