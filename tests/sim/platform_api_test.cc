// The simulator's outbound APIs through real HTTP on loopback: tokens, shapes, error codes,
// quotas, rate limits and faults (PROTOCOL.md §4).
#include <chrono>

#include "tests/sim/sim_test_helpers.h"

namespace scrm::sim::testing {
namespace {

using namespace std::chrono_literals;

std::string Q(const std::string& api, const std::string& token, const std::string& extra = "") {
  return "/cgi-bin/" + api + "?access_token=" + token + extra;
}

TEST_CASE("sim gettoken returns the same token until it expires on the injected clock",
          "[integration]") {
  SimFixture sim;
  const std::string first = sim.WecomToken();
  CHECK(sim.WecomToken() == first);
  json r = sim.Get(Q("externalcontact/get", first, "&external_userid=wmEXT001"));
  CHECK(r["errcode"] == 0);

  sim.clock.Advance(7200s);
  r = sim.Get(Q("externalcontact/get", first, "&external_userid=wmEXT001"));
  CHECK(r["errcode"] == 42001);
  const std::string second = sim.WecomToken();
  CHECK(second != first);
  CHECK(sim.platform.Requests("gettoken").size() == 3);
}

TEST_CASE("sim gettoken answers 40013 for a bad corpid and 40001 for a bad secret",
          "[integration]") {
  SimFixture sim;
  CHECK(sim.Get("/cgi-bin/gettoken?corpid=wwOTHER&corpsecret=sim-corp-secret")["errcode"] == 40013);
  CHECK(sim.Get("/cgi-bin/gettoken?corpid=wwsim0000000000001&corpsecret=nope")["errcode"] == 40001);
}

TEST_CASE("sim API answers 41001 40014 42001 when the token is missing invalid or expired",
          "[integration]") {
  SimFixture sim;
  CHECK(sim.Get("/cgi-bin/externalcontact/get?external_userid=wmEXT001")["errcode"] == 41001);
  CHECK(sim.Get(Q("externalcontact/get", "garbage", "&external_userid=x"))["errcode"] == 40014);
  // A WeCom token is no OA token.
  CHECK(sim.Get(Q("user/info", sim.WecomToken(), "&openid=oOPEN001"))["errcode"] == 40014);
  const std::string oa = sim.OaToken();
  sim.clock.Advance(7201s);
  CHECK(sim.Get(Q("user/info", oa, "&openid=oOPEN001"))["errcode"] == 42001);
}

TEST_CASE("sim token lifetime follows the world setting", "[integration]") {
  World w = TestWorld();
  w.token_lifetime_s = 60;
  SimFixture sim(w);
  const json r = sim.Get("/cgi-bin/gettoken?corpid=wwsim0000000000001&corpsecret=sim-corp-secret");
  CHECK(r["expires_in"] == 60);
  sim.clock.Advance(61s);
  CHECK(sim.Get(Q("externalcontact/list", r["access_token"], "&userid=zhangsan"))["errcode"] ==
        42001);
}

TEST_CASE("sim OA stable_token keeps its token and force_refresh invalidates the old one",
          "[integration]") {
  SimFixture sim;
  const std::string first = sim.OaToken();
  CHECK(sim.OaToken() == first);
  const json forced = sim.Post("/cgi-bin/stable_token", {{"grant_type", "client_credential"},
                                                         {"appid", "wxsim00000000001"},
                                                         {"secret", "sim-app-secret"},
                                                         {"force_refresh", true}});
  CHECK(forced["access_token"] != first);
  CHECK(sim.Get(Q("user/info", first, "&openid=oOPEN001"))["errcode"] == 40001);
  CHECK(sim.Get(Q("user/info", forced["access_token"], "&openid=oOPEN001"))["subscribe"] == 1);
}

TEST_CASE("sim OA stable_token answers 40013 and 40125 for a wrong appid or secret",
          "[integration]") {
  SimFixture sim;
  CHECK(sim.Post("/cgi-bin/stable_token", {{"grant_type", "client_credential"},
                                           {"appid", "wxOTHER"},
                                           {"secret", "sim-app-secret"}})["errcode"] == 40013);
  CHECK(sim.Post("/cgi-bin/stable_token", {{"grant_type", "client_credential"},
                                           {"appid", "wxsim00000000001"},
                                           {"secret", "bad"}})["errcode"] == 40125);
}

TEST_CASE("sim OA token call issues a new token and the previous one lapses after five minutes",
          "[integration]") {
  SimFixture sim;
  const std::string url =
      "/cgi-bin/token?grant_type=client_credential&appid=wxsim00000000001&secret=sim-app-secret";
  const std::string first = sim.Get(url)["access_token"];
  const std::string second = sim.Get(url)["access_token"];
  CHECK(first != second);
  CHECK(sim.Get(Q("user/info", first, "&openid=oOPEN001"))["subscribe"] == 1);
  sim.clock.Advance(301s);
  CHECK(sim.Get(Q("user/info", first, "&openid=oOPEN001"))["errcode"] == 40001);
  CHECK(sim.Get(Q("user/info", second, "&openid=oOPEN001"))["subscribe"] == 1);
}

TEST_CASE("sim externalcontact/get returns the platform shape with unionid and follow_user",
          "[integration]") {
  SimFixture sim;
  const json r = sim.Get(Q("externalcontact/get", sim.WecomToken(), "&external_userid=wmEXT001"));
  CHECK(r["errcode"] == 0);
  CHECK(r["external_contact"]["unionid"] == "ozUNION001");
  CHECK(r["external_contact"]["type"] == 1);
  REQUIRE(r["follow_user"].size() == 1);
  CHECK(r["follow_user"][0]["state"] == "expo");
  CHECK(r["follow_user"][0]["tags"][0]["tag_name"] == "产品A");
  CHECK(r["next_cursor"] == "");
  CHECK(sim.Get(Q("externalcontact/get", sim.WecomToken(), "&external_userid=nobody"))["errcode"] ==
        40096);
}

TEST_CASE("sim externalcontact/get finds a contact added by a scenario event", "[integration]") {
  SimFixture sim;
  ScenarioEvent e;
  e.platform = "wecom";
  e.type = "add_external_contact";
  e.userid = "lisi";
  e.external_userid = "wmNEW";
  e.unionid = "ozNEW";
  e.state = "spring";
  REQUIRE(sim.Post("/sim/events", e)["applied"] == 1);
  const json r = sim.Get(Q("externalcontact/get", sim.WecomToken(), "&external_userid=wmNEW"));
  CHECK(r["external_contact"]["unionid"] == "ozNEW");
  CHECK(r["follow_user"][0]["state"] == "spring");
}

TEST_CASE("sim batch/get_by_user pages through follow relations with a cursor", "[integration]") {
  World w = TestWorld();
  for (int i = 0; i < 5; ++i) {
    ExternalContact c;
    c.external_userid = "wmPAGE" + std::to_string(i);
    FollowUser f;
    f.userid = "lisi";
    c.follow_user = {f};
    w.wecom.external_contacts.push_back(c);
  }
  SimFixture sim(w);
  const std::string token = sim.WecomToken();
  json r = sim.Post(Q("externalcontact/batch/get_by_user", token),
                    {{"userid_list", {"lisi"}}, {"cursor", ""}, {"limit", 3}});
  CHECK(r["errcode"] == 0);
  CHECK(r["external_contact_list"].size() == 3);
  CHECK(r["external_contact_list"][0]["follow_info"]["userid"] == "lisi");
  REQUIRE(r["next_cursor"] != "");
  r = sim.Post(Q("externalcontact/batch/get_by_user", token),
               {{"userid_list", {"lisi"}}, {"cursor", r["next_cursor"]}, {"limit", 3}});
  CHECK(r["external_contact_list"].size() == 2);
  CHECK(r["next_cursor"] == "");
  CHECK(sim.Post(Q("externalcontact/batch/get_by_user", token),
                 {{"userid_list", {"lisi"}}, {"limit", 101}})["errcode"] == 40058);
}

TEST_CASE("sim add_corp_tag creates tags that get_corp_tag_list and mark_tag see",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.WecomToken();
  const json added = sim.Post(Q("externalcontact/add_corp_tag", token),
                              {{"group_name", "预算"}, {"tag", {{{"name", "5万-10万"}}}}});
  CHECK(added["errcode"] == 0);
  const std::string tag_id = added["tag_group"]["tag"][0]["id"];
  const json list = sim.Post(Q("externalcontact/get_corp_tag_list", token), json::object());
  CHECK(list["tag_group"].size() == 2);
  CHECK(sim.Post(Q("externalcontact/mark_tag", token), {{"userid", "zhangsan"},
                                                        {"external_userid", "wmEXT001"},
                                                        {"add_tag", {tag_id}}})["errcode"] == 0);
  const json c = sim.Get(Q("externalcontact/get", token, "&external_userid=wmEXT001"));
  CHECK(c["follow_user"][0]["tags"].size() == 2);
  // Same name again in that group: 40071.
  CHECK(sim.Post(Q("externalcontact/add_corp_tag", token),
                 {{"group_name", "预算"}, {"tag", {{{"name", "5万-10万"}}}}})["errcode"] == 40071);
}

TEST_CASE("sim mark_tag answers 84061 without a follow relation and 40068 for an unknown tag",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.WecomToken();
  CHECK(sim.Post(Q("externalcontact/mark_tag", token), {{"userid", "lisi"},
                                                        {"external_userid", "wmEXT001"},
                                                        {"add_tag", {"etTAG1"}}})["errcode"] ==
        84061);
  CHECK(sim.Post(Q("externalcontact/mark_tag", token), {{"userid", "zhangsan"},
                                                        {"external_userid", "wmEXT001"},
                                                        {"add_tag", {"etNOPE"}}})["errcode"] ==
        40068);
}

TEST_CASE("sim add_contact_way returns a config_id and qr_code and checks its users",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.WecomToken();
  const json r = sim.Post(Q("externalcontact/add_contact_way", token),
                          {{"type", 1}, {"scene", 2}, {"state", "expo"}, {"user", {"zhangsan"}}});
  CHECK(r["errcode"] == 0);
  CHECK(r["config_id"].get<std::string>().size() == 32);
  CHECK(r.contains("qr_code"));
  CHECK(sim.Post(Q("externalcontact/add_contact_way", token),
                 {{"type", 1}, {"scene", 2}, {"user", {"ghost"}}})["errcode"] == 60111);
}

TEST_CASE("sim del_contact_way deletes a contact way once and refuses an unknown one",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.WecomToken();
  const json created = sim.Post(Q("externalcontact/add_contact_way", token),
                                {{"type", 1}, {"scene", 2}, {"user", {"zhangsan"}}});
  REQUIRE(created["errcode"] == 0);
  const json id = {{"config_id", created["config_id"]}};
  CHECK(sim.Post(Q("externalcontact/del_contact_way", token), id)["errcode"] == 0);
  CHECK(sim.Post(Q("externalcontact/del_contact_way", token), id)["errcode"] == 41044);
  CHECK(sim.Post(Q("externalcontact/del_contact_way", token), json::object())["errcode"] == 40058);
}

TEST_CASE("sim send_welcome_msg accepts a welcome code once and only within 20 seconds",
          "[integration]") {
  SimFixture sim;
  ScenarioEvent e;
  e.platform = "wecom";
  e.type = "add_external_contact";
  e.userid = "zhangsan";
  e.external_userid = "wmW1";
  e.welcome_code = "CODE1";
  REQUIRE(sim.platform.ApplyEvent(e).ok());
  e.external_userid = "wmW2";
  e.welcome_code = "CODE2";
  REQUIRE(sim.platform.ApplyEvent(e).ok());
  const std::string token = sim.WecomToken();
  const json text = {{"content", "欢迎"}};
  CHECK(sim.Post(Q("externalcontact/send_welcome_msg", token),
                 {{"welcome_code", "CODE1"}, {"text", text}})["errcode"] == 0);
  CHECK(sim.Post(Q("externalcontact/send_welcome_msg", token),
                 {{"welcome_code", "CODE1"}, {"text", text}})["errcode"] == 41051);
  sim.clock.Advance(21s);
  CHECK(sim.Post(Q("externalcontact/send_welcome_msg", token),
                 {{"welcome_code", "CODE2"}, {"text", text}})["errcode"] == 41051);
}

TEST_CASE("sim add_msg_template creates a task listed by get_groupmsg_list_v2 and its results",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.WecomToken();
  const json created = sim.Post(Q("externalcontact/add_msg_template", token),
                                {{"chat_type", "single"},
                                 {"external_userid", {"wmEXT001", "wmNOBODY"}},
                                 {"sender", "zhangsan"},
                                 {"text", {{"content", "新品上市"}}}});
  CHECK(created["errcode"] == 0);
  CHECK(created["fail_list"] == json::array({"wmNOBODY"}));
  const int64_t now = sim.platform.NowMs() / 1000;
  const json list =
      sim.Post(Q("externalcontact/get_groupmsg_list_v2", token), {{"chat_type", "single"},
                                                                  {"start_time", now - 60},
                                                                  {"end_time", now + 60},
                                                                  {"creator", "zhangsan"}});
  REQUIRE(list["group_msg_list"].size() == 1);
  CHECK(list["group_msg_list"][0]["msgid"] == created["msgid"]);
  const json result = sim.Post(Q("externalcontact/get_groupmsg_send_result", token),
                               {{"msgid", created["msgid"]}, {"userid", "zhangsan"}});
  REQUIRE(result["send_list"].size() == 1);
  CHECK(result["send_list"][0]["external_userid"] == "wmEXT001");
  CHECK(result["send_list"][0]["status"] == 1);
  CHECK(
      sim.Post(Q("externalcontact/get_groupmsg_list_v2", token),
               {{"chat_type", "single"}, {"start_time", 0}, {"end_time", 40 * 86400}})["errcode"] ==
      40058);
}

TEST_CASE("sim message/send reports invalid users and suppresses a checked duplicate",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.WecomToken();
  const json body = {{"touser", "zhangsan|ghost"},  {"msgtype", "text"},
                     {"agentid", 1000002},          {"text", {{"content", "跟进提醒"}}},
                     {"enable_duplicate_check", 1}, {"duplicate_check_interval", 1800}};
  const json first = sim.Post(Q("message/send", token), body);
  CHECK(first["errcode"] == 0);
  CHECK(first["invaliduser"] == "ghost");
  const json second = sim.Post(Q("message/send", token), body);
  CHECK(second["msgid"] == first["msgid"]);
  CHECK(sim.platform.Requests("message/send").back().note == "deduplicated");
  CHECK(sim.Post(Q("message/send", token), {{"touser", "ghost"},
                                            {"msgtype", "text"},
                                            {"agentid", 1000002},
                                            {"text", {{"content", "x"}}}})["errcode"] == 81013);
}

TEST_CASE("sim user/info returns only openid and unionid for an unsubscribed user",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.OaToken();
  const json in = sim.Get(Q("user/info", token, "&openid=oOPEN001&lang=zh_CN"));
  CHECK(in["subscribe"] == 1);
  CHECK(in["unionid"] == "ozUNION001");
  CHECK(in.contains("tagid_list"));
  const json out = sim.Get(Q("user/info", token, "&openid=oGONE"));
  CHECK(out["subscribe"] == 0);
  CHECK_FALSE(out.contains("subscribe_time"));
  CHECK(sim.Get(Q("user/info", token, "&openid=oNOBODY"))["errcode"] == 40003);
  const json batch = sim.Post(Q("user/info/batchget", token),
                              {{"user_list", {{{"openid", "oOPEN001"}}, {{"openid", "oGONE"}}}}});
  CHECK(batch["user_info_list"].size() == 2);
}

TEST_CASE("sim tags/create and batchtagging answer the platform's error codes", "[integration]") {
  SimFixture sim;
  const std::string token = sim.OaToken();
  const json created = sim.Post(Q("tags/create", token), {{"tag", {{"name", "广东"}}}});
  CHECK(created["tag"]["name"] == "广东");
  const int64_t id = created["tag"]["id"];
  CHECK(sim.Post(Q("tags/create", token), {{"tag", {{"name", "广东"}}}})["errcode"] == 45157);
  CHECK(sim.Post(Q("tags/create", token), {{"tag", {{"name", std::string(31, 'x')}}}})["errcode"] ==
        45158);
  CHECK(sim.Post(Q("tags/members/batchtagging", token),
                 {{"openid_list", {"oOPEN001"}}, {"tagid", id}})["errcode"] == 0);
  CHECK(sim.Get(Q("user/info", token, "&openid=oOPEN001"))["tagid_list"] == json::array({id}));
  CHECK(sim.Post(Q("tags/members/batchtagging", token),
                 {{"openid_list", {"oOPEN001"}}, {"tagid", 999}})["errcode"] == 45159);
  CHECK(sim.Post(Q("tags/members/batchtagging", token),
                 {{"openid_list", {"oNOBODY"}}, {"tagid", id}})["errcode"] == 40003);
  CHECK(sim.Post(Q("tags/members/batchtagging", token),
                 {{"openid_list", std::vector<std::string>(51, "oOPEN001")},
                  {"tagid", id}})["errcode"] == 40032);
  CHECK(sim.Post(Q("tags/members/batchuntagging", token),
                 {{"openid_list", {"oOPEN001"}}, {"tagid", id}})["errcode"] == 0);
  CHECK(sim.Get(Q("user/info", token, "&openid=oOPEN001"))["tagid_list"].empty());
}

TEST_CASE("sim qrcode/create answers temporary and permanent shapes", "[integration]") {
  SimFixture sim;
  const std::string token = sim.OaToken();
  const json temp =
      sim.Post(Q("qrcode/create", token),
               {{"action_name", "QR_SCENE"}, {"action_info", {{"scene", {{"scene_id", 123}}}}}});
  CHECK(temp["expire_seconds"] == 60);
  CHECK(temp.contains("ticket"));
  CHECK(temp["url"].get<std::string>().rfind("http://weixin.qq.com/q/", 0) == 0);
  const json str = sim.Post(Q("qrcode/create", token),
                            {{"action_name", "QR_STR_SCENE"},
                             {"expire_seconds", 604800},
                             {"action_info", {{"scene", {{"scene_str", "expo2026"}}}}}});
  CHECK(str["expire_seconds"] == 604800);
  const json limit = sim.Post(Q("qrcode/create", token),
                              {{"action_name", "QR_LIMIT_STR_SCENE"},
                               {"action_info", {{"scene", {{"scene_str", "store_12"}}}}}});
  CHECK(limit.contains("ticket"));
  CHECK_FALSE(limit.contains("expire_seconds"));
  CHECK(sim.Post(Q("qrcode/create", token),
                 {{"action_name", "QR_SCENE"},
                  {"action_info", {{"scene", {{"scene_id", 0}}}}}})["errcode"] == 40053);
}

TEST_CASE("sim template/send dedupes client_msg_id and answers 43004 and 43101", "[integration]") {
  SimFixture sim;
  const std::string token = sim.OaToken();
  json body = {{"touser", "oOPEN001"},
               {"template_id", "tmplSIM"},
               {"client_msg_id", "order-42"},
               {"data", {{"keyword1", {{"value", "巧克力"}}}}}};
  const json first = sim.Post(Q("message/template/send", token), body);
  CHECK(first["errcode"] == 0);
  const json again = sim.Post(Q("message/template/send", token), body);
  CHECK(again["msgid"] == first["msgid"]);
  const auto sends = sim.platform.Requests("message/template/send");
  REQUIRE(sends.size() == 2);
  CHECK(sends[0].note.empty());
  CHECK(sends[1].note == "deduplicated");
  body["touser"] = "oGONE";
  CHECK(sim.Post(Q("message/template/send", token), body)["errcode"] == 43004);
  body["touser"] = "oREFUSE";
  CHECK(sim.Post(Q("message/template/send", token), body)["errcode"] == 43101);
}

TEST_CASE("sim custom/send answers 45015 outside the 48 hour window and 45047 past its quota",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.OaToken();
  const json msg = {{"touser", "oOPEN001"}, {"msgtype", "text"}, {"text", {{"content", "您好"}}}};
  CHECK(sim.Post(Q("message/custom/send", token), msg)["errcode"] == 45015);
  ScenarioEvent e;
  e.platform = "oa";
  e.type = "text";
  e.openid = "oOPEN001";
  REQUIRE(sim.platform.ApplyEvent(e).ok());
  for (int i = 0; i < 5; ++i) {
    CHECK(sim.Post(Q("message/custom/send", token), msg)["errcode"] == 0);
  }
  CHECK(sim.Post(Q("message/custom/send", token), msg)["errcode"] == 45047);
  sim.clock.Advance(48h);
  const std::string fresh = sim.OaToken();
  CHECK(sim.Post(Q("message/custom/send", fresh), msg)["errcode"] == 45015);
  json gone = msg;
  gone["touser"] = "oGONE";
  CHECK(sim.Post(Q("message/custom/send", fresh), gone)["errcode"] == 43004);
}

TEST_CASE("sim mass/sendall answers 45065 for a repeated clientmsgid", "[integration]") {
  SimFixture sim;
  const std::string token = sim.OaToken();
  const json body = {{"filter", {{"is_to_all", false}, {"tag_id", 100}}},
                     {"text", {{"content", "CONTENT"}}},
                     {"msgtype", "text"},
                     {"clientmsgid", "send_tag_1"}};
  const json first = sim.Post(Q("message/mass/sendall", token), body);
  CHECK(first["errcode"] == 0);
  CHECK(first["errmsg"] == "send job submission success");
  CHECK(first.contains("msg_data_id"));
  CHECK(sim.Post(Q("message/mass/sendall", token), body)["errcode"] == 45065);
}

TEST_CASE("sim rate limits answer 45033 on WeCom and 45009 on OA when exceeded", "[integration]") {
  World w = TestWorld();
  w.rate_limits = {RateLimitRule{"externalcontact/get", 2, 60, 0},
                   RateLimitRule{"user/info", 1, 86400, 0}};
  SimFixture sim(w);
  const std::string wc = sim.WecomToken();
  const std::string path = Q("externalcontact/get", wc, "&external_userid=wmEXT001");
  CHECK(sim.Get(path)["errcode"] == 0);
  CHECK(sim.Get(path)["errcode"] == 0);
  CHECK(sim.Get(path)["errcode"] == 45033);
  sim.clock.Advance(60s);  // next window
  CHECK(sim.Get(Q("externalcontact/get", sim.WecomToken(),
                  "&external_userid=wmEXT001"))["errcode"] == 0);

  const std::string oa = sim.OaToken();
  CHECK(sim.Get(Q("user/info", oa, "&openid=oOPEN001"))["subscribe"] == 1);
  CHECK(sim.Get(Q("user/info", oa, "&openid=oOPEN001"))["errcode"] == 45009);
}

TEST_CASE("sim rate limits set through the control API take effect", "[integration]") {
  SimFixture sim;
  sim.Post("/sim/rate_limits",
           {{"rate_limits", {{{"api", "gettoken"}, {"limit", 1}, {"window_s", 3600}}}}});
  sim.WecomToken();
  CHECK(sim.Get(
            "/cgi-bin/gettoken?corpid=wwsim0000000000001&corpsecret=sim-corp-secret")["errcode"] ==
        45033);
}

TEST_CASE("sim http_5xx fault answers the status for the configured calls then recovers",
          "[integration]") {
  SimFixture sim;
  sim.Post(
      "/sim/faults",
      {{"faults", {{{"kind", "http_5xx"}, {"api", "gettoken"}, {"count", 1}, {"status", 502}}}}});
  auto res =
      sim.Client().Get("/cgi-bin/gettoken?corpid=wwsim0000000000001&corpsecret=sim-corp-secret");
  REQUIRE(res);
  CHECK(res->status == 502);
  CHECK_FALSE(sim.WecomToken().empty());
  const auto calls = sim.platform.Requests("gettoken");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].outcome == "http_5xx");
  CHECK(calls[1].outcome == "answered");
}

TEST_CASE("sim http_5xx fault hits about the configured fraction of calls", "[integration]") {
  SimFixture sim;
  sim.Post("/sim/faults", {{"faults", {{{"kind", "http_5xx"}, {"rate", 0.5}}}}});
  auto client = sim.Client();
  int failed = 0;
  for (int i = 0; i < 100; ++i) {
    auto res = client.Get("/cgi-bin/gettoken?corpid=wwsim0000000000001&corpsecret=sim-corp-secret");
    REQUIRE(res);
    if (res->status == 503) ++failed;
  }
  CHECK(failed > 25);
  CHECK(failed < 75);
}

TEST_CASE("sim drop fault closes the connection of the given call number without an answer",
          "[integration]") {
  SimFixture sim;
  sim.Post("/sim/faults", {{"faults", {{{"kind", "drop"}, {"call", 2}}}}});
  const std::string token = sim.WecomToken();  // call 1
  auto client = sim.Client();
  auto dropped = client.Get(Q("externalcontact/get", token, "&external_userid=wmEXT001").c_str());
  CHECK_FALSE(dropped);  // call 2: no answer at all
  auto next =
      sim.Client().Get(Q("externalcontact/get", token, "&external_userid=wmEXT001").c_str());
  REQUIRE(next);
  CHECK(next->status == 200);
  const auto calls = sim.platform.Requests();
  REQUIRE(calls.size() == 3);
  CHECK(calls[1].outcome == "dropped");
  CHECK(calls[1].http_status == 0);
}

TEST_CASE("sim latency fault delays the answer", "[integration]") {
  SimFixture sim;
  sim.Post("/sim/faults",
           {{"faults", {{{"kind", "latency"}, {"api", "gettoken"}, {"latency_ms", 300}}}}});
  const auto start = std::chrono::steady_clock::now();
  sim.WecomToken();
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  sim.Client().Delete("/sim/faults");
  CHECK(sim.Get("/sim/faults")["faults"].empty());
}

TEST_CASE("sim busy fault answers errcode -1", "[integration]") {
  SimFixture sim;
  sim.Post("/sim/faults", {{"faults", {{{"kind", "busy"}, {"api", "user/info"}, {"count", 1}}}}});
  const std::string token = sim.OaToken();
  CHECK(sim.Get(Q("user/info", token, "&openid=oOPEN001"))["errcode"] == -1);
  CHECK(sim.Get(Q("user/info", token, "&openid=oOPEN001"))["subscribe"] == 1);
}

TEST_CASE("sim errcode fault answers the given errcode without handling the call",
          "[integration]") {
  SimFixture sim;
  sim.Post("/sim/faults", {{"faults",
                            {{{"kind", "errcode"},
                              {"api", "externalcontact/get"},
                              {"errcode", 45033},
                              {"count", 1}}}}});
  const std::string token = sim.WecomToken();
  CHECK(sim.Get(Q("externalcontact/get", token, "&external_userid=wmEXT001"))["errcode"] == 45033);
  CHECK(sim.Get(Q("externalcontact/get", token, "&external_userid=wmEXT001"))["errcode"] == 0);
  auto res =
      sim.Client().Post("/sim/faults", R"({"faults":[{"kind":"errcode"}]})", "application/json");
  REQUIRE(res);
  CHECK(res->status == 400);  // an errcode fault needs its errcode
}

TEST_CASE("sim invalidates every token now when the control API asks", "[integration]") {
  SimFixture sim;
  const std::string wc = sim.WecomToken();
  const std::string oa = sim.OaToken();
  sim.Post("/sim/faults", {{"invalidate_tokens", true}});
  CHECK(sim.Get(Q("externalcontact/get", wc, "&external_userid=wmEXT001"))["errcode"] == 40014);
  CHECK(sim.Get(Q("user/info", oa, "&openid=oOPEN001"))["errcode"] == 40001);
  CHECK(sim.WecomToken() != wc);
}

TEST_CASE("sim control clock advance expires tokens", "[integration]") {
  SimFixture sim;
  const std::string wc = sim.WecomToken();
  sim.Post("/sim/clock", {{"advance_s", 7200}});
  CHECK(sim.Get(Q("externalcontact/get", wc, "&external_userid=wmEXT001"))["errcode"] == 42001);
}

TEST_CASE("sim records every call with secrets removed", "[integration]") {
  SimFixture sim;
  sim.WecomToken();
  sim.OaToken();
  const json all = sim.Get("/sim/requests");
  CHECK(all["count"] == 2);
  const json wc = sim.Get("/sim/requests?api=gettoken");
  REQUIRE(wc["count"] == 1);
  CHECK(wc["requests"][0]["query"].get<std::string>().find("sim-corp-secret") == std::string::npos);
  const json oa = sim.Get("/sim/requests?api=stable_token");
  CHECK(oa["requests"][0]["body"].get<std::string>().find("sim-app-secret") == std::string::npos);
  CHECK(oa["requests"][0]["errcode"] == 0);
  sim.Client().Delete("/sim/requests");
  CHECK(sim.Get("/sim/requests")["count"] == 0);
}

TEST_CASE("sim answers 47001 for a body that is not JSON and 404 for an unknown API",
          "[integration]") {
  SimFixture sim;
  auto res = sim.Client().Post(Q("message/custom/send", sim.OaToken()).c_str(), "{oops",
                               "application/json");
  REQUIRE(res);
  CHECK(json::parse(res->body)["errcode"] == 47001);
  auto missing = sim.Client().Get("/cgi-bin/no/such/api");
  REQUIRE(missing);
  CHECK(missing->status == 404);
}

TEST_CASE("sim world replaced through the control API is served", "[integration]") {
  SimFixture sim;
  World w = TestWorld();
  w.wecom.corp_id = "wwREPLACED";
  auto res = sim.Client().Put("/sim/world", json(w).dump(), "application/json");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(sim.Get("/cgi-bin/gettoken?corpid=wwREPLACED&corpsecret=sim-corp-secret")["errcode"] == 0);
  CHECK(sim.Get("/sim/world")["wecom"]["corp_id"] == "wwREPLACED");
  auto bad = sim.Client().Put("/sim/world", R"({"wecom":{},"typo":1})", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
}

TEST_CASE("sim custom/send allows three sends in the minute after a subscribe event",
          "[integration]") {
  SimFixture sim;
  ScenarioEvent e;
  e.platform = "oa";
  e.type = "subscribe";
  e.openid = "oFRESH";
  e.scene = "expo2026";
  REQUIRE(sim.platform.ApplyEvent(e).ok());
  const std::string token = sim.OaToken();
  const json msg = {{"touser", "oFRESH"}, {"msgtype", "text"}, {"text", {{"content", "欢迎"}}}};
  for (int i = 0; i < 3; ++i) {
    CHECK(sim.Post(Q("message/custom/send", token), msg)["errcode"] == 0);
  }
  CHECK(sim.Post(Q("message/custom/send", token), msg)["errcode"] == 45047);
  sim.clock.Advance(61s);
  CHECK(sim.Post(Q("message/custom/send", token), msg)["errcode"] == 45015);
  const json info = sim.Get(Q("user/info", token, "&openid=oFRESH"));
  CHECK(info["qr_scene_str"] == "expo2026");
  CHECK(info["subscribe_scene"] == "ADD_SCENE_QR_CODE");
}

TEST_CASE("sim del_follow_user event removes the relation that externalcontact/get shows",
          "[integration]") {
  SimFixture sim;
  ScenarioEvent e;
  e.platform = "wecom";
  e.type = "del_follow_user";
  e.userid = "zhangsan";
  e.external_userid = "wmEXT001";
  REQUIRE(sim.platform.ApplyEvent(e).ok());
  const std::string token = sim.WecomToken();
  CHECK(sim.Get(Q("externalcontact/get", token, "&external_userid=wmEXT001"))["errcode"] == 84061);
  CHECK(sim.Get(Q("externalcontact/list", token, "&userid=zhangsan"))["errcode"] == 84061);
}

TEST_CASE("sim externalcontact/list and get_corp_tag_list filter by their arguments",
          "[integration]") {
  SimFixture sim;
  const std::string token = sim.WecomToken();
  CHECK(sim.Get(Q("externalcontact/list", token, "&userid=zhangsan"))["external_userid"] ==
        json::array({"wmEXT001"}));
  const json tags =
      sim.Post(Q("externalcontact/get_corp_tag_list", token), {{"tag_id", {"etTAG2"}}});
  REQUIRE(tags["tag_group"].size() == 1);
  REQUIRE(tags["tag_group"][0]["tag"].size() == 1);
  CHECK(tags["tag_group"][0]["tag"][0]["name"] == "产品B");
}

TEST_CASE("sim answers 43002 when a POST API is called with GET", "[integration]") {
  SimFixture sim;
  CHECK(sim.Get(Q("externalcontact/mark_tag", sim.WecomToken()))["errcode"] == 43002);
}

TEST_CASE("sim drop fault with a count drops that many calls of the API", "[integration]") {
  SimFixture sim;
  sim.Post("/sim/faults", {{"faults", {{{"kind", "drop"}, {"api", "gettoken"}, {"count", 2}}}}});
  const std::string url = "/cgi-bin/gettoken?corpid=wwsim0000000000001&corpsecret=sim-corp-secret";
  CHECK_FALSE(sim.Client().Get(url.c_str()));
  CHECK_FALSE(sim.Client().Get(url.c_str()));
  CHECK_FALSE(sim.WecomToken().empty());
  CHECK(sim.Get("/sim/requests?api=gettoken")["count"] == 3);
}

}  // namespace
}  // namespace scrm::sim::testing
