// /api/v1/tag-rules against a real HttpServer on loopback with a real SQLite file: versioning,
// validation errors that name the field, persistence across a reopen, the rules file seeding
// the store, and the live rule set the ingest pipeline uses.
#include "src/api/tag_rule_routes.h"

#include <catch2/catch.hpp>

#include "tests/api/api_test_helpers.h"

namespace scrm::api {
namespace {

using testing::ApiFixture;
using testing::ErrorCode;
using testing::ErrorMessage;
using testing::json;

json KeywordRule(const std::string& keyword, const std::string& tag_name) {
  return json{{"name", "关键词 " + keyword},
              {"condition", {{"kinds", {"message.text"}}, {"keywords_any", {keyword}}}},
              {"actions",
               {{{"add_tag", {{"tag", {{"group", "兴趣"}, {"name", tag_name}}}, {"weight", 2}}}}}}};
}

TEST_CASE("tag-rules create, update and disable bump the version and keep every version",
          "[integration]") {
  ApiFixture f;
  auto created =
      f.Call("POST", "/api/v1/tag-rules", KeywordRule("产品C", "产品C"), model::Role::kMarketing);
  REQUIRE(created.status == 201);
  const int64_t id = testing::ApiId(created.body["id"]);
  CHECK(id > 0);
  CHECK(created.body["version"] == 1);
  CHECK(created.body["enabled"] == true);
  const std::string path = "/api/v1/tag-rules/" + std::to_string(id);

  json changed = KeywordRule("产品C", "产品C");
  changed["condition"]["keywords_any"] = {"产品C", "C款"};
  auto updated = f.Call("PUT", path, changed, model::Role::kMarketing);
  REQUIRE(updated.status == 200);
  CHECK(updated.body["version"] == 2);
  CHECK(updated.body["condition"]["keywords_any"].size() == 2);

  auto disabled = f.Call("POST", path + "/disable", nullptr, model::Role::kMarketing);
  REQUIRE(disabled.status == 200);
  CHECK(disabled.body["version"] == 3);
  CHECK(disabled.body["enabled"] == false);

  auto list = f.Call("GET", "/api/v1/tag-rules", nullptr, model::Role::kReadonly);
  REQUIRE(list.status == 200);
  REQUIRE(list.body["rules"].size() == 1);
  CHECK(list.body["rules"][0]["version"] == 3);
  CHECK(list.body["rules"][0]["enabled"] == false);

  auto versions = f.Call("GET", path + "/versions", nullptr, model::Role::kSales);
  REQUIRE(versions.status == 200);
  REQUIRE(versions.body["versions"].size() == 3);
  CHECK(versions.body["versions"][0]["condition"]["keywords_any"].size() == 1);
  auto v1 = f.Call("GET", path + "?version=1");
  REQUIRE(v1.status == 200);
  CHECK(v1.body["version"] == 1);
  CHECK(v1.body["enabled"] == true);

  auto enabled = f.Call("POST", path + "/enable");
  REQUIRE(enabled.status == 200);
  CHECK(enabled.body["version"] == 4);
  // DELETE is disable.
  auto deleted = f.Call("DELETE", path);
  REQUIRE(deleted.status == 200);
  CHECK(deleted.body["enabled"] == false);
  CHECK(deleted.body["version"] == 5);
}

TEST_CASE("tag-rules refuse an invalid rule naming the field path", "[integration]") {
  ApiFixture f;
  json bad_regex = KeywordRule("x", "x");
  bad_regex["condition"].erase("keywords_any");
  bad_regex["condition"]["regex"] = "预算(";
  auto r = f.Call("POST", "/api/v1/tag-rules", bad_regex);
  CHECK(r.status == 400);
  CHECK(ErrorCode(r) == "invalid_argument");
  CHECK(ErrorMessage(r).rfind("condition.regex:", 0) == 0);

  json no_name = KeywordRule("x", "x");
  no_name.erase("name");
  r = f.Call("POST", "/api/v1/tag-rules", no_name);
  CHECK(r.status == 400);
  CHECK(ErrorMessage(r).rfind("name:", 0) == 0);

  json typo = KeywordRule("x", "x");
  typo["condition"]["keyword"] = {"x"};
  r = f.Call("POST", "/api/v1/tag-rules", typo);
  CHECK(r.status == 400);
  CHECK(ErrorMessage(r).find("condition.keyword") != std::string::npos);

  json bad_action = KeywordRule("x", "x");
  bad_action["actions"][0]["add_tag"]["weight"] = 0;
  r = f.Call("POST", "/api/v1/tag-rules", bad_action);
  CHECK(r.status == 400);
  CHECK(ErrorMessage(r).rfind("actions[0].add_tag.weight", 0) == 0);

  json with_id = KeywordRule("x", "x");
  with_id["id"] = "5";  // an id as a string, as the API writes them
  r = f.Call("POST", "/api/v1/tag-rules", with_id);
  CHECK(r.status == 400);
  CHECK(ErrorMessage(r).rfind("id:", 0) == 0);

  r = f.CallWithSecret("POST", "/api/v1/tag-rules", f.key.at(model::Role::kAdmin), "not json");
  CHECK(r.status == 400);
  CHECK(ErrorMessage(r).rfind("body:", 0) == 0);
  CHECK(f.Call("GET", "/api/v1/tag-rules").body["rules"].empty());
}

TEST_CASE("tag-rules answer 404 for unknown rules and 400 for a stale version", "[integration]") {
  ApiFixture f;
  CHECK(f.Call("GET", "/api/v1/tag-rules/9").status == 404);
  CHECK(f.Call("GET", "/api/v1/tag-rules/9/versions").status == 404);
  CHECK(f.Call("PUT", "/api/v1/tag-rules/9", KeywordRule("a", "a")).status == 404);
  CHECK(f.Call("POST", "/api/v1/tag-rules/9/disable").status == 404);
  auto created = f.Call("POST", "/api/v1/tag-rules", KeywordRule("a", "a"));
  REQUIRE(created.status == 201);
  const std::string path = "/api/v1/tag-rules/" + created.body["id"].get<std::string>();
  CHECK(f.Call("GET", path + "?version=2").status == 404);
  CHECK(f.Call("GET", path + "?version=0").status == 400);
  json stale = KeywordRule("b", "b");
  stale["version"] = 1;
  REQUIRE(f.Call("PUT", path, stale).status == 200);  // 1 -> 2
  auto conflict = f.Call("PUT", path, stale);         // still says 1
  CHECK(conflict.status == 400);
  CHECK(ErrorCode(conflict) == "failed_precondition");
  json other_id = KeywordRule("b", "b");
  other_id["id"] = 999;
  CHECK(f.Call("PUT", path, other_id).status == 400);
  // The rule as GET answers it (id a string) saves back.
  json same = KeywordRule("c", "c");
  same["id"] = created.body["id"];
  auto saved = f.Call("PUT", path, same);
  CHECK(saved.status == 200);
  CHECK(saved.body["id"] == created.body["id"]);
  same["id"] = "12a";
  CHECK(ErrorMessage(f.Call("PUT", path, same)).rfind("id:", 0) == 0);
}

TEST_CASE("tag-rules answer 401 without a key and 403 to roles that may not write rules",
          "[integration]") {
  ApiFixture f;
  CHECK(f.CallWithSecret("GET", "/api/v1/tag-rules", "").status == 401);
  CHECK(f.CallWithSecret("POST", "/api/v1/tag-rules", "", KeywordRule("a", "a").dump()).status ==
        401);
  for (auto role : {model::Role::kSales, model::Role::kReadonly}) {
    auto r = f.Call("POST", "/api/v1/tag-rules", KeywordRule("a", "a"), role);
    CHECK(r.status == 403);
    CHECK(ErrorCode(r) == "permission_denied");
  }
  auto created = f.Call("POST", "/api/v1/tag-rules", KeywordRule("a", "a"));
  REQUIRE(created.status == 201);
  const std::string path = "/api/v1/tag-rules/" + created.body["id"].get<std::string>();
  CHECK(f.Call("PUT", path, KeywordRule("b", "b"), model::Role::kSales).status == 403);
  CHECK(f.Call("POST", path + "/disable", nullptr, model::Role::kReadonly).status == 403);
  CHECK(f.Call("DELETE", path, nullptr, model::Role::kSales).status == 403);
  CHECK(f.Call("GET", path, nullptr, model::Role::kReadonly).status == 200);
}

TEST_CASE("tag-rules changes are in force for the next interaction", "[integration]") {
  ApiFixture f;
  auto created = f.Call("POST", "/api/v1/tag-rules", KeywordRule("产品D", "产品D"));
  REQUIRE(created.status == 201);
  const int64_t rule_id = testing::ApiId(created.body["id"]);
  auto text = f.p.OaText("oLive", "请介绍产品D");
  f.p.Apply(text);
  auto view = f.p.View(f.p.ByOpenid("oLive"));
  const auto* tag = profiles::testing::FindTag(view, "兴趣", "产品D");
  REQUIRE(tag != nullptr);
  CHECK(tag->detail.value.evidence_rule_id == rule_id);
  CHECK(tag->detail.value.evidence_rule_version == 1);
  CHECK(tag->detail.value.evidence_interaction_id == text.id);

  // Version 2 moves the weight; the evidence names version 2.
  json heavier = KeywordRule("产品D", "产品D");
  heavier["actions"][0]["add_tag"]["weight"] = 5;
  REQUIRE(f.Call("PUT", "/api/v1/tag-rules/" + std::to_string(rule_id), heavier).status == 200);
  f.p.Apply(f.p.OaText("oLive", "产品D多少钱"));
  view = f.p.View(f.p.ByOpenid("oLive"));
  tag = profiles::testing::FindTag(view, "兴趣", "产品D");
  REQUIRE(tag != nullptr);
  CHECK(tag->detail.value.evidence_rule_version == 2);
  CHECK(tag->decayed_score == Approx(7));

  // Disabled: nothing more.
  REQUIRE(f.Call("POST", "/api/v1/tag-rules/" + std::to_string(rule_id) + "/disable").status ==
          200);
  f.p.Apply(f.p.OaText("oLive", "产品D还有吗"));
  view = f.p.View(f.p.ByOpenid("oLive"));
  CHECK(profiles::testing::FindTag(view, "兴趣", "产品D")->decayed_score == Approx(7));
}

TEST_CASE("tag-rules survive reopening the database and the stored rules win over the file",
          "[db]") {
  scrm::testing::TempDir dir;
  const std::string path = dir.File("rules.db");
  core::FakeClock clock(profiles::testing::kT0);
  auto file_rules = tagger::ParseTagRules(R"({"rules": [
    {"id": 1, "name": "A", "condition": {"keywords_any": ["A"]},
     "actions": [{"add_tag": {"tag": {"group": "g", "name": "a"}}}]},
    {"name": "no id", "condition": {"keywords_any": ["N"]},
     "actions": [{"add_tag": {"tag": {"group": "g", "name": "n"}}}]}]})");
  REQUIRE(file_rules.ok());
  {
    auto db = profiles::testing::OpenMigrated(path);
    storage::TagRuleStore store(*db);
    profiles::RuleSetHolder holder;
    profiles::TagRuleService service(store, holder, clock);
    auto seeded = service.LoadAndSeed(*file_rules);
    REQUIRE(seeded.ok());
    CHECK(seeded->seeded == 2);
    CHECK(holder.rules().size() == 2);
    CHECK(holder.rules()[1].id == 2);  // the rule without id got the next one
    // An API change to rule 1, and a new rule.
    model::TagRule changed = (*file_rules)[0];
    changed.name = "A (changed)";
    auto updated = service.Update(1, changed, std::nullopt);
    REQUIRE(updated.ok());
    CHECK(updated->rule.version == 2);
    model::TagRule fresh = (*file_rules)[1];
    fresh.name = "fresh";
    auto created = service.Create(fresh);
    REQUIRE(created.ok());
    CHECK(created->rule.id == 3);
    REQUIRE(db->Close().ok());
  }
  {
    auto db = profiles::testing::OpenMigrated(path);
    storage::TagRuleStore store(*db);
    profiles::RuleSetHolder holder;
    profiles::TagRuleService service(store, holder, clock);
    // Same file again: nothing new to seed; rule 1 stays as the API left it.
    auto seeded = service.LoadAndSeed(*file_rules);
    REQUIRE(seeded.ok());
    CHECK(seeded->stored_before == 3);
    CHECK(seeded->seeded == 0);
    CHECK(seeded->kept_stored == 2);
    const auto rules = holder.rules();
    REQUIRE(rules.size() == 3);
    CHECK(rules[0].name == "A (changed)");
    CHECK(rules[0].version == 2);
    CHECK(rules[2].name == "fresh");
    auto v1 = service.GetVersion(1, 1);
    REQUIRE(v1.ok());
    CHECK(v1->rule.name == "A");
    REQUIRE(db->Close().ok());
  }
}

}  // namespace
}  // namespace scrm::api
