// One test per reject path of the strict decoder (PROTOCOL.md §1.1 steps 2–7) and of the key.
// Each crafted Encrypt is correctly signed, so the check under test is the first one to fail.
#include <cctype>
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "channels/wxcrypto/wxcrypto.h"
#include "tests/wxcrypto/wxcrypto_test_helpers.h"

namespace scrm::wxcrypto {
namespace {

using testing::Frame;
using testing::kEncodingAesKey;
using testing::KeyBytes;
using testing::kNonce;
using testing::kReceiveId;
using testing::kTimestamp;
using testing::kToken;
using testing::Pad32;
using testing::RawAes;

constexpr std::string_view kMsg = "<xml><Content><![CDATA[hello]]></Content></xml>";

MsgCrypt Crypt() {
  Result<MsgCrypt> crypt =
      MsgCrypt::Create(std::string(kToken), kEncodingAesKey, std::string(kReceiveId));
  REQUIRE(crypt.ok());
  return std::move(crypt).value();
}

// DecryptMessage of an Encrypt string that carries a correct msg_signature.
Result<std::string> DecryptSigned(std::string_view encrypt) {
  return Crypt().DecryptMessage(Signature(kToken, kTimestamp, kNonce, encrypt), kTimestamp, kNonce,
                                encrypt);
}

// DecryptMessage of chosen plaintext blocks (already padded or deliberately not).
Result<std::string> DecryptBlocks(std::string_view blocks) {
  return DecryptSigned(Base64Encode(RawAes(KeyBytes(), blocks, /*encrypt=*/true)));
}

std::string ValidEncrypt() {
  return Base64Encode(RawAes(KeyBytes(), Pad32(Frame(kMsg.size(), kMsg, kReceiveId)), true));
}

// ---- the crafting itself is sound ----

TEST_CASE("MsgCrypt accepts a crafted frame when every field is valid", "[unit]") {
  Result<std::string> plain = DecryptSigned(ValidEncrypt());
  REQUIRE(plain.ok());
  CHECK(*plain == kMsg);
}

// ---- §1.1 step 2: signature ----

TEST_CASE("MsgCrypt rejects with ValidateSignature when one digit of msg_signature differs",
          "[unit]") {
  const std::string encrypt = ValidEncrypt();
  std::string signature = Signature(kToken, kTimestamp, kNonce, encrypt);
  signature[17] = signature[17] == '0' ? '1' : '0';
  Result<std::string> r = Crypt().DecryptMessage(signature, kTimestamp, kNonce, encrypt);
  CHECK(r.code() == WxError::kValidateSignature);
  CHECK(r.status().code() == core::StatusCode::kUnauthenticated);
}

TEST_CASE("MsgCrypt rejects with ValidateSignature when the signature is of a different body",
          "[unit]") {
  const std::string other =
      Base64Encode(RawAes(KeyBytes(), Pad32(Frame(5, "other", kReceiveId)), /*encrypt=*/true));
  const std::string signature_of_other = Signature(kToken, kTimestamp, kNonce, other);
  CHECK(Crypt().DecryptMessage(signature_of_other, kTimestamp, kNonce, ValidEncrypt()).code() ==
        WxError::kValidateSignature);
}

TEST_CASE("MsgCrypt rejects with ValidateSignature when the timestamp or nonce was altered",
          "[unit]") {
  const std::string encrypt = ValidEncrypt();
  const std::string signature = Signature(kToken, kTimestamp, kNonce, encrypt);
  CHECK(Crypt().DecryptMessage(signature, "1409659814", kNonce, encrypt).code() ==
        WxError::kValidateSignature);
  CHECK(Crypt().DecryptMessage(signature, kTimestamp, "1372623148", encrypt).code() ==
        WxError::kValidateSignature);
}

TEST_CASE("MsgCrypt rejects with ValidateSignature when msg_signature is upper-case or truncated",
          "[unit]") {
  const std::string encrypt = ValidEncrypt();
  std::string signature = Signature(kToken, kTimestamp, kNonce, encrypt);
  std::string upper = signature;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  REQUIRE(upper != signature);
  const MsgCrypt crypt = Crypt();
  CHECK(crypt.DecryptMessage(upper, kTimestamp, kNonce, encrypt).code() ==
        WxError::kValidateSignature);
  CHECK(crypt.DecryptMessage(signature.substr(0, 39), kTimestamp, kNonce, encrypt).code() ==
        WxError::kValidateSignature);
  CHECK(crypt.DecryptMessage("", kTimestamp, kNonce, encrypt).code() ==
        WxError::kValidateSignature);
}

TEST_CASE("MsgCrypt rejects with ValidateSignature when the token differs", "[unit]") {
  const std::string encrypt = ValidEncrypt();
  CHECK(Crypt()
            .DecryptMessage(Signature("QDG6eJ", kTimestamp, kNonce, encrypt), kTimestamp, kNonce,
                            encrypt)
            .code() == WxError::kValidateSignature);
}

TEST_CASE("MsgCrypt checks the signature before base64 when both are wrong", "[unit]") {
  // §1.1 step 2 precedes step 3: unauthenticated input never reaches the decoder.
  CHECK(Crypt().DecryptMessage(std::string(40, '0'), kTimestamp, kNonce, "not base64!").code() ==
        WxError::kValidateSignature);
}

// ---- §1.1 step 3: strict base64 ----

TEST_CASE("MsgCrypt rejects with DecodeBase64 when Encrypt has a non-alphabet character",
          "[unit]") {
  std::string encrypt = ValidEncrypt();
  encrypt[8] = '*';
  Result<std::string> r = DecryptSigned(encrypt);
  CHECK(r.code() == WxError::kDecodeBase64);
  CHECK(r.status().code() == core::StatusCode::kInvalidArgument);
  CHECK_THAT(r.error().detail, Catch::Contains("offset 8"));
}

TEST_CASE("MsgCrypt rejects with DecodeBase64 when Encrypt contains whitespace", "[unit]") {
  const std::string encrypt = ValidEncrypt();
  // Replacing keeps length % 4 == 0, so only the alphabet check can fire.
  for (char c : {' ', '\n', '\r', '\t'}) {
    std::string bad = encrypt;
    bad[4] = c;
    CHECK(DecryptSigned(bad).code() == WxError::kDecodeBase64);
  }
  CHECK(DecryptSigned(encrypt.substr(0, 4) + "\r\n\r\n" + encrypt.substr(4)).code() ==
        WxError::kDecodeBase64);
}

TEST_CASE("MsgCrypt rejects with DecodeBase64 when Encrypt uses the URL-safe alphabet", "[unit]") {
  const std::string encrypt = ValidEncrypt();
  for (char c : {'-', '_'}) {
    std::string bad = encrypt;
    bad[0] = c;
    CHECK(DecryptSigned(bad).code() == WxError::kDecodeBase64);
  }
}

TEST_CASE("MsgCrypt rejects with DecodeBase64 when the length is not a multiple of 4", "[unit]") {
  const std::string encrypt = ValidEncrypt();
  CHECK(DecryptSigned(encrypt + "A").code() == WxError::kDecodeBase64);
  CHECK(DecryptSigned(encrypt.substr(0, encrypt.size() - 1)).code() == WxError::kDecodeBase64);
  // Unpadded base64 (what RawURLEncoding-style encoders emit) is rejected too.
  const std::string padded = Base64Encode(std::string(97, 'x'));
  REQUIRE(padded.substr(padded.size() - 2) == "==");
  CHECK(DecryptSigned(padded.substr(0, padded.size() - 2)).code() == WxError::kDecodeBase64);
}

TEST_CASE("MsgCrypt rejects with DecodeBase64 when '=' appears before the end", "[unit]") {
  std::string encrypt = ValidEncrypt();
  encrypt[12] = '=';
  Result<std::string> r = DecryptSigned(encrypt);
  CHECK(r.code() == WxError::kDecodeBase64);
  CHECK_THAT(r.error().detail, Catch::Contains("'='"));
  CHECK(DecryptSigned("AAAA=AAA").code() == WxError::kDecodeBase64);
  CHECK(DecryptSigned("AA=A").code() == WxError::kDecodeBase64);
}

TEST_CASE("MsgCrypt rejects with DecodeBase64 when Encrypt ends in three '='", "[unit]") {
  CHECK(DecryptSigned("AAAAA===").code() == WxError::kDecodeBase64);
  CHECK(DecryptSigned("====").code() == WxError::kDecodeBase64);
}

// ---- §1.1 step 4: ciphertext length ----

TEST_CASE("MsgCrypt rejects with DecryptAes when the ciphertext is not a multiple of 32",
          "[unit]") {
  // 48 and 16 bytes are valid AES block multiples but not PKCS#7(32) output ([WC-CPP], §7.3).
  Result<std::string> r48 = DecryptBlocks(std::string(48, '\x10'));
  CHECK(r48.code() == WxError::kDecryptAes);
  CHECK_THAT(r48.error().detail, Catch::Contains("48"));
  CHECK(DecryptBlocks(std::string(16, '\x10')).code() == WxError::kDecryptAes);
  // Base64 of a length that is not even an AES block multiple.
  CHECK(DecryptSigned(Base64Encode(std::string(33, 'x'))).code() == WxError::kDecryptAes);
}

TEST_CASE("MsgCrypt rejects with DecryptAes when Encrypt is empty", "[unit]") {
  CHECK(DecryptSigned("").code() == WxError::kDecryptAes);
}

// ---- §1.1 step 5: padding ----

TEST_CASE("MsgCrypt rejects with DecryptAes when the pad byte is 0", "[unit]") {
  std::string blocks = Pad32(Frame(kMsg.size(), kMsg, kReceiveId));
  blocks.back() = '\0';
  Result<std::string> r = DecryptBlocks(blocks);
  CHECK(r.code() == WxError::kDecryptAes);
  CHECK_THAT(r.error().detail, Catch::Contains("pad byte 0"));
}

TEST_CASE("MsgCrypt rejects with DecryptAes when the pad byte is 33", "[unit]") {
  // A 64-byte frame with 33 trailing 0x21 bytes: the range check, not the consistency check.
  std::string blocks = Frame(5, "hello", "wx5823bf96");
  blocks.resize(64 - 33);
  blocks.append(33, '\x21');
  REQUIRE(blocks.size() == 64);
  Result<std::string> r = DecryptBlocks(blocks);
  CHECK(r.code() == WxError::kDecryptAes);
  CHECK_THAT(r.error().detail, Catch::Contains("pad byte 33"));
  std::string ff = Pad32(Frame(kMsg.size(), kMsg, kReceiveId));
  ff.back() = '\xff';
  CHECK(DecryptBlocks(ff).code() == WxError::kDecryptAes);
}

TEST_CASE("MsgCrypt rejects with DecryptAes when the pad bytes are inconsistent", "[unit]") {
  std::string blocks = Pad32(Frame(kMsg.size(), kMsg, kReceiveId));
  const auto pad = static_cast<size_t>(static_cast<unsigned char>(blocks.back()));
  REQUIRE(pad >= 2);
  blocks[blocks.size() - pad] = static_cast<char>(pad + 1);  // first pad byte differs
  Result<std::string> r = DecryptBlocks(blocks);
  CHECK(r.code() == WxError::kDecryptAes);
  CHECK_THAT(r.error().detail, Catch::Contains("not all"));
}

// ---- §1.1 step 6: frame bounds ----

TEST_CASE("MsgCrypt rejects with IllegalBuffer when the frame is shorter than 20 bytes", "[unit]") {
  // 19-byte frame + 13 pad bytes = one 32-byte block.
  std::string blocks = Pad32(std::string(19, 'r'));
  REQUIRE(blocks.size() == 32);
  Result<std::string> r = DecryptBlocks(blocks);
  CHECK(r.code() == WxError::kIllegalBuffer);
  CHECK_THAT(r.error().detail, Catch::Contains("19"));
  // A block that is all padding leaves an empty frame.
  CHECK(DecryptBlocks(std::string(32, '\x20')).code() == WxError::kIllegalBuffer);
}

TEST_CASE("MsgCrypt rejects with IllegalBuffer when msg_len points beyond the frame", "[unit]") {
  // Frame body after the header is msg (5) + receiveid (18) = 23 bytes: 23 is the inclusive
  // bound (the receiveid check then fails), 24 and 0xffffffff are beyond it.
  const std::string rid(kReceiveId);
  CHECK(DecryptBlocks(Pad32(Frame(24, "hello", rid))).code() == WxError::kIllegalBuffer);
  CHECK(DecryptBlocks(Pad32(Frame(0xffffffffu, "hello", rid))).code() == WxError::kIllegalBuffer);
  CHECK(DecryptBlocks(Pad32(Frame(23, "hello", rid))).code() == WxError::kValidateReceiveId);
}

// ---- §1.1 step 7: receiveid ----

TEST_CASE("MsgCrypt rejects with ValidateReceiveId when the frame's receiveid is longer",
          "[unit]") {
  Result<std::string> r =
      DecryptBlocks(Pad32(Frame(kMsg.size(), kMsg, std::string(kReceiveId) + "x")));
  CHECK(r.code() == WxError::kValidateReceiveId);
  CHECK(r.status().code() == core::StatusCode::kInvalidArgument);
  CHECK_THAT(r.error().detail, Catch::Contains("wx5823bf96d3bd56c7x"));
}

TEST_CASE("MsgCrypt rejects with ValidateReceiveId when the frame's receiveid is shorter",
          "[unit]") {
  CHECK(DecryptBlocks(Pad32(Frame(kMsg.size(), kMsg, kReceiveId.substr(0, 17)))).code() ==
        WxError::kValidateReceiveId);
  CHECK(DecryptBlocks(Pad32(Frame(kMsg.size(), kMsg, ""))).code() == WxError::kValidateReceiveId);
}

TEST_CASE("MsgCrypt rejects with ValidateReceiveId when the frame's receiveid differs", "[unit]") {
  // Same length, one byte different; and a prefix-of-msg shift (msg_len one byte short).
  CHECK(DecryptBlocks(Pad32(Frame(kMsg.size(), kMsg, "wx5823bf96d3bd56c8"))).code() ==
        WxError::kValidateReceiveId);
  CHECK(DecryptBlocks(Pad32(Frame(kMsg.size() - 1, kMsg, kReceiveId))).code() ==
        WxError::kValidateReceiveId);
  // Binary bytes are shown escaped in the detail.
  Result<std::string> r = DecryptBlocks(Pad32(Frame(kMsg.size(), kMsg, "w\x01x")));
  CHECK(r.code() == WxError::kValidateReceiveId);
  CHECK_THAT(r.error().detail, Catch::Contains("w\\x01x"));
}

// ---- EncodingAESKey ----

TEST_CASE("MsgCrypt::Create rejects with IllegalAesKey when the key is not 43 characters",
          "[unit]") {
  const std::string key(kEncodingAesKey);
  for (const std::string& bad : {key.substr(0, 42), key + "A", std::string()}) {
    Result<MsgCrypt> crypt = MsgCrypt::Create("t", bad, "wx1");
    CHECK(crypt.code() == WxError::kIllegalAesKey);
    CHECK(crypt.status().code() == core::StatusCode::kInvalidArgument);
    CHECK(DecodeAesKey(bad).code() == WxError::kIllegalAesKey);
  }
}

TEST_CASE("MsgCrypt::Create rejects with IllegalAesKey when the key has a non-alphanumeric",
          "[unit]") {
  for (char c : {'+', '/', '=', '-', '_', ' ', '\xe4'}) {
    std::string bad(kEncodingAesKey);
    bad[10] = c;
    INFO("character " << static_cast<int>(static_cast<unsigned char>(c)));
    Result<MsgCrypt> crypt = MsgCrypt::Create("t", bad, "wx1");
    CHECK(crypt.code() == WxError::kIllegalAesKey);
    // The detail names the position, never the key.
    CHECK_THAT(crypt.error().detail, Catch::Contains("offset 10"));
    CHECK_THAT(crypt.error().detail, !Catch::Contains(std::string(kEncodingAesKey).substr(0, 8)));
  }
}

TEST_CASE("MsgCrypt::Create rejects when the token or the receiveid is empty", "[unit]") {
  CHECK(MsgCrypt::Create("", kEncodingAesKey, "wx1").code() == WxError::kComputeSignature);
  CHECK(MsgCrypt::Create("t", kEncodingAesKey, "").code() == WxError::kValidateReceiveId);
}

}  // namespace
}  // namespace scrm::wxcrypto
