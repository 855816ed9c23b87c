// OaAdapter against the official Official Account vectors (tests/fixtures/wechat:
// plaintext_signature.json, oa_safe_mode_official.json) and requests built with MsgCrypt for
// the shapes the vectors do not cover (PROTOCOL.md §1.3, §2).
#include "channels/official_account/oa_adapter.h"

#include <pugixml.hpp>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "channels/common/channel.h"
#include "channels/wxcrypto/wxcrypto.h"
#include "src/config/config.h"
#include "src/core/clock.h"
#include "src/core/random.h"
#include "src/model/interaction.h"
#include "tests/support/test_support.h"

namespace scrm::channels::oa {
namespace {

using config::EncryptMode;
using nlohmann::json;

constexpr int64_t kWindowS = 300;

json LoadFile(const std::string& name) {
  return json::parse(scrm::testing::ReadFile(scrm::testing::FixturePath("wechat/" + name)));
}

json SafeVector(const std::string& id) {
  const json file = LoadFile("oa_safe_mode_official.json");
  for (const json& v : file.at("vectors")) {
    if (v.at("id") == id) return v;
  }
  FAIL("no vector " << id);
  return {};
}

json PlainVector(const std::string& id) {
  const json file = LoadFile("plaintext_signature.json");
  for (const json& v : file.at("official")) {
    if (v.at("id") == id) return v;
  }
  FAIL("no vector " << id);
  return {};
}

// The developers.weixin.qq.com worked-example account: Token "AAAAA", EncodingAESKey 43 x "A",
// AppID wxba5fad812f8e6fb9 (oa-official-doc-safe-mode-push and the plain-official-doc-* ones).
config::AccountConfig DocAccount(EncryptMode mode) {
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  config::AccountConfig account;
  account.id = "oa1";
  account.platform = model::Platform::kOfficialAccount;
  account.app_id = v.at("receiveid");
  account.token = v.at("token");
  account.encoding_aes_key = v.at("encoding_aes_key");
  account.encrypt_mode = mode;
  account.timestamp_window_s = kWindowS;
  return account;
}

int64_t Seconds(const std::string& timestamp) { return std::stoll(timestamp); }

// The adapter under test with its fake clock and random, plus the platform's side of the same
// account (a MsgCrypt with the same token / key / AppID) to encrypt requests and read replies.
struct Harness {
  Harness(EncryptMode mode, const std::string& timestamp)
      : clock(Seconds(timestamp) * 1000), account(DocAccount(mode)) {
    auto created = OaAdapter::Create(account, clock, random);
    REQUIRE(created.ok());
    adapter = std::move(created).value();
    platform = Crypt(account.app_id);
  }

  wxcrypto::MsgCrypt Crypt(const std::string& receive_id) const {
    auto crypt = wxcrypto::MsgCrypt::Create(account.token, account.encoding_aes_key, receive_id);
    REQUIRE(crypt.ok());
    return std::move(crypt).value();
  }

  core::FakeClock clock;
  core::FakeRandom random;
  config::AccountConfig account;
  std::unique_ptr<OaAdapter> adapter;
  std::optional<wxcrypto::MsgCrypt> platform;
};

// a=b&c=d (the vectors' values need no percent-decoding).
std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    REQUIRE(eq != std::string_view::npos);
    out.emplace(pair.substr(0, eq), pair.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return out;
}

CallbackRequest UrlCheck(const json& v) {
  CallbackRequest request;
  request.query = {{"signature", v.at("signature")},
                   {"timestamp", v.at("timestamp")},
                   {"nonce", v.at("nonce")},
                   {"echostr", v.at("echostr")}};
  return request;
}

// The plain-official-doc-post query (signature 899cf89e…) with `body`: plaintext mode signs
// only [token, timestamp, nonce], so any body goes with it.
CallbackRequest PlainPost(std::string body) {
  const json v = PlainVector("plain-official-doc-post");
  CallbackRequest request;
  request.query = {{"signature", v.at("signature")},
                   {"timestamp", v.at("timestamp")},
                   {"nonce", v.at("nonce")},
                   {"openid", "oUser123"}};
  request.body = std::move(body);
  request.received_at_ms = 1714037059456;
  return request;
}

// The official safe-mode push: JSON envelope, both signatures in the query.
CallbackRequest OfficialSafePost() {
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  CallbackRequest request;
  request.query = ParseQuery(v.at("query").get<std::string>());
  request.body = v.at("post_body");
  request.content_type = "application/json";
  request.received_at_ms = 1714112445789;
  return request;
}

// A safe / compat request the platform would send for `plaintext`, with `envelope` built
// around the Encrypt: "xml", "json", or a compat body with plaintext siblings.
CallbackRequest EncryptedPost(const config::AccountConfig& account, const wxcrypto::MsgCrypt& crypt,
                              const std::string& plaintext, const std::string& timestamp,
                              const std::string& nonce, std::string_view envelope) {
  core::FakeRandom random(11);
  auto encrypted = crypt.EncryptMessage(plaintext, timestamp, nonce, random);
  REQUIRE(encrypted.ok());
  CallbackRequest request;
  request.query = {{"signature", wxcrypto::PlainSignature(account.token, timestamp, nonce)},
                   {"timestamp", timestamp},
                   {"nonce", nonce},
                   {"openid", "oUser123"},
                   {"encrypt_type", "aes"},
                   {"msg_signature", encrypted->msg_signature}};
  if (envelope == "json") {
    request.body = json{{"ToUserName", "gh_97417a04a28d"}, {"Encrypt", encrypted->encrypt}}.dump();
  } else if (envelope == "compat-xml") {
    // Compatible mode (§1.3): the plaintext fields AND Encrypt. The siblings here are forged to
    // show that only Encrypt is read.
    request.body =
        "<xml><ToUserName><![CDATA[gh_forged]]></ToUserName>"
        "<FromUserName><![CDATA[oForged]]></FromUserName><CreateTime>1</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[forged]]></Content>"
        "<MsgId>1</MsgId><Encrypt><![CDATA[" +
        encrypted->encrypt + "]]></Encrypt></xml>";
  } else if (envelope == "compat-json") {
    request.body = json{{"ToUserName", "gh_forged"},
                        {"FromUserName", "oForged"},
                        {"CreateTime", 1},
                        {"MsgType", "text"},
                        {"Content", "forged"},
                        {"MsgId", 1},
                        {"Encrypt", encrypted->encrypt}}
                       .dump();
  } else {
    request.body = "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[" +
                   encrypted->encrypt + "]]></Encrypt></xml>";
  }
  request.received_at_ms = 1714112445789;
  return request;
}

const std::string kTs = "1714112445";
const std::string kTextXml =
    "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>"
    "<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>"
    "<CreateTime>1714112445</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[我要买咖啡]]></Content><MsgId>24532212345678901</MsgId></xml>";
const std::string kTextJson =
    R"({"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY",)"
    R"("CreateTime":1714112445,"MsgType":"text","Content":"我要买咖啡","MsgId":24532212345678901})";

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

void CheckCoffeeText(const Decoded<model::Interaction>& decoded, std::string_view format) {
  REQUIRE(decoded.ok());
  const model::Interaction& interaction = *decoded.value;
  CHECK(interaction.platform == model::Platform::kOfficialAccount);
  CHECK(interaction.account_id == "oa1");
  CHECK(interaction.kind == model::InteractionKind::kMessageText);
  CHECK(interaction.openid == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
  CHECK(interaction.to_user == "gh_97417a04a28d");
  CHECK(interaction.msg_id == "24532212345678901");
  CHECK(interaction.occurred_at_ms == 1714112445000);
  CHECK(interaction.raw_format == format);
  REQUIRE(std::holds_alternative<model::TextPayload>(interaction.payload));
  CHECK(std::get<model::TextPayload>(interaction.payload).content == "我要买咖啡");
}

// ---- URL verification (GET) ----

TEST_CASE("OaAdapter echoes echostr unchanged when the URL check is signed, in every mode",
          "[unit]") {
  const EncryptMode mode = GENERATE(EncryptMode::kPlain, EncryptMode::kCompat, EncryptMode::kSafe);
  INFO(std::string(config::EncryptModeName(mode)));
  const json v = PlainVector("plain-official-doc-verify");
  Harness h(mode, v.at("timestamp"));
  const Decoded<std::string> body = h.adapter->VerifyUrl(UrlCheck(v));
  REQUIRE(body.ok());
  CHECK(*body.value == "4375120948345356249");
}

TEST_CASE("OaAdapter refuses URL verification with bad_signature when the signature is wrong",
          "[unit]") {
  const EncryptMode mode = GENERATE(EncryptMode::kPlain, EncryptMode::kCompat, EncryptMode::kSafe);
  INFO(std::string(config::EncryptModeName(mode)));
  const json v = PlainVector("plain-official-doc-verify");
  Harness h(mode, v.at("timestamp"));
  CallbackRequest request = UrlCheck(v);
  SECTION("one hex digit changed") { request.query["signature"].back() = '7'; }
  SECTION("upper-case hex") {
    request.query["signature"] = "F464B24FC39322E44B38AA78F5EDD27BD1441696";
  }
  SECTION("another nonce") { request.query["nonce"] = "1514711493"; }
  RequireRejected(h.adapter->VerifyUrl(request), RejectReason::kBadSignature);
}

TEST_CASE("OaAdapter refuses URL verification with missing_parameter when a parameter is absent",
          "[unit]") {
  const json v = PlainVector("plain-official-doc-verify");
  Harness h(EncryptMode::kSafe, v.at("timestamp"));
  const std::string name =
      GENERATE(as<std::string>{}, "signature", "timestamp", "nonce", "echostr");
  CallbackRequest request = UrlCheck(v);
  request.query.erase(name);
  RequireRejected(h.adapter->VerifyUrl(request), RejectReason::kMissingParameter);
}

TEST_CASE("OaAdapter refuses URL verification with stale_timestamp when outside the window",
          "[unit]") {
  const json v = PlainVector("plain-official-doc-verify");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  const int64_t skew_s = GENERATE(as<int64_t>{}, kWindowS + 1, -(kWindowS + 1));
  h.clock.SetUnixMillis((Seconds(v.at("timestamp")) + skew_s) * 1000);
  RequireRejected(h.adapter->VerifyUrl(UrlCheck(v)), RejectReason::kStaleTimestamp);
}

// ---- plaintext mode POST ----

TEST_CASE("OaAdapter decodes a plain XML message when the account is in plain mode", "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  const Decoded<model::Interaction> decoded = h.adapter->Decode(PlainPost(kTextXml));
  CheckCoffeeText(decoded, "xml");
  CHECK(decoded.value->raw_body == kTextXml);
  CHECK(decoded.value->received_at_ms == 1714037059456);
}

TEST_CASE("OaAdapter decodes a plain JSON message when the body starts with a brace", "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  std::string body = kTextJson;
  SECTION("at the first byte") {}
  SECTION("after whitespace") { body = " \r\n\t" + kTextJson; }
  const Decoded<model::Interaction> decoded = h.adapter->Decode(PlainPost(body));
  CheckCoffeeText(decoded, "json");
  CHECK(decoded.value->received_at_ms == 1714037059456);
}

TEST_CASE("OaAdapter decodes a plain message when the account has no EncodingAESKey", "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  core::FakeClock clock(Seconds(v.at("timestamp")) * 1000);
  core::FakeRandom random;
  config::AccountConfig account = DocAccount(EncryptMode::kPlain);
  account.encoding_aes_key.clear();
  auto adapter = OaAdapter::Create(account, clock, random);
  REQUIRE(adapter.ok());
  CheckCoffeeText((*adapter)->Decode(PlainPost(kTextXml)), "xml");
}

TEST_CASE("OaAdapter refuses a plain POST with bad_signature when signature does not match",
          "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  CallbackRequest request = PlainPost(kTextXml);
  request.query["signature"] = PlainVector("plain-official-doc-verify").at("signature");
  RequireRejected(h.adapter->Decode(request), RejectReason::kBadSignature);
}

TEST_CASE("OaAdapter refuses a plain POST with missing_parameter when a parameter is absent",
          "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  const std::string name = GENERATE(as<std::string>{}, "signature", "timestamp", "nonce");
  CallbackRequest request = PlainPost(kTextXml);
  request.query.erase(name);
  RequireRejected(h.adapter->Decode(request), RejectReason::kMissingParameter);
}

TEST_CASE("OaAdapter refuses a plain POST with stale_timestamp when outside the window", "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  const int64_t skew_s = GENERATE(as<int64_t>{}, kWindowS + 1, -(kWindowS + 1));
  h.clock.SetUnixMillis((Seconds(v.at("timestamp")) + skew_s) * 1000);
  RequireRejected(h.adapter->Decode(PlainPost(kTextXml)), RejectReason::kStaleTimestamp);
}

void CheckMalformed(const Decoded<model::Interaction>& decoded, const std::string& raw_body) {
  REQUIRE(decoded.ok());
  const model::Interaction& interaction = *decoded.value;
  CHECK(interaction.kind == model::InteractionKind::kMalformed);
  CHECK(interaction.account_id == "oa1");
  CHECK(interaction.raw_body == raw_body);
  CHECK(interaction.dedupe_key.starts_with("malformed"));
  CHECK(interaction.occurred_at_ms == 0);
  CHECK(interaction.openid.empty());
  REQUIRE(std::holds_alternative<model::GenericPayload>(interaction.payload));
  CHECK_FALSE(std::get<model::GenericPayload>(interaction.payload).malformed.empty());
}

TEST_CASE("OaAdapter stores a signed plain POST as malformed when the body is not a message",
          "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  const std::string body =
      GENERATE(as<std::string>{}, "", "<xml><MsgType>",
               "{\"MsgType\":", "<xml><MsgType>text</MsgType><MsgId>x</MsgId></xml>");
  const Decoded<model::Interaction> decoded = h.adapter->Decode(PlainPost(body));
  CheckMalformed(decoded, body);
  CHECK(decoded.value->received_at_ms == 1714037059456);
}

TEST_CASE(
    "OaAdapter refuses a plain POST with replayed when its timestamp and nonce come again "
    "with another body",
    "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  CheckCoffeeText(h.adapter->Decode(PlainPost(kTextXml)), "xml");
  const std::string forged =
      "<xml><FromUserName><![CDATA[oAttacker]]></FromUserName><CreateTime>1714037059</CreateTime>"
      "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content><MsgId>1</MsgId></xml>";
  RequireRejected(h.adapter->Decode(PlainPost(forged)), RejectReason::kReplayed);
  CHECK(RejectHttpStatus(RejectReason::kReplayed) == 401);
  // The platform's retry of the first body (same timestamp and nonce) is still admitted.
  CheckCoffeeText(h.adapter->Decode(PlainPost(kTextXml)), "xml");
  // Once the pair is out of the window it is refused as stale, and forgotten.
  h.clock.SetUnixMillis((Seconds(v.at("timestamp")) + 301) * 1000);
  RequireRejected(h.adapter->Decode(PlainPost(forged)), RejectReason::kStaleTimestamp);
}

TEST_CASE("OaAdapter admits an encrypted POST again when its timestamp and nonce come again",
          "[unit]") {
  // msg_signature covers Encrypt: the same pair can only come with the same body, a retry.
  Harness h(EncryptMode::kSafe, kTs);
  const CallbackRequest request =
      EncryptedPost(h.account, *h.platform, kTextXml, kTs, "777", "xml");
  CheckCoffeeText(h.adapter->Decode(request), "xml");
  CheckCoffeeText(h.adapter->Decode(request), "xml");
}

// ---- safe / compatible mode POST ----

TEST_CASE("OaAdapter decodes the official safe-mode JSON push when the account is in safe mode",
          "[unit]") {
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  Harness h(EncryptMode::kSafe, v.at("timestamp"));
  const Decoded<model::Interaction> decoded = h.adapter->Decode(OfficialSafePost());
  REQUIRE(decoded.ok());
  const model::Interaction& interaction = *decoded.value;
  CHECK(interaction.platform == model::Platform::kOfficialAccount);
  CHECK(interaction.account_id == "oa1");
  CHECK(interaction.raw_body == v.at("expected_plaintext"));
  CHECK(interaction.raw_format == "json");
  CHECK(interaction.openid == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
  CHECK(interaction.to_user == "gh_97417a04a28d");
  CHECK(interaction.occurred_at_ms == 1714112445000);
  CHECK(interaction.received_at_ms == 1714112445789);
  CHECK(interaction.kind == model::InteractionKind::kOtherEvent);  // Event "debug_demo"
}

TEST_CASE("OaAdapter decodes an encrypted message when the envelope is XML or JSON", "[unit]") {
  const EncryptMode mode = GENERATE(EncryptMode::kCompat, EncryptMode::kSafe);
  INFO(std::string(config::EncryptModeName(mode)));
  Harness h(mode, kTs);
  SECTION("XML") {
    CheckCoffeeText(
        h.adapter->Decode(EncryptedPost(h.account, *h.platform, kTextXml, kTs, "777", "xml")),
        "xml");
  }
  SECTION("JSON") {
    CheckCoffeeText(
        h.adapter->Decode(EncryptedPost(h.account, *h.platform, kTextJson, kTs, "777", "json")),
        "json");
  }
}

TEST_CASE("OaAdapter reads only Encrypt when a compat-mode body carries plaintext siblings",
          "[unit]") {
  Harness h(EncryptMode::kCompat, kTs);
  SECTION("XML") {
    CheckCoffeeText(h.adapter->Decode(
                        EncryptedPost(h.account, *h.platform, kTextXml, kTs, "777", "compat-xml")),
                    "xml");
  }
  SECTION("JSON") {
    CheckCoffeeText(h.adapter->Decode(EncryptedPost(h.account, *h.platform, kTextJson, kTs, "777",
                                                    "compat-json")),
                    "json");
  }
}

TEST_CASE("OaAdapter refuses a plaintext request with missing_parameter when the mode encrypts",
          "[unit]") {
  const EncryptMode mode = GENERATE(EncryptMode::kCompat, EncryptMode::kSafe);
  INFO(std::string(config::EncryptModeName(mode)));
  const json v = PlainVector("plain-official-doc-post");
  Harness h(mode, v.at("timestamp"));
  // A correctly signed plaintext-mode request: the configured mode is authoritative.
  RequireRejected(h.adapter->Decode(PlainPost(kTextXml)), RejectReason::kMissingParameter);
}

TEST_CASE("OaAdapter refuses an encrypted POST with missing_parameter when a parameter is absent",
          "[unit]") {
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  Harness h(EncryptMode::kSafe, v.at("timestamp"));
  CallbackRequest request = OfficialSafePost();
  SECTION("no encrypt_type") { request.query.erase("encrypt_type"); }
  SECTION("encrypt_type is not aes") { request.query["encrypt_type"] = "raw"; }
  SECTION("no msg_signature") { request.query.erase("msg_signature"); }
  SECTION("no timestamp") { request.query.erase("timestamp"); }
  SECTION("no nonce") { request.query.erase("nonce"); }
  RequireRejected(h.adapter->Decode(request), RejectReason::kMissingParameter);
}

TEST_CASE(
    "OaAdapter refuses with bad_signature when the plain signature stands in for "
    "msg_signature",
    "[unit]") {
  // "不要使用signature验证" (§1.3): the plain signature is valid but does not cover the body.
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  Harness h(EncryptMode::kSafe, v.at("timestamp"));
  CallbackRequest request = OfficialSafePost();
  request.query["msg_signature"] = request.query.at("signature");
  RequireRejected(h.adapter->Decode(request), RejectReason::kBadSignature);
}

TEST_CASE("OaAdapter refuses with bad_signature when the encrypted body was altered", "[unit]") {
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  Harness h(EncryptMode::kSafe, v.at("timestamp"));
  CallbackRequest request = OfficialSafePost();
  const size_t at = request.body.find("+qdx1");
  REQUIRE(at != std::string::npos);
  request.body[at + 1] = 'r';
  RequireRejected(h.adapter->Decode(request), RejectReason::kBadSignature);
}

TEST_CASE("OaAdapter refuses with malformed_envelope when the encrypted body has no Encrypt",
          "[unit]") {
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  Harness h(EncryptMode::kSafe, v.at("timestamp"));
  CallbackRequest request = OfficialSafePost();
  request.body =
      GENERATE(as<std::string>{}, R"({"ToUserName":"gh_97417a04a28d"})", R"({"Encrypt":42})",
               R"({"Encrypt":""})", R"({"Encrypt":"abc")", R"(["Encrypt"])", "{", "",
               "<xml><ToUserName>gh</ToUserName></xml>", "<xml><Encrypt>abc</Encrypt>");
  RequireRejected(h.adapter->Decode(request), RejectReason::kMalformedEnvelope);
}

TEST_CASE("OaAdapter refuses an encrypted POST with stale_timestamp when outside the window",
          "[unit]") {
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  Harness h(EncryptMode::kSafe, v.at("timestamp"));
  const int64_t skew_s = GENERATE(as<int64_t>{}, kWindowS + 1, -(kWindowS + 1));
  h.clock.SetUnixMillis((Seconds(v.at("timestamp")) + skew_s) * 1000);
  RequireRejected(h.adapter->Decode(OfficialSafePost()), RejectReason::kStaleTimestamp);
}

TEST_CASE("OaAdapter refuses with bad_base64 when the signed Encrypt is not strict base64",
          "[unit]") {
  Harness h(EncryptMode::kSafe, kTs);
  CallbackRequest request = OfficialSafePost();
  const std::string encrypt = "+qdx1OKC-_5JPCBF";
  request.body = json{{"Encrypt", encrypt}}.dump();
  request.query["msg_signature"] =
      wxcrypto::Signature(h.account.token, kTs, request.query.at("nonce"), encrypt);
  RequireRejected(h.adapter->Decode(request), RejectReason::kBadBase64);
}

TEST_CASE("OaAdapter refuses with wrong_receive_id when the message was for another AppID",
          "[unit]") {
  Harness h(EncryptMode::kSafe, kTs);
  const wxcrypto::MsgCrypt other = h.Crypt("wx0000000000000000");
  RequireRejected(h.adapter->Decode(EncryptedPost(h.account, other, kTextXml, kTs, "777", "xml")),
                  RejectReason::kWrongReceiveId);
}

TEST_CASE("OaAdapter stores a decrypted payload as malformed when its shape is broken", "[unit]") {
  Harness h(EncryptMode::kSafe, kTs);
  SECTION("XML envelope") {
    CheckMalformed(h.adapter->Decode(
                       EncryptedPost(h.account, *h.platform, "<xml><MsgType>", kTs, "777", "xml")),
                   "<xml><MsgType>");
  }
  SECTION("JSON envelope") {
    CheckMalformed(h.adapter->Decode(
                       EncryptedPost(h.account, *h.platform, "{\"MsgType\":", kTs, "777", "json")),
                   "{\"MsgType\":");
  }
  SECTION("no CreateTime") {
    const std::string body = "<xml><MsgType>text</MsgType><Content>hi</Content></xml>";
    CheckMalformed(
        h.adapter->Decode(EncryptedPost(h.account, *h.platform, body, kTs, "777", "xml")), body);
  }
}

// ---- acknowledgement and passive replies ----

TEST_CASE("OaAdapter acks with success when there is no reply, in every mode", "[unit]") {
  const EncryptMode mode = GENERATE(EncryptMode::kPlain, EncryptMode::kCompat, EncryptMode::kSafe);
  INFO(std::string(config::EncryptModeName(mode)));
  const bool plain = mode == EncryptMode::kPlain;
  Harness h(mode, plain ? PlainVector("plain-official-doc-post").at("timestamp") : json(kTs));
  const CallbackRequest request =
      plain ? PlainPost(kTextXml)
            : EncryptedPost(h.account, *h.platform, kTextXml, kTs, "7", "xml");
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  CHECK(h.adapter->AckBody(request, *decoded.value, nullptr) == "success");
}

const std::string kReplyText = "您好，咖啡券已发放 ]]> <b>&amp; \"ok\"";

TEST_CASE("OaAdapter answers a plain XML text reply when a plain XML account replies", "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  const CallbackRequest request = PlainPost(kTextXml);
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  const ReplyMessage reply{kReplyText};
  const std::string body = h.adapter->AckBody(request, *decoded.value, &reply);
  pugi::xml_document doc;
  REQUIRE(doc.load_buffer(body.data(), body.size()));
  const pugi::xml_node m = doc.child("xml");
  CHECK(Text(m.child("ToUserName")) == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
  CHECK(Text(m.child("FromUserName")) == "gh_97417a04a28d");
  CHECK(Text(m.child("CreateTime")) == v.at("timestamp"));
  CHECK(Text(m.child("MsgType")) == "text");
  CHECK(Text(m.child("Content")) == kReplyText);
}

TEST_CASE("OaAdapter answers a plain JSON text reply when a plain JSON account replies", "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  const CallbackRequest request = PlainPost(kTextJson);
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  const ReplyMessage reply{kReplyText};
  const json body = json::parse(h.adapter->AckBody(request, *decoded.value, &reply));
  CHECK(body.at("ToUserName") == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
  CHECK(body.at("FromUserName") == "gh_97417a04a28d");
  CHECK(body.at("CreateTime") == Seconds(v.at("timestamp")));
  CHECK(body.at("MsgType") == "text");
  CHECK(body.at("Content") == kReplyText);
}

TEST_CASE("OaAdapter encrypts a JSON reply when the safe-mode request was the official JSON push",
          "[unit]") {
  const json v = SafeVector("oa-official-doc-safe-mode-push");
  Harness h(EncryptMode::kSafe, v.at("timestamp"));
  const CallbackRequest request = OfficialSafePost();
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  h.clock.Advance(std::chrono::seconds(1));
  const ReplyMessage reply{kReplyText};

  const json envelope = json::parse(h.adapter->AckBody(request, *decoded.value, &reply));
  REQUIRE(envelope.at("TimeStamp").is_number_integer());  // a number in the JSON variant (§1.3)
  const std::string timestamp = std::to_string(envelope.at("TimeStamp").get<int64_t>());
  const std::string nonce = envelope.at("Nonce");
  CHECK(timestamp == v.at("timestamp"));
  CHECK(nonce == v.at("nonce"));
  auto plain = h.platform->DecryptMessage(envelope.at("MsgSignature").get<std::string>(), timestamp,
                                          nonce, envelope.at("Encrypt").get<std::string>());
  REQUIRE(plain.ok());
  const json message = json::parse(*plain);
  CHECK(message.at("ToUserName") == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
  CHECK(message.at("FromUserName") == "gh_97417a04a28d");
  CHECK(message.at("CreateTime") == Seconds(v.at("timestamp")) + 1);
  CHECK(message.at("MsgType") == "text");
  CHECK(message.at("Content") == kReplyText);
}

TEST_CASE("OaAdapter encrypts an XML reply when the compat-mode request was XML", "[unit]") {
  Harness h(EncryptMode::kCompat, kTs);
  const CallbackRequest request =
      EncryptedPost(h.account, *h.platform, kTextXml, kTs, "777", "compat-xml");
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  const ReplyMessage reply{kReplyText};

  const std::string body = h.adapter->AckBody(request, *decoded.value, &reply);
  pugi::xml_document envelope;
  REQUIRE(envelope.load_buffer(body.data(), body.size()));
  const pugi::xml_node e = envelope.child("xml");
  CHECK(Text(e.child("TimeStamp")) == kTs);
  CHECK(Text(e.child("Nonce")) == "777");
  auto plain = h.platform->DecryptMessage(Text(e.child("MsgSignature")), kTs, "777",
                                          Text(e.child("Encrypt")));
  REQUIRE(plain.ok());
  pugi::xml_document doc;
  REQUIRE(doc.load_buffer(plain->data(), plain->size()));
  const pugi::xml_node m = doc.child("xml");
  CHECK(Text(m.child("ToUserName")) == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
  CHECK(Text(m.child("FromUserName")) == "gh_97417a04a28d");
  CHECK(Text(m.child("CreateTime")) == kTs);
  CHECK(Text(m.child("MsgType")) == "text");
  CHECK(Text(m.child("Content")) == kReplyText);
}

TEST_CASE("OaAdapter acks with success when a reply has no follower to address", "[unit]") {
  const json v = PlainVector("plain-official-doc-post");
  Harness h(EncryptMode::kPlain, v.at("timestamp"));
  const CallbackRequest request = PlainPost(kTextXml);
  Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  decoded.value->openid.clear();
  const ReplyMessage reply{"hi"};
  CHECK(h.adapter->AckBody(request, *decoded.value, &reply) == "success");
}

TEST_CASE("OaAdapter acks with success when the encrypted reply cannot echo the nonce", "[unit]") {
  Harness h(EncryptMode::kSafe, kTs);
  // Signed, so it decodes; but the reply envelope writes Nonce unescaped and refuses it.
  const CallbackRequest request =
      EncryptedPost(h.account, *h.platform, kTextXml, kTs, "7]]><x>", "xml");
  const Decoded<model::Interaction> decoded = h.adapter->Decode(request);
  REQUIRE(decoded.ok());
  const ReplyMessage reply{"hi"};
  CHECK(h.adapter->AckBody(request, *decoded.value, &reply) == "success");
}

// ---- factory ----

TEST_CASE("OaAdapter::Create fails with InvalidArgument when an encrypting mode has no key",
          "[unit]") {
  const EncryptMode mode = GENERATE(EncryptMode::kCompat, EncryptMode::kSafe);
  core::FakeClock clock;
  core::FakeRandom random;
  config::AccountConfig account = DocAccount(mode);
  account.encoding_aes_key.clear();
  auto created = OaAdapter::Create(account, clock, random);
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == core::StatusCode::kInvalidArgument);
  CHECK_THAT(created.status().message(), Catch::Contains("oa1"));
}

TEST_CASE("OaAdapter::Create fails with InvalidArgument naming the account when the key is bad",
          "[unit]") {
  const EncryptMode mode = GENERATE(EncryptMode::kPlain, EncryptMode::kSafe);
  core::FakeClock clock;
  core::FakeRandom random;
  config::AccountConfig account = DocAccount(mode);
  account.encoding_aes_key = "secret-but-not-a-valid-EncodingAESKey-value";
  auto created = OaAdapter::Create(account, clock, random);
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == core::StatusCode::kInvalidArgument);
  CHECK_THAT(created.status().message(), Catch::Contains("oa1"));
  CHECK_THAT(created.status().message(), !Catch::Contains(account.encoding_aes_key));
  CHECK_THAT(created.status().message(), !Catch::Contains("AAAAA"));
}

TEST_CASE("OaAdapter::Create fails with InvalidArgument when the account is not a usable OA",
          "[unit]") {
  core::FakeClock clock;
  core::FakeRandom random;
  config::AccountConfig account = DocAccount(EncryptMode::kSafe);
  SECTION("a WeCom account") { account.platform = model::Platform::kWecom; }
  SECTION("no app_id") { account.app_id.clear(); }
  SECTION("no token") { account.token.clear(); }
  auto created = OaAdapter::Create(account, clock, random);
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == core::StatusCode::kInvalidArgument);
  CHECK_THAT(created.status().message(), Catch::Contains("oa1"));
}

}  // namespace
}  // namespace scrm::channels::oa
