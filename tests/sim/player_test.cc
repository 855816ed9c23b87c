// The callback player: platform-exact signed and encrypted callbacks, re-delivery of the same
// bytes when scrmd is slow or fails (PROTOCOL.md §2), recorded deliveries, scenario files.
#include <chrono>
#include <pugixml.hpp>

#include "channels/wxcrypto/wxcrypto.h"
#include "sim/player.h"
#include "tests/sim/sim_test_helpers.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_support.h"

namespace scrm::sim::testing {
namespace {

using namespace std::chrono_literals;

PlayerOptions FastOptions(const std::string& target) {
  PlayerOptions o;
  o.target = target;
  o.response_timeout = 1000ms;  // generous: ctest shares two cores with other builds
  o.retry_interval = 20ms;
  return o;
}

ScenarioEvent WecomAdd(const std::string& external_userid, const std::string& state) {
  ScenarioEvent e;
  e.platform = "wecom";
  e.type = "add_external_contact";
  e.userid = "zhangsan";
  e.external_userid = external_userid;
  e.unionid = "ozSHARED";
  e.state = state;
  return e;
}

ScenarioEvent OaSubscribe(const std::string& openid, const std::string& scene) {
  ScenarioEvent e;
  e.platform = "oa";
  e.type = "subscribe";
  e.openid = openid;
  e.unionid = "ozSHARED";
  e.scene = scene;
  return e;
}

std::string Param(const httplib::Params& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? "" : it->second;
}

std::string EncryptOf(const std::string& body) {
  pugi::xml_document doc;
  REQUIRE(doc.load_string(body.c_str()));
  return doc.child("xml").child("Encrypt").text().get();
}

std::string Field(const std::string& xml, const char* name) {
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  // Concatenate every text/CDATA child: a value holding "]]>" is split across two sections.
  std::string out;
  for (const auto& part : doc.child("xml").child(name).children()) out += part.value();
  return out;
}

TEST_CASE("sim player callbacks decrypt with wxcrypto and carry the platform fields",
          "[integration]") {
  Receiver scrmd;
  SimFixture sim;
  const World world = sim.platform.WorldSnapshot();
  auto player = Player::Create(world, FastOptions(scrmd.Url()), sim.platform);
  REQUIRE(player.ok());
  auto result = (*player)->Play({OaSubscribe("oNEW", "expo2026"), WecomAdd("wmNEW", "expo")});
  REQUIRE(result.ok());
  CHECK(result->delivered == 2);
  const auto seen = scrmd.Requests();
  REQUIRE(seen.size() == 2);

  CHECK(seen[0].path == "/callbacks/oa/brand");
  CHECK(Param(seen[0].params, "encrypt_type") == "aes");
  CHECK(Param(seen[0].params, "openid") == "oNEW");
  auto oa = wxcrypto::MsgCrypt::Create(world.oa.token, world.oa.encoding_aes_key, world.oa.app_id);
  REQUIRE(oa.ok());
  auto oa_plain =
      oa->DecryptMessage(Param(seen[0].params, "msg_signature"), Param(seen[0].params, "timestamp"),
                         Param(seen[0].params, "nonce"), EncryptOf(seen[0].body));
  REQUIRE(oa_plain.ok());
  CHECK(Field(*oa_plain, "Event") == "subscribe");
  CHECK(Field(*oa_plain, "EventKey") == "qrscene_expo2026");
  CHECK(Field(*oa_plain, "FromUserName") == "oNEW");
  CHECK(Field(*oa_plain, "ToUserName") == world.oa.gh_id);
  // The plain signature over [token, timestamp, nonce] is there too (§1.3).
  CHECK(oa->VerifyPlainSignature(Param(seen[0].params, "signature"),
                                 Param(seen[0].params, "timestamp"),
                                 Param(seen[0].params, "nonce")));

  CHECK(seen[1].path == "/callbacks/wecom/acme");
  auto wc = wxcrypto::MsgCrypt::Create(world.wecom.token, world.wecom.encoding_aes_key,
                                       world.wecom.corp_id);
  REQUIRE(wc.ok());
  auto wc_plain =
      wc->DecryptMessage(Param(seen[1].params, "msg_signature"), Param(seen[1].params, "timestamp"),
                         Param(seen[1].params, "nonce"), EncryptOf(seen[1].body));
  REQUIRE(wc_plain.ok());
  CHECK(Field(*wc_plain, "ChangeType") == "add_external_contact");
  CHECK(Field(*wc_plain, "FromUserName") == "sys");
  CHECK(Field(*wc_plain, "State") == "expo");
  CHECK(Field(*wc_plain, "ExternalUserID") == "wmNEW");
  CHECK_FALSE(Field(*wc_plain, "WelcomeCode").empty());
}

TEST_CASE("sim player applies events to the world before it delivers them", "[integration]") {
  SimFixture sim;
  std::string contact_seen_by_scrmd;
  // scrmd reacts to the callback by calling externalcontact/get, as the real service does.
  Receiver scrmd([&](int, const httplib::Request&, httplib::Response&) {
    const json r = sim.Get("/cgi-bin/externalcontact/get?access_token=" + sim.WecomToken() +
                           "&external_userid=wmNEW");
    contact_seen_by_scrmd = r["external_contact"].value("unionid", "");
  });
  auto player =
      Player::Create(sim.platform.WorldSnapshot(), FastOptions(scrmd.Url()), sim.platform);
  REQUIRE(player.ok());
  REQUIRE((*player)->Play({WecomAdd("wmNEW", "expo")}).ok());
  CHECK(contact_seen_by_scrmd == "ozSHARED");
}

TEST_CASE("sim player re-delivers the same bytes when the first answer is too slow",
          "[integration]") {
  Receiver scrmd([](int call, const httplib::Request&, httplib::Response&) {
    if (call == 1) std::this_thread::sleep_for(1500ms);  // past the 1 s deadline
  });
  SimFixture sim;
  auto player =
      Player::Create(sim.platform.WorldSnapshot(), FastOptions(scrmd.Url()), sim.platform);
  REQUIRE(player.ok());
  auto result = (*player)->Play({OaSubscribe("oSLOW", "")});
  REQUIRE(result.ok());
  CHECK(result->delivered == 1);
  const auto seen = scrmd.Requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].body == seen[1].body);
  CHECK(seen[0].params == seen[1].params);

  const json deliveries = sim.Get("/sim/deliveries");
  REQUIRE(deliveries["count"] == 2);
  CHECK(deliveries["deliveries"][0]["outcome"] == "timeout");
  CHECK(deliveries["deliveries"][0]["attempt"] == 1);
  CHECK(deliveries["deliveries"][1]["outcome"] == "ok");
  CHECK(deliveries["deliveries"][1]["attempt"] == 2);
}

TEST_CASE("sim player gives up after three re-deliveries when scrmd keeps failing",
          "[integration]") {
  Receiver scrmd([](int, const httplib::Request&, httplib::Response& res) { res.status = 500; });
  SimFixture sim;
  auto player =
      Player::Create(sim.platform.WorldSnapshot(), FastOptions(scrmd.Url()), sim.platform);
  REQUIRE(player.ok());
  auto result = (*player)->Play({WecomAdd("wmFAIL", "")});
  REQUIRE(result.ok());
  CHECK(result->failed == 1);
  CHECK(scrmd.Requests().size() == 4);
  REQUIRE(result->deliveries.size() == 4);
  CHECK(result->deliveries.back().outcome == "http_status");
  CHECK(result->deliveries.back().http_status == 500);
}

TEST_CASE("sim player counts an OA answer other than success or a reply as a failure",
          "[integration]") {
  Receiver scrmd([](int call, const httplib::Request&, httplib::Response& res) {
    if (call == 1) res.set_content("oops", "text/plain");
  });
  SimFixture sim;
  auto player =
      Player::Create(sim.platform.WorldSnapshot(), FastOptions(scrmd.Url()), sim.platform);
  REQUIRE(player.ok());
  auto result = (*player)->Play({OaSubscribe("oBODY", "")});
  REQUIRE(result.ok());
  REQUIRE(result->deliveries.size() == 2);
  CHECK(result->deliveries[0].outcome == "bad_body");
  CHECK(result->deliveries[1].outcome == "ok");
}

TEST_CASE("sim player records a connection error when nothing listens", "[integration]") {
  int port = 0;
  {
    Receiver gone;
    port = gone.port;
  }
  SimFixture sim;
  PlayerOptions o = FastOptions("http://127.0.0.1:" + std::to_string(port));
  o.max_retries = 1;
  auto player = Player::Create(sim.platform.WorldSnapshot(), o, sim.platform);
  REQUIRE(player.ok());
  auto result = (*player)->Play({OaSubscribe("oX", "")});
  REQUIRE(result.ok());
  CHECK(result->failed == 1);
  REQUIRE(result->deliveries.size() == 2);
  CHECK(result->deliveries[0].outcome == "connection_error");
}

TEST_CASE("sim player refuses a target that is not loopback", "[unit]") {
  SimFixture sim;
  PlayerOptions o;
  o.target = "http://10.0.0.1:8080";
  CHECK_FALSE(Player::Create(sim.platform.WorldSnapshot(), o, sim.platform).ok());
  o.target = "http://example.com:80";
  CHECK_FALSE(Player::Create(sim.platform.WorldSnapshot(), o, sim.platform).ok());
  o.target = "https://127.0.0.1:8080";
  CHECK_FALSE(Player::Create(sim.platform.WorldSnapshot(), o, sim.platform).ok());
  CHECK(ParseLoopbackBase("http://localhost:8080/").ok());
}

TEST_CASE("sim event XML escapes CDATA terminators and uses the SCAN key without prefix",
          "[unit]") {
  World w;
  ScenarioEvent text;
  text.platform = "oa";
  text.type = "text";
  text.openid = "o1";
  text.content = "a]]>b";
  text.msg_id = 5;
  CHECK(Field(EventXml(w, text, 1), "Content") == "a]]>b");
  ScenarioEvent scan;
  scan.platform = "oa";
  scan.type = "SCAN";
  scan.openid = "o1";
  scan.scene = "123";
  CHECK(Field(EventXml(w, scan, 1), "EventKey") == "123");
}

TEST_CASE("sim play control endpoint delivers the world's scenario", "[integration]") {
  Receiver scrmd;
  World w = TestWorld();
  w.events = {OaSubscribe("oPLAY", "7"), WecomAdd("wmPLAY", "s")};
  SimFixture sim(w);
  const json r = sim.Post("/sim/play", {{"target", scrmd.Url()}, {"response_timeout_ms", 1000}});
  CHECK(r["delivered"] == 2);
  CHECK(scrmd.Requests().size() == 2);
  const json info = sim.Get("/cgi-bin/user/info?access_token=" + sim.OaToken() + "&openid=oPLAY");
  CHECK(info["qr_scene"] == 7);
  CHECK(info["subscribe_scene"] == "ADD_SCENE_QR_CODE");
}

TEST_CASE("sim demo scenario loads and names a shared unionid on both platforms", "[unit]") {
  auto world = LoadWorldFile(scrm::testing::SourcePath("sim/scenarios/demo.json"));
  REQUIRE(world.ok());
  std::string oa_union;
  std::string wecom_union;
  bool keyword = false;
  for (const auto& e : world->events) {
    if (e.platform == "oa" && e.type == "subscribe") oa_union = e.unionid;
    if (e.platform == "wecom" && e.type == "add_external_contact") wecom_union = e.unionid;
    if (e.content.find("预算5万-10万") != std::string::npos) keyword = true;
  }
  CHECK_FALSE(oa_union.empty());
  CHECK(oa_union == wecom_union);
  CHECK(keyword);
}

TEST_CASE("sim world file with an unknown key or a bad fault is rejected", "[unit]") {
  CHECK_FALSE(ParseWorld(R"({"wecomm":{}})").ok());
  CHECK_FALSE(ParseWorld(R"({"faults":[{"kind":"explode"}]})").ok());
  CHECK_FALSE(ParseWorld(R"({"events":[{"platform":"oa","type":"subscribe"}]})").ok());
  CHECK(ParseWorld(R"({"token_lifetime_s":60})").ok());
}

TEST_CASE("scrm-sim serve prints its URL and play delivers the demo scenario through it",
          "[integration]") {
  Receiver scrmd;
  scrm::testing::Subprocess serve({scrm::testing::SimBinary(), "serve", "--world",
                                   scrm::testing::SourcePath("sim/scenarios/demo.json"), "--port",
                                   "0"});
  auto line = serve.WaitForStdoutLine("scrm-sim listening on http://127.0.0.1:", 20s);
  INFO(serve.Stderr());
  REQUIRE(line.has_value());
  const std::string sim_url = line->substr(line->find("http://"));
  auto played =
      scrm::testing::Run({scrm::testing::SimBinary(), "play", "--scenario",
                          scrm::testing::SourcePath("sim/scenarios/demo.json"), "--target",
                          scrmd.Url(), "--sim", sim_url, "--timeout-ms", "2000"});
  INFO(played.err);
  CHECK(played.exit_code == 0);
  CHECK(played.out.find("delivered, 0 failed") != std::string::npos);
  const auto base = ParseLoopbackBase(sim_url);
  REQUIRE(base.ok());
  httplib::Client client(base->first, base->second);
  auto deliveries = client.Get("/sim/deliveries");
  REQUIRE(deliveries);
  CHECK(json::parse(deliveries->body)["count"].get<size_t>() == scrmd.Requests().size());
}

}  // namespace
}  // namespace scrm::sim::testing
