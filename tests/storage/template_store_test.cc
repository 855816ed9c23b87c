#include "src/storage/template_store.h"

#include <catch2/catch.hpp>

#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

StoredTemplate TemplateRow(std::string name, std::string content, int64_t at_ms) {
  StoredTemplate row;
  row.name = std::move(name);
  row.channel = "oa_custom_text";
  row.content_json = std::move(content);
  row.source = "file";
  row.saved_at_ms = at_ms;
  return row;
}

TEST_CASE("TemplateStore keeps the latest version and every saved version", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("t.db")});
  TemplateStore store(*db);
  auto first = store.Insert(TemplateRow("welcome", R"({"v":1})", kNowMs));
  REQUIRE(first.ok());
  CHECK(first->id > 0);
  CHECK(first->version == 1);
  CHECK(first->created_at_ms == kNowMs);
  StoredTemplate change = *first;
  change.content_json = R"({"v":2})";
  change.enabled = false;
  change.source = "api";
  change.saved_at_ms = kNowMs + 5;
  auto second = store.Update(change, 1);
  REQUIRE(second.ok());
  CHECK(second->version == 2);
  CHECK(second->created_at_ms == kNowMs);
  CHECK(store.Get(first->id).value() == *second);
  CHECK(store.GetVersion(first->id, 1).value() == *first);
  CHECK(store.FindByName("welcome").value() == *second);
  CHECK_FALSE(store.FindByName("other").value().has_value());
  auto versions = store.ListVersions(first->id);
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 2);
  CHECK((*versions)[0] == *first);
  CHECK((*versions)[1] == *second);
  REQUIRE(store.Insert(TemplateRow("coupon", "{}", kNowMs)).ok());
  auto all = store.List();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name == "welcome");
  CHECK((*all)[1].name == "coupon");
}

TEST_CASE("TemplateStore refuses a taken name, a stale version and an unknown template", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("t.db")});
  TemplateStore store(*db);
  auto a = store.Insert(TemplateRow("a", "{}", kNowMs));
  auto b = store.Insert(TemplateRow("b", "{}", kNowMs));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(store.Insert(TemplateRow("a", "{}", kNowMs)).status().code() ==
        core::StatusCode::kAlreadyExists);
  StoredTemplate rename = *b;
  rename.name = "a";
  auto renamed = store.Update(rename, 1);
  CHECK(renamed.status().code() == core::StatusCode::kAlreadyExists);
  CHECK(renamed.status().message() == "a template named \"a\" exists already");
  REQUIRE(store.Update(*a, 1).ok());
  // Someone saved version 2 meanwhile: saving over version 1 again is refused, nothing changes.
  auto stale = store.Update(*a, 1);
  CHECK(stale.status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(stale.status().message() == "version: the template is at version 2, not 1");
  CHECK(store.ListVersions(a->id)->size() == 2);
  StoredTemplate missing = *a;
  missing.id = 999;
  CHECK(store.Update(missing, 1).status().code() == core::StatusCode::kNotFound);
  CHECK(store.Get(999).status().code() == core::StatusCode::kNotFound);
  CHECK(store.GetVersion(a->id, 7).status().code() == core::StatusCode::kNotFound);
  CHECK(store.ListVersions(999)->empty());
  StoredTemplate bad = TemplateRow("c", "{}", kNowMs);
  bad.source = "other";
  CHECK(store.Insert(bad).status().code() == core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::storage
