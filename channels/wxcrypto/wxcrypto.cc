#include "channels/wxcrypto/wxcrypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "src/core/crypto_util.h"
#include "src/core/strings.h"

namespace scrm::wxcrypto {
namespace {

constexpr size_t kSha1Size = 20;
constexpr size_t kSignatureHexSize = 2 * kSha1Size;
constexpr size_t kLengthFieldSize = 4;  // msg_len, big-endian (§1.1 plaintext frame)
constexpr size_t kFrameHeaderSize = kRandomPrefixSize + kLengthFieldSize;
// EVP_*Update takes an int length. A webhook body is bounded far below this long before it gets
// here; the bound only keeps the casts below exact for any input.
constexpr size_t kMaxCiphertextSize = size_t{1} << 30;

using SignatureHex = std::array<char, kSignatureHexSize>;

CryptoError Error(WxError code, std::string detail) { return CryptoError{code, std::move(detail)}; }

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// ---- SHA-1 over the sorted parts ----

// Lower-case hex SHA-1 of the byte-wise sorted concatenation of `parts` (sorted in place).
// std::string_view's ordering compares through char_traits<char>, which the standard defines as
// unsigned-byte order: exactly the plain byte-wise sort of §1.1. False only if OpenSSL fails.
bool SortedSha1Hex(const EVP_MD* md, std::span<std::string_view> parts, SignatureHex& hex) {
  std::sort(parts.begin(), parts.end());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1) return false;
  for (std::string_view part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) return false;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1 || len != kSha1Size) return false;
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < kSha1Size; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
  return true;
}

std::string_view View(const SignatureHex& hex) { return {hex.data(), hex.size()}; }

std::string SignatureOrDie(std::span<std::string_view> parts) {
  SignatureHex hex;
  // SHA-1 through EVP fails only when a digest context cannot be allocated.
  SCRM_CHECK(SortedSha1Hex(EVP_sha1(), parts, hex));
  return std::string(View(hex));
}

// A mismatch and an OpenSSL failure both reject: the check fails closed.
bool VerifyParts(const EVP_MD* md, std::string_view received, std::span<std::string_view> parts) {
  SignatureHex hex;
  if (!SortedSha1Hex(md, parts, hex)) return false;
  return core::ConstantTimeEquals(received, View(hex));
}

// ---- Base64 ----

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0x80;

// 0..63 for the standard alphabet; kInvalid for everything else, '=' included ('=' is only
// legal in the last two positions, which the decoder handles before the table).
constexpr std::array<uint8_t, 256> kDecodeTable = [] {
  std::array<uint8_t, 256> table{};
  table.fill(kInvalid);
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
  return table;
}();

uint8_t Sextet(char c) { return kDecodeTable[static_cast<unsigned char>(c)]; }

// Error path only: names the first offending character.
std::string DescribeBadBase64(std::string_view text, size_t payload_len) {
  for (size_t i = 0; i < payload_len; ++i) {
    if (Sextet(text[i]) != kInvalid) continue;
    char buf[96];
    if (text[i] == '=') {
      std::snprintf(buf, sizeof buf, "base64: '=' at offset %zu is not in the final two", i);
    } else {
      std::snprintf(buf, sizeof buf, "base64: byte 0x%02x at offset %zu is outside [A-Za-z0-9+/]",
                    static_cast<unsigned>(static_cast<unsigned char>(text[i])), i);
    }
    return buf;
  }
  return "base64: invalid input";
}

// Strict decode of §1.1 step 3 into `out` (resized to the decoded size). On failure returns
// false and sets `detail`. The main loop is branch-free per quad and checks validity once.
bool DecodeBase64Into(std::string_view text, std::string& out, std::string& detail) {
  const size_t n = text.size();
  if (n % 4 != 0) {
    detail = "base64: length " + std::to_string(n) + " is not a multiple of 4";
    return false;
  }
  size_t pad = 0;
  if (n >= 4 && text[n - 1] == '=') pad = text[n - 2] == '=' ? 2 : 1;
  // A third '=' (or any earlier one) is not stripped here and fails the table check below.
  const size_t payload_len = n - pad;
  out.resize(n / 4 * 3 - pad);
  char* dst = out.data();
  const char* src = text.data();
  const size_t full_quads = payload_len / 4;
  uint8_t bad = 0;
  for (size_t q = 0; q < full_quads; ++q, src += 4, dst += 3) {
    const uint8_t a = Sextet(src[0]), b = Sextet(src[1]), c = Sextet(src[2]), d = Sextet(src[3]);
    bad |= static_cast<uint8_t>(a | b | c | d);
    const uint32_t v = uint32_t{a} << 18 | uint32_t{b} << 12 | uint32_t{c} << 6 | uint32_t{d};
    dst[0] = static_cast<char>(v >> 16);
    dst[1] = static_cast<char>(v >> 8);
    dst[2] = static_cast<char>(v);
  }
  if (pad != 0) {
    // The unused low bits of the last sextet are discarded, not required to be zero (see .h).
    const uint8_t a = Sextet(src[0]), b = Sextet(src[1]);
    const uint8_t c = pad == 1 ? Sextet(src[2]) : uint8_t{0};
    bad |= static_cast<uint8_t>(a | b | c);
    const uint32_t v = uint32_t{a} << 18 | uint32_t{b} << 12 | uint32_t{c} << 6;
    dst[0] = static_cast<char>(v >> 16);
    if (pad == 1) dst[1] = static_cast<char>(v >> 8);
  }
  if ((bad & kInvalid) != 0) {
    detail = DescribeBadBase64(text, payload_len);
    return false;
  }
  return true;
}

void EncodeBase64Into(std::string_view bytes, std::string& out) {
  const size_t n = bytes.size();
  out.resize((n + 2) / 3 * 4);
  const auto* src = reinterpret_cast<const unsigned char*>(bytes.data());
  char* dst = out.data();
  size_t i = 0;
  for (; i + 3 <= n; i += 3, dst += 4) {
    const uint32_t v = uint32_t{src[i]} << 16 | uint32_t{src[i + 1]} << 8 | uint32_t{src[i + 2]};
    dst[0] = kBase64Alphabet[v >> 18];
    dst[1] = kBase64Alphabet[(v >> 12) & 63];
    dst[2] = kBase64Alphabet[(v >> 6) & 63];
    dst[3] = kBase64Alphabet[v & 63];
  }
  if (i < n) {
    const bool two = i + 1 < n;
    const uint32_t v = uint32_t{src[i]} << 16 | (two ? uint32_t{src[i + 1]} << 8 : 0u);
    dst[0] = kBase64Alphabet[v >> 18];
    dst[1] = kBase64Alphabet[(v >> 12) & 63];
    dst[2] = two ? kBase64Alphabet[(v >> 6) & 63] : '=';
    dst[3] = '=';
  }
}

// ---- Frame helpers ----

uint32_t ReadBe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 | uint32_t{u[3]};
}

void WriteBe32(uint32_t v, char* p) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

// A receiveid from the frame for the log: printable ASCII kept, other bytes as \xNN, capped.
std::string Printable(std::string_view bytes) {
  constexpr size_t kMaxShown = 64;
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  if (bytes.size() > kMaxShown) out += "...";
  return out;
}

// The reply envelope writes TimeStamp bare (and as a JSON number) and Nonce inside CDATA / a
// JSON string without escaping, so only values that cannot break either format are accepted.
std::string CheckReplyField(std::string_view timestamp, std::string_view nonce) {
  constexpr size_t kMaxTimestampDigits = 19;  // fits int64 as a JSON number
  constexpr size_t kMaxNonce = 64;
  if (timestamp.size() > kMaxTimestampDigits || !core::AllAsciiDigits(timestamp)) {
    return "reply TimeStamp must be 1..19 ASCII digits";
  }
  if (nonce.empty() || nonce.size() > kMaxNonce ||
      !std::all_of(nonce.begin(), nonce.end(),
                   [](char c) { return core::IsAsciiAlnum(c) || c == '_' || c == '-'; })) {
    return "reply Nonce must be 1..64 of [A-Za-z0-9_-]";
  }
  return {};
}

}  // namespace

// ---- Errors ----

std::string_view WxErrorName(WxError code) {
  switch (code) {
    case WxError::kOk: return "Ok";
    case WxError::kValidateSignature: return "ValidateSignature";
    case WxError::kParseXml: return "ParseXml";
    case WxError::kComputeSignature: return "ComputeSignature";
    case WxError::kIllegalAesKey: return "IllegalAesKey";
    case WxError::kValidateReceiveId: return "ValidateReceiveId";
    case WxError::kEncryptAes: return "EncryptAes";
    case WxError::kDecryptAes: return "DecryptAes";
    case WxError::kIllegalBuffer: return "IllegalBuffer";
    case WxError::kEncodeBase64: return "EncodeBase64";
    case WxError::kDecodeBase64: return "DecodeBase64";
    case WxError::kGenReturnXml: return "GenReturnXml";
  }
  return "Unknown";
}

core::Status CryptoError::ToStatus() const {
  std::string message = "wxcrypto ";
  message += WxErrorName(code);
  message += " (" + std::to_string(WxErrorCode(code)) + "): " + detail;
  switch (code) {
    case WxError::kOk: return core::OkStatus();
    case WxError::kValidateSignature: return core::UnauthenticatedError(std::move(message));
    case WxError::kComputeSignature:
    case WxError::kEncryptAes:
    case WxError::kEncodeBase64: return core::InternalError(std::move(message));
    default: return core::InvalidArgumentError(std::move(message));
  }
}

namespace internal {
void ResultAccessFailed(const CryptoError* error) {
  if (error != nullptr) {
    std::fprintf(stderr, "wxcrypto::Result::value() on error: %s\n",
                 error->ToStatus().ToString().c_str());
  } else {
    std::fprintf(stderr, "wxcrypto::Result::error() on a value\n");
  }
  std::abort();
}
}  // namespace internal

// ---- Free functions ----

std::string Signature(std::string_view token, std::string_view timestamp, std::string_view nonce,
                      std::string_view encrypt) {
  std::array<std::string_view, 4> parts{token, timestamp, nonce, encrypt};
  return SignatureOrDie(parts);
}

std::string PlainSignature(std::string_view token, std::string_view timestamp,
                           std::string_view nonce) {
  std::array<std::string_view, 3> parts{token, timestamp, nonce};
  return SignatureOrDie(parts);
}

bool VerifySignature(std::string_view msg_signature, std::string_view token,
                     std::string_view timestamp, std::string_view nonce, std::string_view encrypt) {
  std::array<std::string_view, 4> parts{token, timestamp, nonce, encrypt};
  return VerifyParts(EVP_sha1(), msg_signature, parts);
}

bool VerifyPlainSignature(std::string_view signature, std::string_view token,
                          std::string_view timestamp, std::string_view nonce) {
  std::array<std::string_view, 3> parts{token, timestamp, nonce};
  return VerifyParts(EVP_sha1(), signature, parts);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  EncodeBase64Into(bytes, out);
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  std::string detail;
  if (!DecodeBase64Into(text, out, detail)) return Error(WxError::kDecodeBase64, std::move(detail));
  return out;
}

Result<std::string> DecodeAesKey(std::string_view encoding_aes_key) {
  if (encoding_aes_key.size() != kEncodingAesKeyLength) {
    return Error(WxError::kIllegalAesKey, "EncodingAESKey must be 43 characters, got " +
                                              std::to_string(encoding_aes_key.size()));
  }
  for (size_t i = 0; i < encoding_aes_key.size(); ++i) {
    if (!core::IsAsciiAlnum(encoding_aes_key[i])) {
      // The offset only: the key is a secret and stays out of logs.
      return Error(WxError::kIllegalAesKey, "EncodingAESKey character at offset " +
                                                std::to_string(i) + " is not [A-Za-z0-9]");
    }
  }
  std::string padded(encoding_aes_key);
  padded.push_back('=');
  std::string key;
  std::string detail;
  const bool decoded = DecodeBase64Into(padded, key, detail);
  OPENSSL_cleanse(padded.data(), padded.size());
  // 43 alphanumerics + "=" always decode to 32 bytes; kept as an error rather than a CHECK
  // because it costs nothing and the input is configuration.
  if (!decoded || key.size() != kAesKeySize) {
    return Error(WxError::kIllegalAesKey, "EncodingAESKey does not decode to 32 bytes");
  }
  return key;
}

// ---- MsgCrypt ----

void MsgCrypt::CipherFree::operator()(EVP_CIPHER* cipher) const { EVP_CIPHER_free(cipher); }
void MsgCrypt::MdFree::operator()(EVP_MD* md) const { EVP_MD_free(md); }

MsgCrypt::MsgCrypt(std::string token, const std::array<uint8_t, kAesKeySize>& key,
                   std::string receive_id, std::unique_ptr<EVP_CIPHER, CipherFree> cipher,
                   std::unique_ptr<EVP_MD, MdFree> sha1)
    : token_(std::move(token)),
      key_(key),
      receive_id_(std::move(receive_id)),
      cipher_(std::move(cipher)),
      sha1_(std::move(sha1)) {}

MsgCrypt::~MsgCrypt() { OPENSSL_cleanse(key_.data(), key_.size()); }

Result<MsgCrypt> MsgCrypt::Create(std::string token, std::string_view encoding_aes_key,
                                  std::string receive_id) {
  Result<std::string> key = DecodeAesKey(encoding_aes_key);
  if (!key.ok()) return key.error();
  if (token.empty()) {
    return Error(WxError::kComputeSignature, "Token is empty: signatures would need no secret");
  }
  if (receive_id.empty()) {
    return Error(WxError::kValidateReceiveId, "receiveid (CorpID / SuiteID / AppID) is empty");
  }
  std::array<uint8_t, kAesKeySize> key_bytes{};
  std::memcpy(key_bytes.data(), key->data(), kAesKeySize);
  OPENSSL_cleanse(key->data(), key->size());

  // Fetched once: in OpenSSL 3 passing EVP_aes_256_cbc()/EVP_sha1() makes every Init repeat the
  // provider lookup (a locked property query) — measurable at webhook rates.
  std::unique_ptr<EVP_CIPHER, CipherFree> cipher(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr));
  if (cipher == nullptr) return Error(WxError::kEncryptAes, "OpenSSL provides no AES-256-CBC");
  std::unique_ptr<EVP_MD, MdFree> sha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  if (sha1 == nullptr) return Error(WxError::kComputeSignature, "OpenSSL provides no SHA-1");
  MsgCrypt crypt(std::move(token), key_bytes, std::move(receive_id), std::move(cipher),
                 std::move(sha1));
  OPENSSL_cleanse(key_bytes.data(), key_bytes.size());
  return crypt;
}

bool MsgCrypt::VerifyMsgSignature(std::string_view msg_signature, std::string_view timestamp,
                                  std::string_view nonce, std::string_view encrypt) const {
  std::array<std::string_view, 4> parts{token_, timestamp, nonce, encrypt};
  return VerifyParts(sha1_.get(), msg_signature, parts);
}

bool MsgCrypt::VerifyPlainSignature(std::string_view signature, std::string_view timestamp,
                                    std::string_view nonce) const {
  std::array<std::string_view, 3> parts{token_, timestamp, nonce};
  return VerifyParts(sha1_.get(), signature, parts);
}

Result<std::string> MsgCrypt::DecryptMessage(std::string_view msg_signature,
                                             std::string_view timestamp, std::string_view nonce,
                                             std::string_view encrypt) const {
  // §1.1 step 2: the signature covers the raw base64 and is checked before anything is decoded,
  // so unauthenticated input never reaches the decoder (no padding oracle).
  std::array<std::string_view, 4> parts{token_, timestamp, nonce, encrypt};
  SignatureHex expected;
  if (!SortedSha1Hex(sha1_.get(), parts, expected)) {
    return Error(WxError::kComputeSignature, "OpenSSL SHA-1 failed");
  }
  if (!core::ConstantTimeEquals(msg_signature, View(expected))) {
    return Error(WxError::kValidateSignature, "msg_signature does not match");
  }
  return Decrypt(encrypt);
}

Result<std::string> MsgCrypt::VerifyUrl(std::string_view msg_signature, std::string_view timestamp,
                                        std::string_view nonce, std::string_view echostr) const {
  return DecryptMessage(msg_signature, timestamp, nonce, echostr);
}

Result<std::string> MsgCrypt::Decrypt(std::string_view encrypt) const {
  // One buffer end to end: base64 decodes into it, AES decrypts in place (EVP allows out == in),
  // and the msg is moved to its front.
  std::string buf;
  std::string detail;
  // §1.1 step 3.
  if (!DecodeBase64Into(encrypt, buf, detail)) {
    return Error(WxError::kDecodeBase64, std::move(detail));
  }
  // §1.1 step 4 ([WC-CPP] `iSize % kAesKeySize != 0`; §7.3: 16-aligned is not enough).
  const size_t size = buf.size();
  if (size == 0 || size % kPadBlockSize != 0 || size > kMaxCiphertextSize) {
    return Error(WxError::kDecryptAes,
                 "ciphertext length " + std::to_string(size) + " is not a positive multiple of 32");
  }

  // §1.1 step 5: AES-256-CBC, IV = key[0:16], no library padding (the padding is PKCS#7(32)).
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int update_len = 0;
  int final_len = 0;
  const int in_len = static_cast<int>(size);
  if (ctx == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), cipher_.get(), key_.data(), key_.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(buf), &update_len, Bytes(buf), in_len) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), Bytes(buf) + update_len, &final_len) != 1 ||
      update_len + final_len != in_len) {
    return Error(WxError::kDecryptAes, "OpenSSL AES-256-CBC decryption failed");
  }

  // Strict PKCS#7(32): the last byte p in 1..32 ([WC-CPP]) and all p bytes equal to p (§7.2:
  // WeChat always emits valid padding, so the stricter check costs no real message).
  const auto pad = static_cast<uint8_t>(buf[size - 1]);
  if (pad < 1 || pad > kPadBlockSize) {
    return Error(WxError::kDecryptAes, "pad byte " + std::to_string(pad) + " is outside 1..32");
  }
  uint8_t mismatch = 0;
  for (size_t i = size - pad; i < size; ++i) {
    mismatch |= static_cast<uint8_t>(static_cast<uint8_t>(buf[i]) ^ pad);
  }
  if (mismatch != 0) {
    return Error(WxError::kDecryptAes, "PKCS#7 padding bytes are not all " + std::to_string(pad));
  }

  // §1.1 step 6: random(16) || be32 msg_len || msg || receiveid; [WC-CPP] bounds msg_len (§7.4)
  // where the other SDKs silently truncate.
  const size_t frame_len = size - pad;
  if (frame_len < kFrameHeaderSize) {
    return Error(WxError::kIllegalBuffer,
                 "frame of " + std::to_string(frame_len) + " bytes is shorter than 20");
  }
  const size_t msg_len = ReadBe32(buf.data() + kRandomPrefixSize);
  if (msg_len > frame_len - kFrameHeaderSize) {
    return Error(WxError::kIllegalBuffer,
                 "msg_len " + std::to_string(msg_len) + " exceeds the frame's " +
                     std::to_string(frame_len - kFrameHeaderSize) + " bytes after the header");
  }

  // §1.1 step 7: everything after msg is the receiveid and must equal ours byte for byte (§7.1:
  // WxJava and the npm libs skip this; it binds the message to this corp / suite / app).
  const std::string_view frame_receive_id(buf.data() + kFrameHeaderSize + msg_len,
                                          frame_len - kFrameHeaderSize - msg_len);
  if (frame_receive_id != receive_id_) {
    return Error(WxError::kValidateReceiveId, "frame receiveid \"" + Printable(frame_receive_id) +
                                                  "\" is not \"" + Printable(receive_id_) + "\"");
  }

  buf.resize(kFrameHeaderSize + msg_len);
  buf.erase(0, kFrameHeaderSize);
  return buf;
}

Result<std::string> MsgCrypt::EncryptWithPrefix(
    std::span<const uint8_t, kRandomPrefixSize> random_prefix, std::string_view plaintext) const {
  // msg_len is a 32-bit field; the AES call takes an int.
  if (plaintext.size() > std::numeric_limits<uint32_t>::max() ||
      plaintext.size() + receive_id_.size() + kFrameHeaderSize + kPadBlockSize >
          kMaxCiphertextSize) {
    return Error(WxError::kEncryptAes,
                 "message of " + std::to_string(plaintext.size()) + " bytes is too large");
  }
  const size_t frame_len = kFrameHeaderSize + plaintext.size() + receive_id_.size();
  // PKCS#7 to 32: 1..32 bytes, a full block when already aligned (§1.1 padding).
  const size_t pad = kPadBlockSize - frame_len % kPadBlockSize;
  std::string buf(frame_len + pad, static_cast<char>(pad));
  char* p = buf.data();
  std::memcpy(p, random_prefix.data(), kRandomPrefixSize);
  WriteBe32(static_cast<uint32_t>(plaintext.size()), p + kRandomPrefixSize);
  if (!plaintext.empty()) std::memcpy(p + kFrameHeaderSize, plaintext.data(), plaintext.size());
  std::memcpy(p + kFrameHeaderSize + plaintext.size(), receive_id_.data(), receive_id_.size());

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int update_len = 0;
  int final_len = 0;
  const int in_len = static_cast<int>(buf.size());
  const bool encrypted =
      ctx != nullptr &&
      EVP_EncryptInit_ex2(ctx.get(), cipher_.get(), key_.data(), key_.data(), nullptr) == 1 &&
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
      EVP_EncryptUpdate(ctx.get(), Bytes(buf), &update_len, Bytes(buf), in_len) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), Bytes(buf) + update_len, &final_len) == 1 &&
      update_len + final_len == in_len;
  if (!encrypted) {
    OPENSSL_cleanse(buf.data(), buf.size());
    return Error(WxError::kEncryptAes, "OpenSSL AES-256-CBC encryption failed");
  }
  return Base64Encode(buf);
}

Result<EncryptedMessage> MsgCrypt::EncryptMessage(std::string_view plaintext,
                                                  std::string_view timestamp,
                                                  std::string_view nonce,
                                                  core::Random& random) const {
  std::array<uint8_t, kRandomPrefixSize> prefix{};
  random.Fill(prefix);
  Result<std::string> encrypt = EncryptWithPrefix(prefix, plaintext);
  if (!encrypt.ok()) return encrypt.error();
  std::array<std::string_view, 4> parts{token_, timestamp, nonce, *encrypt};
  SignatureHex signature;
  if (!SortedSha1Hex(sha1_.get(), parts, signature)) {
    return Error(WxError::kComputeSignature, "OpenSSL SHA-1 failed");
  }
  return EncryptedMessage{std::move(encrypt).value(), std::string(View(signature))};
}

Result<std::string> MsgCrypt::BuildReply(std::string_view plaintext, std::string_view timestamp,
                                         std::string_view nonce, core::Random& random,
                                         bool json) const {
  if (std::string why = CheckReplyField(timestamp, nonce); !why.empty()) {
    return Error(WxError::kGenReturnXml, std::move(why));
  }
  Result<EncryptedMessage> message = EncryptMessage(plaintext, timestamp, nonce, random);
  if (!message.ok()) return message.error();
  const std::string& encrypt = message->encrypt;
  const std::string& signature = message->msg_signature;
  std::string out;
  out.reserve(encrypt.size() + signature.size() + timestamp.size() + nonce.size() + 160);
  if (json) {
    // §1.3 OA JSON format; TimeStamp is a number there, as in the doc's reply example.
    out += "{\"Encrypt\":\"";
    out += encrypt;
    out += "\",\"MsgSignature\":\"";
    out += signature;
    out += "\",\"TimeStamp\":";
    out += timestamp;
    out += ",\"Nonce\":\"";
    out += nonce;
    out += "\"}";
  } else {
    // §1.2: TimeStamp bare as in [wechatpy]/[WxJava]/[MP-DOC] (CDATA in [WC-CPP]; both accepted).
    out += "<xml><Encrypt><![CDATA[";
    out += encrypt;
    out += "]]></Encrypt><MsgSignature><![CDATA[";
    out += signature;
    out += "]]></MsgSignature><TimeStamp>";
    out += timestamp;
    out += "</TimeStamp><Nonce><![CDATA[";
    out += nonce;
    out += "]]></Nonce></xml>";
  }
  return out;
}

Result<std::string> MsgCrypt::BuildEncryptedReplyXml(std::string_view plaintext,
                                                     std::string_view timestamp,
                                                     std::string_view nonce,
                                                     core::Random& random) const {
  return BuildReply(plaintext, timestamp, nonce, random, /*json=*/false);
}

Result<std::string> MsgCrypt::BuildEncryptedReplyJson(std::string_view plaintext,
                                                      std::string_view timestamp,
                                                      std::string_view nonce,
                                                      core::Random& random) const {
  return BuildReply(plaintext, timestamp, nonce, random, /*json=*/true);
}

}  // namespace scrm::wxcrypto
