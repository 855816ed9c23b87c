// wxcrypto: the WXBizMsgCrypt callback crypto shared by WeCom and WeChat Official Account safe
// mode — signatures, strict base64, AES-256-CBC frames (PROTOCOL.md §1.1).
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "src/core/random.h"
#include "src/core/status.h"

namespace scrm::wxcrypto {

// The official error codes ([WC-CPP] WXBizMsgCryptErrorCode, PROTOCOL.md §1.1). Each decoder
// check of §1.1 reports exactly one of them, so callers and tests can tell which check failed.
enum class WxError : int {
  kOk = 0,
  kValidateSignature = -40001,  // msg_signature / signature mismatch
  kParseXml = -40002,           // no Encrypt element (reserved for the body parsers in adapters)
  kComputeSignature = -40003,   // SHA-1 could not be computed (OpenSSL failure, empty token)
  kIllegalAesKey = -40004,      // EncodingAESKey is not 43 x [A-Za-z0-9]
  kValidateReceiveId = -40005,  // ValidateCorpid: frame receiveid != this account's
  kEncryptAes = -40006,         // AES encryption failed (OpenSSL failure, oversized message)
  kDecryptAes = -40007,         // ciphertext length or PKCS#7(32) padding invalid
  kIllegalBuffer = -40008,      // frame shorter than 20 bytes or msg_len beyond the frame
  kEncodeBase64 = -40009,       // never produced (encoding cannot fail); kept for the full set
  kDecodeBase64 = -40010,       // Encrypt is not strict standard base64
  kGenReturnXml = -40011,       // reply envelope cannot be built (unsafe timestamp / nonce)
};

// "ValidateSignature", "DecryptAes", ...; "Ok" for kOk and "Unknown" outside the enum.
std::string_view WxErrorName(WxError code);
// The numeric official code (-40001 ...), as logged by the official SDKs.
constexpr int WxErrorCode(WxError code) { return static_cast<int>(code); }

// Which check failed and why. `detail` is meant for logs: it never contains the token, the AES
// key or a recomputed signature (that would let a caller forge the message it was computed for).
struct CryptoError {
  WxError code = WxError::kOk;
  std::string detail;

  // For cross-module use: kValidateSignature -> Unauthenticated; our own failures
  // (kComputeSignature, kEncryptAes, kEncodeBase64) -> Internal; every other code (bad input or
  // bad configuration) -> InvalidArgument. Message: "wxcrypto DecryptAes (-40007): <detail>".
  core::Status ToStatus() const;
};

namespace internal {
[[noreturn]] void ResultAccessFailed(const CryptoError* error);
}  // namespace internal

// Either a value or a CryptoError. Accessing value() of an error (or error() of a value) is a
// broken invariant and aborts. Works with SCRM_ASSIGN_OR_RETURN inside functions that return
// core::Status / core::StatusOr (through status()). Thread-compatible.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<1>, std::move(value)) {}           // NOLINT: implicit
  Result(CryptoError error) : data_(std::in_place_index<0>, std::move(error)) {  // NOLINT
    // Every error site in this module names a code; kOk here would be a bug in wxcrypto.
    SCRM_CHECK(std::get<0>(data_).code != WxError::kOk);
  }

  bool ok() const { return data_.index() == 1; }
  // kOk when ok(), otherwise the code of the failed check.
  WxError code() const { return ok() ? WxError::kOk : std::get<0>(data_).code; }
  const CryptoError& error() const {
    if (ok()) internal::ResultAccessFailed(nullptr);
    return std::get<0>(data_);
  }
  // OkStatus() or error().ToStatus().
  core::Status status() const { return ok() ? core::OkStatus() : error().ToStatus(); }

  const T& value() const& {
    CheckValue();
    return std::get<1>(data_);
  }
  T& value() & {
    CheckValue();
    return std::get<1>(data_);
  }
  T&& value() && {
    CheckValue();
    return std::get<1>(std::move(data_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void CheckValue() const {
    if (!ok()) internal::ResultAccessFailed(&std::get<0>(data_));
  }

  std::variant<CryptoError, T> data_;
};

inline constexpr size_t kRandomPrefixSize = 16;  // frame random(16)
inline constexpr size_t kAesKeySize = 32;        // AESKey = b64decode(EncodingAESKey + "=")
inline constexpr size_t kPadBlockSize = 32;      // PKCS#7 block size is 32, not 16 (§1.1)
inline constexpr size_t kEncodingAesKeyLength = 43;

// ---- Signatures (PROTOCOL.md §1.1 msg_signature / plain signature) ----
// Values are used exactly as received (after URL-decoding of the query). The sort is plain
// byte-wise; a case-insensitive or locale sort gives a different signature (the vectors' trap).
// These free functions fetch SHA-1 per call; MsgCrypt holds one. They abort only if OpenSSL
// cannot allocate a digest context (a broken process, not bad input).

// msg_signature = lower-case hex SHA-1 of sort_bytewise([token, timestamp, nonce, encrypt]).
std::string Signature(std::string_view token, std::string_view timestamp, std::string_view nonce,
                      std::string_view encrypt);
// OA plaintext-mode / URL-verification `signature` over [token, timestamp, nonce] (§1.3).
std::string PlainSignature(std::string_view token, std::string_view timestamp,
                           std::string_view nonce);
// Constant-time comparison of a received signature with the recomputed one. The match is exact:
// the platforms send lower-case hex, so upper-case hex is rejected like any other mismatch.
bool VerifySignature(std::string_view msg_signature, std::string_view token,
                     std::string_view timestamp, std::string_view nonce, std::string_view encrypt);
bool VerifyPlainSignature(std::string_view signature, std::string_view token,
                          std::string_view timestamp, std::string_view nonce);

// ---- Base64 (§1.1 step 3) ----
// Standard alphabet with '=' padding.
std::string Base64Encode(std::string_view bytes);
// Strict decode: length % 4 == 0, only [A-Za-z0-9+/], at most two '=' and only at the end.
// Whitespace, line breaks and URL-safe '-' '_' are rejected (kDecodeBase64). The unused low bits
// of the last character are not required to be zero (as in OpenSSL, which [WC-CPP] uses); that
// is what lets the EncodingAESKey decode share this decoder.
Result<std::string> Base64Decode(std::string_view text);

// AESKey from an EncodingAESKey: exactly 43 characters of [A-Za-z0-9], base64-decoded with a
// trailing "=" into 32 bytes; the 43rd character's two discarded low bits are usually non-zero
// and are tolerated (§1.1). Anything else -> kIllegalAesKey. The IV is the first 16 bytes.
Result<std::string> DecodeAesKey(std::string_view encoding_aes_key);

// The two values of an encrypted message or reply.
struct EncryptedMessage {
  std::string encrypt;        // Encrypt: base64 of the AES-256-CBC ciphertext
  std::string msg_signature;  // MsgSignature: Signature(token, timestamp, nonce, encrypt)
};

// The callback crypto of one account (one WeCom app / suite / OA): built once from its Token,
// EncodingAESKey and receiveid (CorpID, SuiteID or AppID per §1.1's table) and then shared.
// Immutable after Create(): every method is const and thread-safe; each call uses its own
// EVP_CIPHER_CTX over the cipher and digest fetched once in Create(). Results are owned by the
// caller. Movable, not copyable.
class MsgCrypt final {
 public:
  // kIllegalAesKey for a bad EncodingAESKey; kComputeSignature for an empty token (signatures
  // would not depend on any secret); kValidateReceiveId for an empty receive_id; kEncryptAes /
  // kComputeSignature if OpenSSL lacks AES-256-CBC / SHA-1.
  static Result<MsgCrypt> Create(std::string token, std::string_view encoding_aes_key,
                                 std::string receive_id);

  MsgCrypt(MsgCrypt&&) noexcept = default;
  MsgCrypt& operator=(MsgCrypt&&) noexcept = default;
  MsgCrypt(const MsgCrypt&) = delete;
  MsgCrypt& operator=(const MsgCrypt&) = delete;
  ~MsgCrypt();  // wipes the key

  // WeCom / OA safe-mode POST: the msg bytes of `encrypt` (the body's Encrypt). Checks in the
  // order of §1.1: msg_signature over the raw base64 first (kValidateSignature), then strict
  // base64 (kDecodeBase64), ciphertext a positive multiple of 32 (kDecryptAes), PKCS#7(32) with
  // every pad byte equal to the pad count 1..32 (kDecryptAes), frame >= 20 bytes and
  // 20 + msg_len <= frame (kIllegalBuffer), receiveid byte-equal to this account's
  // (kValidateReceiveId).
  Result<std::string> DecryptMessage(std::string_view msg_signature, std::string_view timestamp,
                                     std::string_view nonce, std::string_view encrypt) const;
  // WeCom GET URL verification (§1.2): `echostr` is signed and encrypted exactly like a body;
  // the result is the HTTP response body.
  Result<std::string> VerifyUrl(std::string_view msg_signature, std::string_view timestamp,
                                std::string_view nonce, std::string_view echostr) const;
  // Steps 3–7 of §1.1 without the signature check, for a caller that already ran
  // VerifyMsgSignature (never call it on unverified input: it would become a padding oracle).
  Result<std::string> Decrypt(std::string_view encrypt) const;

  // Constant-time checks with this account's token (see the free functions).
  bool VerifyMsgSignature(std::string_view msg_signature, std::string_view timestamp,
                          std::string_view nonce, std::string_view encrypt) const;
  bool VerifyPlainSignature(std::string_view signature, std::string_view timestamp,
                            std::string_view nonce) const;

  // Passive reply (§1.1 Encrypt): a fresh 16-byte prefix from `random` (SecureRandom in
  // production), then EncryptWithPrefix and the MsgSignature over [token, timestamp, nonce,
  // Encrypt]. kEncryptAes for a message too large for a 32-bit msg_len.
  Result<EncryptedMessage> EncryptMessage(std::string_view plaintext, std::string_view timestamp,
                                          std::string_view nonce, core::Random& random) const;
  // EncryptMessage wrapped in the 4-field XML envelope (§1.2):
  // <xml><Encrypt><![CDATA[..]]></Encrypt><MsgSignature><![CDATA[..]]></MsgSignature>
  // <TimeStamp>ts</TimeStamp><Nonce><![CDATA[..]]></Nonce></xml> (no whitespace between).
  // `timestamp` must be 1..19 ASCII digits and `nonce` 1..64 of [A-Za-z0-9_-] (both may echo the
  // request's, which are digits), else kGenReturnXml: they are written unescaped.
  Result<std::string> BuildEncryptedReplyXml(std::string_view plaintext, std::string_view timestamp,
                                             std::string_view nonce, core::Random& random) const;
  // The OA JSON-format envelope (§1.3): {"Encrypt":"..","MsgSignature":"..","TimeStamp":<number>,
  // "Nonce":".."}; same checks as the XML variant.
  Result<std::string> BuildEncryptedReplyJson(std::string_view plaintext,
                                              std::string_view timestamp, std::string_view nonce,
                                              core::Random& random) const;

  // Deterministic core of EncryptMessage: Encrypt (base64) of random_prefix || be32(len) ||
  // plaintext || receiveid, PKCS#7(32)-padded. For known-answer tests and for callers that draw
  // the prefix themselves.
  Result<std::string> EncryptWithPrefix(std::span<const uint8_t, kRandomPrefixSize> random_prefix,
                                        std::string_view plaintext) const;

  const std::string& receive_id() const { return receive_id_; }

 private:
  struct CipherFree {
    void operator()(EVP_CIPHER* cipher) const;
  };
  struct MdFree {
    void operator()(EVP_MD* md) const;
  };

  MsgCrypt(std::string token, const std::array<uint8_t, kAesKeySize>& key, std::string receive_id,
           std::unique_ptr<EVP_CIPHER, CipherFree> cipher, std::unique_ptr<EVP_MD, MdFree> sha1);

  Result<std::string> BuildReply(std::string_view plaintext, std::string_view timestamp,
                                 std::string_view nonce, core::Random& random, bool json) const;

  std::string token_;
  std::array<uint8_t, kAesKeySize> key_{};  // IV = key_[0:16] (§1.1)
  std::string receive_id_;
  std::unique_ptr<EVP_CIPHER, CipherFree> cipher_;  // AES-256-CBC, fetched once
  std::unique_ptr<EVP_MD, MdFree> sha1_;            // SHA-1, fetched once
};

}  // namespace scrm::wxcrypto
