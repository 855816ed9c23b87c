#include "src/platform/wecom_client.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/platform/platform_fakes.h"

namespace scrm::platform {
namespace {

using nlohmann::json;
using testing::Harness;
using testing::Reply;
using testing::Unknown;
using testing::WecomCredential;

// The path after the api_base of the n-th API request, without the query.
std::string PathOf(const net::HttpRequest& request) {
  const std::string base = "http://127.0.0.1:1";
  std::string url = request.url.substr(base.size());
  return url.substr(0, url.find('?'));
}

json WecomClientBodyOf(const net::HttpRequest& request) { return json::parse(request.body); }

TEST_CASE("WecomClient GetExternalContact parses the contact and its followers", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"errmsg":"ok",
    "external_contact":{"external_userid":"woAJ1","name":"李四","type":1,"gender":1,
      "unionid":"ozyn1","corp_name":"腾讯","external_profile":{"external_attr":[]}},
    "follow_user":[{"userid":"rocky","remark":"李部长","createtime":1525779812,
      "tags":[{"group_name":"g","tag_name":"t","tag_id":"etAJ1","type":1}],
      "remark_mobiles":["13800000001"],"add_way":1,"state":"qr1","future_field":{"x":1}}],
    "next_cursor":"NEXT"})"));
  WecomClient client(WecomCredential(), h.caller);
  auto detail = client.GetExternalContact("woAJ1", "C1");
  REQUIRE(detail.ok());
  CHECK(detail.value().contact.external_userid == "woAJ1");
  CHECK(detail.value().contact.name == "李四");
  CHECK(detail.value().contact.unionid == "ozyn1");
  REQUIRE(detail.value().follow_users.size() == 1);
  const WecomFollowUser& follower = detail.value().follow_users[0];
  CHECK(follower.userid == "rocky");
  CHECK(follower.state == "qr1");
  REQUIRE(follower.tags.size() == 1);
  CHECK(follower.tags[0].tag_id == "etAJ1");
  CHECK(follower.remark_mobiles == std::vector<std::string>{"13800000001"});
  CHECK(detail.value().next_cursor == "NEXT");
  const auto& request = h.platform.api_requests.at(0);
  CHECK(request.method == net::HttpMethod::kGet);
  CHECK(request.url ==
        "http://127.0.0.1:1/cgi-bin/externalcontact/get?access_token=TOKEN-1&external_userid=woAJ1"
        "&cursor=C1");
}

TEST_CASE("WecomClient rejects malformed contact replies as bad replies", "[unit]") {
  const char* bodies[] = {
      R"({"errcode":0})",
      R"({"errcode":0,"external_contact":[]})",
      R"({"errcode":0,"external_contact":{"name":"no id"}})",
      R"({"errcode":0,"external_contact":{"external_userid":5}})",
      R"({"errcode":0,"external_contact":{"external_userid":"wo"},"follow_user":{}})",
      R"({"errcode":0,"external_contact":{"external_userid":"wo"},"follow_user":[1]})",
      R"({"errcode":0,"external_contact":{"external_userid":"wo"},"follow_user":[{"userid":"u","tags":[{"tag_id":7}]}]})",
      R"({"errcode":0,"external_contact":{"external_userid":"wo","type":"1"}})",
  };
  for (const char* body : bodies) {
    INFO(body);
    Harness h;
    h.platform.Push(Reply(std::string(body)));
    WecomClient client(WecomCredential(), h.caller);
    auto detail = client.GetExternalContact("wo");
    REQUIRE_FALSE(detail.ok());
    CHECK(detail.error().outcome == Outcome::kBadReply);
    CHECK_FALSE(detail.error().message.empty());
  }
}

TEST_CASE("WecomClient BatchGetByUser sends userid_list and reads the page and cursor", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"external_contact_list":[
    {"external_contact":{"external_userid":"wo1","name":"a"},
     "follow_info":{"userid":"zhangsan","tag_id":["et1","et2"],"state":"s"}}],
    "next_cursor":"N2"})"));
  WecomClient client(WecomCredential(), h.caller);
  auto page = client.BatchGetByUser({"zhangsan", "lisi"}, "N1", 50);
  REQUIRE(page.ok());
  REQUIRE(page.value().items.size() == 1);
  CHECK(page.value().items[0].contact.external_userid == "wo1");
  CHECK(page.value().items[0].follow_info.tag_ids == std::vector<std::string>{"et1", "et2"});
  CHECK(page.value().next_cursor == "N2");
  const auto& request = h.platform.api_requests.at(0);
  CHECK(PathOf(request) == "/cgi-bin/externalcontact/batch/get_by_user");
  CHECK(WecomClientBodyOf(request) ==
        json{{"userid_list", {"zhangsan", "lisi"}}, {"cursor", "N1"}, {"limit", 50}});
}

TEST_CASE("WecomClient checks arguments before sending anything", "[unit]") {
  Harness h;
  WecomClient client(WecomCredential(), h.caller);
  CHECK(client.GetExternalContact("").error().outcome == Outcome::kRejected);
  CHECK(client.BatchGetByUser({}, "").error().outcome == Outcome::kRejected);
  CHECK(client.BatchGetByUser(std::vector<std::string>(101, "u"), "").error().outcome ==
        Outcome::kRejected);
  CHECK(client.MarkTag("u", "wo", {}, {}).error().outcome == Outcome::kRejected);
  WecomContactWayRequest way;
  way.users = {"a", "b"};  // type 1 takes exactly one
  CHECK(client.AddContactWay(way).error().outcome == Outcome::kRejected);
  way.users = {"a"};
  way.state = std::string(31, 's');
  CHECK(client.AddContactWay(way).error().outcome == Outcome::kRejected);
  WecomWelcomeMessage welcome;
  welcome.welcome_code = "W";
  CHECK(client.SendWelcomeMsg(welcome).error().outcome == Outcome::kRejected);
  WecomGroupMessage group;
  group.chat_type = "group";
  group.text = "hi";
  CHECK(client.AddMsgTemplate(group).error().outcome == Outcome::kRejected);
  CHECK(h.platform.ApiRequests() == 0);
  CHECK(h.platform.TokenFetches() == 0);
}

TEST_CASE("WecomClient GetCorpTagList reads groups and tags", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"tag_group":[{"group_id":"g1","group_name":"等级",
    "create_time":1,"order":2,"deleted":false,"tag":[{"id":"et1","name":"金","order":1}]}]})"));
  WecomClient client(WecomCredential(), h.caller);
  auto groups = client.GetCorpTagList({}, {"g1"});
  REQUIRE(groups.ok());
  REQUIRE(groups.value().size() == 1);
  CHECK(groups.value()[0].group_name == "等级");
  REQUIRE(groups.value()[0].tags.size() == 1);
  CHECK(groups.value()[0].tags[0].name == "金");
  CHECK(WecomClientBodyOf(h.platform.api_requests.at(0)) == json{{"group_id", {"g1"}}});
}

TEST_CASE("WecomClient AddCorpTag is not resent after an unknown outcome", "[unit]") {
  Harness h;
  h.platform.Push(Unknown());
  WecomClient client(WecomCredential(), h.caller);
  WecomNewTags request;
  request.group_name = "来源";
  request.tags = {{"展会", 1}};
  auto group = client.AddCorpTag(request);
  REQUIRE_FALSE(group.ok());
  CHECK(group.error().outcome == Outcome::kUnknown);
  CHECK(h.platform.ApiRequests() == 1);
  CHECK(WecomClientBodyOf(h.platform.api_requests.at(0)) ==
        json{{"group_name", "来源"}, {"tag", {{{"name", "展会"}, {"order", 1}}}}});
}

TEST_CASE("WecomClient MarkTag and AddContactWay send the documented bodies", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"errmsg":"ok"})"));
  h.platform.Push(Reply(R"({"errcode":0,"config_id":"42b3","qr_code":"http://p.qpic.cn/x"})"));
  WecomClient client(WecomCredential(), h.caller);
  REQUIRE(client.MarkTag("zhangsan", "woAJ", {"T1"}, {"T3"}).ok());
  CHECK(WecomClientBodyOf(h.platform.api_requests.at(0)) == json{{"userid", "zhangsan"},
                                                                 {"external_userid", "woAJ"},
                                                                 {"add_tag", {"T1"}},
                                                                 {"remove_tag", {"T3"}}});
  WecomContactWayRequest way;
  way.users = {"zhangsan"};
  way.state = "teststate";
  auto created = client.AddContactWay(way);
  REQUIRE(created.ok());
  CHECK(created.value().config_id == "42b3");
  CHECK(created.value().qr_code == "http://p.qpic.cn/x");
  const json body = WecomClientBodyOf(h.platform.api_requests.at(1));
  CHECK(body["type"] == 1);
  CHECK(body["scene"] == 2);
  CHECK(body["state"] == "teststate");
  CHECK(body["user"] == json{"zhangsan"});
}

TEST_CASE("WecomClient DelContactWay sends the config_id and refuses an empty one", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"errmsg":"ok"})"));
  WecomClient client(WecomCredential(), h.caller);
  CHECK(client.DelContactWay("").error().outcome == Outcome::kRejected);
  REQUIRE(client.DelContactWay("42b3").ok());
  REQUIRE(h.platform.api_requests.size() == 1);
  CHECK(WecomClientBodyOf(h.platform.api_requests.at(0)) == json{{"config_id", "42b3"}});
}

TEST_CASE("WecomClient SendWelcomeMsg reports 41051 as a refusal and sends once", "[unit]") {
  Harness h;
  h.platform.Push(testing::Errcode(41051, "externaluser has started chatting"));
  WecomClient client(WecomCredential(), h.caller);
  WecomWelcomeMessage message;
  message.welcome_code = "CODE";
  message.text = "欢迎";
  auto sent = client.SendWelcomeMsg(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kRefused);
  CHECK(sent.error().errcode == 41051);
  CHECK(h.platform.ApiRequests() == 1);
  CHECK(WecomClientBodyOf(h.platform.api_requests.at(0)) ==
        json{{"welcome_code", "CODE"}, {"text", {{"content", "欢迎"}}}});
}

TEST_CASE("WecomClient AddMsgTemplate returns the task and its fail list", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"fail_list":["wmqf"],"msgid":"msgGC"})"));
  WecomClient client(WecomCredential(), h.caller);
  WecomGroupMessage message;
  message.external_userids = {"woAJ", "wmqf"};
  message.tag_filter = {{"ete1", "ete2"}, {"eteI"}};
  message.text = "促销";
  auto task = client.AddMsgTemplate(message, {Priority::kBulk, std::chrono::seconds(5)});
  REQUIRE(task.ok());
  CHECK(task.value().msgid == "msgGC");
  CHECK(task.value().fail_list == std::vector<std::string>{"wmqf"});
  const json body = WecomClientBodyOf(h.platform.api_requests.at(0));
  CHECK(body["tag_filter"]["group_list"][1]["tag_list"] == json{"eteI"});
  CHECK(body["external_userid"] == json{"woAJ", "wmqf"});
}

TEST_CASE("WecomClient reads group message lists and send results page by page", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"next_cursor":"C2","group_msg_list":[{"msgid":"m1",
    "creator":"zhangsan","create_time":1605171726,"create_type":1,"text":{"content":"hi"}}]})"));
  h.platform.Push(Reply(R"({"errcode":0,"next_cursor":"","send_list":[{"external_userid":"wo1",
    "userid":"zhangsan","status":3,"send_time":1}]})"));
  h.platform.Push(Reply(R"({"errcode":0,"send_list":[{"external_userid":"wo1"}]})"));
  WecomClient client(WecomCredential(), h.caller);
  WecomGroupMessageQuery query;
  query.start_time = 1605171726;
  query.end_time = 1605172726;
  auto list = client.GetGroupMsgListV2(query);
  REQUIRE(list.ok());
  REQUIRE(list.value().items.size() == 1);
  CHECK(list.value().items[0].text == "hi");
  CHECK(list.value().next_cursor == "C2");
  auto results = client.GetGroupMsgSendResult("m1", "zhangsan");
  REQUIRE(results.ok());
  REQUIRE(results.value().items.size() == 1);
  CHECK(results.value().items[0].status == 3);
  // status is required: a send_list entry without it is a bad reply.
  auto bad = client.GetGroupMsgSendResult("m1", "zhangsan");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().outcome == Outcome::kBadReply);
}

TEST_CASE("WecomClient reads a group message's create_time given as a string", "[unit]") {
  Harness h;
  // The documented reply of get_groupmsg_list_v2 quotes create_time.
  h.platform.Push(Reply(R"({"errcode":0,"next_cursor":"","group_msg_list":[{"msgid":"m1",
    "creator":"zhangsan","create_time":"1605171726","create_type":0}]})"));
  h.platform.Push(Reply(R"({"errcode":0,"next_cursor":"","group_msg_list":[{"msgid":"m2",
    "creator":"zhangsan","create_time":"soon"}]})"));
  WecomClient client(WecomCredential(), h.caller);
  WecomGroupMessageQuery query;
  query.start_time = 1605171726;
  query.end_time = 1605172726;
  auto list = client.GetGroupMsgListV2(query);
  REQUIRE(list.ok());
  REQUIRE(list.value().items.size() == 1);
  CHECK(list.value().items[0].create_time == 1605171726);
  auto bad = client.GetGroupMsgListV2(query);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().outcome == Outcome::kBadReply);
}

TEST_CASE(
    "WecomClient SendAppMessage uses the app credential and resends only with duplicate "
    "check",
    "[unit]") {
  Credential app = WecomCredential();
  app.secret = "app-secret";
  {
    Harness h;
    h.platform.Push(Unknown());
    h.platform.Push(Reply(R"({"errcode":0,"invaliduser":"u9","msgid":"xx"})"));
    WecomClient client(WecomCredential(), h.caller, app);
    WecomAppMessage message;
    message.touser = "u1|u9";
    message.agentid = 1000002;
    message.content = {{"content", "新客户"}};
    message.enable_duplicate_check = true;
    auto sent = client.SendAppMessage(message);
    REQUIRE(sent.ok());
    CHECK(sent.value().invaliduser == "u9");
    CHECK(h.platform.ApiRequests() == 2);
    CHECK(h.platform.token_requests.at(0).url.find("corpsecret=app-secret") != std::string::npos);
    const json body = WecomClientBodyOf(h.platform.api_requests.at(0));
    CHECK(body["enable_duplicate_check"] == 1);
    CHECK(body["duplicate_check_interval"] == 1800);
    CHECK(body["text"]["content"] == "新客户");
  }
  {
    Harness h;
    h.platform.Push(Unknown());
    WecomClient client(WecomCredential(), h.caller, app);
    WecomAppMessage message;
    message.touser = "u1";
    message.content = {{"content", "x"}};
    auto sent = client.SendAppMessage(message);
    REQUIRE_FALSE(sent.ok());
    CHECK(sent.error().outcome == Outcome::kUnknown);
    CHECK(h.platform.ApiRequests() == 1);
  }
  {
    Harness h;
    WecomClient client(WecomCredential(), h.caller);
    WecomAppMessage message;
    message.touser = "u1";
    CHECK(client.SendAppMessage(message).error().outcome == Outcome::kConfigError);
  }
}

}  // namespace
}  // namespace scrm::platform
