// Regressions found by the libFuzzer targets in tests/fuzz: each case is the smallest form of a
// saved input (its seed-regression-* file under tests/fuzz/corpus/) as a deterministic unit test.
#include <pugixml.hpp>

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "channels/common/channel.h"
#include "channels/official_account/oa_adapter.h"
#include "channels/wecom/wecom_adapter.h"
#include "channels/wxcrypto/wxcrypto.h"
#include "src/config/config.h"
#include "src/core/clock.h"
#include "src/core/random.h"
#include "src/model/interaction.h"

namespace scrm::channels {
namespace {

constexpr int64_t kNowS = 1767225600;
constexpr char kTimestamp[] = "1767225600";
constexpr char kNonce[] = "1234567890";
constexpr char kToken[] = "regressionToken";
constexpr char kAesKey[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

// "]]" + a C0 control + ">": AppendCdata dropped the control after checking for "]]>", so the
// bytes written closed the CDATA section and the rest of the value became reply markup
// (seed-regression-reply_cdata_control).
const std::string kBreakout = std::string("]]") + '\x01' + "><Injected/>";
const std::string kBreakoutRead = "]]><Injected/>";  // what the reply must carry instead

// Element names directly under <xml>, in order.
std::vector<std::string> ChildNames(pugi::xml_node root) {
  std::vector<std::string> names;
  for (pugi::xml_node child = root.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_element) names.emplace_back(child.name());
  }
  return names;
}

// The value of an element as a reader sees it: all its text and CDATA sections joined.
std::string Joined(pugi::xml_node element) {
  std::string text;
  for (pugi::xml_node child = element.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    }
  }
  return text;
}

const std::vector<std::string> kReplyElements = {"ToUserName", "FromUserName", "CreateTime",
                                                 "MsgType", "Content"};

config::AccountConfig OaPlainAccount() {
  config::AccountConfig account;
  account.id = "oa-plain";
  account.platform = model::Platform::kOfficialAccount;
  account.app_id = "wxregression0001";
  account.token = kToken;
  account.encrypt_mode = config::EncryptMode::kPlain;
  return account;
}

std::unique_ptr<oa::OaAdapter> OaPlainAdapter(const core::Clock& clock, core::Random& random) {
  auto created = oa::OaAdapter::Create(OaPlainAccount(), clock, random);
  REQUIRE(created.ok());
  return std::move(created).value();
}

CallbackRequest OaPlainPost(const std::string& body) {
  CallbackRequest request;
  request.query = {{"signature", wxcrypto::PlainSignature(kToken, kTimestamp, kNonce)},
                   {"timestamp", kTimestamp},
                   {"nonce", kNonce},
                   {"openid", "oRegression"}};
  request.body = body;
  return request;
}

std::string OaTextXml(const std::string& from_user_pcdata) {
  return "<xml><ToUserName><![CDATA[gh_regression]]></ToUserName><FromUserName>" +
         from_user_pcdata +
         "</FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
         "<Content><![CDATA[hi]]></Content><MsgId>1</MsgId></xml>";
}

TEST_CASE(
    "OaAdapter keeps a CDATA terminator split by a control byte inside the reply Content when the "
    "reply is plain",
    "[unit]") {
  core::FakeClock clock(kNowS * 1000);
  core::FakeRandom random;
  const std::unique_ptr<oa::OaAdapter> adapter = OaPlainAdapter(clock, random);
  const CallbackRequest request = OaPlainPost(OaTextXml("oRegression"));
  const Decoded<model::Interaction> decoded = adapter->Decode(request);
  REQUIRE(decoded.ok());
  const ReplyMessage reply{"a" + kBreakout + "b"};

  const std::string body = adapter->AckBody(request, *decoded.value, &reply);
  pugi::xml_document doc;
  REQUIRE(doc.load_buffer(body.data(), body.size()));
  const pugi::xml_node xml = doc.child("xml");
  CHECK(ChildNames(xml) == kReplyElements);
  CHECK(ChildNames(xml.child("Content")).empty());
  CHECK(Joined(xml.child("Content")) == "a" + kBreakoutRead + "b");
}

TEST_CASE(
    "OaAdapter keeps a CDATA terminator split by a control byte inside the reply ToUserName when "
    "the body "
    "sets it as FromUserName",
    "[unit]") {
  // Plaintext mode does not authenticate the body (§1.3), so FromUserName is the sender's choice;
  // &#1; arrives as the control byte after XML unescaping.
  core::FakeClock clock(kNowS * 1000);
  core::FakeRandom random;
  const std::unique_ptr<oa::OaAdapter> adapter = OaPlainAdapter(clock, random);
  const CallbackRequest request = OaPlainPost(OaTextXml("o]]&#1;&gt;&lt;Injected/&gt;"));
  const Decoded<model::Interaction> decoded = adapter->Decode(request);
  REQUIRE(decoded.ok());
  REQUIRE(decoded.value->openid == "o" + kBreakout);
  const ReplyMessage reply{"hello"};

  const std::string body = adapter->AckBody(request, *decoded.value, &reply);
  pugi::xml_document doc;
  REQUIRE(doc.load_buffer(body.data(), body.size()));
  const pugi::xml_node xml = doc.child("xml");
  CHECK(ChildNames(xml) == kReplyElements);
  CHECK(Joined(xml.child("ToUserName")) == "o" + kBreakoutRead);
  CHECK(Joined(xml.child("Content")) == "hello");
}

TEST_CASE(
    "WecomAdapter keeps a CDATA terminator split by a control byte inside the reply Content when "
    "the reply is "
    "encrypted",
    "[unit]") {
  core::FakeClock clock(kNowS * 1000);
  core::FakeRandom random;
  config::AccountConfig account;
  account.id = "wecom";
  account.platform = model::Platform::kWecom;
  account.corp_id = "wwregression0001";
  account.token = kToken;
  account.encoding_aes_key = kAesKey;
  auto created = wecom::WecomAdapter::Create(account, clock, random);
  REQUIRE(created.ok());
  const std::unique_ptr<wecom::WecomAdapter> adapter = std::move(created).value();
  auto platform = wxcrypto::MsgCrypt::Create(kToken, kAesKey, account.corp_id);
  REQUIRE(platform.ok());

  const std::string message =
      "<xml><ToUserName><![CDATA[wwregression0001]]></ToUserName><FromUserName><![CDATA[zhangsan]]>"
      "</FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
      "<Content><![CDATA[hi]]></Content><MsgId>1</MsgId><AgentID>1</AgentID></xml>";
  auto encrypted = platform->EncryptMessage(message, kTimestamp, kNonce, random);
  REQUIRE(encrypted.ok());
  CallbackRequest request;
  request.query = {
      {"msg_signature", encrypted->msg_signature}, {"timestamp", kTimestamp}, {"nonce", kNonce}};
  request.body = "<xml><Encrypt><![CDATA[" + encrypted->encrypt + "]]></Encrypt></xml>";
  const Decoded<model::Interaction> decoded = adapter->Decode(request);
  REQUIRE(decoded.ok());
  const ReplyMessage reply{kBreakout};

  const std::string body = adapter->AckBody(request, *decoded.value, &reply);
  pugi::xml_document envelope;
  REQUIRE(envelope.load_buffer(body.data(), body.size()));
  const pugi::xml_node e = envelope.child("xml");
  auto plain = platform->DecryptMessage(Joined(e.child("MsgSignature")), kTimestamp, kNonce,
                                        Joined(e.child("Encrypt")));
  REQUIRE(plain.ok());
  pugi::xml_document doc;
  REQUIRE(doc.load_buffer(plain->data(), plain->size()));
  const pugi::xml_node xml = doc.child("xml");
  CHECK(ChildNames(xml) == kReplyElements);
  CHECK(Joined(xml.child("Content")) == kBreakoutRead);
}

}  // namespace
}  // namespace scrm::channels
