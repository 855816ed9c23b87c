#include "src/platform/oa_client.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/platform/platform_fakes.h"

namespace scrm::platform {
namespace {

using nlohmann::json;
using testing::Errcode;
using testing::Harness;
using testing::OaCredential;
using testing::Reply;
using testing::Unknown;

json BodyOf(const net::HttpRequest& request) { return json::parse(request.body); }

TEST_CASE("OaClient GetUserInfo reads a follower and keeps a missing unionid empty", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"subscribe":1,"openid":"o6_bm","language":"zh_CN",
    "subscribe_time":1382694957,"remark":"","groupid":0,"tagid_list":[128,2],
    "subscribe_scene":"ADD_SCENE_QR_CODE","qr_scene":98765,"qr_scene_str":""})"));
  OaClient client(OaCredential(), h.caller);
  auto user = client.GetUserInfo("o6_bm");
  REQUIRE(user.ok());
  CHECK(user.value().subscribe == 1);
  CHECK(user.value().openid == "o6_bm");
  CHECK(user.value().unionid.empty());
  CHECK(user.value().tagid_list == std::vector<int64_t>{128, 2});
  CHECK(user.value().qr_scene == 98765);
  CHECK(h.platform.api_requests.at(0).url ==
        "http://127.0.0.1:2/cgi-bin/user/info?access_token=TOKEN-1&openid=o6_bm&lang=zh_CN");
}

TEST_CASE("OaClient rejects malformed user replies as bad replies", "[unit]") {
  const char* bodies[] = {
      R"({"subscribe":1})",
      R"({"openid":"o","tagid_list":["128"]})",
      R"({"openid":"o","subscribe":"1"})",
      R"({"openid":"o","tagid_list":[18446744073709551615]})",
      R"({"openid":["o"]})",
  };
  for (const char* body : bodies) {
    INFO(body);
    Harness h;
    h.platform.Push(Reply(std::string(body)));
    OaClient client(OaCredential(), h.caller);
    auto user = client.GetUserInfo("o");
    REQUIRE_FALSE(user.ok());
    CHECK(user.error().outcome == Outcome::kBadReply);
  }
}

TEST_CASE("OaClient BatchGetUserInfo sends user_list and reads user_info_list", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"user_info_list":[{"subscribe":0,"openid":"o1"},
    {"subscribe":1,"openid":"o2","unionid":"u2"}]})"));
  h.platform.Push(Reply(R"({"user_info_list":[{"subscribe":0},"x"]})"));
  OaClient client(OaCredential(), h.caller);
  auto users = client.BatchGetUserInfo({"o1", "o2"});
  REQUIRE(users.ok());
  REQUIRE(users.value().size() == 2);
  CHECK(users.value()[1].unionid == "u2");
  CHECK(BodyOf(h.platform.api_requests.at(0)) ==
        json{{"user_list",
              {{{"openid", "o1"}, {"lang", "zh_CN"}}, {{"openid", "o2"}, {"lang", "zh_CN"}}}}});
  CHECK(client.BatchGetUserInfo({"o1"}).error().outcome == Outcome::kBadReply);
  CHECK(client.BatchGetUserInfo(std::vector<std::string>(101, "o")).error().outcome ==
        Outcome::kRejected);
}

TEST_CASE("OaClient creates tags and tags and untags followers", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"tag":{"id":134,"name":"广东"}})"));
  OaClient client(OaCredential(), h.caller);
  auto tag = client.CreateTag("广东");
  REQUIRE(tag.ok());
  CHECK(tag.value().id == 134);
  REQUIRE(client.BatchTag({"o1", "o2"}, 134).ok());
  REQUIRE(client.BatchUntag({"o1"}, 134).ok());
  REQUIRE(h.platform.api_requests.size() == 3);
  CHECK(BodyOf(h.platform.api_requests[0]) == json{{"tag", {{"name", "广东"}}}});
  CHECK(h.platform.api_requests[1].url.find("/cgi-bin/tags/members/batchtagging?") !=
        std::string::npos);
  CHECK(BodyOf(h.platform.api_requests[1]) == json{{"openid_list", {"o1", "o2"}}, {"tagid", 134}});
  CHECK(h.platform.api_requests[2].url.find("/cgi-bin/tags/members/batchuntagging?") !=
        std::string::npos);
  CHECK(client.CreateTag(std::string(31, 'x')).error().outcome == Outcome::kRejected);
  CHECK(client.BatchTag(std::vector<std::string>(51, "o"), 1).error().outcome ==
        Outcome::kRejected);
}

TEST_CASE("OaClient CreateTag reports a duplicate name as rejected", "[unit]") {
  Harness h;
  h.platform.Push(Errcode(45157, "invalid tag name"));
  OaClient client(OaCredential(), h.caller);
  auto tag = client.CreateTag("广东");
  REQUIRE_FALSE(tag.ok());
  CHECK(tag.error().outcome == Outcome::kRejected);
  CHECK(tag.error().errcode == 45157);
}

TEST_CASE("OaClient CreateQrCode builds the three documented QR shapes", "[unit]") {
  Harness h;
  for (int i = 0; i < 3; ++i) {
    h.platform.Push(
        Reply(R"({"ticket":"gQH47","expire_seconds":60,"url":"http://weixin.qq.com/q/k"})"));
  }
  OaClient client(OaCredential(), h.caller);
  OaQrRequest id;
  id.type = QrType::kTemporaryId;
  id.scene_id = 123;
  id.expire_seconds = 604800;
  auto code = client.CreateQrCode(id);
  REQUIRE(code.ok());
  CHECK(code.value().ticket == "gQH47");
  CHECK(code.value().url == "http://weixin.qq.com/q/k");
  CHECK(BodyOf(h.platform.api_requests.at(0)) ==
        json{{"expire_seconds", 604800},
             {"action_name", "QR_SCENE"},
             {"action_info", {{"scene", {{"scene_id", 123}}}}}});
  OaQrRequest str;
  str.scene_str = "test";
  REQUIRE(client.CreateQrCode(str).ok());
  CHECK(BodyOf(h.platform.api_requests.at(1))["action_name"] == "QR_STR_SCENE");
  OaQrRequest permanent;
  permanent.type = QrType::kPermanentString;
  permanent.scene_str = "test";
  REQUIRE(client.CreateQrCode(permanent).ok());
  CHECK(BodyOf(h.platform.api_requests.at(2)) ==
        json{{"action_name", "QR_LIMIT_STR_SCENE"},
             {"action_info", {{"scene", {{"scene_str", "test"}}}}}});
  OaQrRequest bad;
  bad.type = QrType::kTemporaryId;
  CHECK(client.CreateQrCode(bad).error().outcome == Outcome::kRejected);
  bad.type = QrType::kTemporaryString;
  bad.scene_str = std::string(65, 's');
  CHECK(client.CreateQrCode(bad).error().outcome == Outcome::kRejected);
  bad.scene_str = "ok";
  bad.expire_seconds = 2592001;
  CHECK(client.CreateQrCode(bad).error().outcome == Outcome::kRejected);
}

TEST_CASE("OaClient SendTemplate resends after an unknown outcome only with client_msg_id",
          "[unit]") {
  OaTemplateMessage message;
  message.touser = "o1";
  message.template_id = "ngqI";
  message.url = "http://weixin.qq.com/download";
  message.data = {{"keyword1", "巧克力"}};
  {
    Harness h;
    h.platform.Push(Unknown());
    h.platform.Push(Reply(R"({"errcode":0,"errmsg":"ok","msgid":200228332})"));
    OaClient client(OaCredential(), h.caller);
    message.client_msg_id = "MSG_000001";
    auto sent = client.SendTemplate(message);
    REQUIRE(sent.ok());
    CHECK(sent.value() == "200228332");
    CHECK(h.platform.ApiRequests() == 2);
    const json body = BodyOf(h.platform.api_requests.at(1));
    CHECK(body["client_msg_id"] == "MSG_000001");
    CHECK(body["data"]["keyword1"]["value"] == "巧克力");
  }
  {
    Harness h;
    h.platform.Push(Unknown());
    OaClient client(OaCredential(), h.caller);
    message.client_msg_id.clear();
    auto sent = client.SendTemplate(message);
    REQUIRE_FALSE(sent.ok());
    CHECK(sent.error().outcome == Outcome::kUnknown);
    CHECK(h.platform.ApiRequests() == 1);
  }
}

TEST_CASE("OaClient SendTemplate reports 43101 as refused for this user", "[unit]") {
  Harness h;
  h.platform.Push(Errcode(43101, "user refuse to accept the msg"));
  OaClient client(OaCredential(), h.caller);
  OaTemplateMessage message;
  message.touser = "o1";
  message.template_id = "t";
  message.client_msg_id = "m1";
  auto sent = client.SendTemplate(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kRefused);
  CHECK(sent.error().errcode == 43101);
  CHECK(h.platform.ApiRequests() == 1);
}

TEST_CASE("OaClient SendCustom reports 45015 outside the window and never resends", "[unit]") {
  Harness h;
  h.platform.Push(Errcode(45015, "response out of time limit"));
  h.platform.Push(Unknown());
  OaClient client(OaCredential(), h.caller);
  OaCustomMessage message;
  message.touser = "o1";
  message.content = {{"content", "Hello World"}};
  auto sent = client.SendCustom(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kRefused);
  CHECK(sent.error().errcode == 45015);
  CHECK(BodyOf(h.platform.api_requests.at(0)) ==
        json{{"touser", "o1"}, {"msgtype", "text"}, {"text", {{"content", "Hello World"}}}});
  auto unknown = client.SendCustom(message);
  CHECK(unknown.error().outcome == Outcome::kUnknown);
  CHECK(h.platform.ApiRequests() == 2);
}

TEST_CASE("OaClient MassSendAll sends by tag with clientmsgid and reads the job ids", "[unit]") {
  Harness h;
  h.platform.Push(Reply(R"({"errcode":0,"errmsg":"send job submission success",
    "msg_id":34182,"msg_data_id":206227730})"));
  OaClient client(OaCredential(), h.caller);
  OaMassMessage message;
  message.tag_id = 2;
  message.msgtype = "text";
  message.content = {{"content", "CONTENT"}};
  message.clientmsgid = "send_tag_1";
  auto sent = client.MassSendAll(message, {Priority::kBulk, std::chrono::seconds(10)});
  REQUIRE(sent.ok());
  CHECK(sent.value().msg_id == "34182");
  CHECK(sent.value().msg_data_id == "206227730");
  CHECK(BodyOf(h.platform.api_requests.at(0)) ==
        json{{"filter", {{"is_to_all", false}, {"tag_id", 2}}},
             {"msgtype", "text"},
             {"text", {{"content", "CONTENT"}}},
             {"clientmsgid", "send_tag_1"}});
}

TEST_CASE("OaClient refuses a request body that is not UTF-8 before sending", "[unit]") {
  Harness h;
  OaClient client(OaCredential(), h.caller);
  OaCustomMessage message;
  message.touser = "o1";
  message.content = {{"content", std::string("\xc3\x28")}};
  auto sent = client.SendCustom(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kRejected);
  CHECK(h.platform.ApiRequests() == 0);
}

}  // namespace
}  // namespace scrm::platform
