#include "src/storage/tag_push_store.h"

#include <catch2/catch.hpp>

#include "src/storage/profile_store.h"
#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

TagPush Push(std::string target, int64_t tag_id, std::string platform_tag_id) {
  return TagPush{7, "acme", std::move(target), tag_id, std::move(platform_tag_id), kNowMs};
}

struct TagPushStoreFixture {
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
  TagPushStoreFixture f;
  const std::vector<TagPush> lisi{Push("lisi", 3, "etC"), Push("lisi", 1, "etA")};
  REQUIRE(f.store.Record(7, "acme", "lisi", lisi, {}).ok());
  REQUIRE(f.store.Record(7, "acme", "bob", std::vector<TagPush>{Push("bob", 2, "etB")}, {}).ok());
  CHECK(f.List() == std::vector<TagPush>{Push("bob", 2, "etB"), Push("lisi", 1, "etA"),
                                         Push("lisi", 3, "etC")});
  CHECK(f.List(8).empty());
  CHECK(f.List(7, "brand").empty());
}

TEST_CASE("TagPushStore replaces a tag pushed again and deletes removed tags", "[db]") {
  TagPushStoreFixture f;
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
  TagPushStoreFixture f;
  const core::Status status =
      f.store.Record(7, "acme", "lisi", std::vector<TagPush>{Push("bob", 1, "etA")}, {});
  CHECK(status.code() == core::StatusCode::kInvalidArgument);
  CHECK(f.List().empty());
}

TEST_CASE("TagPushStore lists pushed tags with their scores in key order across pages", "[db]") {
  TagPushStoreFixture f;
  ProfileStore profiles(*f.db);
  model::TagGroup defaults;
  defaults.half_life_days = 7;
  int64_t tag_a = 0;
  int64_t tag_b = 0;
  REQUIRE(profiles.db
              .InTransaction([&](WriteTxn& txn) -> core::Status {
                SCRM_ASSIGN_OR_RETURN(model::TagDetail a,
                                      profiles.tags.GetOrCreate(txn, "g", "a", defaults));
                SCRM_ASSIGN_OR_RETURN(model::TagDetail b,
                                      profiles.tags.GetOrCreate(txn, "g", "b", defaults));
                a.tag.wecom_tag_id = "etA";
                a.tag.threshold = 2.5;
                SCRM_RETURN_IF_ERROR(profiles.tags.Update(txn, a.tag));
                tag_a = a.tag.id;
                tag_b = b.tag.id;
                model::CustomerTag row;
                row.customer_id = 7;
                row.tag_id = tag_a;
                row.score = 3;
                row.updated_at_ms = kNowMs;
                row.source = model::TagSource::kManual;
                return profiles.customer_tags.Put(txn, row);
              })
              .ok());
  // Customer 7: tag a on two targets (one with a score row), tag b on one; customer 9: tag a.
  REQUIRE(
      f.store.Record(7, "acme", "lisi", std::vector<TagPush>{Push("lisi", tag_a, "etA")}, {}).ok());
  REQUIRE(f.store
              .Record(7, "acme", "bob",
                      std::vector<TagPush>{Push("bob", tag_a, "etA"), Push("bob", tag_b, "etB")},
                      {})
              .ok());
  TagPush other = Push("zhao", tag_a, "etA");
  other.customer_id = 9;
  REQUIRE(f.store.Record(9, "acme", "zhao", std::vector<TagPush>{other}, {}).ok());

  for (const size_t limit : {1, 2, 3, 10}) {
    INFO(limit);
    std::vector<PushedTagState> all;
    PushedTagKey after;
    for (int pages = 0; pages < 10; ++pages) {
      auto page = f.store.ListPushedTagStates(after, limit);
      REQUIRE(page.ok());
      all.insert(all.end(), page->begin(), page->end());
      if (page->size() < limit) break;
      after = page->back().key;
    }
    REQUIRE(all.size() == 4);
    CHECK(all[0].key.customer_id == 7);
    CHECK(all[0].key.target == "bob");
    CHECK(all[0].key.tag_id == tag_a);
    CHECK(all[1].key.target == "bob");
    CHECK(all[1].key.tag_id == tag_b);
    CHECK(all[2].key.target == "lisi");
    CHECK(all[3].key.customer_id == 9);
    // Customer 7's score on tag a is there; the rest have none.
    REQUIRE(all[0].row.has_value());
    CHECK(all[0].row->score == 3);
    CHECK(all[0].row->source == model::TagSource::kManual);
    CHECK_FALSE(all[1].row.has_value());
    CHECK_FALSE(all[3].row.has_value());
    CHECK(all[0].threshold == 2.5);  // the tag's override
    CHECK(all[1].threshold == 1.0);  // the group's
    CHECK(all[0].half_life_days == 7);
    CHECK(all[0].wecom_tag_id == "etA");
    CHECK(all[1].wecom_tag_id.empty());
    CHECK(all[1].platform_tag_id == "etB");
  }
  CHECK(f.store.ListPushedTagStates({}, 0).status().code() == core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::storage
