#include "src/storage/quarantine_store.h"

#include <catch2/catch.hpp>

#include "src/storage/cursor_store.h"
#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

struct QuarantineStoreFixture {
  scrm::testing::TempDir dir;
  std::unique_ptr<Database> db = OpenMigratedOrDie({dir.File("q.db")});
  QuarantineStore store{*db};
  CursorStore cursors{*db};
};

TEST_CASE("QuarantineStore puts a row aside and moves the cursor past it in one step", "[db]") {
  QuarantineStoreFixture f;
  REQUIRE(f.store.QuarantineAndAdvance(42, "shop", "bad payload", "worker", kNowMs).ok());
  CHECK(f.cursors.GetCursor("worker").value() == 42);
  const auto row = f.store.Get(42);
  REQUIRE(row.ok());
  CHECK(*row == QuarantinedRow{42, "shop", "bad payload", 1, kNowMs, kNowMs});
  CHECK(f.store.Count().value() == 1);
  // Again (a replay met it): one more failure, the first time kept.
  REQUIRE(f.store.QuarantineAndAdvance(42, "shop", "still bad", "worker", kNowMs + 5).ok());
  CHECK(*f.store.Get(42) == QuarantinedRow{42, "shop", "still bad", 2, kNowMs, kNowMs + 5});
  CHECK(f.store.QuarantineAndAdvance(0, "shop", "x", "worker", kNowMs).code() ==
        core::StatusCode::kInvalidArgument);
  CHECK(f.store.QuarantineAndAdvance(7, "shop", "x", "", kNowMs).code() ==
        core::StatusCode::kInvalidArgument);
  CHECK(f.store.Count().value() == 1);
}

TEST_CASE("QuarantineStore records a failed reapply and removes an applied row", "[db]") {
  QuarantineStoreFixture f;
  REQUIRE(f.store.QuarantineAndAdvance(5, "acme", "cycle", "worker", kNowMs).ok());
  REQUIRE(f.store.RecordFailure(5, "cycle again", kNowMs + 1).ok());
  CHECK(f.store.Get(5)->failures == 2);
  CHECK(f.store.Get(5)->error == "cycle again");
  REQUIRE(f.store.Remove(5).ok());
  CHECK(f.store.Get(5).status().code() == core::StatusCode::kNotFound);
  CHECK(f.store.Remove(5).code() == core::StatusCode::kNotFound);
  CHECK(f.store.RecordFailure(5, "x", kNowMs).code() == core::StatusCode::kNotFound);
}

TEST_CASE("QuarantineStore lists rows by interaction id after an id", "[db]") {
  QuarantineStoreFixture f;
  for (int64_t id : {30, 10, 20}) {
    REQUIRE(f.store.QuarantineAndAdvance(id, "a", "e", "worker", kNowMs).ok());
  }
  const auto all = f.store.List(0, 10);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK(all->at(0).interaction_id == 10);
  CHECK(all->at(2).interaction_id == 30);
  const auto page = f.store.List(10, 1);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 1);
  CHECK(page->at(0).interaction_id == 20);
  CHECK(f.store.List(0, 0).status().code() == core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::storage
