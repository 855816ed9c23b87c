// /api/v1/tags and /api/v1/tag-groups against a real HttpServer on loopback with a real SQLite
// file: listing and reading tags with their mappings, mapping a tag (which queues tag pushes for
// the customers who hold it, in the outbox of the same database), group decay settings, roles,
// and the 400 / 404 / 409 answers that change nothing.
#include "src/api/tag_routes.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "src/model/job_kinds.h"
#include "src/storage/outbox_store.h"
#include "tests/api/api_test_helpers.h"

namespace scrm::api {
namespace {

using profiles::testing::kDay;
using testing::ApiFixture;
using testing::ErrorCode;
using testing::ErrorMessage;
using testing::IdStr;
using testing::json;

const model::TagRef kProductA{"兴趣", "产品A"};
const model::TagRef kVip{"客户等级", "VIP"};
constexpr char kInterestPath[] = "/api/v1/tag-groups/%E5%85%B4%E8%B6%A3";  // 兴趣

profiles::testing::ServiceOptions PushingOptions() {
  profiles::testing::ServiceOptions options;
  options.tag_push_accounts = {"corp1", "oa1"};  // the accounts of the profile test builders
  return options;
}

// A WeCom customer (external_userid on corp1) and an OA follower (openid on oa1).
int64_t WecomCustomer(ApiFixture& f, const std::string& external_userid) {
  f.p.Apply(f.p.Contact(model::InteractionKind::kContactAdd, external_userid, "zhangsan"));
  return f.p.ByExternal(external_userid);
}
int64_t OaCustomer(ApiFixture& f, const std::string& openid) {
  f.p.Apply(f.p.OaEvent(openid, model::InteractionKind::kSubscribe));
  return f.p.ByOpenid(openid);
}

// A manual score that decays like a rule's (so that a test can let it fade).
void Tag(ApiFixture& f, int64_t customer_id, const model::TagRef& tag, double weight) {
  auto added = f.p.service.editor.AddManualTag(customer_id, tag, weight, /*decay=*/true);
  INFO(added.status().ToString());
  REQUIRE(added.ok());
}

int64_t TagId(ApiFixture& f, const model::TagRef& ref) {
  auto found = f.p.service.queries.FindTag(ref);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  return (*found)->tag.id;
}

std::string MappingPath(int64_t tag_id) {
  return "/api/v1/tags/" + std::to_string(tag_id) + "/mapping";
}

// The pending tag push jobs as (account, customer id).
std::set<std::pair<std::string, int64_t>> QueuedPushes(ApiFixture& f) {
  storage::OutboxStore outbox(*f.p.db);
  auto jobs = outbox.List(storage::OutboxState::kPending, 100);
  REQUIRE(jobs.ok());
  std::set<std::pair<std::string, int64_t>> out;
  for (const storage::OutboxJob& job : *jobs) {
    if (job.kind != model::kTagPushJobKind) continue;
    out.emplace(job.account_id, json::parse(job.payload_json)["customer_id"].get<int64_t>());
  }
  return out;
}

TEST_CASE("GET tags lists every tag with group, decay and mappings, by id and paged",
          "[integration]") {
  ApiFixture f;
  REQUIRE(f.p.service.editor.MapTag(kVip, "etVIP", 101).ok());
  const int64_t customer = OaCustomer(f, "oT1");
  Tag(f, customer, kProductA, 1);
  Tag(f, customer, {"兴趣", "产品B"}, 1);

  auto all = f.Call("GET", "/api/v1/tags", nullptr, model::Role::kReadonly);
  REQUIRE(all.status == 200);
  REQUIRE(all.body["items"].size() == 3);
  CHECK(all.body["next_after"].is_null());
  const json& vip = all.body["items"][0];
  CHECK(vip["group"] == "客户等级");
  CHECK(vip["name"] == "VIP");
  CHECK(vip["wecom_tag_id"] == "etVIP");
  CHECK(vip["oa_tag_id"] == "101");
  CHECK(vip["threshold"] == 1.0);
  CHECK(vip["threshold_override"].is_null());
  CHECK(vip["half_life_days"] == 30);
  const json& product_a = all.body["items"][1];
  CHECK(product_a["name"] == "产品A");
  CHECK(product_a["wecom_tag_id"] == "");
  CHECK(product_a["oa_tag_id"] == "0");

  auto page = f.Call("GET", "/api/v1/tags?limit=2");
  REQUIRE(page.body["items"].size() == 2);
  REQUIRE(page.body["next_after"] == page.body["items"][1]["id"]);
  REQUIRE(page.body["next_after"].is_string());
  auto rest =
      f.Call("GET", "/api/v1/tags?limit=2&after=" + page.body["next_after"].get<std::string>());
  REQUIRE(rest.body["items"].size() == 1);
  CHECK(rest.body["items"][0]["name"] == "产品B");
  CHECK(rest.body["next_after"].is_null());

  auto interest = f.Call("GET", "/api/v1/tags?group=%E5%85%B4%E8%B6%A3");
  REQUIRE(interest.body["items"].size() == 2);
  CHECK(interest.body["items"][0]["group"] == "兴趣");
  CHECK(f.Call("GET", "/api/v1/tags?group=none").body["items"].empty());
  CHECK(f.Call("GET", "/api/v1/tags?limit=0").status == 400);
  CHECK(f.Call("GET", "/api/v1/tags?after=x").status == 400);
}

TEST_CASE("GET tags/{id} answers the tag, 404 for an unknown id", "[integration]") {
  ApiFixture f;
  REQUIRE(f.p.service.editor.MapTag(kVip, "etVIP", 0).ok());
  const int64_t id = TagId(f, kVip);
  auto r = f.Call("GET", "/api/v1/tags/" + std::to_string(id), nullptr, model::Role::kSales);
  REQUIRE(r.status == 200);
  CHECK(r.body["id"] == IdStr(id));
  CHECK(r.body["wecom_tag_id"] == "etVIP");
  auto missing = f.Call("GET", "/api/v1/tags/" + std::to_string(id + 1));
  CHECK(missing.status == 404);
  CHECK(ErrorCode(missing) == "not_found");
}

TEST_CASE("PUT tags/{id}/mapping sets the members given and keeps the others", "[integration]") {
  ApiFixture f;
  const int64_t customer = OaCustomer(f, "oT1");
  Tag(f, customer, kProductA, 1);
  const int64_t id = TagId(f, kProductA);

  auto mapped = f.Call("PUT", MappingPath(id), json{{"wecom_tag_id", "etA"}, {"oa_tag_id", 134}},
                       model::Role::kMarketing);
  REQUIRE(mapped.status == 200);
  CHECK(mapped.body["id"] == IdStr(id));
  CHECK(mapped.body["wecom_tag_id"] == "etA");
  CHECK(mapped.body["oa_tag_id"] == "134");

  // Only OA: the WeCom mapping stays.
  auto oa_only = f.Call("PUT", MappingPath(id), json{{"oa_tag_id", 135}});
  REQUIRE(oa_only.status == 200);
  CHECK(oa_only.body["wecom_tag_id"] == "etA");
  CHECK(oa_only.body["oa_tag_id"] == "135");

  // null and "" / 0 unmap.
  auto unmapped = f.Call("PUT", MappingPath(id), json{{"wecom_tag_id", nullptr}});
  REQUIRE(unmapped.status == 200);
  CHECK(unmapped.body["wecom_tag_id"] == "");
  CHECK(unmapped.body["oa_tag_id"] == "135");
  unmapped = f.Call("PUT", MappingPath(id), json{{"oa_tag_id", 0}, {"wecom_tag_id", ""}});
  REQUIRE(unmapped.status == 200);
  CHECK(unmapped.body["oa_tag_id"] == "0");

  auto read = f.Call("GET", "/api/v1/tags/" + std::to_string(id));
  CHECK(read.body["wecom_tag_id"] == "");
  CHECK(read.body["oa_tag_id"] == "0");
}

TEST_CASE("PUT tags/{id}/mapping queues a tag push for each customer who holds the tag now",
          "[integration]") {
  ApiFixture f(std::make_unique<profiles::RuleSetHolder>(), PushingOptions());
  const int64_t faded = WecomCustomer(f, "wmFADED");
  Tag(f, faded, kProductA, 2);
  f.p.clock.Advance(std::chrono::milliseconds(31 * kDay));  // 2 halves below 1 after 30 days
  const int64_t wecom_holder = WecomCustomer(f, "wmHOLD");
  Tag(f, wecom_holder, kProductA, 2);
  const int64_t oa_holder = OaCustomer(f, "oHOLD");
  Tag(f, oa_holder, kProductA, 2);
  const int64_t below = WecomCustomer(f, "wmBELOW");
  Tag(f, below, kProductA, 0.5);  // has a score, never held
  const int64_t other = WecomCustomer(f, "wmOTHER");
  Tag(f, other, kVip, 2);
  REQUIRE(QueuedPushes(f).empty());  // nothing is mapped yet
  const int64_t id = TagId(f, kProductA);

  // WeCom only: the WeCom holder's relation gets it; the OA follower has no WeCom identity.
  auto mapped = f.Call("PUT", MappingPath(id), json{{"wecom_tag_id", "etA"}});
  REQUIRE(mapped.status == 200);
  CHECK(mapped.body["pushes_queued"] == 1);
  CHECK(QueuedPushes(f) == std::set<std::pair<std::string, int64_t>>{{"corp1", wecom_holder}});

  // Then OA: only the OA account is queued for (the WeCom mapping did not change).
  mapped = f.Call("PUT", MappingPath(id), json{{"wecom_tag_id", "etA"}, {"oa_tag_id", 134}});
  REQUIRE(mapped.status == 200);
  CHECK(mapped.body["pushes_queued"] == 1);
  CHECK(QueuedPushes(f) ==
        std::set<std::pair<std::string, int64_t>>{{"corp1", wecom_holder}, {"oa1", oa_holder}});

  // The same mapping again, or unmapping, queues nothing more.
  CHECK(f.Call("PUT", MappingPath(id), json{{"oa_tag_id", 134}}).body["pushes_queued"] == 0);
  CHECK(f.Call("PUT", MappingPath(id), json{{"oa_tag_id", 0}}).body["pushes_queued"] == 0);
  CHECK(QueuedPushes(f).size() == 2);
}

TEST_CASE("PUT tags/{id}/mapping answers 409 when the WeCom id is another tag's", "[integration]") {
  ApiFixture f;
  REQUIRE(f.p.service.editor.MapTag(kVip, "etVIP", 0).ok());
  REQUIRE(f.p.service.editor.MapTag(kProductA, "etA", 7).ok());
  const int64_t id = TagId(f, kProductA);
  auto r = f.Call("PUT", MappingPath(id), json{{"wecom_tag_id", "etVIP"}, {"oa_tag_id", 8}});
  CHECK(r.status == 409);
  CHECK(ErrorCode(r) == "already_exists");
  // A message for the API's user, not the database's (UNIQUE constraint failed: tags...).
  const std::string message = ErrorMessage(r);
  CHECK(message.rfind("wecom_tag_id:", 0) == 0);
  CHECK(message.find("etVIP") != std::string::npos);
  for (const char* leak : {"constraint", "sqlite", "SQLITE", "UNIQUE", "tags."}) {
    CHECK(message.find(leak) == std::string::npos);
  }
  auto read = f.Call("GET", "/api/v1/tags/" + std::to_string(id));
  CHECK(read.body["wecom_tag_id"] == "etA");
  CHECK(read.body["oa_tag_id"] == "7");
}

TEST_CASE("PUT tags/{id}/mapping refuses a bad body with 400 naming the member", "[integration]") {
  ApiFixture f;
  REQUIRE(f.p.service.editor.MapTag(kProductA, "etA", 7).ok());
  const int64_t id = TagId(f, kProductA);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "body:"},
      {"[1]", "body:"},
      {"{}", "body: must set"},
      {R"({"wecom_tag":"etB"})", "wecom_tag:"},
      {R"({"wecom_tag_id":5})", "wecom_tag_id:"},
      {R"({"wecom_tag_id":"et B"})", "wecom_tag_id:"},
      {R"({"wecom_tag_id":"et\u00e9"})", "wecom_tag_id:"},
      {R"({"wecom_tag_id":")" + std::string(129, 'e') + R"("})", "wecom_tag_id:"},
      {R"({"oa_tag_id":-1})", "oa_tag_id:"},
      {R"({"oa_tag_id":1.5})", "oa_tag_id:"},
      {R"({"oa_tag_id":"12x"})", "oa_tag_id:"},
      {R"({"oa_tag_id":"2147483648"})", "oa_tag_id:"},
      {R"({"oa_tag_id":2147483648})", "oa_tag_id:"},
      {R"({"oa_tag_id":18446744073709551615})", "oa_tag_id:"},
  };
  for (const auto& [body, prefix] : cases) {
    INFO(body);
    auto r = f.CallWithSecret("PUT", MappingPath(id), f.key.at(model::Role::kAdmin), body);
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "invalid_argument");
    CHECK(ErrorMessage(r).rfind(prefix, 0) == 0);
  }
  auto read = f.Call("GET", "/api/v1/tags/" + std::to_string(id));
  CHECK(read.body["wecom_tag_id"] == "etA");
  CHECK(read.body["oa_tag_id"] == "7");
  auto missing = f.Call("PUT", MappingPath(id + 1), json{{"oa_tag_id", 1}});
  CHECK(missing.status == 404);
}

TEST_CASE("PUT tags/mapping maps a tag by group and name, creating it", "[integration]") {
  ApiFixture f;
  auto r = f.Call("PUT", "/api/v1/tags/mapping",
                  json{{"group", "会员"}, {"name", "星标"}, {"oa_tag_id", 100}},
                  model::Role::kMarketing);
  REQUIRE(r.status == 200);
  CHECK(r.body["group"] == "会员");
  CHECK(r.body["name"] == "星标");
  CHECK(r.body["oa_tag_id"] == "100");
  CHECK(r.body["pushes_queued"] == 0);
  auto read = f.Call("GET", "/api/v1/tags/" + r.body["id"].get<std::string>());
  CHECK(read.body["oa_tag_id"] == "100");

  auto no_group = f.Call("PUT", "/api/v1/tags/mapping", json{{"name", "星标"}, {"oa_tag_id", 1}});
  CHECK(no_group.status == 400);
  CHECK(ErrorMessage(no_group).rfind("group:", 0) == 0);
  auto long_name =
      f.Call("PUT", "/api/v1/tags/mapping",
             json{{"group", "会员"}, {"name", std::string(65, 'n')}, {"oa_tag_id", 1}});
  CHECK(long_name.status == 400);
  CHECK(ErrorMessage(long_name).rfind("name:", 0) == 0);
  auto nothing = f.Call("PUT", "/api/v1/tags/mapping", json{{"group", "会员"}, {"name", "新"}});
  CHECK(nothing.status == 400);
  CHECK(f.Call("GET", "/api/v1/tags").body["items"].size() == 1);  // nothing was created
}

TEST_CASE("PUT tag-groups/{name} sets a group's decay, keeping a member left out",
          "[integration]") {
  ApiFixture f;
  const int64_t customer = OaCustomer(f, "oT1");
  Tag(f, customer, kProductA, 1);

  auto r = f.Call("PUT", kInterestPath, json{{"half_life_days", 7}}, model::Role::kMarketing);
  REQUIRE(r.status == 200);
  CHECK(r.body["name"] == "兴趣");
  CHECK(r.body["half_life_days"] == 7);
  CHECK(r.body["threshold"] == 1.0);
  r = f.Call("PUT", kInterestPath, json{{"threshold", 2.5}});
  REQUIRE(r.status == 200);
  CHECK(r.body["half_life_days"] == 7);
  CHECK(r.body["threshold"] == 2.5);

  // A new group starts from the defaults.
  r = f.Call("PUT", "/api/v1/tag-groups/a%2Fb", json{{"threshold", 3}});
  REQUIRE(r.status == 200);
  CHECK(r.body["name"] == "a/b");
  CHECK(r.body["half_life_days"] == 30);

  auto groups = f.Call("GET", "/api/v1/tag-groups", nullptr, model::Role::kReadonly);
  REQUIRE(groups.status == 200);
  REQUIRE(groups.body["groups"].size() == 2);
  CHECK(groups.body["groups"][0]["name"] == "兴趣");
  CHECK(groups.body["groups"][0]["half_life_days"] == 7);
  // The tags read the group's decay.
  auto tag = f.Call("GET", "/api/v1/tags/" + std::to_string(TagId(f, kProductA)));
  CHECK(tag.body["half_life_days"] == 7);
  CHECK(tag.body["threshold"] == 2.5);
  // ... and so do the customers' views: 1 is below the new threshold.
  CHECK_FALSE(f.p.View(customer).tags.at(0).held);
}

TEST_CASE("PUT tag-groups/{name} refuses a bad body with 400 and changes nothing",
          "[integration]") {
  ApiFixture f;
  REQUIRE(f.p.service.editor.ConfigureTagGroup("兴趣", 30, 1).ok());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "body:"},
      {"{}", "body: must set"},
      {R"({"half_life":7})", "half_life:"},
      {R"({"half_life_days":-1})", "half_life_days:"},
      {R"({"half_life_days":3651})", "half_life_days:"},
      {R"({"half_life_days":7.5})", "half_life_days:"},
      {R"({"half_life_days":null})", "half_life_days:"},
      {R"({"threshold":"2"})", "threshold:"},
      {R"({"threshold":null})", "threshold:"},
      {R"({"threshold":1e999})", "body:"},  // not JSON nlohmann accepts as a finite number
  };
  for (const auto& [body, prefix] : cases) {
    INFO(body);
    auto r = f.CallWithSecret("PUT", kInterestPath, f.key.at(model::Role::kAdmin), body);
    CHECK(r.status == 400);
    CHECK(ErrorMessage(r).rfind(prefix, 0) == 0);
  }
  auto long_name =
      f.Call("PUT", "/api/v1/tag-groups/" + std::string(65, 'g'), json{{"threshold", 2}});
  CHECK(long_name.status == 400);
  CHECK(ErrorMessage(long_name).rfind("name:", 0) == 0);
  auto groups = f.Call("GET", "/api/v1/tag-groups");
  REQUIRE(groups.body["groups"].size() == 1);
  CHECK(groups.body["groups"][0]["half_life_days"] == 30);
  CHECK(groups.body["groups"][0]["threshold"] == 1.0);
}

TEST_CASE("tag routes let every role read and only admin and marketing write", "[integration]") {
  ApiFixture f;
  REQUIRE(f.p.service.editor.MapTag(kVip, "etVIP", 0).ok());
  const int64_t id = TagId(f, kVip);
  for (model::Role role : {model::Role::kAdmin, model::Role::kMarketing, model::Role::kSales,
                           model::Role::kReadonly}) {
    INFO(model::RoleName(role));
    CHECK(f.Call("GET", "/api/v1/tags", nullptr, role).status == 200);
    CHECK(f.Call("GET", "/api/v1/tags/" + std::to_string(id), nullptr, role).status == 200);
    CHECK(f.Call("GET", "/api/v1/tag-groups", nullptr, role).status == 200);
  }
  for (model::Role role : {model::Role::kSales, model::Role::kReadonly}) {
    INFO(model::RoleName(role));
    auto r = f.Call("PUT", MappingPath(id), json{{"oa_tag_id", 5}}, role);
    CHECK(r.status == 403);
    CHECK(ErrorCode(r) == "permission_denied");
    CHECK(f.Call("PUT", "/api/v1/tags/mapping",
                 json{{"group", "g"}, {"name", "n"}, {"oa_tag_id", 5}}, role)
              .status == 403);
    CHECK(f.Call("PUT", kInterestPath, json{{"threshold", 5}}, role).status == 403);
  }
  CHECK(f.CallWithSecret("GET", "/api/v1/tags", "").status == 401);
  CHECK(f.Call("GET", "/api/v1/tags/" + std::to_string(id)).body["oa_tag_id"] == "0");
  CHECK(f.Call("GET", "/api/v1/tag-groups").body["groups"].size() == 1);
}

}  // namespace
}  // namespace scrm::api
