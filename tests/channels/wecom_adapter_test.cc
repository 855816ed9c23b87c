// WecomAdapter against the official WeCom vectors (tests/fixtures/wechat/wecom_official.json) and
// requests built with MsgCrypt for the shapes the vectors do not cover (PROTOCOL.md §1.2, §2).
#include "channels/wecom/wecom_adapter.h"

#include <pugixml.hpp>

#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "channels/common/channel.h"
#include "channels/wxcrypto/wxcrypto.h"
#include "src/config/config.h"
#include "src/core/clock.h"
#include "src/core/random.h"
#include "src/model/interaction.h"
#include "tests/support/test_support.h"

namespace scrm::channels::wecom {
namespace {

using nlohmann::json;

constexpr int64_t kWindowS = 300;

json Vector(const std::string& id) {
  const json file = json::parse(
      scrm::testing::ReadFile(scrm::testing::FixturePath("wechat/wecom_official.json")));
  for (const json& v : file.at("vectors")) {
    if (v.at("id") == id) return v;
  }
  FAIL("no vector " << id);
  return {};
}

// The official sample corp (token QDG6eK, CorpID wx5823bf96d3bd56c7).
config::AccountConfig OfficialAccount() {
  const json v = Vector("wecom-official-decrypt");
  config::AccountConfig account;
  account.id = "corp1";
  account.platform = model::Platform::kWecom;
  account.corp_id = v.at("receiveid");
  account.token = v.at("token");
  account.encoding_aes_key = v.at("encoding_aes_key");
  account.timestamp_window_s = kWindowS;
  return account;
}

int64_t Seconds(const std::string& timestamp) { return std::stoll(timestamp); }

// The adapter under test with its fake clock and random, plus the platform's side of the same
// account (a MsgCrypt with the same token / key / receiveid) to sign and encrypt requests.
struct Harness {
  explicit Harness(const std::string& timestamp)
      : clock(Seconds(timestamp) * 1000), account(OfficialAccount()) {
    auto created = WecomAdapter::Create(account, clock, random);
    REQUIRE(created.ok());
    adapter = std::move(created).value();
    platform = Crypt(account.corp_id);
  }

  wxcrypto::MsgCrypt Crypt(const std::string& receive_id) const {
    auto crypt = wxcrypto::MsgCrypt::Create(account.token, account.encoding_aes_key, receive_id);
    REQUIRE(crypt.ok());
    return std::move(crypt).value();
  }

  core::FakeClock clock;
  core::FakeRandom random;
  config::AccountConfig account;
  std::unique_ptr<WecomAdapter> adapter;
  std::optional<wxcrypto::MsgCrypt> platform;
};

// A POST whose body carries `encrypt` and whose msg_signature is valid for it.
CallbackRequest SignedPost(const config::AccountConfig& account, const std::string& encrypt,
                           const std::string& timestamp, const std::string& nonce) {
  CallbackRequest request;
  request.query = {{"msg_signature", wxcrypto::Signature(account.token, timestamp, nonce, encrypt)},
                   {"timestamp", timestamp},
                   {"nonce", nonce}};
  request.body = "<xml><ToUserName><![CDATA[" + account.corp_id +
                 "]]></ToUserName><Encrypt><![CDATA[" + encrypt +
                 "]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>";
  request.content_type = "text/xml";
  request.received_at_ms = 1409659813123;
  return request;
}

// What the platform sends for `plaintext` from `crypt` (its receiveid is inside the frame).
CallbackRequest EncryptedPost(const config::AccountConfig& account, const wxcrypto::MsgCrypt& crypt,
                              const std::string& plaintext, const std::string& timestamp,
                              const std::string& nonce) {
  core::FakeRandom random(7);
  auto encrypted = crypt.EncryptMessage(plaintext, timestamp, nonce, random);
  REQUIRE(encrypted.ok());
  return SignedPost(account, encrypted->encrypt, timestamp, nonce);
}

CallbackRequest OfficialPost() {
  const json v = Vector("wecom-official-decrypt");
  CallbackRequest request;
  request.query = {{"msg_signature", v.at("msg_signature")},
                   {"timestamp", v.at("timestamp")},
                   {"nonce", v.at("nonce")}};
  request.body = v.at("post_body");
  request.content_type = "text/xml";
  request.received_at_ms = 1409659813123;
  return request;
}

CallbackRequest OfficialVerifyUrl() {
  const json v = Vector("wecom-official-verify-url");
  CallbackRequest request;
  request.query = {{"msg_signature", v.at("msg_signature")},
                   {"timestamp", v.at("timestamp")},
                   {"nonce", v.at("nonce")},
                   {"echostr", v.at("echostr")}};
  return request;
}

const std::string kTextMessage =
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
    "<FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1409659813</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>"
    "<MsgId>1234567890123456</MsgId><AgentID>218</AgentID></xml>";

// Text of an element, joining CDATA sections ("]]>" in a reply is split across two).
std::string Text(const pugi::xml_node& node) {
  std::string out;
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      out += child.value();
    }
  }
  return out;
}

template <typename T>
void RequireRejected(const Decoded<T>& decoded, RejectReason reason) {
  REQUIRE_FALSE(decoded.ok());
  CHECK(RejectReasonName(decoded.rejection.reason) == RejectReasonName(reason));
}

TEST_CASE("WecomAdapter answers the decrypted echostr when the URL check is the official vector",
          "[unit]") {
  const json v = Vector("wecom-official-verify-url");
  Harness h(v.at("timestamp"));
  const Decoded<std::string> body = h.adapter->VerifyUrl(OfficialVerifyUrl());
  REQUIRE(body.ok());
  CHECK(*body.value == "1616140317555161061");
}

TEST_CASE("WecomAdapter decodes a text message when the POST is the official vector", "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  const Decoded<model::Interaction> decoded = h.adapter->Decode(OfficialPost());
  REQUIRE(decoded.ok());
  const model::Interaction& interaction = *decoded.value;
  CHECK(interaction.platform == model::Platform::kWecom);
  CHECK(interaction.account_id == "corp1");
  CHECK(interaction.kind == model::InteractionKind::kMessageText);
  CHECK(interaction.msg_id == "4561255354251345929");
  CHECK(interaction.userid == "mycreate");
  CHECK(interaction.to_user == "wx5823bf96d3bd56c7");
  CHECK(interaction.occurred_at_ms == 1409659813000);
  CHECK(interaction.received_at_ms == 1409659813123);
  CHECK(interaction.raw_body == v.at("expected_plaintext"));
  CHECK(interaction.raw_format == "xml");
  CHECK_FALSE(interaction.dedupe_key.empty());
  CHECK(interaction.id == 0);
  REQUIRE(std::holds_alternative<model::TextPayload>(interaction.payload));
  CHECK(std::get<model::TextPayload>(interaction.payload).content == "hello");
}

TEST_CASE("WecomAdapter reads Encrypt when it is plain text placed before the other elements",
          "[unit]") {
  const std::string ts = "1409659813";
  Harness h(ts);
  CallbackRequest request = EncryptedPost(h.account, *h.platform, kTextMessage, ts, "42");
  const std::string encrypt = [&] {
    pugi::xml_document doc;
    REQUIRE(doc.load_string(request.body.c_str()));
    return std::string(doc.child("xml").child("Encrypt").text().get());
  }();
  request.body = "<xml>\n  <Encrypt>" + encrypt +
                 "</Encrypt>\n  <AgentID>218</AgentID>\n  <ToUserName>x</ToUserName>\n</xml>\n";
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  CHECK(decoded.value->userid == "zhangsan");
  CHECK(std::get<model::TextPayload>(decoded.value->payload).content == "你好");
}

TEST_CASE("WecomAdapter refuses with missing_parameter when a POST query parameter is absent",
          "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  const std::string name = GENERATE(as<std::string>{}, "msg_signature", "timestamp", "nonce");
  const bool empty = GENERATE(false, true);
  CallbackRequest request = OfficialPost();
  if (empty) {
    request.query[name] = "";
  } else {
    request.query.erase(name);
  }
  RequireRejected(h.adapter->Decode(request), RejectReason::kMissingParameter);
}

TEST_CASE("WecomAdapter refuses URL verification with missing_parameter when a parameter is absent",
          "[unit]") {
  const json v = Vector("wecom-official-verify-url");
  Harness h(v.at("timestamp"));
  const std::string name =
      GENERATE(as<std::string>{}, "msg_signature", "timestamp", "nonce", "echostr");
  CallbackRequest request = OfficialVerifyUrl();
  request.query.erase(name);
  RequireRejected(h.adapter->VerifyUrl(request), RejectReason::kMissingParameter);
}

TEST_CASE("WecomAdapter refuses with bad_signature when msg_signature does not match", "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  CallbackRequest request = OfficialPost();
  SECTION("one hex digit changed") {
    request.query["msg_signature"].back() =
        request.query["msg_signature"].back() == '0' ? '1' : '0';
  }
  SECTION("upper-case hex") {
    for (char& c : request.query["msg_signature"]) c = static_cast<char>(std::toupper(c));
  }
  SECTION("another nonce than the signed one") { request.query["nonce"] = "1372623148"; }
  SECTION("the body's Encrypt altered") {
    const size_t at = request.body.find("RypEv");
    REQUIRE(at != std::string::npos);
    request.body[at] = 'S';
  }
  RequireRejected(h.adapter->Decode(request), RejectReason::kBadSignature);
}

TEST_CASE("WecomAdapter refuses URL verification with bad_signature when the nonce was not signed",
          "[unit]") {
  // wechatpy's test_check_signature_should_fail twin.
  const json v = Vector("wechatpy-work-check-signature");
  core::FakeClock clock(Seconds(v.at("timestamp")) * 1000);
  core::FakeRandom random;
  config::AccountConfig account = OfficialAccount();
  account.token = v.at("token");
  account.encoding_aes_key = v.at("encoding_aes_key");
  account.corp_id = v.at("receiveid");
  auto adapter = WecomAdapter::Create(account, clock, random);
  REQUIRE(adapter.ok());
  CallbackRequest request;
  request.query = {{"msg_signature", v.at("msg_signature")},
                   {"timestamp", v.at("timestamp")},
                   {"nonce", v.at("nonce")},
                   {"echostr", v.at("echostr")}};
  REQUIRE((*adapter)->VerifyUrl(request).ok());
  CHECK(*(*adapter)->VerifyUrl(request).value == v.at("expected_plaintext"));
  request.query["nonce"] = v.at("negative_twin").at("nonce");
  RequireRejected((*adapter)->VerifyUrl(request), RejectReason::kBadSignature);
}

TEST_CASE("WecomAdapter refuses with stale_timestamp when the clock is outside the window",
          "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  const int64_t skew_s = GENERATE(as<int64_t>{}, kWindowS + 1, -(kWindowS + 1), 86400, -86400);
  h.clock.SetUnixMillis((Seconds(v.at("timestamp")) + skew_s) * 1000);
  RequireRejected(h.adapter->Decode(OfficialPost()), RejectReason::kStaleTimestamp);
}

TEST_CASE("WecomAdapter refuses URL verification with stale_timestamp when outside the window",
          "[unit]") {
  const json v = Vector("wecom-official-verify-url");
  Harness h(v.at("timestamp"));
  const int64_t skew_s = GENERATE(as<int64_t>{}, kWindowS + 1, -(kWindowS + 1));
  h.clock.SetUnixMillis((Seconds(v.at("timestamp")) + skew_s) * 1000);
  RequireRejected(h.adapter->VerifyUrl(OfficialVerifyUrl()), RejectReason::kStaleTimestamp);
}

TEST_CASE("WecomAdapter accepts a callback when the clock is exactly at the window's edge",
          "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  const int64_t skew_s = GENERATE(as<int64_t>{}, kWindowS, -kWindowS);
  h.clock.SetUnixMillis((Seconds(v.at("timestamp")) + skew_s) * 1000 + (skew_s > 0 ? 999 : 0));
  const Decoded<model::Interaction> decoded = h.adapter->Decode(OfficialPost());
  INFO(decoded.rejection.detail);
  CHECK(decoded.ok());
}

TEST_CASE("WecomAdapter refuses with stale_timestamp when the signed timestamp is not decimal",
          "[unit]") {
  Harness h("1409659813");
  // Signed correctly, so only the window check can refuse it.
  const std::string ts = GENERATE(as<std::string>{}, "14096598l3", "-1409659813", " 1409659813",
                                  "1409659813.0", "99999999999999999999");
  RequireRejected(h.adapter->Decode(EncryptedPost(h.account, *h.platform, kTextMessage, ts, "42")),
                  RejectReason::kStaleTimestamp);
}

TEST_CASE("WecomAdapter refuses with malformed_envelope when the body has no Encrypt", "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  CallbackRequest request = OfficialPost();
  request.body = GENERATE(as<std::string>{},
                          "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName></xml>",
                          "<xml><Encrypt></Encrypt></xml>",
                          "<xml><ToUserName><Encrypt><![CDATA[abcd]]></Encrypt></ToUserName></xml>",
                          "<xml><Encrypt>abcd</Encrypt><Encrypt>abcd</Encrypt></xml>",
                          "<root><Encrypt>abcd</Encrypt></root>");
  RequireRejected(h.adapter->Decode(request), RejectReason::kMalformedEnvelope);
}

TEST_CASE("WecomAdapter refuses with malformed_envelope when the body is not well-formed XML",
          "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  CallbackRequest request = OfficialPost();
  request.body =
      GENERATE(as<std::string>{}, "", "   ", "not xml at all",
               "<xml><Encrypt><![CDATA[abcd]]></Encrypt>", "<xml><Encrypt>abcd</Encrypt></xmlx>",
               "{\"Encrypt\":\"abcd\"}", std::string("<xml>\0</xml>", 12));
  RequireRejected(h.adapter->Decode(request), RejectReason::kMalformedEnvelope);
}

TEST_CASE("WecomAdapter refuses with bad_base64 when the signed Encrypt is not strict base64",
          "[unit]") {
  const std::string ts = "1409659813";
  Harness h(ts);
  const std::string encrypt = GENERATE(as<std::string>{}, "abc", "ab-_cdef", "abcd=efg");
  RequireRejected(h.adapter->Decode(SignedPost(h.account, encrypt, ts, "42")),
                  RejectReason::kBadBase64);
}

TEST_CASE("WecomAdapter refuses with decrypt_failed when the ciphertext is not 32-byte blocks",
          "[unit]") {
  const std::string ts = "1409659813";
  Harness h(ts);
  const std::string encrypt = wxcrypto::Base64Encode(std::string(48, 'x'));
  RequireRejected(h.adapter->Decode(SignedPost(h.account, encrypt, ts, "42")),
                  RejectReason::kDecryptFailed);
}

TEST_CASE("WecomAdapter refuses with bad_frame when the frame's length field runs past its end",
          "[unit]") {
  const std::string ts = "1409659813";
  Harness h(ts);
  core::FakeRandom random(3);
  auto encrypted = h.platform->EncryptMessage(kTextMessage, ts, "42", random);
  REQUIRE(encrypted.ok());
  auto cipher = wxcrypto::Base64Decode(encrypted->encrypt);
  REQUIRE(cipher.ok());
  // CBC: flipping a bit of ciphertext block 1 flips the same bit of plaintext block 2, whose
  // first byte is msg_len's high byte (frame offset 16); block 1 (the random prefix) turns to
  // noise, which any receiver accepts. msg_len grows by 2^24, past the frame.
  (*cipher)[0] = static_cast<char>((*cipher)[0] ^ 0x01);
  const std::string tampered = wxcrypto::Base64Encode(*cipher);
  RequireRejected(h.adapter->Decode(SignedPost(h.account, tampered, ts, "42")),
                  RejectReason::kBadFrame);
}

TEST_CASE("WecomAdapter refuses with wrong_receive_id when the message was for another corp",
          "[unit]") {
  const std::string ts = "1409659813";
  Harness h(ts);
  const wxcrypto::MsgCrypt other = h.Crypt("ww0123456789abcdef");
  RequireRejected(h.adapter->Decode(EncryptedPost(h.account, other, kTextMessage, ts, "42")),
                  RejectReason::kWrongReceiveId);
}

TEST_CASE(
    "WecomAdapter refuses URL verification with wrong_receive_id when echostr is for another "
    "corp",
    "[unit]") {
  const std::string ts = "1409659589";
  Harness h(ts);
  const wxcrypto::MsgCrypt other = h.Crypt("ww0123456789abcdef");
  core::FakeRandom random(5);
  auto encrypted = other.EncryptMessage("1616140317555161061", ts, "263014780", random);
  REQUIRE(encrypted.ok());
  CallbackRequest request;
  request.query = {{"msg_signature", encrypted->msg_signature},
                   {"timestamp", ts},
                   {"nonce", "263014780"},
                   {"echostr", encrypted->encrypt}};
  RequireRejected(h.adapter->VerifyUrl(request), RejectReason::kWrongReceiveId);
}

TEST_CASE("WecomAdapter stores a decrypted payload as malformed when it is not a message",
          "[unit]") {
  // Authentic (signed, decrypted): refusing it would only make the platform retry and drop it.
  const std::string ts = "1409659813";
  Harness h(ts);
  const std::string plaintext =
      GENERATE(as<std::string>{}, "<xml><MsgType>text</MsgType>", "{\"MsgType\":\"text\"}", "hello",
               "<xml><MsgType>text</MsgType><MsgId>12ab</MsgId><CreateTime>1</CreateTime></xml>");
  const auto decoded =
      h.adapter->Decode(EncryptedPost(h.account, *h.platform, plaintext, ts, "42"));
  REQUIRE(decoded.ok());
  CHECK(decoded.value->kind == model::InteractionKind::kMalformed);
  CHECK(decoded.value->raw_body == plaintext);
  CHECK(decoded.value->dedupe_key.starts_with("malformed"));
  CHECK(decoded.value->userid.empty());
  CHECK(decoded.value->external_userid.empty());
  CHECK(decoded.value->received_at_ms != 0);
}

TEST_CASE("WecomAdapter acks with an empty body when there is no reply", "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  const CallbackRequest request = OfficialPost();
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  CHECK(h.adapter->AckBody(request, *decoded.value, nullptr).empty());
}

TEST_CASE("WecomAdapter encrypts a passive text reply to the sender when a reply is given",
          "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  const CallbackRequest request = OfficialPost();
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  h.clock.Advance(std::chrono::seconds(2));
  const ReplyMessage reply{"您好，欢迎 ]]> <b>&amp; 再见"};

  const std::string body = h.adapter->AckBody(request, *decoded.value, &reply);
  pugi::xml_document envelope;
  REQUIRE(envelope.load_buffer(body.data(), body.size()));
  const pugi::xml_node xml = envelope.child("xml");
  const std::string encrypt = Text(xml.child("Encrypt"));
  const std::string timestamp = Text(xml.child("TimeStamp"));
  const std::string nonce = Text(xml.child("Nonce"));
  CHECK(timestamp == v.at("timestamp"));
  CHECK(nonce == v.at("nonce"));

  // The platform's side decrypts it with the account's crypto, checking MsgSignature.
  auto plain =
      h.platform->DecryptMessage(Text(xml.child("MsgSignature")), timestamp, nonce, encrypt);
  REQUIRE(plain.ok());
  pugi::xml_document message;
  REQUIRE(message.load_buffer(plain->data(), plain->size()));
  const pugi::xml_node m = message.child("xml");
  CHECK(Text(m.child("ToUserName")) == "mycreate");
  CHECK(Text(m.child("FromUserName")) == "wx5823bf96d3bd56c7");
  CHECK(Text(m.child("CreateTime")) == std::to_string(Seconds(v.at("timestamp")) + 2));
  CHECK(Text(m.child("MsgType")) == "text");
  CHECK(Text(m.child("Content")) == reply.text);
}

TEST_CASE("WecomAdapter acks with an empty body when the reply has no member to address",
          "[unit]") {
  const json v = Vector("wecom-official-decrypt");
  Harness h(v.at("timestamp"));
  const CallbackRequest request = OfficialPost();
  Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  decoded.value->userid.clear();  // e.g. a 客户联系 event from "sys"
  const ReplyMessage reply{"hi"};
  CHECK(h.adapter->AckBody(request, *decoded.value, &reply).empty());
}

TEST_CASE("WecomAdapter acks with an empty body when the request nonce cannot be echoed",
          "[unit]") {
  const std::string ts = "1409659813";
  Harness h(ts);
  // Signed, so it decodes; but the reply envelope writes Nonce unescaped and refuses it.
  const CallbackRequest request = EncryptedPost(h.account, *h.platform, kTextMessage, ts, "4]]>2");
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  const ReplyMessage reply{"hi"};
  CHECK(h.adapter->AckBody(request, *decoded.value, &reply).empty());
}

TEST_CASE("WecomAdapter::Create fails with InvalidArgument naming the account when the key is bad",
          "[unit]") {
  core::FakeClock clock;
  core::FakeRandom random;
  config::AccountConfig account = OfficialAccount();
  account.encoding_aes_key = "not-a-valid-key-but-a-secret-all-the-same!!";
  auto created = WecomAdapter::Create(account, clock, random);
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == core::StatusCode::kInvalidArgument);
  CHECK_THAT(created.status().message(), Catch::Contains("corp1"));
  CHECK_THAT(created.status().message(), !Catch::Contains(account.encoding_aes_key));
  CHECK_THAT(created.status().message(), !Catch::Contains(account.token));
}

TEST_CASE("WecomAdapter::Create fails with InvalidArgument when the account is not a usable corp",
          "[unit]") {
  core::FakeClock clock;
  core::FakeRandom random;
  config::AccountConfig account = OfficialAccount();
  SECTION("an Official Account") { account.platform = model::Platform::kOfficialAccount; }
  SECTION("no corp_id") { account.corp_id.clear(); }
  SECTION("no token") { account.token.clear(); }
  auto created = WecomAdapter::Create(account, clock, random);
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == core::StatusCode::kInvalidArgument);
  CHECK_THAT(created.status().message(), Catch::Contains("corp1"));
}

}  // namespace
}  // namespace scrm::channels::wecom
