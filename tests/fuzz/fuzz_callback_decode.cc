// libFuzzer target over the callback decoders: WecomAdapter / OaAdapter (safe, compat and plain
// accounts) Decode, VerifyUrl and the AckBody built from what they decoded (PROTOCOL.md §1, §2).
//
// Input framing. Byte 0 picks the mode (b % 4), byte 1 the route (b % 8); ASCII digits work:
//   '0' raw request  [2] bit i < 7: query parameter kRawParams[i] present; bit 7: auto-sign
//                    (`signature` and `msg_signature` computed with the account's token over
//                    the fuzzed timestamp / nonce / echostr); then one chunk per present
//                    parameter, in kRawParams order: a length byte L and L bytes; the rest is
//                    the body. Route: bits 0-1 the account (wecom, oa safe, oa compat, oa
//                    plain), bit 2 VerifyUrl instead of Decode.
//   '1' ciphertext   [2..] the Encrypt value, wrapped in the route's envelope and validly
//                    signed (msg_signature over it, timestamp = the fake clock's now).
//   '2' frame        [2] bit 0: no PKCS#7 (zero-fill to 32 bytes instead, so the padding check
//                    is fuzzed too); [3..] the decrypted frame random(16) || be32(msg_len) ||
//                    msg || receiveid, AES-256-CBC encrypted here with the account's key.
//   '3' plaintext    [2..] the message, encrypted and signed exactly as the platform does
//                    (MsgCrypt::EncryptWithPrefix + Signature): the fuzzer reaches the
//                    normalizer through the real verify + decrypt path.
// Routes of modes 1-3 are kRoutes below (wecom Decode / VerifyUrl, OA safe and compat with XML
// and JSON envelopes, OA plain with the payload as the body, a replayed OA request).
//
// Properties checked (abort = a finding): nothing crashes (ASan / UBSan); a Decode that succeeds
// has a non-empty dedupe_key, the adapter's account_id and platform and the request's
// received_at_ms; decoding the same request twice gives the same outcome and dedupe_key; in
// modes 1-3 the outcome is the one the spec predicts (an oracle: the frame checks of §1.1
// re-implemented here, or MsgCrypt::Decrypt, then NormalizeAuthenticated of the decrypted bytes); a
// compat / safe account never succeeds without encrypt_type=aes and msg_signature; VerifyUrl
// answers exactly the echo; an AckBody that is not the plain acknowledgement is a well-formed
// reply (encrypted ones verify and decrypt with the account's key) carrying the reply text.
#include <openssl/evp.h>

#include <pugixml.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "channels/common/channel.h"
#include "channels/common/normalize.h"
#include "channels/official_account/oa_adapter.h"
#include "channels/wecom/wecom_adapter.h"
#include "channels/wxcrypto/wxcrypto.h"
#include "src/config/config.h"
#include "src/core/clock.h"
#include "src/core/random.h"
#include "src/core/status.h"
#include "src/model/interaction.h"
#include "tests/fuzz/fuzz_support.h"

namespace scrm::fuzz {
namespace {

using channels::CallbackRequest;
using channels::Decoded;
using channels::PayloadFormat;
using channels::RejectReason;
using model::Interaction;

// The fake clock never moves: every run sees the same "now" (2026-01-01T00:00:00Z).
constexpr int64_t kNowMs = 1767225600000;
constexpr int64_t kNowS = kNowMs / 1000;
constexpr int64_t kWindowS = 300;
constexpr int64_t kReceivedAtMs = kNowMs + 7;
constexpr std::string_view kNonce = "1234567890";

// Two independent accounts' secrets (43-character EncodingAESKeys, §1.1).
constexpr std::string_view kWecomToken = "wecomFuzzToken";
constexpr std::string_view kWecomAesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
constexpr std::string_view kCorpId = "wwfuzzcorp0001";
constexpr std::string_view kOaToken = "oaFuzzToken";
constexpr std::string_view kOaAesKey = "GFEDCBA9876543210zyxwvutsrqponmlkjihgfedcba";
constexpr std::string_view kAppId = "wxfuzzapp0000001";

// The frame's random(16) for EncryptWithPrefix: fixed so every run encrypts the same bytes.
constexpr std::array<uint8_t, wxcrypto::kRandomPrefixSize> kPrefix = {
    'f', 'u', 'z', 'z', 'p', 'r', 'e', 'f', 'i', 'x', '0', '1', '2', '3', '4', '5'};

enum class Account { kWecom, kOaSafe, kOaCompat, kOaPlain };
enum class Envelope { kXml, kJson };

// Query parameters of raw mode, in chunk order (bit i of byte 2 = kRawParams[i] present).
constexpr std::array<const char*, 7> kRawParams = {
    "msg_signature", "timestamp", "nonce", "echostr", "signature", "encrypt_type", "openid"};
constexpr uint8_t kAutoSignBit = 0x80;

struct Route {
  Account account = Account::kWecom;
  Envelope envelope = Envelope::kXml;
  bool verify_url = false;  // WeCom GET with the Encrypt value as echostr
  bool stale = false;       // timestamp one second outside the window
};
constexpr std::array<Route, 8> kRoutes = {{
    {Account::kWecom, Envelope::kXml, false, false},
    {Account::kWecom, Envelope::kXml, true, false},
    {Account::kOaSafe, Envelope::kXml, false, false},
    {Account::kOaSafe, Envelope::kJson, false, false},
    {Account::kOaCompat, Envelope::kXml, false, false},
    {Account::kOaCompat, Envelope::kJson, false, false},
    {Account::kOaPlain, Envelope::kXml, false, false},  // no envelope: the payload is the body
    {Account::kOaSafe, Envelope::kXml, false, true},
}};

config::AccountConfig MakeAccount(std::string id, Account account) {
  config::AccountConfig c;
  c.id = std::move(id);
  c.timestamp_window_s = kWindowS;
  if (account == Account::kWecom) {
    c.platform = model::Platform::kWecom;
    c.corp_id = std::string(kCorpId);
    c.token = std::string(kWecomToken);
    c.encoding_aes_key = std::string(kWecomAesKey);
    return c;
  }
  c.platform = model::Platform::kOfficialAccount;
  c.app_id = std::string(kAppId);
  c.token = std::string(kOaToken);
  c.encrypt_mode = account == Account::kOaSafe     ? config::EncryptMode::kSafe
                   : account == Account::kOaCompat ? config::EncryptMode::kCompat
                                                   : config::EncryptMode::kPlain;
  if (account != Account::kOaPlain) c.encoding_aes_key = std::string(kOaAesKey);
  return c;
}

wxcrypto::MsgCrypt MakeCrypt(std::string_view token, std::string_view key,
                             std::string_view receive_id) {
  wxcrypto::Result<wxcrypto::MsgCrypt> crypt =
      wxcrypto::MsgCrypt::Create(std::string(token), key, std::string(receive_id));
  SCRM_CHECK(crypt.ok());  // constant, valid secrets
  return std::move(crypt).value();
}

template <typename T>
std::unique_ptr<T> Unwrap(core::StatusOr<std::unique_ptr<T>> created) {
  SCRM_CHECK(created.ok());  // constant, valid account configs
  return std::move(created).value();
}

// The adapters under test and the platform's side of each account. Built once: libFuzzer's
// entry point has no context argument, so this is the harness's one process-wide object.
struct Harness {
  Harness()
      : wecom(Unwrap(channels::wecom::WecomAdapter::Create(MakeAccount("wc", Account::kWecom),
                                                           clock, random))),
        oa_safe(Unwrap(
            channels::oa::OaAdapter::Create(MakeAccount("oas", Account::kOaSafe), clock, random))),
        oa_compat(Unwrap(channels::oa::OaAdapter::Create(MakeAccount("oac", Account::kOaCompat),
                                                         clock, random))),
        oa_plain(Unwrap(
            channels::oa::OaAdapter::Create(MakeAccount("oap", Account::kOaPlain), clock, random))),
        wecom_platform(MakeCrypt(kWecomToken, kWecomAesKey, kCorpId)),
        oa_platform(MakeCrypt(kOaToken, kOaAesKey, kAppId)) {
    wxcrypto::Result<std::string> key = wxcrypto::DecodeAesKey(kWecomAesKey);
    SCRM_CHECK(key.ok());
    wecom_key = std::move(key).value();
    key = wxcrypto::DecodeAesKey(kOaAesKey);
    SCRM_CHECK(key.ok());
    oa_key = std::move(key).value();
  }

  const channels::ChannelAdapter& Adapter(Account account) const {
    switch (account) {
      case Account::kWecom: return *wecom;
      case Account::kOaSafe: return *oa_safe;
      case Account::kOaCompat: return *oa_compat;
      case Account::kOaPlain: return *oa_plain;
    }
    SCRM_CHECK(false);  // every enumerator is handled above
    return *wecom;
  }
  const wxcrypto::MsgCrypt& Platform(Account account) const {
    return account == Account::kWecom ? wecom_platform : oa_platform;
  }
  const std::string& AesKey(Account account) const {
    return account == Account::kWecom ? wecom_key : oa_key;
  }
  static std::string_view Token(Account account) {
    return account == Account::kWecom ? kWecomToken : kOaToken;
  }

  core::FakeClock clock{kNowMs};
  core::FakeRandom random{7};  // reply frame prefixes only
  std::unique_ptr<channels::wecom::WecomAdapter> wecom;
  std::unique_ptr<channels::oa::OaAdapter> oa_safe;
  std::unique_ptr<channels::oa::OaAdapter> oa_compat;
  std::unique_ptr<channels::oa::OaAdapter> oa_plain;
  wxcrypto::MsgCrypt wecom_platform;
  wxcrypto::MsgCrypt oa_platform;
  std::string wecom_key;
  std::string oa_key;
};

const Harness& GetHarness() {
  static const Harness* const harness = new Harness();  // never destroyed: no exit-order races
  return *harness;
}

// ---------------------------------------------------------------------------------------------
// Input reading

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  uint8_t Byte() {
    if (data_.empty()) return 0;
    const auto b = static_cast<uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }
  std::string Chunk() {
    const size_t want = Byte();
    const std::string_view chunk = data_.substr(0, want);
    data_.remove_prefix(chunk.size());
    return std::string(chunk);
  }
  std::string Rest() { return std::string(std::exchange(data_, {})); }

 private:
  std::string_view data_;
};

// ---------------------------------------------------------------------------------------------
// What the platform sends

std::string Cdata(std::string_view name, std::string_view value) {
  return "<" + std::string(name) + "><![CDATA[" + std::string(value) + "]]></" + std::string(name) +
         ">";
}

// Escapes '"', '\\' and C0 controls only: other bytes go through as they are, so the value the
// adapter reads back is exactly `value` whenever the envelope is valid JSON.
std::string JsonString(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : value) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20) {
      out += "\\u00";
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The POST body around `encrypt` (§1.2, §1.3). Compat mode carries plaintext siblings that must
// be ignored; the WeCom outer ToUserName / AgentID are not authenticated either.
std::string BuildEnvelope(Account account, Envelope envelope, std::string_view encrypt) {
  const bool compat = account == Account::kOaCompat;
  if (envelope == Envelope::kJson) {
    std::string json = R"({"ToUserName":"gh_fuzz",)";
    if (compat) {
      json += R"("FromUserName":"oSibling","CreateTime":1,"MsgType":"text",)"
              R"("Content":"plaintext sibling","MsgId":1,)";
    }
    return json + R"("Encrypt":)" + JsonString(encrypt) + "}";
  }
  std::string xml = "<xml>" + Cdata("ToUserName", account == Account::kWecom ? kCorpId : "gh_fuzz");
  if (compat) {
    xml += Cdata("FromUserName", "oSibling") + "<CreateTime>1</CreateTime>" +
           Cdata("MsgType", "text") + Cdata("Content", "plaintext sibling") + "<MsgId>1</MsgId>";
  }
  xml += Cdata("Encrypt", encrypt);
  if (account == Account::kWecom) xml += Cdata("AgentID", "1");
  return xml + "</xml>";
}

// True when `encrypt` reaches the adapter unchanged through BuildEnvelope: printable ASCII
// (pugixml normalizes CR and stops at NUL; JSON must be UTF-8) and no CDATA terminator.
bool EnvelopeCarriesExactly(Envelope envelope, std::string_view encrypt) {
  for (const char c : encrypt) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return envelope == Envelope::kJson || encrypt.find("]]>") == std::string_view::npos;
}

// The request of `route` carrying `encrypt` (or, for the plain account, `payload` as the body),
// validly signed by the platform at now (or one second outside the window for stale routes).
CallbackRequest SignedRequest(const Route& route, std::string_view encrypt,
                              std::string_view payload) {
  const std::string_view token = Harness::Token(route.account);
  const std::string timestamp = std::to_string(route.stale ? kNowS - kWindowS - 1 : kNowS);
  const std::string nonce(kNonce);
  CallbackRequest request;
  request.received_at_ms = kReceivedAtMs;
  request.query["timestamp"] = timestamp;
  request.query["nonce"] = nonce;
  if (route.account == Account::kWecom) {
    request.query["msg_signature"] = wxcrypto::Signature(token, timestamp, nonce, encrypt);
    if (route.verify_url) {
      request.query["echostr"] = std::string(encrypt);
    } else {
      request.body = BuildEnvelope(route.account, route.envelope, encrypt);
    }
    return request;
  }
  request.query["signature"] = wxcrypto::PlainSignature(token, timestamp, nonce);
  request.query["openid"] = "oFuzzOpenId";
  if (route.account == Account::kOaPlain) {
    request.body = std::string(payload);
    return request;
  }
  request.query["encrypt_type"] = "aes";
  request.query["msg_signature"] = wxcrypto::Signature(token, timestamp, nonce, encrypt);
  request.body = BuildEnvelope(route.account, route.envelope, encrypt);
  return request;
}

// AES-256-CBC without padding, IV = key[0:16] (§1.1); `plain` is a multiple of 32 bytes.
std::string AesCbcEncrypt(const std::string& key, std::string_view plain) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  SCRM_CHECK(ctx != nullptr);  // allocation only
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  SCRM_CHECK(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, k, k) == 1);
  SCRM_CHECK(EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1);
  std::string out(plain.size(), '\0');
  int written = 0;
  SCRM_CHECK(EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &written,
                               reinterpret_cast<const unsigned char*>(plain.data()),
                               static_cast<int>(plain.size())) == 1);
  int final_written = 0;
  SCRM_CHECK(EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + written,
                                 &final_written) == 1);
  SCRM_CHECK(static_cast<size_t>(written + final_written) == plain.size());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Oracles

// What decrypting the Encrypt value must give: the message bytes or the refusal (§1.1).
using DecryptOutcome = std::variant<std::string, RejectReason>;

// §1.1 steps 5-7 written from the spec, independently of wxcrypto: PKCS#7 with block 32 and
// every pad byte equal to the count 1..32, frame >= 20 bytes, 20 + msg_len <= frame, and the
// rest byte-equal to the receiveid.
DecryptOutcome SpecDecryptFrame(std::string_view padded, std::string_view receive_id) {
  const size_t pad = padded.empty() ? 0 : static_cast<unsigned char>(padded.back());
  if (pad < 1 || pad > wxcrypto::kPadBlockSize || pad > padded.size()) {
    return RejectReason::kDecryptFailed;
  }
  for (size_t i = padded.size() - pad; i < padded.size(); ++i) {
    if (static_cast<unsigned char>(padded[i]) != pad) return RejectReason::kDecryptFailed;
  }
  const std::string_view frame = padded.substr(0, padded.size() - pad);
  constexpr size_t kHeader = wxcrypto::kRandomPrefixSize + 4;
  if (frame.size() < kHeader) return RejectReason::kBadFrame;
  uint64_t msg_len = 0;
  for (size_t i = wxcrypto::kRandomPrefixSize; i < kHeader; ++i) {
    msg_len = (msg_len << 8) | static_cast<unsigned char>(frame[i]);
  }
  if (msg_len > frame.size() - kHeader) return RejectReason::kBadFrame;
  if (frame.substr(kHeader + msg_len) != receive_id) return RejectReason::kWrongReceiveId;
  return std::string(frame.substr(kHeader, msg_len));
}

// The channel.h reason of a wxcrypto decrypt error code.
RejectReason ReasonOf(wxcrypto::WxError code) {
  switch (code) {
    case wxcrypto::WxError::kDecodeBase64: return RejectReason::kBadBase64;
    case wxcrypto::WxError::kIllegalBuffer: return RejectReason::kBadFrame;
    case wxcrypto::WxError::kValidateReceiveId: return RejectReason::kWrongReceiveId;
    default: return RejectReason::kDecryptFailed;
  }
}

DecryptOutcome LibraryDecrypt(const wxcrypto::MsgCrypt& crypt, std::string_view encrypt) {
  wxcrypto::Result<std::string> plain = crypt.Decrypt(encrypt);
  if (!plain.ok()) return ReasonOf(plain.code());
  return std::move(plain).value();
}

// OaAdapter's rule (oa_adapter.h, §1.3): a body whose first non-blank byte is '{' is JSON.
PayloadFormat FormatOfBody(std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '{' ? PayloadFormat::kJson
                                                               : PayloadFormat::kXml;
}

template <typename T>
Decoded<T> Refused(RejectReason reason) {
  Decoded<T> out;
  out.rejection.reason = reason;
  return out;
}

std::string Describe(const Decoded<Interaction>& d) {
  if (!d.ok()) {
    return "refused " + std::string(channels::RejectReasonName(d.rejection.reason)) + ": " +
           d.rejection.detail;
  }
  return "ok " + std::string(model::KindName(d.value->kind)) + " key=" + d.value->dedupe_key;
}

void RequireSameOutcome(const Decoded<Interaction>& got, const Decoded<Interaction>& want) {
  const std::string context = "got " + Describe(got) + " / want " + Describe(want);
  SCRM_FUZZ_REQUIRE(got.ok() == want.ok(), context);
  if (!got.ok()) {
    SCRM_FUZZ_REQUIRE(got.rejection.reason == want.rejection.reason, context);
    return;
  }
  const Interaction& g = *got.value;
  const Interaction& w = *want.value;
  SCRM_FUZZ_REQUIRE(g.dedupe_key == w.dedupe_key, context);
  SCRM_FUZZ_REQUIRE(g.kind == w.kind, context);
  SCRM_FUZZ_REQUIRE(g.msg_id == w.msg_id, context);
  SCRM_FUZZ_REQUIRE(g.occurred_at_ms == w.occurred_at_ms, context);
  SCRM_FUZZ_REQUIRE(g.raw_body == w.raw_body, context);
  SCRM_FUZZ_REQUIRE(g.raw_format == w.raw_format, context);
}

// ---------------------------------------------------------------------------------------------
// Invariants of every outcome

// Decode twice (same outcome, same key) and check what a success must carry.
Decoded<Interaction> DecodeChecked(const channels::ChannelAdapter& adapter,
                                   const CallbackRequest& request) {
  Decoded<Interaction> first = adapter.Decode(request);
  const Decoded<Interaction> again = adapter.Decode(request);
  const std::string context = Describe(first) + " then " + Describe(again);
  SCRM_FUZZ_REQUIRE(first.ok() == again.ok(), context);
  if (!first.ok()) {
    SCRM_FUZZ_REQUIRE(first.rejection.reason == again.rejection.reason, context);
    return first;
  }
  const Interaction& i = *first.value;
  SCRM_FUZZ_REQUIRE(!i.dedupe_key.empty(), context);
  SCRM_FUZZ_REQUIRE(!i.account_id.empty() && i.account_id == adapter.account_id(), i.account_id);
  SCRM_FUZZ_REQUIRE(i.dedupe_key == again.value->dedupe_key, context);
  SCRM_FUZZ_REQUIRE(i.platform == adapter.platform(), context);
  SCRM_FUZZ_REQUIRE(i.received_at_ms == request.received_at_ms, context);
  SCRM_FUZZ_REQUIRE(i.id == 0, context);
  return first;
}

// The reply text as an XML reader sees it after AppendCdata: C0 controls other than tab / LF /
// CR dropped, then XML end-of-line handling (CR LF and lone CR read as LF; XML 1.0 §2.11).
std::string ThroughXml(std::string_view text) {
  std::string kept;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
      kept += c;
    }
  }
  std::string out;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (kept[i] == '\r') {
      out += '\n';
      if (i + 1 < kept.size() && kept[i + 1] == '\n') ++i;
    } else {
      out += kept[i];
    }
  }
  return out;
}

bool IsValidUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();  // strict handler: throws on invalid UTF-8
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// A passive reply payload (plaintext) must be a text message carrying `text`.
void CheckReplyPayload(model::Platform platform, std::string_view payload, PayloadFormat format,
                       const std::string& text) {
  const Decoded<Interaction> reply = channels::NormalizePayload(platform, "reply", payload, format);
  SCRM_FUZZ_REQUIRE(reply.ok(), std::string(payload));
  SCRM_FUZZ_REQUIRE(reply.value->kind == model::InteractionKind::kMessageText,
                    std::string(payload));
  const std::string& content = std::get<model::TextPayload>(reply.value->payload).content;
  if (format == PayloadFormat::kXml) {
    SCRM_FUZZ_REQUIRE(content == ThroughXml(text), std::string(payload));
  } else if (IsValidUtf8(text)) {
    SCRM_FUZZ_REQUIRE(content == text, std::string(payload));
  }
}

// An encrypted reply envelope (§1.2 XML, §1.3 JSON) must verify and decrypt with the account's
// key into a reply payload of the same format.
void CheckEncryptedReply(const wxcrypto::MsgCrypt& platform_crypt, model::Platform platform,
                         const std::string& ack, PayloadFormat format, const std::string& text) {
  std::string encrypt;
  std::string signature;
  std::string timestamp;
  std::string nonce;
  if (format == PayloadFormat::kXml) {
    pugi::xml_document doc;
    SCRM_FUZZ_REQUIRE(doc.load_buffer(ack.data(), ack.size()), ack);
    const pugi::xml_node root = doc.child("xml");
    SCRM_FUZZ_REQUIRE(root, ack);
    encrypt = root.child("Encrypt").text().get();
    signature = root.child("MsgSignature").text().get();
    timestamp = root.child("TimeStamp").text().get();
    nonce = root.child("Nonce").text().get();
  } else {
    const nlohmann::json doc = nlohmann::json::parse(ack, nullptr, /*allow_exceptions=*/false);
    SCRM_FUZZ_REQUIRE(doc.is_object() && doc.contains("Encrypt") && doc.contains("TimeStamp"), ack);
    encrypt = doc.value("Encrypt", "");
    signature = doc.value("MsgSignature", "");
    timestamp = doc["TimeStamp"].dump();
    nonce = doc.value("Nonce", "");
  }
  wxcrypto::Result<std::string> plain =
      platform_crypt.DecryptMessage(signature, timestamp, nonce, encrypt);
  SCRM_FUZZ_REQUIRE(plain.ok(), ack);
  CheckReplyPayload(platform, *plain, format, text);
}

// AckBody without a reply is the plain acknowledgement; with one it is a well-formed reply.
void CheckAck(Account account, const channels::ChannelAdapter& adapter,
              const CallbackRequest& request, const Interaction& interaction,
              const std::string& reply_text, bool signed_by_harness) {
  const Harness& h = GetHarness();
  const std::string plain_ack = account == Account::kWecom ? "" : "success";
  SCRM_FUZZ_REQUIRE(adapter.AckBody(request, interaction, nullptr) == plain_ack, plain_ack);

  const channels::ReplyMessage reply{reply_text};
  const std::string ack = adapter.AckBody(request, interaction, &reply);
  const bool has_recipient = account == Account::kWecom
                                 ? !interaction.userid.empty()
                                 : !interaction.openid.empty() && !interaction.to_user.empty();
  if (ack == plain_ack) {
    // Only a sender we cannot address, or a timestamp / nonce that cannot be echoed safely
    // (never the case for requests this harness signed), falls back to the acknowledgement.
    SCRM_FUZZ_REQUIRE(!has_recipient || !signed_by_harness, "reply dropped");
    return;
  }
  const model::Platform platform = adapter.platform();
  const PayloadFormat format =
      account == Account::kWecom ? PayloadFormat::kXml : FormatOfBody(request.body);
  if (account == Account::kOaPlain) {
    CheckReplyPayload(platform, ack, format, reply_text);
  } else {
    CheckEncryptedReply(h.Platform(account), platform, ack, format, reply_text);
  }
}

// ---------------------------------------------------------------------------------------------
// Modes

void RunRaw(Reader& in) {
  const Harness& h = GetHarness();
  const uint8_t route = in.Byte();
  const auto account = static_cast<Account>(route % 4);
  const bool verify_url = (route & 4) != 0;
  const uint8_t present = in.Byte();
  CallbackRequest request;
  request.received_at_ms = kReceivedAtMs;
  for (size_t i = 0; i < kRawParams.size(); ++i) {
    if ((present >> i) & 1) request.query[kRawParams[i]] = in.Chunk();
  }
  request.body = in.Rest();
  const auto value = [&request](const char* name) {
    const auto it = request.query.find(name);
    return it == request.query.end() ? std::string() : it->second;
  };
  if ((present & kAutoSignBit) != 0) {
    const std::string_view token = Harness::Token(account);
    if (request.query.count("signature") != 0) {
      request.query["signature"] =
          wxcrypto::PlainSignature(token, value("timestamp"), value("nonce"));
    }
    if (request.query.count("msg_signature") != 0) {
      request.query["msg_signature"] =
          wxcrypto::Signature(token, value("timestamp"), value("nonce"), value("echostr"));
    }
  }

  const channels::ChannelAdapter& adapter = h.Adapter(account);
  if (verify_url) {
    const Decoded<std::string> got = adapter.VerifyUrl(request);
    const Decoded<std::string> again = adapter.VerifyUrl(request);
    SCRM_FUZZ_REQUIRE(got.ok() == again.ok() && got.value == again.value, "VerifyUrl unstable");
    if (!got.ok()) return;
    if (account == Account::kWecom) {
      wxcrypto::Result<std::string> echo = h.wecom_platform.Decrypt(value("echostr"));
      SCRM_FUZZ_REQUIRE(echo.ok() && *echo == *got.value,
                        "WeCom echo is not the decrypted echostr");
    } else {
      SCRM_FUZZ_REQUIRE(*got.value == value("echostr"), "OA echo is not echostr unchanged");
    }
    return;
  }

  const Decoded<Interaction> got = DecodeChecked(adapter, request);
  if (!got.ok()) return;
  if (account == Account::kOaSafe || account == Account::kOaCompat) {
    // The configured mode is authoritative: never a downgrade to plaintext (oa_adapter.h).
    SCRM_FUZZ_REQUIRE(value("encrypt_type") == "aes" && !value("msg_signature").empty(),
                      "encrypted account accepted an unencrypted request");
  }
  if (account == Account::kOaPlain) {
    RequireSameOutcome(got, channels::NormalizeAuthenticated(model::Platform::kOfficialAccount,
                                                             adapter.account_id(), request.body,
                                                             FormatOfBody(request.body)));
  }
  CheckAck(account, adapter, request, *got.value, request.body, /*signed_by_harness=*/false);
}

enum class SignedMode { kCiphertext, kFrame, kPlaintext };

void RunSigned(SignedMode mode, Reader& in) {
  const Harness& h = GetHarness();
  const Route& route = kRoutes[in.Byte() % kRoutes.size()];
  const bool zero_fill = mode == SignedMode::kFrame && (in.Byte() & 1) != 0;
  const std::string payload = in.Rest();
  const wxcrypto::MsgCrypt& crypt = h.Platform(route.account);

  std::string encrypt;
  DecryptOutcome decrypted;
  switch (mode) {
    case SignedMode::kCiphertext:
      encrypt = payload;
      decrypted = LibraryDecrypt(crypt, encrypt);
      break;
    case SignedMode::kFrame: {
      std::string padded = payload;
      const size_t pad = wxcrypto::kPadBlockSize - payload.size() % wxcrypto::kPadBlockSize;
      if (zero_fill) {
        if (pad != wxcrypto::kPadBlockSize) padded.append(pad, '\0');
      } else {
        padded.append(pad, static_cast<char>(pad));
      }
      encrypt = padded.empty()
                    ? ""
                    : wxcrypto::Base64Encode(AesCbcEncrypt(h.AesKey(route.account), padded));
      decrypted = SpecDecryptFrame(padded, crypt.receive_id());
      break;
    }
    case SignedMode::kPlaintext: {
      wxcrypto::Result<std::string> encrypted = crypt.EncryptWithPrefix(
          std::span<const uint8_t, wxcrypto::kRandomPrefixSize>(kPrefix), payload);
      SCRM_FUZZ_REQUIRE(encrypted.ok(), "EncryptWithPrefix failed");
      encrypt = std::move(encrypted).value();
      decrypted = payload;
      break;
    }
  }
  const CallbackRequest request = SignedRequest(route, encrypt, payload);
  const channels::ChannelAdapter& adapter = h.Adapter(route.account);
  const model::Platform platform = adapter.platform();

  if (route.verify_url) {
    Decoded<std::string> want;
    if (encrypt.empty()) {
      want = Refused<std::string>(RejectReason::kMissingParameter);
    } else if (const auto* reason = std::get_if<RejectReason>(&decrypted)) {
      want = Refused<std::string>(*reason);
    } else {
      want.value = std::get<std::string>(decrypted);
    }
    const Decoded<std::string> got = adapter.VerifyUrl(request);
    const std::string context =
        got.ok() ? "ok" : std::string(channels::RejectReasonName(got.rejection.reason));
    SCRM_FUZZ_REQUIRE(got.ok() == want.ok(), context);
    if (got.ok()) SCRM_FUZZ_REQUIRE(*got.value == *want.value, "echo differs");
    if (!got.ok()) SCRM_FUZZ_REQUIRE(got.rejection.reason == want.rejection.reason, context);
    return;
  }

  const Decoded<Interaction> got = DecodeChecked(adapter, request);
  std::optional<Decoded<Interaction>> want;
  if (route.account == Account::kOaPlain) {
    want = channels::NormalizeAuthenticated(platform, adapter.account_id(), payload,
                                            FormatOfBody(payload));
  } else if (!EnvelopeCarriesExactly(route.envelope, encrypt)) {
    // Not representable in this envelope: only the generic properties apply.
  } else if (encrypt.empty()) {
    want = Refused<Interaction>(RejectReason::kMalformedEnvelope);
  } else if (route.stale) {
    want = Refused<Interaction>(RejectReason::kStaleTimestamp);
  } else if (const auto* reason = std::get_if<RejectReason>(&decrypted)) {
    want = Refused<Interaction>(*reason);
  } else {
    // WeCom payloads are XML (§3.3); an OA payload has its envelope's format (§1.3).
    const PayloadFormat format =
        route.envelope == Envelope::kJson ? PayloadFormat::kJson : PayloadFormat::kXml;
    want = channels::NormalizeAuthenticated(platform, adapter.account_id(),
                                            std::get<std::string>(decrypted), format);
  }
  // OA plain mode: the adapter's ReplayGuard refuses a (timestamp, nonce) the input reused with
  // another body, which the oracle does not model.
  if (route.account == Account::kOaPlain && !got.ok() &&
      (got.rejection.reason == RejectReason::kReplayed ||
       got.rejection.reason == RejectReason::kReplayMemoryFull)) {
    return;
  }
  if (want) RequireSameOutcome(got, *want);
  if (got.ok()) {
    CheckAck(route.account, adapter, request, *got.value, payload, /*signed_by_harness=*/true);
  }
}

}  // namespace
}  // namespace scrm::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  scrm::fuzz::Reader in(std::string_view(reinterpret_cast<const char*>(data), size));
  switch (in.Byte() % 4) {
    case 0: scrm::fuzz::RunRaw(in); break;
    case 1: scrm::fuzz::RunSigned(scrm::fuzz::SignedMode::kCiphertext, in); break;
    case 2: scrm::fuzz::RunSigned(scrm::fuzz::SignedMode::kFrame, in); break;
    default: scrm::fuzz::RunSigned(scrm::fuzz::SignedMode::kPlaintext, in); break;
  }
  return 0;
}
