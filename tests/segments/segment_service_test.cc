// SegmentService over a real SQLite file: validation on save, references expanded for
// evaluation, cycles and depth refused, CAS on the version, delete refused while referenced.
#include "campaigns/segments/segment_service.h"

#include <catch2/catch.hpp>

#include "campaigns/segments/parser.h"
#include "tests/segments/segments_test_helpers.h"
#include "tests/storage/storage_test_helpers.h"

namespace scrm::segments {
namespace {

using core::StatusCode;

struct ServiceFixture {
  scrm::testing::TempDir dir;
  std::unique_ptr<storage::Database> db = storage::testing::OpenMigratedOrDie({dir.File("s.db")});
  storage::SegmentStore store{*db};
  core::FakeClock clock;
  SegmentService service{store, clock};

  int64_t Save(const std::string& name, const std::string& query) {
    auto saved = service.Create(SegmentInput{name, "", query});
    INFO(saved.status().ToString());
    REQUIRE(saved.ok());
    return saved->id;
  }
};

SegmentInput Input(const std::string& name, const std::string& query) {
  return SegmentInput{name, "d", query};
}

TEST_CASE("SegmentService creates, updates and lists segments with versions", "[db]") {
  ServiceFixture f;
  auto created = f.service.Create(Input("vip", "stage:customer"));
  REQUIRE(created.ok());
  CHECK(created->version == 1);
  CHECK(created->description == "d");
  CHECK(created->created_at_ms == f.clock.NowUnixMillis());
  f.clock.Advance(std::chrono::seconds(1));
  auto updated = f.service.Update(created->id, Input("vip", "stage:repeat"), 1);
  REQUIRE(updated.ok());
  CHECK(updated->version == 2);
  CHECK(updated->updated_at_ms == created->created_at_ms + 1000);
  CHECK(updated->created_at_ms == created->created_at_ms);
  CHECK(f.service.Get(created->id).value() == *updated);
  // A stale version is refused and changes nothing.
  auto stale = f.service.Update(created->id, Input("vip", "stage:lost"), 1);
  CHECK(stale.status().code() == StatusCode::kFailedPrecondition);
  CHECK(stale.status().message() ==
        "version: segment " + std::to_string(created->id) + " is at version 2, not 1");
  // Without a version the last writer wins.
  REQUIRE(f.service.Update(created->id, Input("vip", "stage:lost"), std::nullopt).ok());
  CHECK(f.service.ListVersions(created->id).value().size() == 3);
  CHECK(f.service.ListVersions(999).status().code() == StatusCode::kNotFound);
  CHECK(f.service.List().value().size() == 1);
  CHECK(f.service.Update(999, Input("x", "stage:new"), std::nullopt).status().code() ==
        StatusCode::kNotFound);
}

TEST_CASE("SegmentService refuses invalid input naming the member", "[db]") {
  ServiceFixture f;
  f.Save("vip", "stage:customer");
  auto bad_query = f.service.Create(Input("a", "stage:customer and"));
  CHECK(bad_query.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad_query.status().message() ==
        "query: at 18: expected a predicate, \"(\" or \"not\", found end of query");
  auto unknown = f.service.Create(Input("a", "owner:x or segment:\"ghost\""));
  CHECK(unknown.status().message() == "query: at 11: no saved segment named \"ghost\"");
  CHECK(f.service.Create(Input("", "stage:new")).status().message() ==
        "name: must be 1..128 bytes");
  CHECK(f.service.Create(Input(std::string(129, 'n'), "stage:new")).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(f.service.Create(Input("a\nb", "stage:new")).status().message() ==
        "name: must not contain control characters");
  CHECK(
      f.service.Create(SegmentInput{"a", std::string(1025, 'd'), "stage:new"}).status().message() ==
      "description: longer than 1024 bytes");
  auto taken = f.service.Create(Input("vip", "stage:new"));
  CHECK(taken.status().code() == StatusCode::kAlreadyExists);
  CHECK(f.service.List().value().size() == 1);
}

TEST_CASE("SegmentService Compile expands references with their relation filter", "[db]") {
  ServiceFixture f;
  f.Save("hz", "attr:city = \"杭州\"");
  f.Save("all-vip", "stage:customer and relation:any");
  f.Save("both", "segment:hz and segment:\"all-vip\"");
  auto compiled = f.service.Compile("owner:a or segment:both");
  INFO(compiled.status().ToString());
  REQUIRE(compiled.ok());
  const Query& q = compiled->query;
  CHECK(q.segment_refs == std::vector<std::string>{"both"});
  CHECK(q.relation_filter == Query::RelationFilter::kConnected);
  // owner:a or (((attr:city = "杭州" and relation:connected) and stage:customer and
  // relation:any) and relation:connected)
  const Query expected = Parse(
                             "owner:a or (((attr:city = \"杭州\" and relation:connected) and "
                             "(stage:customer and relation:any)) and relation:connected)")
                             .value();
  CHECK(testing::SameTree(q.root, expected.root));
  // Every leaf's pos / len is its clause as written, in the text the compiled query carries.
  const Node& both = q.root.children[1];
  const Predicate& city = both.children[0].children[0].children[0].predicate;
  CHECK(q.text.substr(city.pos, city.len) == "attr:city = \"杭州\"");
  CHECK(compiled->SegmentAt(city.pos) == "hz");
  const Predicate& wrap = both.children[1].predicate;
  CHECK(q.text.substr(wrap.pos, wrap.len) == "relation:connected");
  CHECK(compiled->SegmentAt(wrap.pos) == "both");
  const Predicate& stage = both.children[0].children[1].children[0].predicate;
  CHECK(compiled->SegmentAt(stage.pos) == "all-vip");
  CHECK(compiled->SegmentAt(q.root.children[0].predicate.pos).empty());
  CHECK(q.text.starts_with("owner:a or segment:both\n"));
}

TEST_CASE("SegmentService refuses cycles and nesting deeper than eight", "[db]") {
  ServiceFixture f;
  const int64_t a = f.Save("a", "stage:new");
  f.Save("b", "segment:a");
  auto self = f.service.Update(a, Input("a", "segment:a"), std::nullopt);
  CHECK(self.status().code() == StatusCode::kInvalidArgument);
  CHECK(self.status().message() ==
        "query: at 0: segment:\"a\" refers back to itself: \"a\" → \"a\"");
  auto cycle = f.service.Update(a, Input("a", "owner:x and segment:b"), std::nullopt);
  CHECK(cycle.status().message() ==
        "query: at 12: segment:\"a\" refers back to itself: \"a\" → \"b\" → \"a\"");
  CHECK(f.service.Get(a)->version == 1);

  // c1 → a, c2 → c1, ... c8 → c7: c8's query reaches eight saved segments, the most allowed.
  std::string previous = "a";
  for (int i = 1; i <= 8; ++i) {
    const std::string name = "c" + std::to_string(i);
    f.Save(name, "segment:\"" + previous + "\"");
    previous = name;
  }
  CHECK(f.service.Compile("segment:c7").ok());
  auto deep = f.service.Create(Input("c9", "segment:c8"));
  CHECK(deep.status().code() == StatusCode::kInvalidArgument);
  CHECK(deep.status().message() ==
        "query: at 0: saved segments nest deeper than 8: \"c9\" → \"c8\" → \"c7\" → \"c6\" → "
        "\"c5\" → \"c4\" → \"c3\" → \"c2\" → \"c1\" → \"a\"");
  CHECK(f.service.Compile("stage:new and segment:c8")
            .status()
            .message()
            .starts_with("at 14: saved segments nest deeper than 8"));
  // Making `a` refer to another segment from below would break c8, which refers to it.
  f.Save("leaf", "stage:lost");
  auto deeper = f.service.Update(a, Input("a", "segment:leaf"), std::nullopt);
  CHECK(deeper.status().code() == StatusCode::kFailedPrecondition);
  CHECK(deeper.status().message().starts_with("the change would break segment \"c8\""));
  CHECK(f.service.Get(a)->query == "stage:new");
}

TEST_CASE("SegmentService refuses to delete or rename a referenced segment", "[db]") {
  ServiceFixture f;
  const int64_t a = f.Save("a", "stage:new");
  const int64_t b = f.Save("b", "segment:a or stage:lost");
  const core::Status refused = f.service.Delete(a);
  CHECK(refused.code() == StatusCode::kFailedPrecondition);
  CHECK(refused.message() ==
        "cannot delete segment \"a\": segment \"b\" (id " + std::to_string(b) + ") refers to it");
  auto rename = f.service.Update(a, Input("a2", "stage:new"), std::nullopt);
  CHECK(rename.status().code() == StatusCode::kFailedPrecondition);
  CHECK(rename.status().message().starts_with("cannot rename segment \"a\": segment \"b\""));
  REQUIRE(f.service.Delete(b).ok());
  CHECK(f.service.Get(b).status().code() == StatusCode::kNotFound);
  REQUIRE(f.service.Delete(a).ok());
  CHECK(f.service.Delete(a).code() == StatusCode::kNotFound);
  CHECK(f.service.Compile("segment:a").status().message() == "at 0: no saved segment named \"a\"");
}

TEST_CASE("SegmentService Compile caps the expanded size", "[db]") {
  ServiceFixture f;
  // Each level doubles: a reference to x0 is 3 leaves (its two and the relation:connected it
  // is wrapped with), to x1 7, ..., to x7 511; two references to x7 are over the cap of 1000.
  f.Save("x0", "owner:a or owner:b");
  for (int i = 1; i <= 7; ++i) {
    const std::string prev = "x" + std::to_string(i - 1);
    f.Save("x" + std::to_string(i), "segment:" + prev + " or segment:" + prev);
  }
  auto big = f.service.Compile("segment:x7 and segment:x7");
  CHECK(big.status().code() == StatusCode::kInvalidArgument);
  CHECK(big.status().message().ends_with("expands to more than 1000 predicates"));
  // The text carries each referenced segment once.
  auto ok = f.service.Compile("segment:x3");
  REQUIRE(ok.ok());
  CHECK(ok->spans.size() == 4);
}

}  // namespace
}  // namespace scrm::segments
