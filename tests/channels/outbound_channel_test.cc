// The outbound seam (channels/common/outbound.h): WecomOutbound and OaOutbound over the real
// client stack (CurlHttpClient, TokenService, RateGovernor, ApiCaller, WecomClient / OaClient)
// against the in-process simulator on loopback, and the OutboundDirectory. What reached the
// platform comes from the simulator's record of the calls it answered.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "channels/common/outbound.h"
#include "channels/official_account/oa_outbound.h"
#include "channels/wecom/wecom_outbound.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "tests/sim/sim_test_helpers.h"

namespace scrm::channels {
namespace {

using nlohmann::json;
using platform::Outcome;
using sim::testing::SimCredential;

class NoBackoffSleep final : public platform::Sleeper {
 public:
  void SleepFor(std::chrono::milliseconds) override {}
};

// The simulator and the production client stack on one FakeClock, with the two channels of
// the test world's accounts: "acme" (WeCom) and "brand" (OA).
struct OutboundRig {
  explicit OutboundRig(sim::World world = sim::testing::TestWorld()) : sim(std::move(world)) {}

  std::vector<json> Bodies(const std::string& api) const {
    std::vector<json> out;
    for (const auto& request : sim.platform.Requests(api)) out.push_back(json::parse(request.body));
    return out;
  }

  sim::testing::SimFixture sim;
  std::shared_ptr<spdlog::logger> log = core::MakeNullLogger();
  core::MetricsRegistry metrics;
  net::CurlGlobal curl;
  net::CurlHttpClient http;
  core::FakeRandom random{5};
  NoBackoffSleep sleeper;
  platform::TokenService tokens{http, sim.clock, metrics, log};
  platform::RateGovernor governor{sim.clock};
  platform::ApiCaller caller{http, tokens, governor, sim.clock, random, sleeper, metrics, log};
  platform::WecomClient wecom_client{SimCredential(sim.server, model::Platform::kWecom), caller};
  platform::OaClient oa_client{SimCredential(sim.server, model::Platform::kOfficialAccount),
                               caller};
  wecom::WecomOutbound wecom{"acme", wecom_client};
  oa::OaOutbound oa{"brand", oa_client};
};

TEST_CASE("WecomOutbound reads a contact's unionid, attributes and corp tags", "[integration]") {
  OutboundRig rig;
  auto contact = rig.wecom.ReadContact("wmEXT001", {});
  INFO(contact.error().message);
  REQUIRE(contact.ok());
  CHECK(contact.value().unionid == "ozUNION001");
  CHECK(contact.value().attributes.at("wecom.name") == "王五");
  REQUIRE(contact.value().tags.has_value());
  REQUIRE(contact.value().tags->size() == 1);
  CHECK(contact.value().tags->at(0).tag_id == "etTAG1");
  CHECK(contact.value().tags->at(0).group_name == "意向");
  CHECK(contact.value().tags->at(0).tag_name == "产品A");
}

TEST_CASE("WecomOutbound reads every follow_user page before answering", "[integration]") {
  OutboundRig rig(sim::testing::ManyFollowersWorld(1201));
  auto contact = rig.wecom.ReadContact("wmMANY", {});
  INFO(contact.error().message);
  REQUIRE(contact.ok());
  CHECK(rig.sim.platform.Requests("externalcontact/get").size() == 3);  // 500, 500, 201
  REQUIRE(contact.value().tags.has_value());
  std::vector<std::string> ids;
  for (const model::PlatformTag& tag : *contact.value().tags) ids.push_back(tag.tag_id);
  CHECK(ids == std::vector<std::string>{"etTAG1", "etTAG2"});
}

TEST_CASE("WecomOutbound fails a read with more follow_user pages than allowed as a bad reply",
          "[integration]") {
  OutboundRig rig(sim::testing::ManyFollowersWorld(1201));
  ReadContactOptions options;
  options.max_pages = 2;
  auto contact = rig.wecom.ReadContact("wmMANY", options);
  REQUIRE_FALSE(contact.ok());
  CHECK(contact.error().outcome == Outcome::kBadReply);
  CHECK(contact.error().message == "externalcontact/get: more than 2 pages of follow_user");
  CHECK(rig.sim.platform.Requests("externalcontact/get").size() == 2);
}

TEST_CASE("WecomOutbound passes a platform refusal of a read through", "[integration]") {
  OutboundRig rig;
  auto contact = rig.wecom.ReadContact("wmNOBODY", {});
  REQUIRE_FALSE(contact.ok());
  CHECK(contact.error().errcode == 40096);  // invalid external userid
}

TEST_CASE("WecomOutbound marks tags on the follow relation with one mark_tag", "[integration]") {
  OutboundRig rig;
  auto marked = rig.wecom.MarkTags({"zhangsan", "wmEXT001"}, {"etTAG2"}, {"etTAG1"}, {});
  INFO(marked.error().message);
  REQUIRE(marked.ok());
  const auto bodies = rig.Bodies("externalcontact/mark_tag");
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0]["userid"] == "zhangsan");
  CHECK(bodies[0]["external_userid"] == "wmEXT001");
  CHECK(bodies[0]["add_tag"] == json::array({"etTAG2"}));
  CHECK(bodies[0]["remove_tag"] == json::array({"etTAG1"}));
}

TEST_CASE("WecomOutbound takes any non-empty corp tag id as a tag id", "[unit]") {
  OutboundRig rig;
  CHECK(rig.wecom.IsTagId("etTAG1"));
  CHECK_FALSE(rig.wecom.IsTagId(""));
}

TEST_CASE("WecomOutbound sends a group message task and returns its msgid", "[integration]") {
  OutboundRig rig;
  platform::WecomGroupMessage message;
  message.external_userids = {"wmEXT001", "wmNOBODY"};
  message.sender = "zhangsan";
  message.text = "新品到店";
  auto sent = rig.wecom.Send(message, {});
  INFO(sent.error().message);
  REQUIRE(sent.ok());
  CHECK_FALSE(sent.value().message_id.empty());
  CHECK(sent.value().unreached == std::vector<std::string>{"wmNOBODY"});
  CHECK(rig.sim.platform.Requests("externalcontact/add_msg_template").size() == 1);
}

TEST_CASE("WecomOutbound rejects an Official Account message kind without sending",
          "[integration]") {
  OutboundRig rig;
  platform::OaCustomMessage message;
  message.touser = "oOPEN001";
  auto sent = rig.wecom.Send(message, {});
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kRejected);
  CHECK(rig.sim.platform.Requests().empty());
}

TEST_CASE("WecomOutbound creates a QR contact way for one member", "[integration]") {
  OutboundRig rig;
  ContactWayRequest request;
  request.state = "expo";
  request.members = {"zhangsan"};
  auto way = rig.wecom.CreateContactWay(request, {});
  INFO(way.error().message);
  REQUIRE(way.ok());
  CHECK_FALSE(way.value().id.empty());
  CHECK_FALSE(way.value().qr_image.empty());
  const auto bodies = rig.Bodies("externalcontact/add_contact_way");
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0]["type"] == 1);
  CHECK(bodies[0]["scene"] == 2);
  CHECK(bodies[0]["state"] == "expo");
  CHECK(bodies[0]["user"] == json::array({"zhangsan"}));
  CHECK_FALSE(bodies[0].contains("is_temp"));
}

TEST_CASE("WecomOutbound creates a contact way of type 2 for several members", "[integration]") {
  OutboundRig rig;
  ContactWayRequest request;
  request.state = "expo";
  request.members = {"zhangsan", "lisi"};
  auto way = rig.wecom.CreateContactWay(request, {});
  INFO(way.error().message);
  REQUIRE(way.ok());
  const auto bodies = rig.Bodies("externalcontact/add_contact_way");
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0]["type"] == 2);
  CHECK(bodies[0]["user"] == json::array({"zhangsan", "lisi"}));
}

TEST_CASE("WecomOutbound creates a temporary contact way with its expiry", "[integration]") {
  OutboundRig rig;
  ContactWayRequest request;
  request.state = "expo";
  request.members = {"zhangsan"};
  request.temporary = true;
  request.expires_in_s = 86400;
  auto way = rig.wecom.CreateContactWay(request, {});
  INFO(way.error().message);
  REQUIRE(way.ok());
  const auto bodies = rig.Bodies("externalcontact/add_contact_way");
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0]["type"] == 1);
  CHECK(bodies[0]["is_temp"] == true);
  CHECK(bodies[0]["expires_in"] == 86400);
}

TEST_CASE("WecomOutbound rejects a temporary contact way for several members before sending",
          "[integration]") {
  OutboundRig rig;
  ContactWayRequest request;
  request.state = "expo";
  request.members = {"zhangsan", "lisi"};
  request.temporary = true;
  auto way = rig.wecom.CreateContactWay(request, {});
  REQUIRE_FALSE(way.ok());
  CHECK(way.error().outcome == Outcome::kRejected);
  CHECK(rig.sim.platform.Requests().empty());
}

TEST_CASE("WecomOutbound rejects a contact way without members before sending", "[integration]") {
  OutboundRig rig;
  ContactWayRequest request;
  request.state = "expo";
  auto way = rig.wecom.CreateContactWay(request, {});
  REQUIRE_FALSE(way.ok());
  CHECK(way.error().outcome == Outcome::kRejected);
  CHECK(rig.sim.platform.Requests().empty());
}

TEST_CASE("OaOutbound reads a follower's unionid and no tags", "[integration]") {
  OutboundRig rig;
  auto contact = rig.oa.ReadContact("oOPEN001", {});
  INFO(contact.error().message);
  REQUIRE(contact.ok());
  CHECK(contact.value().unionid == "ozUNION001");
  CHECK_FALSE(contact.value().tags.has_value());
  for (const auto& [key, value] : contact.value().attributes) {
    CHECK(key.rfind("oa.", 0) == 0);
    CHECK_FALSE(value.empty());
  }
  CHECK(rig.sim.platform.Requests("user/info").size() == 1);
}

TEST_CASE("OaOutbound tags then untags one openid with one call per tag", "[integration]") {
  OutboundRig rig;
  auto marked = rig.oa.MarkTags({"", "oOPEN001"}, {"100"}, {"100"}, {});
  INFO(marked.error().message);
  REQUIRE(marked.ok());
  const auto tagged = rig.Bodies("tags/members/batchtagging");
  const auto untagged = rig.Bodies("tags/members/batchuntagging");
  REQUIRE(tagged.size() == 1);
  REQUIRE(untagged.size() == 1);
  CHECK(tagged[0]["tagid"] == 100);
  CHECK(tagged[0]["openid_list"] == json::array({"oOPEN001"}));
  CHECK(untagged[0]["tagid"] == 100);
}

TEST_CASE("OaOutbound rejects a tag id that is not a positive integer before sending",
          "[integration]") {
  OutboundRig rig;
  auto marked = rig.oa.MarkTags({"", "oOPEN001"}, {"100"}, {"etTAG1"}, {});
  REQUIRE_FALSE(marked.ok());
  CHECK(marked.error().outcome == Outcome::kRejected);
  CHECK(rig.sim.platform.Requests().empty());
  CHECK(rig.oa.IsTagId("100"));
  CHECK_FALSE(rig.oa.IsTagId("0"));
  CHECK_FALSE(rig.oa.IsTagId("-3"));
  CHECK_FALSE(rig.oa.IsTagId("12a"));
  CHECK_FALSE(rig.oa.IsTagId(""));
}

TEST_CASE("OaOutbound sends a template message and returns its msgid", "[integration]") {
  OutboundRig rig;
  platform::OaTemplateMessage message;
  message.touser = "oOPEN001";
  message.template_id = "TPL1";
  message.data = {{"first", "您好"}};
  auto sent = rig.oa.Send(message, {});
  INFO(sent.error().message);
  REQUIRE(sent.ok());
  CHECK_FALSE(sent.value().message_id.empty());
  CHECK(rig.sim.platform.Requests("message/template/send").size() == 1);
}

TEST_CASE("OaOutbound passes a recipient's refusal of a template message through",
          "[integration]") {
  OutboundRig rig;
  platform::OaTemplateMessage message;
  message.touser = "oREFUSE";
  message.template_id = "TPL1";
  auto sent = rig.oa.Send(message, {});
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kRefused);
  CHECK(sent.error().errcode == 43101);
}

TEST_CASE("OaOutbound rejects a WeCom message kind without sending", "[integration]") {
  OutboundRig rig;
  platform::WecomWelcomeMessage message;
  message.welcome_code = "CODE";
  message.text = "欢迎";
  auto sent = rig.oa.Send(message, {});
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kRejected);
  CHECK(rig.sim.platform.Requests().empty());
}

TEST_CASE("OaOutbound creates a temporary QR scene carrying the state", "[integration]") {
  OutboundRig rig;
  ContactWayRequest request;
  request.state = "expo";
  request.temporary = true;
  request.expires_in_s = 600;
  auto way = rig.oa.CreateContactWay(request, {});
  INFO(way.error().message);
  REQUIRE(way.ok());
  CHECK_FALSE(way.value().id.empty());
  CHECK(way.value().qr_image.rfind("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=", 0) == 0);
  CHECK(way.value().qr_image.find("==") == std::string::npos);  // the ticket is URL-encoded
  CHECK_FALSE(way.value().qr_content.empty());
  CHECK(way.value().expires_in_s == 600);
  const auto bodies = rig.Bodies("qrcode/create");
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0]["action_name"] == "QR_STR_SCENE");
  CHECK(bodies[0]["action_info"]["scene"]["scene_str"] == "expo");
  CHECK(bodies[0]["expire_seconds"] == 600);
}

TEST_CASE("OaOutbound creates a permanent QR scene when not temporary", "[integration]") {
  OutboundRig rig;
  ContactWayRequest request;
  request.state = "store-42";
  auto way = rig.oa.CreateContactWay(request, {});
  INFO(way.error().message);
  REQUIRE(way.ok());
  CHECK(way.value().expires_in_s == 0);
  const auto bodies = rig.Bodies("qrcode/create");
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0]["action_name"] == "QR_LIMIT_STR_SCENE");
  CHECK_FALSE(bodies[0].contains("expire_seconds"));
}

TEST_CASE("OaOutbound rejects a QR scene with members before sending", "[integration]") {
  OutboundRig rig;
  ContactWayRequest request;
  request.state = "expo";
  request.members = {"zhangsan"};
  auto way = rig.oa.CreateContactWay(request, {});
  REQUIRE_FALSE(way.ok());
  CHECK(way.error().outcome == Outcome::kRejected);
  CHECK(rig.sim.platform.Requests().empty());
}

// A channel that answers nothing: the directory is under test, not the platform.
class SilentChannel final : public OutboundChannel {
 public:
  SilentChannel(std::string account_id, model::Platform platform)
      : account_id_(std::move(account_id)), platform_(platform) {}
  const std::string& account_id() const override { return account_id_; }
  model::Platform platform() const override { return platform_; }
  platform::ApiResult<ContactInfo> ReadContact(const std::string&,
                                               const ReadContactOptions&) override {
    return platform::ApiError{};
  }
  bool IsTagId(std::string_view) const override { return false; }
  platform::ApiResult<platform::Done> MarkTags(const TagTarget&, const std::vector<std::string>&,
                                               const std::vector<std::string>&,
                                               const platform::CallOptions&) override {
    return platform::ApiError{};
  }
  platform::ApiResult<SendReceipt> Send(const OutboundMessage&,
                                        const platform::CallOptions&) override {
    return platform::ApiError{};
  }
  platform::ApiResult<ContactWay> CreateContactWay(const ContactWayRequest&,
                                                   const platform::CallOptions&) override {
    return platform::ApiError{};
  }

 private:
  std::string account_id_;
  model::Platform platform_;
};

TEST_CASE("OutboundDirectory finds each account's channel and nothing for others", "[unit]") {
  OutboundDirectory directory;
  REQUIRE(directory.Add(std::make_unique<SilentChannel>("acme", model::Platform::kWecom)).ok());
  REQUIRE(directory.Add(std::make_unique<SilentChannel>("brand", model::Platform::kOfficialAccount))
              .ok());
  REQUIRE(directory.Find("acme") != nullptr);
  CHECK(directory.Find("acme")->platform() == model::Platform::kWecom);
  REQUIRE(directory.Find("brand") != nullptr);
  CHECK(directory.Find("brand")->platform() == model::Platform::kOfficialAccount);
  CHECK(directory.Find("other") == nullptr);
  CHECK(directory.AccountIds() == std::set<std::string, std::less<>>{"acme", "brand"});
}

TEST_CASE("OutboundDirectory refuses a second channel for one account", "[unit]") {
  OutboundDirectory directory;
  REQUIRE(directory.Add(std::make_unique<SilentChannel>("acme", model::Platform::kWecom)).ok());
  const core::Status again =
      directory.Add(std::make_unique<SilentChannel>("acme", model::Platform::kOfficialAccount));
  CHECK(again.code() == core::StatusCode::kAlreadyExists);
  CHECK(directory.Find("acme")->platform() == model::Platform::kWecom);
}

}  // namespace
}  // namespace scrm::channels
