// Strict base64, the EncodingAESKey decode and the sorted-SHA-1 signatures (PROTOCOL.md §1.1).
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "channels/wxcrypto/wxcrypto.h"
#include "src/core/crypto_util.h"
#include "src/core/random.h"
#include "src/core/strings.h"

namespace scrm::wxcrypto {
namespace {

TEST_CASE("Base64Encode matches RFC 4648 section 10 when given its test strings", "[unit]") {
  const std::vector<std::pair<std::string, std::string>> cases = {{"", ""},
                                                                  {"f", "Zg=="},
                                                                  {"fo", "Zm8="},
                                                                  {"foo", "Zm9v"},
                                                                  {"foob", "Zm9vYg=="},
                                                                  {"fooba", "Zm9vYmE="},
                                                                  {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    CHECK(Base64Encode(plain) == encoded);
    Result<std::string> decoded = Base64Decode(encoded);
    REQUIRE(decoded.ok());
    CHECK(*decoded == plain);
  }
}

TEST_CASE("Base64Decode round-trips every byte value when lengths cover all paddings", "[unit]") {
  core::FakeRandom random(7);
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  CHECK(*Base64Decode(Base64Encode(all)) == all);
  for (size_t len = 0; len < 70; ++len) {
    std::string bytes(len, '\0');
    random.Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
    const std::string encoded = Base64Encode(bytes);
    CHECK(encoded.size() % 4 == 0);
    Result<std::string> decoded = Base64Decode(encoded);
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytes);
  }
  // '+' and '/' are the standard alphabet's last two characters.
  CHECK(Base64Encode("\xfb\xff") == "+/8=");
  CHECK(*Base64Decode("+/8=") == "\xfb\xff");
}

TEST_CASE("Base64Decode rejects with DecodeBase64 when the input is not strict base64", "[unit]") {
  for (const char* bad : {"Zm9", "Zm9vY", "Zm 9v", "Zm9v\n", "Zm9-", "Zm9_", "Z=9v", "Zm==Zm9v",
                          "Z===", "====", "Zm9v=", "Zm9\x80"}) {
    INFO(bad);
    CHECK(Base64Decode(bad).code() == WxError::kDecodeBase64);
  }
  CHECK(Base64Decode(std::string("Zm\0v", 4)).code() == WxError::kDecodeBase64);
}

TEST_CASE("Base64Decode ignores the unused low bits when the last character is non-canonical",
          "[unit]") {
  // "Zh==" carries bits past the one decoded byte; OpenSSL (used by [WC-CPP]) accepts it too,
  // and the EncodingAESKey decode depends on it.
  Result<std::string> decoded = Base64Decode("Zh==");
  REQUIRE(decoded.ok());
  CHECK(*decoded == "f");
}

TEST_CASE("DecodeAesKey tolerates non-zero discarded bits when given the official key", "[unit]") {
  // The official key ends in 'C' (000010): its two low bits are set and dropped (§1.1 AESKey).
  Result<std::string> key = DecodeAesKey("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C");
  REQUIRE(key.ok());
  CHECK(core::HexEncode(*key) ==
        "8d69989bbaabe67328014c194631ad0719b3dca035b64023df292447aab60760");
  // 'A'...'D' differ only in the discarded bits: same key.
  CHECK(*DecodeAesKey("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2A") == *key);
  CHECK(*DecodeAesKey("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2D") == *key);
}

TEST_CASE("Signature hashes the byte-wise sorted concatenation when parts differ in order",
          "[unit]") {
  CHECK(Signature("QDG6eK", "1409659813", "1372623149", "abc") ==
        core::Sha1Hex(std::string("1372623149") + "1409659813" + "QDG6eK" + "abc"));
  // Argument order does not matter: the four strings are sorted first.
  CHECK(Signature("abc", "QDG6eK", "1409659813", "1372623149") ==
        Signature("QDG6eK", "1409659813", "1372623149", "abc"));
  // Unsorted concatenation (argument order) is not the signature.
  CHECK(Signature("QDG6eK", "1409659813", "1372623149", "abc") !=
        core::Sha1Hex(std::string("QDG6eK") + "1409659813" + "1372623149" + "abc"));
}

TEST_CASE("Signature sorts UTF-8 bytes after ASCII when a part is non-ASCII", "[unit]") {
  // Byte-wise: 0xe4 ("中") > 'z'; a signed-char comparison would put it first.
  CHECK(PlainSignature("\xe4\xb8\xad", "zz", "10") ==
        core::Sha1Hex(std::string("10") + "zz" + "\xe4\xb8\xad"));
}

TEST_CASE("VerifySignature accepts only the exact lower-case digest when comparing", "[unit]") {
  const std::string good = Signature("t", "1", "2", "e");
  CHECK(VerifySignature(good, "t", "1", "2", "e"));
  CHECK_FALSE(VerifySignature(good + "0", "t", "1", "2", "e"));
  CHECK_FALSE(VerifySignature(good.substr(1), "t", "1", "2", "e"));
  CHECK_FALSE(VerifySignature("", "t", "1", "2", "e"));
  CHECK_FALSE(VerifySignature(good, "t", "1", "2", "E"));
  const std::string plain = PlainSignature("t", "1", "2");
  CHECK(VerifyPlainSignature(plain, "t", "1", "2"));
  CHECK_FALSE(VerifyPlainSignature(plain, "t", "1", "3"));
}

}  // namespace
}  // namespace scrm::wxcrypto
