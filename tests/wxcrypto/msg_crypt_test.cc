// MsgCrypt round trips, reply envelopes, thread safety, and the error / Result contract.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "channels/wxcrypto/wxcrypto.h"
#include "src/core/random.h"
#include "src/core/status.h"
#include "tests/wxcrypto/wxcrypto_test_helpers.h"

namespace scrm::wxcrypto {
namespace {

using testing::ExtractEncrypt;
using testing::kEncodingAesKey;
using testing::KeyBytes;
using testing::kNonce;
using testing::kReceiveId;
using testing::kTimestamp;
using testing::kToken;
using testing::RawAes;

MsgCrypt MsgCryptCrypt() {
  Result<MsgCrypt> crypt =
      MsgCrypt::Create(std::string(kToken), kEncodingAesKey, std::string(kReceiveId));
  REQUIRE(crypt.ok());
  return std::move(crypt).value();
}

uint32_t Be32(std::string_view p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p.data());
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 | uint32_t{u[3]};
}

TEST_CASE("MsgCrypt round-trips Chinese UTF-8 when the random prefix is binary", "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  // 6 CJK characters (3 bytes each) + 3 ASCII + an emoji (4 bytes): msg_len counts bytes.
  const std::string text = "客户联系消息abc\xf0\x9f\x8e\x89";
  REQUIRE(text.size() == 25);
  core::FakeRandom random(1234);
  core::FakeRandom same_stream(1234);
  std::array<uint8_t, kRandomPrefixSize> expected_prefix{};
  same_stream.Fill(expected_prefix);

  Result<EncryptedMessage> message = crypt.EncryptMessage(text, kTimestamp, kNonce, random);
  REQUIRE(message.ok());
  Result<std::string> plain =
      crypt.DecryptMessage(message->msg_signature, kTimestamp, kNonce, message->encrypt);
  REQUIRE(plain.ok());
  CHECK(*plain == text);

  // The frame itself, decrypted independently of wxcrypto.
  const std::string frame = RawAes(KeyBytes(), *Base64Decode(message->encrypt), false);
  CHECK(frame.substr(0, 16) ==
        std::string(reinterpret_cast<const char*>(expected_prefix.data()), 16));
  CHECK(Be32(std::string_view(frame).substr(16, 4)) == 25);
  CHECK(frame.substr(20, 25) == text);
  CHECK(frame.substr(45, kReceiveId.size()) == kReceiveId);
  const size_t pad = 32 - (45 + kReceiveId.size()) % 32;
  CHECK(frame.size() == 45 + kReceiveId.size() + pad);
  CHECK(frame.substr(frame.size() - pad) == std::string(pad, static_cast<char>(pad)));
}

TEST_CASE("MsgCrypt pads to a 32-byte block when the frame length varies through every residue",
          "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  std::vector<bool> pad_seen(33, false);
  for (size_t len = 0; len <= 64; ++len) {
    const std::string msg(len, static_cast<char>('a' + len % 26));
    const std::string prefix(16, 'p');
    Result<std::string> encrypt = crypt.EncryptWithPrefix(testing::PrefixSpan(prefix), msg);
    REQUIRE(encrypt.ok());
    const std::string cipher = *Base64Decode(*encrypt);
    const size_t frame_len = 20 + len + kReceiveId.size();
    const size_t pad = 32 - frame_len % 32;  // 1..32, a whole block when aligned
    CHECK(cipher.size() == frame_len + pad);
    pad_seen[pad] = true;
    Result<std::string> back = crypt.Decrypt(*encrypt);
    REQUIRE(back.ok());
    CHECK(*back == msg);
  }
  for (size_t pad = 1; pad <= 32; ++pad) CHECK(pad_seen[pad]);
}

TEST_CASE("MsgCrypt round-trips binary bytes when the message contains NUL", "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  const std::string msg("a\0b\xff\0", 5);
  core::SecureRandom random;
  Result<EncryptedMessage> message = crypt.EncryptMessage(msg, kTimestamp, kNonce, random);
  REQUIRE(message.ok());
  CHECK(*crypt.Decrypt(message->encrypt) == msg);
}

TEST_CASE("MsgCrypt draws a fresh prefix when encrypting the same message twice", "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  core::SecureRandom random;
  Result<EncryptedMessage> a = crypt.EncryptMessage("same", kTimestamp, kNonce, random);
  Result<EncryptedMessage> b = crypt.EncryptMessage("same", kTimestamp, kNonce, random);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->encrypt != b->encrypt);
  CHECK(a->msg_signature != b->msg_signature);
}

TEST_CASE("MsgCrypt builds a reply XML the decoder accepts when the nonce is echoed", "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  core::FakeRandom random(9);
  Result<std::string> xml =
      crypt.BuildEncryptedReplyXml("<xml>hi</xml>", kTimestamp, kNonce, random);
  REQUIRE(xml.ok());
  const std::string encrypt = ExtractEncrypt(*xml);
  const std::string signature = Signature(kToken, kTimestamp, kNonce, encrypt);
  CHECK(*xml == "<xml><Encrypt><![CDATA[" + encrypt + "]]></Encrypt><MsgSignature><![CDATA[" +
                    signature + "]]></MsgSignature><TimeStamp>" + std::string(kTimestamp) +
                    "</TimeStamp><Nonce><![CDATA[" + std::string(kNonce) + "]]></Nonce></xml>");
  CHECK(*crypt.DecryptMessage(signature, kTimestamp, kNonce, encrypt) == "<xml>hi</xml>");
}

TEST_CASE("MsgCrypt builds a JSON reply with a numeric TimeStamp when the OA uses JSON", "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  core::FakeRandom random(9);
  Result<std::string> body =
      crypt.BuildEncryptedReplyJson("{\"a\":1}", "1713424427", "41567", random);
  REQUIRE(body.ok());
  const nlohmann::json j = nlohmann::json::parse(*body);
  CHECK(j.at("TimeStamp").is_number_integer());
  CHECK(j.at("TimeStamp").get<int64_t>() == 1713424427);
  CHECK(j.at("Nonce") == "41567");
  const std::string encrypt = j.at("Encrypt");
  CHECK(j.at("MsgSignature") == Signature(kToken, "1713424427", "41567", encrypt));
  CHECK(*crypt.Decrypt(encrypt) == "{\"a\":1}");
}

TEST_CASE("MsgCrypt rejects with GenReturnXml when the reply timestamp or nonce is unsafe",
          "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  core::FakeRandom random(9);
  for (const char* ts : {"", "12a", "1 2", "12345678901234567890", "<x>"}) {
    INFO("timestamp " << ts);
    CHECK(crypt.BuildEncryptedReplyXml("m", ts, "1", random).code() == WxError::kGenReturnXml);
    CHECK(crypt.BuildEncryptedReplyJson("m", ts, "1", random).code() == WxError::kGenReturnXml);
  }
  for (const std::string& nonce :
       {std::string(), std::string("a]]>b"), std::string("a\"b"), std::string(65, '1')}) {
    INFO("nonce " << nonce);
    CHECK(crypt.BuildEncryptedReplyXml("m", "1", nonce, random).code() == WxError::kGenReturnXml);
    CHECK(crypt.BuildEncryptedReplyJson("m", "1", nonce, random).code() == WxError::kGenReturnXml);
  }
}

TEST_CASE("MsgCrypt decrypts without a signature when Decrypt is called after verifying",
          "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  const std::string encrypt =
      "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/"
      "0lWfrf0QADHHhGd3QczcdCUpj"
      "911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue"
      "06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw"
      "+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0M"
      "BH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pD"
      "BS8R07+qN+E7Q==";
  CHECK(crypt.VerifyMsgSignature("477715d11cdb4164915debcba66cb864d751f3e6", kTimestamp, kNonce,
                                 encrypt));
  CHECK_FALSE(crypt.VerifyMsgSignature("477715d11cdb4164915debcba66cb864d751f3e7", kTimestamp,
                                       kNonce, encrypt));
  Result<std::string> plain = crypt.Decrypt(encrypt);
  REQUIRE(plain.ok());
  CHECK_THAT(*plain, Catch::StartsWith("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]>"));
}

TEST_CASE("MsgCrypt gives identical results when shared by several threads", "[unit]") {
  const MsgCrypt crypt = MsgCryptCrypt();
  core::SecureRandom random;
  const std::string msg(600, 'm');
  Result<EncryptedMessage> message = crypt.EncryptMessage(msg, kTimestamp, kNonce, random);
  REQUIRE(message.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      core::SecureRandom own_random;
      for (int i = 0; i < 300; ++i) {
        Result<std::string> plain =
            crypt.DecryptMessage(message->msg_signature, kTimestamp, kNonce, message->encrypt);
        Result<EncryptedMessage> again = crypt.EncryptMessage(msg, kTimestamp, kNonce, own_random);
        if (!plain.ok() || *plain != msg || !again.ok() || *crypt.Decrypt(again->encrypt) != msg) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("MsgCrypt keeps working when moved", "[unit]") {
  MsgCrypt first = MsgCryptCrypt();
  MsgCrypt second = std::move(first);
  core::FakeRandom random(3);
  Result<EncryptedMessage> message = second.EncryptMessage("moved", kTimestamp, kNonce, random);
  REQUIRE(message.ok());
  CHECK(*second.Decrypt(message->encrypt) == "moved");
  CHECK(second.receive_id() == kReceiveId);
}

// ---- error contract ----

TEST_CASE("WxError carries the official name and number when listed", "[unit]") {
  const std::vector<std::tuple<WxError, int, std::string_view>> table = {
      {WxError::kOk, 0, "Ok"},
      {WxError::kValidateSignature, -40001, "ValidateSignature"},
      {WxError::kParseXml, -40002, "ParseXml"},
      {WxError::kComputeSignature, -40003, "ComputeSignature"},
      {WxError::kIllegalAesKey, -40004, "IllegalAesKey"},
      {WxError::kValidateReceiveId, -40005, "ValidateReceiveId"},
      {WxError::kEncryptAes, -40006, "EncryptAes"},
      {WxError::kDecryptAes, -40007, "DecryptAes"},
      {WxError::kIllegalBuffer, -40008, "IllegalBuffer"},
      {WxError::kEncodeBase64, -40009, "EncodeBase64"},
      {WxError::kDecodeBase64, -40010, "DecodeBase64"},
      {WxError::kGenReturnXml, -40011, "GenReturnXml"},
  };
  for (const auto& [code, number, name] : table) {
    CHECK(WxErrorCode(code) == number);
    CHECK(WxErrorName(code) == name);
  }
  CHECK(WxErrorName(static_cast<WxError>(-1)) == "Unknown");
}

TEST_CASE("CryptoError maps to a canonical Status when crossing modules", "[unit]") {
  using core::StatusCode;
  CHECK(CryptoError{WxError::kValidateSignature, "x"}.ToStatus().code() ==
        StatusCode::kUnauthenticated);
  for (WxError internal :
       {WxError::kComputeSignature, WxError::kEncryptAes, WxError::kEncodeBase64}) {
    CHECK(CryptoError{internal, "x"}.ToStatus().code() == StatusCode::kInternal);
  }
  for (WxError input : {WxError::kParseXml, WxError::kIllegalAesKey, WxError::kValidateReceiveId,
                        WxError::kDecryptAes, WxError::kIllegalBuffer, WxError::kDecodeBase64,
                        WxError::kGenReturnXml}) {
    CHECK(CryptoError{input, "x"}.ToStatus().code() == StatusCode::kInvalidArgument);
  }
  CHECK(CryptoError{WxError::kDecryptAes, "pad byte 0 is outside 1..32"}.ToStatus().message() ==
        "wxcrypto DecryptAes (-40007): pad byte 0 is outside 1..32");
}

core::StatusOr<size_t> DecodedSize(std::string_view text) {
  SCRM_ASSIGN_OR_RETURN(std::string bytes, Base64Decode(text));
  return bytes.size();
}

TEST_CASE("Result propagates through SCRM_ASSIGN_OR_RETURN when used in a Status function",
          "[unit]") {
  core::StatusOr<size_t> good = DecodedSize("Zm9v");
  REQUIRE(good.ok());
  CHECK(*good == 3);
  core::StatusOr<size_t> bad = DecodedSize("Zm9");
  CHECK(bad.status().code() == core::StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("DecodeBase64 (-40010)"));
}

TEST_CASE("Result reports kOk and an ok Status when it holds a value", "[unit]") {
  Result<std::string> r = Base64Decode("");
  CHECK(r.ok());
  CHECK(r.code() == WxError::kOk);
  CHECK(r.status().ok());
}

}  // namespace
}  // namespace scrm::wxcrypto
