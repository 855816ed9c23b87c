#include "src/core/crypto_util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "src/core/status.h"

namespace scrm::core {
namespace {

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest fails only on allocation failure or a null digest, neither reachable here.
  SCRM_CHECK(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) == 1);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), len));
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0f]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return Digest(EVP_sha256(), data); }
std::string Sha1Hex(std::string_view data) { return Digest(EVP_sha1(), data); }

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  SCRM_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
                  &len) != nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), len));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // The length is not secret (hex digests have a fixed length); the content is.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace scrm::core
