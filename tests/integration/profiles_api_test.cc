// From callback bytes to a customer profile, end to end: the real scrmd process with the example
// tag rules, real protocol bytes from the simulator (an OA subscribe through a channel QR code, a
// WeCom add_external_contact with a State, a keyword message), the ingest worker, and the
// /api/v1 profile and tag-rule routes.
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "sim/callback_builder.h"
#include "tests/integration/scrmd_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

int64_t ProfilesApiNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Send(int port, const sim::SimRequest& req, const std::string& expect_body) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto r = client.Post(req.path_and_query.c_str(), req.body, "text/xml");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->body == expect_body);
}

std::string OaSubscribeXml(const std::string& openid, const std::string& scene, int64_t at) {
  // PROTOCOL §3.2: subscribe through a parametric QR code, EventKey = "qrscene_" + scene.
  return "<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[" + openid +
         "]]></FromUserName><CreateTime>" + std::to_string(at) +
         "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
         "<EventKey><![CDATA[qrscene_" +
         scene + "]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRw]]></Ticket></xml>";
}

const json* TagIn(const json& view, const std::string& group, const std::string& name) {
  for (const auto& tag : view["tags"]) {
    if (tag["group"] == group && tag["name"] == name) return &tag;
  }
  return nullptr;
}

TEST_CASE("scrmd builds one profile from OA and WeCom callbacks with channel and interest tags",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(
      dir, {{"accounts", DemoAccounts()},
            {"tag_rules_file", scrm::testing::SourcePath("config/tag_rules.example.json")}});
  const std::string admin_key = CreateKey(config, "admin", "admin");
  const std::string sales_key = CreateKey(config, "sales", "sales");
  ScrmdServer server(config);
  ApiClient admin(server.port, admin_key);
  ApiClient sales(server.port, sales_key);
  auto oa = sim::CallbackBuilder::Create(kToken, kAesKey, kAppId, 11);
  auto wecom = sim::CallbackBuilder::Create(kToken, kAesKey, kCorpId, 12);
  REQUIRE(oa.ok());
  REQUIRE(wecom.ok());

  // 1. OA follower through the QR code of scene channel_expo.
  Send(server.port,
       oa->OaSafePost("/callbacks/oa/shop",
                      OaSubscribeXml("oFLOW1", "channel_expo", ProfilesApiNow()), "oFLOW1",
                      ProfilesApiNow()),
       "success");
  // 2. The same person adds sales member zhangsan through a 联系我 code with State channel_expo.
  Send(server.port,
       wecom->WecomPost("/callbacks/wecom/acme",
                        sim::CallbackBuilder::WecomContactAddXml(kCorpId, "zhangsan", "wmFLOW1",
                                                                 "channel_expo", ProfilesApiNow()),
                        ProfilesApiNow()),
       "");

  const json oa_customer =
      sales.WaitFor("/api/v1/customers/by-identity?platform=oa&account=shop&external_id=oFLOW1",
                    [](const json&) { return true; });
  const json wecom_customer =
      sales.WaitFor("/api/v1/customers/by-identity?platform=wecom&account=acme&external_id=wmFLOW1",
                    [](const json&) { return true; });
  const int64_t oa_id = ApiId(oa_customer["id"]);
  const int64_t wecom_id = ApiId(wecom_customer["id"]);
  // Callbacks carry no unionid (PROTOCOL §5: it comes later, from user/info or
  // externalcontact/get), so the two are different customers until it arrives. It arrives
  // for each of them (as enrichment would give it): the second one finds the first holding it,
  // and the two merge, the older surviving.
  REQUIRE(oa_id != wecom_id);
  auto [link_oa_status, link_oa] =
      sales.Post("/api/v1/customers/" + std::to_string(oa_id) + "/identities",
                 {{"kind", "unionid"}, {"value", "uFLOW1"}});
  REQUIRE(link_oa_status == 200);
  CHECK(link_oa["customer_id"] == IdStr(oa_id));
  CHECK(link_oa["merge"].is_null());
  auto [link_status, link] =
      sales.Post("/api/v1/customers/" + std::to_string(wecom_id) + "/identities",
                 {{"kind", "unionid"}, {"value", "uFLOW1"}});
  REQUIRE(link_status == 200);
  CHECK(link["customer_id"] == IdStr(oa_id));
  REQUIRE(link["merge"].is_object());
  CHECK(link["merge"]["survivor_id"] == IdStr(oa_id));
  CHECK(link["merge"]["merged_id"] == IdStr(wecom_id));
  CHECK(link["merge"]["reason"] == "unionid");

  // 3. A keyword message (example rule 1: 产品A → 兴趣/产品A +2).
  Send(server.port,
       oa->OaSafePost("/callbacks/oa/shop",
                      sim::CallbackBuilder::OaTextXml("gh_shop", "oFLOW1", "你好，产品A怎么卖？",
                                                      6100000000000000001ULL, ProfilesApiNow()),
                      "oFLOW1", ProfilesApiNow()),
       "success");
  const std::string path = "/api/v1/customers/" + std::to_string(oa_id);
  const json view =
      sales.WaitFor(path, [](const json& v) { return TagIn(v, "兴趣", "产品A") != nullptr; });

  // One customer with the identities of both platforms.
  CHECK(view["merged_into"].is_null());
  std::set<std::string> identities;
  for (const auto& identity : view["identities"]) {
    identities.insert(identity["platform"].get<std::string>() + "/" +
                      identity["kind"].get<std::string>() + "/" +
                      identity["value"].get<std::string>());
  }
  CHECK(identities == std::set<std::string>{"oa/openid/oFLOW1", "wecom/external_userid/wmFLOW1",
                                            "wechat/unionid/uFLOW1"});
  CHECK(sales.Get("/api/v1/customers/" + std::to_string(wecom_id)).second["merged_into"] ==
        IdStr(oa_id));
  auto [list_status, list] = sales.Get("/api/v1/customers?q=wmFLOW1");
  REQUIRE(list_status == 200);
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["id"] == IdStr(oa_id));

  // The channel tags from the QR scene (rule 7) and the contact State (rule 8).
  const json* qr = TagIn(view, "渠道", "公众号渠道码");
  REQUIRE(qr != nullptr);
  CHECK((*qr)["evidence"]["rule_id"] == "7");
  const json* contact_way = TagIn(view, "渠道", "企微联系我");
  REQUIRE(contact_way != nullptr);
  CHECK((*contact_way)["evidence"]["rule_id"] == "8");

  // The interest tag, with the rule and the interaction as evidence.
  auto [text_status, texts] = admin.Get("/api/v1/interactions?kind=message.text");
  REQUIRE(text_status == 200);
  REQUIRE(texts["items"].size() == 1);
  const int64_t text_id = ApiId(texts["items"][0]["id"]);
  const json* interest = TagIn(view, "兴趣", "产品A");
  REQUIRE(interest != nullptr);
  CHECK((*interest)["held"] == true);
  CHECK((*interest)["score"].get<double>() == Approx(2).epsilon(0.001));
  CHECK((*interest)["source"] == "rule");
  CHECK((*interest)["evidence"]["rule_id"] == "1");
  CHECK((*interest)["evidence"]["rule_version"] == 1);
  CHECK((*interest)["evidence"]["interaction_id"] == IdStr(text_id));

  // Stage, owner and counters.
  CHECK(view["stage"] == "engaged");
  CHECK(view["owner_userid"] == "zhangsan");
  CHECK(view["counters"]["interactions"] == 3);
  CHECK(view["counters"]["messages"] == 1);

  // The timeline, in order.
  auto [timeline_status, timeline] = sales.Get(path + "/timeline");
  REQUIRE(timeline_status == 200);
  std::vector<std::string> kinds;
  int64_t previous_id = 0;
  for (const auto& entry : timeline["items"]) {
    CHECK(ApiId(entry["id"]) > previous_id);
    previous_id = ApiId(entry["id"]);
    if (ApiId(entry["interaction_id"]) != 0 && entry["kind"] != "stage" &&
        entry["kind"] != "stage.rule") {
      kinds.push_back(entry["kind"]);
    }
  }
  CHECK(kinds == std::vector<std::string>{"oa.subscribe", "contact.add", "message.text"});
  server.Stop();
}

TEST_CASE("scrmd keeps tag rules changed through the API across a restart", "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(
      dir, {{"accounts", DemoAccounts()},
            {"tag_rules_file", scrm::testing::SourcePath("config/tag_rules.example.json")}});
  const std::string key = CreateKey(config, "marketing", "marketing");
  const json rule = {
      {"name", "对产品E感兴趣"},
      {"condition", {{"kinds", {"message.text"}}, {"keywords_any", {"产品E"}}}},
      {"actions",
       {{{"add_tag", {{"tag", {{"group", "兴趣"}, {"name", "产品E"}}}, {"weight", 2}}}}}}};
  int64_t rule_id = 0;
  size_t file_rules = 0;
  {
    ScrmdServer server(config);
    ApiClient api(server.port, key);
    auto [list_status, list] = api.Get("/api/v1/tag-rules");
    REQUIRE(list_status == 200);
    file_rules = list["rules"].size();
    CHECK(file_rules > 0);  // seeded from config/tag_rules.example.json
    auto [status, created] = api.Post("/api/v1/tag-rules", rule);
    REQUIRE(status == 201);
    rule_id = ApiId(created["id"]);
    auto [disable_status, disabled] = api.Post("/api/v1/tag-rules/1/disable", json::object());
    REQUIRE(disable_status == 200);
    CHECK(disabled["version"] == 2);
    server.Stop();
  }
  ScrmdServer server(config);
  ApiClient api(server.port, key);
  auto [status, list] = api.Get("/api/v1/tag-rules");
  REQUIRE(status == 200);
  CHECK(list["rules"].size() == file_rules + 1);
  bool found_new = false;
  for (const auto& r : list["rules"]) {
    if (r["id"] == IdStr(rule_id)) found_new = r["name"] == "对产品E感兴趣";
    // The file still says rule 1 is enabled at version 1; the stored version wins.
    if (r["id"] == "1") {
      CHECK(r["enabled"] == false);
      CHECK(r["version"] == 2);
    }
  }
  CHECK(found_new);
  server.Stop();
}

}  // namespace
}  // namespace scrm::testing
