// Known-answer vectors (tests/fixtures/wechat, PROTOCOL.md §6): every vector of every file.
#include <algorithm>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "channels/wxcrypto/wxcrypto.h"
#include "src/core/crypto_util.h"
#include "src/core/strings.h"
#include "tests/wxcrypto/wxcrypto_test_helpers.h"

namespace scrm::wxcrypto {
namespace {

using nlohmann::json;
using testing::ExtractEncrypt;
using testing::FixedRandom;
using testing::HexDecode;
using testing::LoadVectors;
using testing::PrefixSpan;
using testing::QueryParam;

const char* const kCryptoFiles[] = {"wecom_official.json", "oa_safe_mode_official.json"};

MsgCrypt CryptFor(const json& v) {
  Result<MsgCrypt> crypt = MsgCrypt::Create(
      v.at("token"), v.at("encoding_aes_key").get<std::string>(), v.at("receiveid"));
  REQUIRE(crypt.ok());
  return std::move(crypt).value();
}

// verify_url / callback_post: signed and encrypted by the platform.
void CheckInbound(const json& v) {
  const MsgCrypt crypt = CryptFor(v);
  const std::string token = v.at("token");
  const std::string timestamp = v.at("timestamp");
  const std::string nonce = v.at("nonce");
  const std::string msg_signature = v.at("msg_signature");
  const std::string expected = v.at("expected_plaintext");
  const bool is_get = v.at("kind") == "verify_url";
  const std::string encrypt = is_get ? v.at("echostr").get<std::string>()
                                     : ExtractEncrypt(v.at("post_body").get<std::string>());

  CHECK(Signature(token, timestamp, nonce, encrypt) == msg_signature);
  CHECK(VerifySignature(msg_signature, token, timestamp, nonce, encrypt));
  CHECK(crypt.VerifyMsgSignature(msg_signature, timestamp, nonce, encrypt));

  Result<std::string> plain = is_get
                                  ? crypt.VerifyUrl(msg_signature, timestamp, nonce, encrypt)
                                  : crypt.DecryptMessage(msg_signature, timestamp, nonce, encrypt);
  REQUIRE(plain.ok());
  CHECK(*plain == expected);

  // Re-encrypting the decrypted frame with the prefix the vector records must give the platform's
  // Encrypt byte for byte: that pins the random prefix, msg_len, receiveid and padding.
  const std::string prefix = HexDecode(v.at("decrypted_random_hex").get<std::string>());
  Result<std::string> again = crypt.EncryptWithPrefix(PrefixSpan(prefix), expected);
  REQUIRE(again.ok());
  CHECK(*again == encrypt);
  if (v.contains("expected_random_ascii")) CHECK(prefix == v.at("expected_random_ascii"));

  if (v.contains("negative_twin")) {
    // wechatpy's test_check_signature_should_fail: the same values with another nonce.
    const std::string other_nonce = v.at("negative_twin").at("nonce");
    CHECK_FALSE(VerifySignature(msg_signature, token, timestamp, other_nonce, encrypt));
    CHECK(crypt.VerifyUrl(msg_signature, timestamp, other_nonce, encrypt).code() ==
          WxError::kValidateSignature);
  }
  if (v.contains("query")) {
    // OA safe mode carries both signatures; msg_signature is the one that covers the body.
    const std::string query = v.at("query");
    CHECK(QueryParam(query, "msg_signature") == msg_signature);
    CHECK(QueryParam(query, "timestamp") == timestamp);
    CHECK(QueryParam(query, "nonce") == nonce);
    CHECK(QueryParam(query, "signature") == v.at("signature"));
    CHECK(PlainSignature(token, timestamp, nonce) == v.at("signature"));
    CHECK(crypt.VerifyPlainSignature(v.at("signature").get<std::string>(), timestamp, nonce));
    CHECK(crypt.DecryptMessage(v.at("signature").get<std::string>(), timestamp, nonce, encrypt)
              .code() == WxError::kValidateSignature);
  }
}

// passive_reply / encrypt_known_random: our side encrypts with the vector's mocked prefix.
void CheckOutbound(const json& v) {
  const MsgCrypt crypt = CryptFor(v);
  const std::string random_ascii = v.at("random_ascii");
  const std::string msg = v.at("msg");
  const std::string encrypt = v.at("encrypt");
  CHECK(core::HexEncode(random_ascii) == v.at("decrypted_random_hex"));

  Result<std::string> out = crypt.EncryptWithPrefix(PrefixSpan(random_ascii), msg);
  REQUIRE(out.ok());
  CHECK(*out == encrypt);
  Result<std::string> back = crypt.Decrypt(encrypt);
  REQUIRE(back.ok());
  CHECK(*back == msg);

  // The MP Java sample vectors carry no timestamp/nonce; any pair exercises the signature path.
  const std::string timestamp = v.value("timestamp", std::string("1407743423"));
  const std::string nonce = v.value("nonce", std::string("xxxxxx"));
  FixedRandom random(random_ascii);
  Result<EncryptedMessage> message = crypt.EncryptMessage(msg, timestamp, nonce, random);
  REQUIRE(message.ok());
  CHECK(message->encrypt == encrypt);
  CHECK(message->msg_signature ==
        Signature(v.at("token").get<std::string>(), timestamp, nonce, encrypt));
  if (v.contains("msg_signature")) CHECK(message->msg_signature == v.at("msg_signature"));
  Result<std::string> decrypted =
      crypt.DecryptMessage(message->msg_signature, timestamp, nonce, message->encrypt);
  REQUIRE(decrypted.ok());
  CHECK(*decrypted == msg);

  if (v.contains("reply_body_json")) {
    FixedRandom json_random(random_ascii);
    Result<std::string> body = crypt.BuildEncryptedReplyJson(msg, timestamp, nonce, json_random);
    REQUIRE(body.ok());
    CHECK(*body == v.at("reply_body_json"));
  }
  FixedRandom xml_random(random_ascii);
  Result<std::string> xml = crypt.BuildEncryptedReplyXml(msg, timestamp, nonce, xml_random);
  REQUIRE(xml.ok());
  CHECK(*xml == "<xml><Encrypt><![CDATA[" + encrypt + "]]></Encrypt><MsgSignature><![CDATA[" +
                    message->msg_signature + "]]></MsgSignature><TimeStamp>" + timestamp +
                    "</TimeStamp><Nonce><![CDATA[" + nonce + "]]></Nonce></xml>");
}

TEST_CASE("DecodeAesKey gives each vector's aes_key_hex when given its EncodingAESKey", "[unit]") {
  size_t seen = 0;
  for (const char* file : kCryptoFiles) {
    const json vectors = LoadVectors(file);  // named: a temporary would die before the loop
    for (const json& v : vectors.at("vectors")) {
      INFO(file << " " << v.at("id"));
      Result<std::string> key = DecodeAesKey(v.at("encoding_aes_key").get<std::string>());
      REQUIRE(key.ok());
      CHECK(key->size() == kAesKeySize);
      CHECK(core::HexEncode(*key) == v.at("aes_key_hex"));
      ++seen;
    }
  }
  CHECK(seen == 9);
}

TEST_CASE("MsgCrypt passes every crypto vector when run on the fixture files", "[unit]") {
  std::set<std::string> inbound;
  std::set<std::string> outbound;
  for (const char* file : kCryptoFiles) {
    const json vectors = LoadVectors(file);  // named: a temporary would die before the loop
    for (const json& v : vectors.at("vectors")) {
      const std::string id = v.at("id");
      const std::string kind = v.at("kind");
      INFO(file << " " << id << " (" << kind << ")");
      if (kind == "verify_url" || kind == "callback_post") {
        CheckInbound(v);
        inbound.insert(id);
      } else if (kind == "passive_reply" || kind == "encrypt_known_random") {
        CheckOutbound(v);
        outbound.insert(id);
      } else {
        FAIL("vector kind not covered by this test: " << kind);
      }
    }
  }
  CHECK(inbound == std::set<std::string>{"wecom-official-verify-url", "wecom-official-decrypt",
                                         "wechatpy-work-check-signature", "wechatpy-work-decrypt",
                                         "oa-official-doc-safe-mode-push"});
  CHECK(outbound == std::set<std::string>{"wechatpy-work-encrypt-reply",
                                          "oa-official-java-sample-1", "oa-official-java-sample-2",
                                          "oa-official-doc-safe-mode-reply"});
}

TEST_CASE("MsgCrypt answers the official WeCom URL check with its echo when given the sample",
          "[unit]") {
  // PROTOCOL.md §1.2: the GET response body is exactly these bytes.
  Result<MsgCrypt> crypt =
      MsgCrypt::Create("QDG6eK", testing::kEncodingAesKey, "wx5823bf96d3bd56c7");
  REQUIRE(crypt.ok());
  Result<std::string> body = crypt->VerifyUrl(
      "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780",
      "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==");
  REQUIRE(body.ok());
  CHECK(*body == "1616140317555161061");
}

TEST_CASE("PlainSignature matches every plaintext-mode vector when sorting byte-wise", "[unit]") {
  const json file = LoadVectors("plaintext_signature.json");
  size_t seen = 0;
  for (const char* group : {"official", "generated"}) {
    for (const json& v : file.at(group)) {
      INFO(v.at("id"));
      const std::string token = v.at("token");
      const std::string timestamp = v.at("timestamp");
      const std::string nonce = v.at("nonce");
      const std::string signature = v.at("signature");
      CHECK(PlainSignature(token, timestamp, nonce) == signature);
      CHECK(VerifyPlainSignature(signature, token, timestamp, nonce));
      if (v.contains("sorted")) {
        std::vector<std::string> parts{token, timestamp, nonce};
        std::sort(parts.begin(), parts.end());
        CHECK(json(parts) == v.at("sorted"));
        CHECK(core::Sha1Hex(parts[0] + parts[1] + parts[2]) == signature);
      }
      if (v.contains("negative_twin")) {
        CHECK_FALSE(VerifyPlainSignature(v.at("negative_twin").at("signature").get<std::string>(),
                                         token, timestamp, nonce));
      }
      if (v.contains("wrong_case_insensitive_signature")) {
        const std::string wrong = v.at("wrong_case_insensitive_signature");
        CHECK(PlainSignature(token, timestamp, nonce) != wrong);
        CHECK_FALSE(VerifyPlainSignature(wrong, token, timestamp, nonce));
      }
      ++seen;
    }
  }
  CHECK(seen == 15);
}

TEST_CASE("PlainSignature puts upper-case before lower-case when the sort-order trap applies",
          "[unit]") {
  // plain-gen-sort-trap: byte order gives [1700000000, Token9, abc123]; a case-insensitive sort
  // gives [1700000000, abc123, Token9] and the vector's wrong signature.
  CHECK(PlainSignature("Token9", "1700000000", "abc123") ==
        "3f428450296b4c552201ffb0381f6cdc8241a5b3");
  CHECK(core::Sha1Hex("1700000000abc123Token9") == "a2667fab8f1c3627a033da614bd56a99f3e7ce59");
}

}  // namespace
}  // namespace scrm::wxcrypto
