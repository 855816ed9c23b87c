#include "src/storage/tag_push_store.h"

#include <catch2/catch.hpp>

#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

TagPush Push(std::string target, int64_t tag_id, std::string platform_tag_id) {
  return TagPush{7, "acme", std::move(target), tag_id, std::move(platform_tag_id), kNowMs};
}

struct Fixture {
  scrm::testing::TempDir dir;
  std::unique_ptr<Database> db = OpenMigratedOrDie({dir.File("p.db")});
  TagPushStore store{*db};

  std::vector<TagPush> List(int64_t customer_id = 7, std::string_view account = "acme") {
    auto listed = store.List(customer_id, account);
    INFO(listed.status().ToString());
    REQUIRE(listed.ok());
    return std::move(listed).value();
  }
};

TEST_CASE("TagPushStore records pushes per target and lists them by target and tag", "[db]") {
  Fixture f;
  const std::vector<TagPush> lisi{Push("lisi", 3, "etC"), Push("lisi", 1, "etA")};
  REQUIRE(f.store.Record(7, "acme", "lisi", lisi, {}).ok());
  REQUIRE(f.store.Record(7, "acme", "bob", std::vector<TagPush>{Push("bob", 2, "etB")}, {}).ok());
  CHECK(f.List() == std::vector<TagPush>{Push("bob", 2, "etB"), Push("lisi", 1, "etA"),
                                         Push("lisi", 3, "etC")});
  CHECK(f.List(8).empty());
  CHECK(f.List(7, "brand").empty());
}

TEST_CASE("TagPushStore replaces a tag pushed again and deletes removed tags", "[db]") {
  Fixture f;
  REQUIRE(f.store.Record(7, "acme", "lisi", std::vector<TagPush>{Push("lisi", 1, "etA")}, {}).ok());
  REQUIRE(f.store.Record(7, "acme", "bob", std::vector<TagPush>{Push("bob", 1, "etA")}, {}).ok());
  TagPush remapped = Push("lisi", 1, "etA2");
  remapped.pushed_at_ms = kNowMs + 5;
  REQUIRE(f.store.Record(7, "acme", "lisi", std::vector<TagPush>{remapped}, {}).ok());
  CHECK(f.List() == std::vector<TagPush>{Push("bob", 1, "etA"), remapped});
  const std::vector<int64_t> removed{1};
  REQUIRE(f.store.Record(7, "acme", "lisi", {}, removed).ok());
  CHECK(f.List() == std::vector<TagPush>{Push("bob", 1, "etA")});  // only lisi's row went
}

TEST_CASE("TagPushStore refuses a row recorded under another target", "[db]") {
  Fixture f;
  const core::Status status =
      f.store.Record(7, "acme", "lisi", std::vector<TagPush>{Push("bob", 1, "etA")}, {});
  CHECK(status.code() == core::StatusCode::kInvalidArgument);
  CHECK(f.List().empty());
}

}  // namespace
}  // namespace scrm::storage
