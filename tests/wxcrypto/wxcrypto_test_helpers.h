// Helpers for the wxcrypto tests: fixture loading, a fixed-prefix Random, and an independent
// raw AES-256-CBC path to craft frames that reach each decoder check.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <openssl/evp.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "channels/wxcrypto/wxcrypto.h"
#include "src/core/random.h"
#include "tests/support/test_support.h"

namespace scrm::wxcrypto::testing {

// The official WeCom sample account (wecom_official.json, "wecom-official-*").
inline constexpr std::string_view kToken = "QDG6eK";
inline constexpr std::string_view kEncodingAesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
inline constexpr std::string_view kReceiveId = "wx5823bf96d3bd56c7";
inline constexpr std::string_view kTimestamp = "1409659813";
inline constexpr std::string_view kNonce = "1372623149";

inline nlohmann::json LoadVectors(const std::string& file) {
  return nlohmann::json::parse(
      scrm::testing::ReadFile(scrm::testing::FixturePath("wechat/" + file)));
}

inline std::string HexDecode(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    FAIL("not lower-case hex: " << c);
    return 0;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

inline std::span<const uint8_t, kRandomPrefixSize> PrefixSpan(std::string_view bytes) {
  REQUIRE(bytes.size() == kRandomPrefixSize);
  return std::span<const uint8_t, kRandomPrefixSize>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                     kRandomPrefixSize);
}

// Hands out one fixed 16-byte prefix: the vectors' mocked random.
class FixedRandom final : public core::Random {
 public:
  explicit FixedRandom(std::string bytes) : bytes_(std::move(bytes)) {}
  void Fill(std::span<uint8_t> out) override {
    REQUIRE(out.size() == bytes_.size());
    std::memcpy(out.data(), bytes_.data(), bytes_.size());
  }

 private:
  std::string bytes_;
};

// AES-256-CBC, IV = key[0:16], no padding, straight from OpenSSL (not through wxcrypto), so a
// test can encrypt any chosen frame, valid or not.
inline std::string RawAes(std::string_view key, std::string_view data, bool encrypt) {
  REQUIRE(key.size() == 32);
  REQUIRE(data.size() % 16 == 0);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  REQUIRE(ctx != nullptr);
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  REQUIRE(EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, k, k, encrypt ? 1 : 0) == 1);
  REQUIRE(EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1);
  std::string out(data.size(), '\0');
  int len = 0;
  int final_len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  REQUIRE(EVP_CipherUpdate(ctx.get(), o, &len, reinterpret_cast<const unsigned char*>(data.data()),
                           static_cast<int>(data.size())) == 1);
  REQUIRE(EVP_CipherFinal_ex(ctx.get(), o + len, &final_len) == 1);
  REQUIRE(static_cast<size_t>(len + final_len) == data.size());
  return out;
}

inline std::string KeyBytes() {
  Result<std::string> key = DecodeAesKey(kEncodingAesKey);
  REQUIRE(key.ok());
  return *key;
}

// random(16) || be32(len_field) || msg || receive_id — len_field is free so tests can lie.
inline std::string Frame(uint32_t len_field, std::string_view msg, std::string_view receive_id,
                         std::string_view prefix = "0123456789abcdef") {
  std::string frame(prefix);
  frame.push_back(static_cast<char>(len_field >> 24));
  frame.push_back(static_cast<char>(len_field >> 16));
  frame.push_back(static_cast<char>(len_field >> 8));
  frame.push_back(static_cast<char>(len_field));
  frame += msg;
  frame += receive_id;
  return frame;
}

// Valid PKCS#7 to a 32-byte block (1..32 pad bytes).
inline std::string Pad32(std::string frame) {
  const size_t pad = 32 - frame.size() % 32;
  frame.append(pad, static_cast<char>(pad));
  return frame;
}

inline std::string SortedConcat(std::string a, std::string b, std::string c) {
  std::string parts[] = {std::move(a), std::move(b), std::move(c)};
  std::sort(std::begin(parts), std::end(parts));
  return parts[0] + parts[1] + parts[2];
}

// The text between <Encrypt><![CDATA[ and ]]> in an XML body, or "Encrypt" of a JSON body.
inline std::string ExtractEncrypt(const std::string& body) {
  if (!body.empty() && body[0] == '{') return nlohmann::json::parse(body).at("Encrypt");
  const std::string open = "<Encrypt><![CDATA[";
  const size_t begin = body.find(open);
  REQUIRE(begin != std::string::npos);
  const size_t end = body.find("]]></Encrypt>", begin);
  REQUIRE(end != std::string::npos);
  return body.substr(begin + open.size(), end - begin - open.size());
}

// Value of `name` in an a=b&c=d query (the vectors' values need no percent-decoding).
inline std::string QueryParam(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
    pos = amp + 1;
  }
  FAIL("query has no " << name);
  return {};
}

}  // namespace scrm::wxcrypto::testing
