// /api/v1/customers, /api/v1/merges and /api/v1/tasks against a real HttpServer on loopback
// with a real SQLite file: happy paths, roles, and the 400 / 404 answers.
#include "src/api/customer_routes.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "tests/api/api_test_helpers.h"

namespace scrm::api {
namespace {

using profiles::testing::ExampleRules;
using profiles::testing::kHour;
using testing::ApiFixture;
using testing::ApiId;
using testing::ErrorCode;
using testing::ErrorMessage;
using testing::IdStr;
using testing::json;

// An OA follower who subscribed through a channel QR code and asked about 产品A (example
// rules 7 and 1); returns the customer id and sets the ids of the two interactions.
int64_t ChannelFollower(ApiFixture& f, const std::string& openid, int64_t* subscribe_id = nullptr,
                        int64_t* text_id = nullptr) {
  auto subscribe = f.p.OaEvent(openid, model::InteractionKind::kSubscribe,
                               model::QrScenePayload{"channel_expo", "TICKET"});
  f.p.Apply(subscribe);
  f.p.clock.Advance(std::chrono::minutes(5));
  auto text = f.p.OaText(openid, "你好，想了解一下产品A的价格");
  f.p.Apply(text);
  if (subscribe_id != nullptr) *subscribe_id = subscribe.id;
  if (text_id != nullptr) *text_id = text.id;
  return f.p.ByOpenid(openid);
}

const json* TagIn(const json& view, const std::string& group, const std::string& name) {
  for (const auto& tag : view["tags"]) {
    if (tag["group"] == group && tag["name"] == name) return &tag;
  }
  return nullptr;
}

TEST_CASE("GET customer answers identities, tags with evidence, stage and counters",
          "[integration]") {
  ApiFixture f(ExampleRules());
  int64_t subscribe_id = 0;
  int64_t text_id = 0;
  const int64_t id = ChannelFollower(f, "oAPI1", &subscribe_id, &text_id);

  const auto r =
      f.Call("GET", "/api/v1/customers/" + std::to_string(id), nullptr, model::Role::kReadonly);
  REQUIRE(r.status == 200);
  const json& c = r.body;
  CHECK(ApiId(c["id"]) == id);
  CHECK(c["stage"] == "engaged");
  CHECK(c["merged_into"].is_null());
  CHECK(c["counters"]["interactions"] == 2);
  CHECK(c["counters"]["messages"] == 1);
  CHECK(c["first_interaction_at_ms"] == profiles::testing::kT0);
  CHECK(c["last_interaction_at_ms"] == profiles::testing::kT0 + 5 * 60 * 1000);
  CHECK(c["attributes"]["source_channel"] == "oa_qr");
  CHECK(c["channel"] == "channel_expo");  // the subscribe's QR scene: first touch
  REQUIRE(c["identities"].size() == 1);
  CHECK(c["identities"][0]["platform"] == "oa");
  CHECK(c["identities"][0]["kind"] == "openid");
  CHECK(c["identities"][0]["value"] == "oAPI1");
  REQUIRE(c["followers"].size() == 1);
  CHECK(c["followers"][0]["state"] == "active");

  const json* interest = TagIn(c, "兴趣", "产品A");
  REQUIRE(interest != nullptr);
  CHECK((*interest)["score"].get<double>() == Approx(2.0));
  CHECK((*interest)["held"] == true);
  CHECK((*interest)["source"] == "rule");
  CHECK((*interest)["evidence"]["rule_id"] == "1");
  CHECK((*interest)["evidence"]["rule_version"] == 1);
  CHECK(ApiId((*interest)["evidence"]["interaction_id"]) == text_id);
  const json* channel = TagIn(c, "渠道", "公众号渠道码");
  REQUIRE(channel != nullptr);
  CHECK((*channel)["evidence"]["rule_id"] == "7");
  CHECK(ApiId((*channel)["evidence"]["interaction_id"]) == subscribe_id);
}

TEST_CASE("GET customer shows decayed scores as the clock moves", "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t id = ChannelFollower(f, "oDecay");
  f.p.clock.Advance(std::chrono::hours(24 * 30));  // one half-life of the default group
  const auto r = f.Call("GET", "/api/v1/customers/" + std::to_string(id));
  REQUIRE(r.status == 200);
  const json* interest = TagIn(r.body, "兴趣", "产品A");
  REQUIRE(interest != nullptr);
  CHECK((*interest)["score"].get<double>() == Approx(1.0).epsilon(0.01));
  CHECK((*interest)["stored_score"].get<double>() == Approx(2.0));
}

TEST_CASE("customer routes answer 401 without a key or with an unknown key", "[integration]") {
  ApiFixture f;
  for (const std::string path : {"/api/v1/customers/1", "/api/v1/customers",
                                 "/api/v1/customers/1/timeline", "/api/v1/tasks?owner=a"}) {
    CAPTURE(path);
    auto none = f.CallWithSecret("GET", path, "");
    CHECK(none.status == 401);
    CHECK(ErrorCode(none) == "unauthenticated");
    CHECK(f.CallWithSecret("GET", path, "scrm_0000000000000000000000000000000000000000").status ==
          401);
  }
  CHECK(f.CallWithSecret("POST", "/api/v1/customers/1/merge", "", R"({"other":2})").status == 401);
  CHECK(f.CallWithSecret("DELETE", "/api/v1/customers/1/tags?group=a&name=b", "").status == 401);
  CHECK(f.CallWithSecret("PATCH", "/api/v1/tasks/1", "", R"({"status":"done"})").status == 401);
}

TEST_CASE("customer routes answer 403 to roles that may not change what they ask",
          "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t id = ChannelFollower(f, "oRoles");
  const std::string base = "/api/v1/customers/" + std::to_string(id);
  const json tag = {{"group", "VIP"}, {"name", "金卡"}, {"weight", 2}};
  auto r = f.Call("POST", base + "/tags", tag, model::Role::kReadonly);
  CHECK(r.status == 403);
  CHECK(ErrorCode(r) == "permission_denied");
  CHECK(f.Call("DELETE", base + "/tags", tag, model::Role::kReadonly).status == 403);
  CHECK(f.Call("POST", base + "/merge", json{{"other", 99}}, model::Role::kReadonly).status == 403);
  CHECK(f.Call("POST", base + "/merge", json{{"other", 99}}, model::Role::kMarketing).status ==
        403);
  CHECK(f.Call("POST", "/api/v1/merges/1/undo", nullptr, model::Role::kMarketing).status == 403);
  CHECK(
      f.Call("PATCH", "/api/v1/tasks/1", json{{"status", "done"}}, model::Role::kReadonly).status ==
      403);
  CHECK(f.Call("PATCH", "/api/v1/tasks/1", json{{"status", "done"}}, model::Role::kMarketing)
            .status == 403);
  // Every role reads.
  for (auto role : {model::Role::kAdmin, model::Role::kMarketing, model::Role::kSales,
                    model::Role::kReadonly}) {
    CHECK(f.Call("GET", base, nullptr, role).status == 200);
  }
  // Marketing and sales may tag.
  CHECK(f.Call("POST", base + "/tags", tag, model::Role::kMarketing).status == 200);
  CHECK(f.Call("POST", base + "/tags", tag, model::Role::kSales).status == 200);
}

TEST_CASE("customer routes answer 404 for unknown customers, merges and tasks", "[integration]") {
  ApiFixture f;
  auto r = f.Call("GET", "/api/v1/customers/424242");
  CHECK(r.status == 404);
  CHECK(ErrorCode(r) == "not_found");
  CHECK(f.Call("GET", "/api/v1/customers/424242/timeline").status == 404);
  CHECK(
      f.Call("POST", "/api/v1/customers/424242/tags", json{{"group", "a"}, {"name", "b"}}).status ==
      404);
  CHECK(f.Call("POST", "/api/v1/merges/77/undo").status == 404);
  CHECK(f.Call("PATCH", "/api/v1/tasks/77", json{{"status", "done"}}).status == 404);
  CHECK(f.Call("GET", "/api/v1/customers/by-identity?platform=oa&account=oa1&external_id=nobody")
            .status == 404);
  // Not an id: no route.
  CHECK(f.Call("GET", "/api/v1/customers/abc").status == 404);
}

TEST_CASE("customer routes answer 400 naming the parameter or member at fault", "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t id = ChannelFollower(f, "oBad");
  const std::string base = "/api/v1/customers/" + std::to_string(id);
  const auto expect_400 = [](const testing::Reply& r, const std::string& field) {
    CAPTURE(r.body.dump());
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "invalid_argument");
    CHECK(ErrorMessage(r).rfind(field + ":", 0) == 0);
  };
  expect_400(f.Call("GET", base + "/timeline?limit=0"), "limit");
  expect_400(f.Call("GET", base + "/timeline?after=x"), "after");
  expect_400(f.Call("GET", "/api/v1/customers?stage=vip"), "stage");
  expect_400(f.Call("GET", "/api/v1/customers?tag=nocolon"), "tag");
  expect_400(f.Call("GET", "/api/v1/customers?limit=1001"), "limit");
  expect_400(f.Call("GET", "/api/v1/customers?updated_after=-1"), "updated_after");
  expect_400(f.Call("GET", "/api/v1/customers/by-identity?platform=oa&account=oa1"), "external_id");
  expect_400(f.Call("GET", "/api/v1/customers/by-identity?platform=erp&external_id=1"), "kind");
  expect_400(f.Call("GET", "/api/v1/customers/by-identity?kind=email&external_id=1"), "kind");
  expect_400(f.Call("POST", base + "/tags", json{{"name", "b"}}), "group");
  expect_400(f.Call("POST", base + "/tags", json{{"group", "a"}, {"name", "b"}, {"weight", "x"}}),
             "weight");
  expect_400(f.Call("POST", base + "/tags", json{{"group", "a"}, {"name", "b"}, {"colour", 1}}),
             "colour");
  expect_400(f.CallWithSecret("POST", base + "/tags", f.key.at(model::Role::kAdmin), "[1,2"),
             "body");
  expect_400(f.Call("DELETE", base + "/tags"), "group");
  expect_400(f.Call("POST", base + "/merge", json{{"reason", "dup"}}), "other");
  expect_400(f.Call("POST", base + "/merge", json{{"other", "2x"}}), "other");
  expect_400(f.Call("POST", base + "/merge", json{{"other", 2.5}}), "other");
  expect_400(f.Call("POST", base + "/merge", json{{"other", "-2"}}), "other");
  expect_400(f.Call("GET", "/api/v1/tasks"), "owner");
  expect_400(f.Call("GET", "/api/v1/tasks?owner=a&status=later"), "status");
  expect_400(f.Call("PATCH", "/api/v1/tasks/1", json{{"status", "maybe"}}), "status");
  // The service's own checks come back as 400 too.
  auto self = f.Call("POST", base + "/merge", json{{"other", id}});
  CHECK(self.status == 400);
  auto weight = f.Call("POST", base + "/tags", json{{"group", "a"}, {"name", "b"}, {"weight", 0}});
  CHECK(weight.status == 400);
}

TEST_CASE("GET timeline pages through a customer's history in order", "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t id = ChannelFollower(f, "oTimeline");
  f.p.Apply(f.p.OaText("oTimeline", "第二条"));
  const std::string base = "/api/v1/customers/" + std::to_string(id) + "/timeline";
  auto all = f.Call("GET", base);
  REQUIRE(all.status == 200);
  REQUIRE(all.body["items"].size() >= 3);
  CHECK(all.body["next_after"].is_null());
  CHECK(all.body["items"][0]["kind"] == "oa.subscribe");
  int64_t previous = 0;
  for (const auto& entry : all.body["items"]) {
    CHECK(ApiId(entry["id"]) > previous);
    previous = ApiId(entry["id"]);
  }
  // Paging with limit=1 visits the same entries.
  std::vector<int64_t> paged;
  int64_t after = 0;
  for (int guard = 0; guard < 20; ++guard) {
    auto page = f.Call("GET", base + "?limit=1&after=" + std::to_string(after));
    REQUIRE(page.status == 200);
    for (const auto& entry : page.body["items"]) paged.push_back(ApiId(entry["id"]));
    if (page.body["next_after"].is_null()) break;
    after = ApiId(page.body["next_after"]);
  }
  REQUIRE(paged.size() == all.body["items"].size());
  for (size_t i = 0; i < paged.size(); ++i) CHECK(paged[i] == ApiId(all.body["items"][i]["id"]));
}

TEST_CASE("GET customers filters by tag, stage, owner, q and updated_after and pages by id",
          "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t a = ChannelFollower(f, "oListA");
  f.p.Apply(f.p.OaEvent("oListB", model::InteractionKind::kSubscribe));
  const int64_t b = f.p.ByOpenid("oListB");
  f.p.Apply(f.p.Contact(model::InteractionKind::kContactAdd, "wmListC", "zhangsan"));
  const int64_t c = f.p.ByExternal("wmListC");

  const auto ids = [&](const std::string& query) {
    auto r = f.Call("GET", "/api/v1/customers" + query, nullptr, model::Role::kReadonly);
    REQUIRE(r.status == 200);
    std::vector<int64_t> out;
    for (const auto& item : r.body["items"]) out.push_back(ApiId(item["id"]));
    return out;
  };
  CHECK(ids("") == std::vector<int64_t>{a, b, c});
  CHECK(ids("?tag=%E5%85%B4%E8%B6%A3:%E4%BA%A7%E5%93%81A") ==
        std::vector<int64_t>{a});  // 兴趣:产品A
  CHECK(ids("?tag=never:used").empty());
  CHECK(ids("?stage=new") == std::vector<int64_t>{b, c});
  CHECK(ids("?stage=engaged") == std::vector<int64_t>{a});
  CHECK(ids("?owner=zhangsan") == std::vector<int64_t>{c});
  CHECK(ids("?q=oListB") == std::vector<int64_t>{b});
  CHECK(ids("?q=oa_qr") == std::vector<int64_t>{a});  // an attribute value
  CHECK(ids("?updated_after=" + std::to_string(profiles::testing::kT0 + 1)) ==
        std::vector<int64_t>{a, b, c});
  CHECK(ids("?updated_after=" + std::to_string(profiles::testing::kT0 + 10 * kHour)).empty());

  auto first = f.Call("GET", "/api/v1/customers?limit=2");
  REQUIRE(first.status == 200);
  CHECK(first.body["items"].size() == 2);
  CHECK(first.body["next_after"] == IdStr(b));
  CHECK(ids("?limit=2&after=" + std::to_string(b)) == std::vector<int64_t>{c});

  // Two half-lives later 兴趣:产品A (2 points, threshold 1) has faded to 0.5: a tag filter keeps
  // holders by default, held=false the faded, held=any both.
  f.p.clock.Advance(std::chrono::hours(24 * 60));
  const std::string interest = "?tag=%E5%85%B4%E8%B6%A3:%E4%BA%A7%E5%93%81A";
  CHECK(ids(interest).empty());
  CHECK(ids(interest + "&held=true").empty());
  CHECK(ids(interest + "&held=false") == std::vector<int64_t>{a});
  CHECK(ids(interest + "&held=any") == std::vector<int64_t>{a});
  auto bad = f.Call("GET", "/api/v1/customers" + interest + "&held=maybe");
  CHECK(bad.status == 400);
  CHECK(ErrorMessage(bad).rfind("held:", 0) == 0);
}

TEST_CASE("POST and DELETE customer tags add a manual tag and remove it", "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t id = ChannelFollower(f, "oManual");
  const std::string base = "/api/v1/customers/" + std::to_string(id);
  auto added =
      f.Call("POST", base + "/tags", json{{"group", "客户等级"}, {"name", "金卡"}, {"weight", 3}},
             model::Role::kSales);
  REQUIRE(added.status == 200);
  CHECK(added.body["source"] == "manual");
  CHECK(added.body["score"].get<double>() == Approx(3));
  CHECK(added.body["held"] == true);
  CHECK(added.body["evidence"].is_null());
  auto view = f.Call("GET", base);
  REQUIRE(TagIn(view.body, "客户等级", "金卡") != nullptr);

  // By body.
  auto removed = f.Call("DELETE", base + "/tags", json{{"group", "客户等级"}, {"name", "金卡"}});
  REQUIRE(removed.status == 200);
  CHECK(removed.body["removed"] == true);
  CHECK(TagIn(f.Call("GET", base).body, "客户等级", "金卡") == nullptr);
  // By query; a tag the customer does not have is a 404.
  auto query_remove = f.Call(
      "DELETE", base + "/tags?group=%E5%85%B4%E8%B6%A3&name=%E4%BA%A7%E5%93%81A");  // 兴趣/产品A
  CHECK(query_remove.status == 200);
  CHECK(TagIn(f.Call("GET", base).body, "兴趣", "产品A") == nullptr);
  CHECK(f.Call("DELETE", base + "/tags", json{{"group", "客户等级"}, {"name", "金卡"}}).status ==
        404);
}

TEST_CASE("POST customer tags keeps a default-weight manual tag held past the decay",
          "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t id = ChannelFollower(f, "oHeld");
  const std::string base = "/api/v1/customers/" + std::to_string(id);
  const json vip = {{"group", "客户等级"}, {"name", "重点客户"}};  // default weight 1 = threshold
  auto added = f.Call("POST", base + "/tags", vip, model::Role::kSales);
  REQUIRE(added.status == 200);
  CHECK(added.body["held"] == true);
  CHECK(added.body["decays"] == false);
  CHECK(added.body["already_held"] == false);
  CHECK(added.body["score"].get<double>() == Approx(1));

  // Adding it again changes nothing: no second weight.
  auto again = f.Call("POST", base + "/tags", vip, model::Role::kMarketing);
  REQUIRE(again.status == 200);
  CHECK(again.body["already_held"] == true);
  CHECK(again.body["stored_score"].get<double>() == Approx(1));
  CHECK(again.body["updated_at_ms"] == added.body["updated_at_ms"]);

  // A second, then a year: still held, at its weight; the tag filter finds the customer.
  f.p.clock.Advance(std::chrono::seconds(1));
  CHECK((*TagIn(f.Call("GET", base).body, "客户等级", "重点客户"))["held"] == true);
  f.p.clock.Advance(std::chrono::hours(24 * 365));
  const json view = f.Call("GET", base).body;
  const json* tag = TagIn(view, "客户等级", "重点客户");
  REQUIRE(tag != nullptr);
  CHECK((*tag)["held"] == true);
  CHECK((*tag)["score"].get<double>() == Approx(1));
  auto holders = f.Call(
      "GET", "/api/v1/customers?tag=" + std::string("%E5%AE%A2%E6%88%B7%E7%AD%89%E7%BA%A7:") +
                 "%E9%87%8D%E7%82%B9%E5%AE%A2%E6%88%B7");  // 客户等级:重点客户
  REQUIRE(holders.status == 200);
  REQUIRE(holders.body["items"].size() == 1);
  CHECK(holders.body["items"][0]["id"] == IdStr(id));

  // Asked for, a manual tag decays like a rule's: 2 points fade below 1 after one half-life.
  auto fading =
      f.Call("POST", base + "/tags",
             json{{"group", "客户等级"}, {"name", "试用"}, {"weight", 2}, {"decay", true}});
  REQUIRE(fading.status == 200);
  CHECK(fading.body["decays"] == true);
  f.p.clock.Advance(std::chrono::hours(24 * 31));
  const json later = f.Call("GET", base).body;
  REQUIRE(TagIn(later, "客户等级", "试用") != nullptr);
  CHECK((*TagIn(later, "客户等级", "试用"))["held"] == false);
  CHECK((*TagIn(later, "客户等级", "重点客户"))["held"] == true);
  // A faded manual tag is added again (not "already held").
  auto refreshed =
      f.Call("POST", base + "/tags",
             json{{"group", "客户等级"}, {"name", "试用"}, {"weight", 2}, {"decay", true}});
  CHECK(refreshed.body["already_held"] == false);
  CHECK(refreshed.body["held"] == true);

  // Removed, it is gone; added again, held again.
  REQUIRE(f.Call("DELETE", base + "/tags", vip).status == 200);
  CHECK(TagIn(f.Call("GET", base).body, "客户等级", "重点客户") == nullptr);
  CHECK(f.Call("POST", base + "/tags", vip).body["already_held"] == false);

  auto bad = f.Call("POST", base + "/tags", json{{"group", "a"}, {"name", "b"}, {"decay", "yes"}});
  CHECK(bad.status == 400);
  CHECK(ErrorMessage(bad).rfind("decay:", 0) == 0);
}

TEST_CASE("GET by-identity resolves openid, external_userid and an explicit kind",
          "[integration]") {
  ApiFixture f;
  f.p.Apply(f.p.OaEvent("oIdent", model::InteractionKind::kSubscribe));
  f.p.Apply(f.p.Contact(model::InteractionKind::kContactAdd, "wmIdent", "lisi"));
  const int64_t oa = f.p.ByOpenid("oIdent");
  const int64_t wecom = f.p.ByExternal("wmIdent");
  auto r = f.Call("GET", "/api/v1/customers/by-identity?platform=oa&account=oa1&external_id=oIdent",
                  nullptr, model::Role::kSales);
  REQUIRE(r.status == 200);
  CHECK(r.body["id"] == IdStr(oa));
  CHECK(r.body["identities"][0]["value"] == "oIdent");
  r = f.Call("GET",
             "/api/v1/customers/by-identity?platform=wecom&account=corp1&external_id=wmIdent");
  REQUIRE(r.status == 200);
  CHECK(r.body["id"] == IdStr(wecom));
  r = f.Call(
      "GET",
      "/api/v1/customers/by-identity?platform=wecom&account=corp1&kind=external_userid&external_id="
      "wmIdent");
  CHECK(r.status == 200);
  // The same value under another kind is somebody else (nobody).
  r = f.Call("GET",
             "/api/v1/customers/by-identity?platform=wecom&account=corp1&kind=openid&external_id="
             "wmIdent");
  CHECK(r.status == 404);
}

TEST_CASE("POST merge then POST undo restores both customers exactly", "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t a = ChannelFollower(f, "oMergeA");
  f.p.Apply(f.p.Contact(model::InteractionKind::kContactAdd, "wmMergeB", "wangwu", "channel_b"));
  const int64_t b = f.p.ByExternal("wmMergeB");
  const std::string path_a = "/api/v1/customers/" + std::to_string(a);
  const std::string path_b = "/api/v1/customers/" + std::to_string(b);
  const json before_a = f.Call("GET", path_a).body;
  const json before_b = f.Call("GET", path_b).body;
  const json timeline_a = f.Call("GET", path_a + "/timeline").body;
  const json timeline_b = f.Call("GET", path_b + "/timeline").body;

  auto merged = f.Call("POST", path_a + "/merge", json{{"other", IdStr(b)}, {"reason", "同一个人"}},
                       model::Role::kSales);
  REQUIRE(merged.status == 200);
  CHECK(merged.body["survivor_id"] == IdStr(a));
  CHECK(merged.body["merged_id"] == IdStr(b));
  CHECK(merged.body["reason"] == "同一个人");
  CHECK(merged.body["undone_at_ms"].is_null());
  const int64_t merge_id = ApiId(merged.body["id"]);

  const json survivor = f.Call("GET", path_a).body;
  CHECK(survivor["identities"].size() == 2);
  CHECK(TagIn(survivor, "渠道", "企微联系我") != nullptr);
  CHECK(survivor["owner_userid"] == "wangwu");
  const json gone = f.Call("GET", path_b).body;
  CHECK(gone["merged_into"] == IdStr(a));
  CHECK(gone["identities"].empty());
  // Merging a merged customer again is refused.
  CHECK(f.Call("POST", path_a + "/merge", json{{"other", b}}).status == 400);

  auto undone = f.Call("POST", "/api/v1/merges/" + std::to_string(merge_id) + "/undo", nullptr,
                       model::Role::kSales);
  REQUIRE(undone.status == 200);
  CHECK(undone.body["undone_at_ms"].is_number());
  // Both exactly as before, merge records aside.
  json after_a = f.Call("GET", path_a).body;
  json after_b = f.Call("GET", path_b).body;
  CHECK(after_a["merges"].size() == 1);
  CHECK(after_b["merges"].size() == 1);
  json expect_a = before_a;
  json expect_b = before_b;
  for (json* j : {&after_a, &after_b, &expect_a, &expect_b}) j->erase("merges");
  CHECK(after_a.dump() == expect_a.dump());
  CHECK(after_b.dump() == expect_b.dump());
  CHECK(f.Call("GET", path_a + "/timeline").body == timeline_a);
  CHECK(f.Call("GET", path_b + "/timeline").body == timeline_b);
  // A second undo is refused.
  auto again = f.Call("POST", "/api/v1/merges/" + std::to_string(merge_id) + "/undo");
  CHECK(again.status == 400);
  CHECK(ErrorCode(again) == "failed_precondition");
}

TEST_CASE("POST identities with a unionid another customer holds merges them, once",
          "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t a = ChannelFollower(f, "oLinkA");
  f.p.Apply(f.p.Contact(model::InteractionKind::kContactAdd, "wmLinkB", "wangwu", "channel_b"));
  const int64_t b = f.p.ByExternal("wmLinkB");
  const std::string path_a = "/api/v1/customers/" + std::to_string(a);
  const std::string path_b = "/api/v1/customers/" + std::to_string(b);
  const json unionid{{"kind", "unionid"}, {"value", "uLINK"}};

  auto first = f.Call("POST", path_b + "/identities", unionid, model::Role::kSales);
  REQUIRE(first.status == 200);
  CHECK(first.body["customer_id"] == IdStr(b));
  CHECK(first.body["merge"].is_null());
  // The older customer (a) learns the same unionid: one person, b merges into a.
  auto second = f.Call("POST", path_a + "/identities", unionid, model::Role::kSales);
  REQUIRE(second.status == 200);
  CHECK(second.body["customer_id"] == IdStr(a));
  REQUIRE(second.body["merge"].is_object());
  CHECK(second.body["merge"]["survivor_id"] == IdStr(a));
  CHECK(second.body["merge"]["merged_id"] == IdStr(b));
  CHECK(second.body["merge"]["reason"] == "unionid");
  const json survivor = f.Call("GET", path_a).body;
  CHECK(survivor["identities"].size() == 3);
  CHECK(f.Call("GET", path_b).body["merged_into"] == IdStr(a));
  // Linking again changes nothing.
  auto again = f.Call("POST", path_a + "/identities", unionid, model::Role::kSales);
  REQUIRE(again.status == 200);
  CHECK(again.body["merge"].is_null());
  CHECK(f.Call("GET", path_a).body["merges"].size() == 1);

  // After an operator undoes it, the unionid does not merge the pair again.
  const int64_t merge_id = ApiId(second.body["merge"]["id"]);
  REQUIRE(f.Call("POST", "/api/v1/merges/" + std::to_string(merge_id) + "/undo").status == 200);
  auto after_undo = f.Call("POST", path_b + "/identities", unionid, model::Role::kSales);
  REQUIRE(after_undo.status == 200);
  CHECK(after_undo.body["merge"].is_null());
  CHECK(f.Call("GET", path_b).body["merged_into"].is_null());
}

TEST_CASE("POST identities attaches a phone, refuses one another customer has and bad kinds",
          "[integration]") {
  ApiFixture f(ExampleRules());
  const int64_t a = ChannelFollower(f, "oPhoneA");
  const int64_t b = ChannelFollower(f, "oPhoneB");
  const std::string path_a = "/api/v1/customers/" + std::to_string(a);
  const json phone{{"kind", "phone"}, {"value", "+8613800000000"}};
  auto added = f.Call("POST", path_a + "/identities", phone, model::Role::kSales);
  REQUIRE(added.status == 200);
  CHECK(added.body["identity"]["kind"] == "phone");
  CHECK(added.body["identity"]["value"] == "+8613800000000");
  auto taken = f.Call("POST", "/api/v1/customers/" + std::to_string(b) + "/identities", phone,
                      model::Role::kSales);
  CHECK(taken.status == 409);
  auto erp = f.Call("POST", path_a + "/identities",
                    json{{"kind", "external"}, {"value", "C-1001"}, {"platform", "erp"}},
                    model::Role::kSales);
  REQUIRE(erp.status == 200);
  CHECK(erp.body["identity"]["platform"] == "erp");

  auto openid = f.Call("POST", path_a + "/identities", json{{"kind", "openid"}, {"value", "oX"}},
                       model::Role::kSales);
  CHECK(openid.status == 400);
  CHECK(ErrorMessage(openid).rfind("kind:", 0) == 0);
  auto typo = f.Call("POST", path_a + "/identities", json{{"kind", "phone"}, {"valu", "1"}},
                     model::Role::kSales);
  CHECK(typo.status == 400);
  CHECK(f.Call("POST", path_a + "/identities", phone, model::Role::kMarketing).status == 403);
  CHECK(f.Call("POST", "/api/v1/customers/999999/identities", phone, model::Role::kSales).status ==
        404);
}

TEST_CASE("GET tasks lists an owner's tasks and PATCH task sets the status", "[integration]") {
  ApiFixture f;
  f.p.Apply(f.p.Contact(model::InteractionKind::kContactAdd, "wmTask", "zhaoliu"));
  f.p.Apply(f.p.Contact(model::InteractionKind::kContactDelete, "wmTask", "zhaoliu"));
  auto open =
      f.Call("GET", "/api/v1/tasks?owner=zhaoliu&status=open", nullptr, model::Role::kReadonly);
  REQUIRE(open.status == 200);
  REQUIRE(open.body["items"].size() == 1);
  const int64_t task_id = ApiId(open.body["items"][0]["id"]);
  CHECK(open.body["items"][0]["customer_id"] == IdStr(f.p.ByExternal("wmTask")));

  auto patched = f.Call("PATCH", "/api/v1/tasks/" + std::to_string(task_id),
                        json{{"status", "done"}}, model::Role::kSales);
  REQUIRE(patched.status == 200);
  CHECK(patched.body["status"] == "done");
  CHECK(f.Call("GET", "/api/v1/tasks?owner=zhaoliu&status=open").body["items"].empty());
  CHECK(f.Call("GET", "/api/v1/tasks?owner=zhaoliu&status=done").body["items"].size() == 1);
  CHECK(f.Call("GET", "/api/v1/tasks?owner=nobody").body["items"].empty());
}

}  // namespace
}  // namespace scrm::api
