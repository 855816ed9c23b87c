#include "src/storage/segment_store.h"

#include <catch2/catch.hpp>

#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

StoredSegment NewSegment(const std::string& name, const std::string& query) {
  StoredSegment s;
  s.name = name;
  s.description = "about " + name;
  s.query = query;
  s.created_at_ms = kNowMs;
  s.updated_at_ms = kNowMs;
  return s;
}

TEST_CASE("SegmentStore inserts, updates with compare-and-set and keeps every version", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("s.db")});
  SegmentStore store(*db);
  auto a = store.Insert(NewSegment("vip", "stage:customer"));
  REQUIRE(a.ok());
  CHECK(a->id > 0);
  CHECK(a->version == 1);
  auto b = store.Insert(NewSegment("new", "stage:new"));
  REQUIRE(b.ok());
  CHECK(b->id > a->id);

  StoredSegment changed = *a;
  changed.query = "stage:repeat";
  changed.version = 2;
  changed.updated_at_ms = kNowMs + 5;
  REQUIRE(store.Update(changed, 1).ok());
  CHECK(store.Get(a->id).value() == changed);
  // Someone saved version 2 meanwhile: saving over version 1 again is refused.
  changed.version = 3;
  CHECK(store.Update(changed, 1).code() == core::StatusCode::kFailedPrecondition);
  auto versions = store.ListVersions(a->id);
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 2);
  CHECK((*versions)[0].query == "stage:customer");
  CHECK((*versions)[0].updated_at_ms == kNowMs);
  CHECK((*versions)[1].query == "stage:repeat");
  CHECK((*versions)[1].updated_at_ms == kNowMs + 5);
  CHECK(store.FindByName("vip").value()->id == a->id);
  CHECK_FALSE(store.FindByName("nobody").value().has_value());
  REQUIRE(store.List().value().size() == 2);
}

TEST_CASE("SegmentStore keeps names unique among live segments only", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("s.db")});
  SegmentStore store(*db);
  auto a = store.Insert(NewSegment("vip", "stage:customer"));
  REQUIRE(a.ok());
  CHECK(store.Insert(NewSegment("vip", "stage:new")).status().code() ==
        core::StatusCode::kAlreadyExists);
  auto b = store.Insert(NewSegment("other", "stage:new"));
  REQUIRE(b.ok());
  StoredSegment rename = *b;
  rename.name = "vip";
  rename.version = 2;
  CHECK(store.Update(rename, 1).code() == core::StatusCode::kAlreadyExists);

  REQUIRE(store.Delete(a->id, kNowMs + 9).ok());
  CHECK(store.Get(a->id).status().code() == core::StatusCode::kNotFound);
  CHECK(store.Delete(a->id, kNowMs + 9).code() == core::StatusCode::kNotFound);
  CHECK(store.List().value().size() == 1);
  CHECK(store.ListVersions(a->id).value().size() == 1);  // the history stays
  // The name is free again.
  auto again = store.Insert(NewSegment("vip", "stage:lost"));
  REQUIRE(again.ok());
  CHECK(again->id != a->id);
  rename.id = a->id;
  CHECK(store.Update(rename, 1).code() == core::StatusCode::kNotFound);
  CHECK(store.Insert(NewSegment("", "x")).status().code() == core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::storage
