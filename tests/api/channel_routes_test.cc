// /api/v1/channels (src/api/channel_routes.h) over campaigns::ContactChannelService, with a
// recording outbound channel per account: what is asked of the platform, what is stored and
// answered, and every refusal naming its member.
#include "src/api/channel_routes.h"

#include <catch2/catch.hpp>

#include "tests/api/api_test_helpers.h"
#include "tests/campaigns/campaigns_test_helpers.h"

namespace scrm::api {
namespace {

using campaigns::testing::ApiFailure;
using campaigns::testing::RecordingOutbound;
using testing::ErrorCode;
using testing::ErrorMessage;
using testing::json;
using testing::Reply;

// The channel routes on a loopback server, WeCom account "corp1" and OA account "oa1".
struct ChannelApi {
  ChannelApi() {
    auto wecom = std::make_unique<RecordingOutbound>("corp1");
    auto oa = std::make_unique<RecordingOutbound>("oa1", model::Platform::kOfficialAccount);
    corp1 = wecom.get();
    oa1 = oa.get();
    REQUIRE(directory.Add(std::move(wecom)).ok());
    REQUIRE(directory.Add(std::move(oa)).ok());
    for (model::Role role :
         {model::Role::kAdmin, model::Role::kMarketing, model::Role::kReadonly}) {
      auto issued = IssueApiKey(keys, random, p.clock, std::string(model::RoleName(role)), role);
      REQUIRE(issued.ok());
      key[role] = issued->secret;
    }
    RegisterChannelRoutes(router, service);
    REQUIRE(http.Start().ok());
  }
  ~ChannelApi() { http.Stop(); }

  Reply Call(const std::string& method, const std::string& path, const json& body = nullptr,
             model::Role role = model::Role::kMarketing) {
    httplib::Client client("127.0.0.1", http.port());
    client.set_read_timeout(10);
    const httplib::Headers headers = {{"Authorization", "Bearer " + key.at(role)}};
    auto result = method == "GET"
                      ? client.Get(path.c_str(), headers)
                      : client.Post(path.c_str(), headers, body.is_null() ? "" : body.dump(),
                                    "application/json");
    REQUIRE(result);
    Reply reply;
    reply.status = result->status;
    reply.body = json::parse(result->body, nullptr, false);
    return reply;
  }
  int64_t WelcomeTemplate(const std::string& channel, const std::string& content) {
    storage::StoredTemplate row;
    row.name = "t" + std::to_string(++templates_made);
    row.channel = channel;
    row.content_json = content;
    row.source = "api";
    row.saved_at_ms = p.clock.NowUnixMillis();
    auto stored = templates.Insert(row);
    REQUIRE(stored.ok());
    return stored->id;
  }

  profiles::testing::Fixture p;
  storage::ApiKeyStore keys{*p.db};
  storage::TemplateStore templates{*p.db};
  storage::ContactChannelStore store{*p.db};
  channels::OutboundDirectory directory;
  RecordingOutbound* corp1 = nullptr;
  RecordingOutbound* oa1 = nullptr;
  campaigns::ContactChannelService service{store, templates, directory, p.clock};
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  Authenticator auth{keys, p.clock};
  std::map<model::Role, std::string> key;
  int templates_made = 0;
  server::HttpServer http{testing::LoopbackOptions(), p.clock, random, core::MakeNullLogger(),
                          metrics};
  ApiRouter router{http, auth};
};

json WecomChannelBody() {
  return json{
      {"name", "Expo booth"},        {"account_id", "corp1"},
      {"state", "expo_2026"},        {"default_tags", {{{"group", "渠道"}, {"name", "展会"}}}},
      {"owner_rule", "round_robin"}, {"members", {"zhangsan", "lisi"}},
      {"skip_verify", false}};
}

TEST_CASE("POST /channels creates a WeCom contact way with the state, members and skip-verify",
          "[unit]") {
  ChannelApi api;
  json body = WecomChannelBody();
  body["welcome_template_id"] =
      std::to_string(api.WelcomeTemplate("wecom_message", R"({"text":{"content":"欢迎"}})"));
  const Reply created = api.Call("POST", "/api/v1/channels", body);
  INFO(created.body.dump());
  REQUIRE(created.status == 201);
  REQUIRE(api.corp1->ways.size() == 1);
  const channels::ContactWayRequest& way = api.corp1->ways[0];
  CHECK(way.state == "expo_2026");
  CHECK(way.members == std::vector<std::string>{"zhangsan", "lisi"});
  CHECK_FALSE(way.skip_verify);
  CHECK(way.remark == "Expo booth");
  CHECK(created.body["platform"] == "wecom");
  CHECK(created.body["platform_id"] == "cfg1");
  CHECK(created.body["qr_image"] == "http://qr/cfg1");
  CHECK(created.body["owner_rule"] == "round_robin");
  CHECK(created.body["default_tags"][0]["name"] == "展会");
  CHECK(created.body["welcome_template_id"] == body["welcome_template_id"]);
  const std::string id = created.body["id"];
  const Reply read = api.Call("GET", "/api/v1/channels/" + id, nullptr, model::Role::kReadonly);
  REQUIRE(read.status == 200);
  CHECK(read.body == created.body);
  const Reply list = api.Call("GET", "/api/v1/channels", nullptr, model::Role::kReadonly);
  REQUIRE(list.status == 200);
  REQUIRE(list.body["channels"].size() == 1);
  CHECK(list.body["next_after"].is_null());
  const Reply stats = api.Call("GET", "/api/v1/channels/" + id + "/stats");
  REQUIRE(stats.status == 200);
  CHECK(stats.body["adds"] == 0);
  CHECK(stats.body["net"] == 0);
}

TEST_CASE("POST /channels refuses what the platform or scrmd could not use, naming the member",
          "[unit]") {
  ChannelApi api;
  const auto refused = [&api](json body, int status, const std::string& code,
                              const std::string& prefix) {
    const Reply r = api.Call("POST", "/api/v1/channels", body);
    INFO(body.dump() + " -> " + r.body.dump());
    CHECK(r.status == status);
    CHECK(ErrorCode(r) == code);
    CHECK(ErrorMessage(r).starts_with(prefix));
  };
  json body = WecomChannelBody();
  body["state"] = "expo 2026";
  refused(body, 400, "invalid_argument", "state:");
  body = WecomChannelBody();
  body["state"] = std::string(31, 's');
  refused(body, 400, "invalid_argument", "state:");
  body = WecomChannelBody();
  body["members"] = {"zhangsan"};
  refused(body, 400, "invalid_argument", "owner_rule:");
  body = WecomChannelBody();
  body["members"] = json::array();
  refused(body, 400, "invalid_argument", "members:");
  body = WecomChannelBody();
  body["colour"] = "red";
  refused(body, 400, "invalid_argument", "");
  body = WecomChannelBody();
  body["welcome_template_id"] = "999";
  refused(body, 404, "not_found", "welcome_template_id:");
  body = WecomChannelBody();
  body["welcome_template_id"] =
      std::to_string(api.WelcomeTemplate("oa_custom_text", R"({"text":{"content":"hi"}})"));
  refused(body, 400, "invalid_argument", "welcome_template_id:");
  body = WecomChannelBody();
  body["welcome_template_id"] = std::to_string(
      api.WelcomeTemplate("wecom_message", R"({"text":{"content":"领取 {{link}}"}})"));
  refused(body, 400, "invalid_argument", "welcome_template_id:");
  body = WecomChannelBody();
  body["account_id"] = "nowhere";
  refused(body, 400, "failed_precondition", "account_id:");
  json oa = {
      {"name", "Poster"}, {"account_id", "oa1"}, {"state", "poster"}, {"members", {"zhangsan"}}};
  refused(oa, 400, "invalid_argument", "members:");
  // Nothing of that reached the platform.
  CHECK(api.corp1->ways.empty());
  CHECK(api.oa1->ways.empty());

  REQUIRE(api.Call("POST", "/api/v1/channels", WecomChannelBody()).status == 201);
  refused(WecomChannelBody(), 409, "already_exists", "state:");
  CHECK(api.corp1->ways.size() == 1);  // a taken state is refused before the platform
  const Reply readonly =
      api.Call("POST", "/api/v1/channels", WecomChannelBody(), model::Role::kReadonly);
  CHECK(readonly.status == 403);
}

TEST_CASE("POST /channels gives the contact way the name's first 30 characters as its remark",
          "[unit]") {
  ChannelApi api;
  json body = WecomChannelBody();
  std::string name;
  for (int i = 0; i < 40; ++i) name += "展";
  body["name"] = name;
  REQUIRE(api.Call("POST", "/api/v1/channels", body).status == 201);
  REQUIRE(api.corp1->ways.size() == 1);
  CHECK(api.corp1->ways[0].remark == name.substr(0, 30 * 3));  // 30 characters of 3 bytes
}

TEST_CASE("POST /channels stores nothing when the platform refuses", "[unit]") {
  ChannelApi api;
  api.corp1->next_error = ApiFailure(platform::Outcome::kRejected, 40058);
  const Reply r = api.Call("POST", "/api/v1/channels", WecomChannelBody());
  CHECK(r.status == 400);
  CHECK(ErrorCode(r) == "invalid_argument");
  const Reply list = api.Call("GET", "/api/v1/channels?retired=true");
  REQUIRE(list.status == 200);
  CHECK(list.body["channels"].empty());
}

TEST_CASE("POST /channels/{id}/retire deletes a WeCom contact way and keeps an OA code", "[unit]") {
  ChannelApi api;
  const Reply wecom = api.Call("POST", "/api/v1/channels", WecomChannelBody());
  REQUIRE(wecom.status == 201);
  const Reply oa = api.Call("POST", "/api/v1/channels",
                            {{"name", "Poster"},
                             {"account_id", "oa1"},
                             {"state", "poster"},
                             {"temporary", true},
                             {"expires_in_s", 86400}});
  INFO(oa.body.dump());
  REQUIRE(oa.status == 201);
  REQUIRE(api.oa1->ways.size() == 1);
  CHECK(api.oa1->ways[0].temporary);
  CHECK(api.oa1->ways[0].expires_in_s == 86400);
  const std::string wecom_id = wecom.body["id"];
  const std::string oa_id = oa.body["id"];

  // A platform failure retires nothing.
  api.corp1->delete_error = ApiFailure(platform::Outcome::kUnavailable, 0);
  CHECK(api.Call("POST", "/api/v1/channels/" + wecom_id + "/retire").status == 503);
  CHECK(api.Call("GET", "/api/v1/channels/" + wecom_id).body["retired"] == false);
  // 41044: the platform no longer knows it, which is what retiring wants.
  api.corp1->delete_error = ApiFailure(platform::Outcome::kRejected, 41044);
  const Reply retired = api.Call("POST", "/api/v1/channels/" + wecom_id + "/retire");
  REQUIRE(retired.status == 200);
  CHECK(retired.body["retired"] == true);
  CHECK(api.corp1->deleted == std::vector<std::string>{"cfg1", "cfg1"});
  CHECK(api.Call("POST", "/api/v1/channels/" + wecom_id + "/retire").status == 200);
  CHECK(api.corp1->deleted.size() == 2);  // retired already: nothing asked

  const Reply oa_retired = api.Call("POST", "/api/v1/channels/" + oa_id + "/retire");
  REQUIRE(oa_retired.status == 200);
  CHECK(oa_retired.body["retired"] == true);
  CHECK(api.oa1->deleted.empty());  // an OA QR code cannot be deleted

  const Reply live = api.Call("GET", "/api/v1/channels");
  CHECK(live.body["channels"].empty());
  CHECK(api.Call("GET", "/api/v1/channels?retired=true").body["channels"].size() == 2);
  CHECK(api.Call("GET", "/api/v1/channels?retired=maybe").status == 400);
  CHECK(api.Call("GET", "/api/v1/channels/77/stats").status == 404);
}

}  // namespace
}  // namespace scrm::api
