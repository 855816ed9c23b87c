#include "src/storage/tag_rule_store.h"

#include <catch2/catch.hpp>

#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

StoredTagRule Rule(int64_t id, int version, bool enabled, std::string json) {
  StoredTagRule rule;
  rule.id = id;
  rule.version = version;
  rule.enabled = enabled;
  rule.rule_json = std::move(json);
  rule.saved_at_ms = kNowMs + version;
  return rule;
}

TEST_CASE("TagRuleStore keeps the latest version and every saved version", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("t.db")});
  TagRuleStore store(*db);
  CHECK(store.MaxId().value() == 0);
  REQUIRE(store.Save(Rule(3, 1, true, R"({"v":1})"), 0).ok());
  REQUIRE(store.Save(Rule(3, 2, false, R"({"v":2})"), 1).ok());
  REQUIRE(store.Save(Rule(5, 1, true, R"({"w":1})"), 0).ok());
  CHECK(store.MaxId().value() == 5);
  auto latest = store.Get(3);
  REQUIRE(latest.ok());
  CHECK(*latest == Rule(3, 2, false, R"({"v":2})"));
  CHECK(store.GetVersion(3, 1).value() == Rule(3, 1, true, R"({"v":1})"));
  auto versions = store.ListVersions(3);
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 2);
  CHECK((*versions)[1].version == 2);
  auto all = store.List();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].id == 3);
  CHECK((*all)[1].id == 5);
}

TEST_CASE("TagRuleStore refuses a taken id, a stale version and an unknown rule", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("t.db")});
  TagRuleStore store(*db);
  REQUIRE(store.Save(Rule(1, 1, true, "{}"), 0).ok());
  CHECK(store.Save(Rule(1, 1, true, "{}"), 0).code() == core::StatusCode::kAlreadyExists);
  REQUIRE(store.Save(Rule(1, 2, true, "{}"), 1).ok());
  // Someone saved version 2 meanwhile: saving over version 1 again is refused, nothing changes.
  CHECK(store.Save(Rule(1, 3, true, "{}"), 1).code() == core::StatusCode::kFailedPrecondition);
  CHECK(store.ListVersions(1)->size() == 2);
  CHECK(store.Save(Rule(9, 2, true, "{}"), 1).code() == core::StatusCode::kNotFound);
  CHECK(store.Get(9).status().code() == core::StatusCode::kNotFound);
  CHECK(store.GetVersion(1, 7).status().code() == core::StatusCode::kNotFound);
  CHECK(store.Save(Rule(0, 1, true, "{}"), 0).code() == core::StatusCode::kInvalidArgument);
  CHECK(store.Save(Rule(2, 1, true, ""), 0).code() == core::StatusCode::kInvalidArgument);
  CHECK(store.Save(Rule(1, 2, true, "{}"), 2).code() == core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::storage
