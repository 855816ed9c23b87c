#include "channels/wecom/wecom_adapter.h"

#include <pugixml.hpp>

#include <charconv>
#include <cstddef>
#include <string_view>
#include <system_error>
#include <utility>

#include "channels/common/normalize.h"

namespace scrm::channels::wecom {
namespace {

using wxcrypto::WxError;

// A timestamp longer than this is never inside a window (and keeps now - ts far from overflow).
constexpr size_t kMaxTimestampDigits = 18;

Rejection Reject(RejectReason reason, std::string detail) {
  return Rejection{reason, std::move(detail)};
}

template <typename T>
Decoded<T> Refuse(RejectReason reason, std::string detail) {
  Decoded<T> out;
  out.rejection = Reject(reason, std::move(detail));
  return out;
}

// A query parameter, or nullptr when absent or empty (an empty signature / nonce / echostr can
// never verify, and the reply envelope needs a non-empty nonce).
const std::string* Param(const CallbackRequest& request, const char* name) {
  const auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return nullptr;
  return &it->second;
}

// Replay protection: the signed `timestamp` must be decimal seconds within the account's window
// of now, in both directions. A timestamp that is not 1..18 decimal digits cannot be placed in
// the window and is refused as stale (a missing one is kMissingParameter, checked earlier).
bool WithinWindow(std::string_view timestamp, int64_t now_s, int64_t window_s) {
  if (timestamp.empty() || timestamp.size() > kMaxTimestampDigits) return false;
  for (const char c : timestamp) {
    if (c < '0' || c > '9') return false;
  }
  int64_t ts = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) return false;
  const int64_t skew = now_s >= ts ? now_s - ts : ts - now_s;
  return skew <= window_s;
}

// WxError of a failed signature / frame check -> the reason counted in /metrics.
RejectReason ReasonFor(WxError code) {
  switch (code) {
    case WxError::kValidateSignature: return RejectReason::kBadSignature;
    case WxError::kDecodeBase64: return RejectReason::kBadBase64;
    case WxError::kDecryptAes: return RejectReason::kDecryptFailed;
    case WxError::kIllegalBuffer: return RejectReason::kBadFrame;
    case WxError::kValidateReceiveId: return RejectReason::kWrongReceiveId;
    // Decrypt() reports nothing else; an OpenSSL failure would be an AES-level failure too.
    default: return RejectReason::kDecryptFailed;
  }
}

// The <Encrypt> of the POST envelope (§1.2): root <xml>, element order irrelevant, text or
// CDATA. The outer ToUserName / AgentID are not authenticated and are ignored; the frame's
// receiveid and the decrypted XML are what count. pugixml never loads external entities or
// DTDs (no XXE). False with `detail` when the body is not such an envelope (-40002).
bool ExtractEncrypt(const std::string& body, std::string& encrypt, std::string& detail) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(body.data(), body.size());
  if (!parsed) {
    detail = std::string("envelope is not well-formed XML: ") + parsed.description() +
             " at offset " + std::to_string(parsed.offset);
    return false;
  }
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "xml") {
    detail = "envelope root element is not <xml>";
    return false;
  }
  const pugi::xml_node node = root.child("Encrypt");
  if (!node) {
    detail = "envelope has no <Encrypt>";
    return false;
  }
  if (node.next_sibling("Encrypt")) {
    // Two candidates: refuse instead of guessing which one the sender meant to sign.
    detail = "envelope has more than one <Encrypt>";
    return false;
  }
  encrypt = node.text().get();
  if (encrypt.empty()) {
    detail = "envelope <Encrypt> is empty";
    return false;
  }
  return true;
}

// Appends `value` as CDATA. C0 controls other than tab / LF / CR are not XML 1.0 characters and
// are dropped so the reply always parses. "]]>" cannot appear inside one section, so a '>' that
// follows "]]" starts a new one ("]]" ends the first, ">" starts the next). That check looks at
// the bytes written, after the drop: "]]\x01>" must not close the section early and let the rest
// of the value be read as markup (tests/channels/fuzz_regressions_test.cc).
void AppendCdata(std::string& out, std::string_view value) {
  out += "<![CDATA[";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
    // `out` ends with "<![CDATA[" or a byte of this value, so a trailing "]]" is the value's.
    if (c == '>' && out.ends_with("]]")) out += "]]><![CDATA[";
    out.push_back(c);
  }
  out += "]]>";
}

void AppendCdataElement(std::string& out, std::string_view name, std::string_view value) {
  out += '<';
  out += name;
  out += '>';
  AppendCdata(out, value);
  out += "</";
  out += name;
  out += '>';
}

}  // namespace

core::StatusOr<std::unique_ptr<WecomAdapter>> WecomAdapter::Create(
    const config::AccountConfig& account, const core::Clock& clock, core::Random& random) {
  const std::string where = "wecom account \"" + account.id + "\": ";
  if (account.platform != config::Platform::kWecom) {
    return core::InvalidArgumentError(where + "platform is not wecom");
  }
  if (account.corp_id.empty()) return core::InvalidArgumentError(where + "corp_id is empty");
  if (account.timestamp_window_s <= 0) {
    return core::InvalidArgumentError(where + "timestamp_window_s must be positive");
  }
  // receiveid = CorpID for self-built / 客户联系 callbacks (§1.1 receiveid table).
  wxcrypto::Result<wxcrypto::MsgCrypt> crypt =
      wxcrypto::MsgCrypt::Create(account.token, account.encoding_aes_key, account.corp_id);
  if (!crypt.ok()) {
    // Name the failed check only: its detail could describe the key.
    return core::InvalidArgumentError(where + "token / encoding_aes_key unusable (" +
                                      std::string(wxcrypto::WxErrorName(crypt.code())) + ")");
  }
  return std::unique_ptr<WecomAdapter>(new WecomAdapter(account.id, account.corp_id,
                                                        account.timestamp_window_s,
                                                        std::move(crypt).value(), clock, random));
}

WecomAdapter::WecomAdapter(std::string account_id, std::string corp_id, int64_t timestamp_window_s,
                           wxcrypto::MsgCrypt crypt, const core::Clock& clock, core::Random& random)
    : account_id_(std::move(account_id)),
      corp_id_(std::move(corp_id)),
      timestamp_window_s_(timestamp_window_s),
      crypt_(std::move(crypt)),
      clock_(clock),
      random_(random) {}

Decoded<std::string> WecomAdapter::VerifyAndDecrypt(const std::string& msg_signature,
                                                    const std::string& timestamp,
                                                    const std::string& nonce,
                                                    const std::string& encrypt) const {
  // Signature first (§1.1 step 2): a forged request is counted as bad_signature whatever its
  // timestamp, and a genuine request replayed later is what shows up as stale_timestamp.
  // Decrypt() is only reached with a verified signature (no padding oracle). This is
  // MsgCrypt::VerifyUrl / DecryptMessage with the window check between the two halves.
  if (!crypt_.VerifyMsgSignature(msg_signature, timestamp, nonce, encrypt)) {
    return Refuse<std::string>(RejectReason::kBadSignature, "msg_signature does not match");
  }
  if (!WithinWindow(timestamp, clock_.NowUnixSeconds(), timestamp_window_s_)) {
    return Refuse<std::string>(
        RejectReason::kStaleTimestamp,
        "timestamp is not within " + std::to_string(timestamp_window_s_) + " s of now");
  }
  wxcrypto::Result<std::string> plain = crypt_.Decrypt(encrypt);
  if (!plain.ok()) {
    return Refuse<std::string>(ReasonFor(plain.code()), plain.error().ToStatus().message());
  }
  Decoded<std::string> out;
  out.value = std::move(plain).value();
  return out;
}

Decoded<std::string> WecomAdapter::VerifyUrl(const CallbackRequest& request) const {
  // §1.2 URL verification: echostr is signed and encrypted like a message body; the query
  // values arrive URL-decoded from the HTTP edge ("需要做Urldecode处理").
  const std::string* msg_signature = Param(request, "msg_signature");
  const std::string* timestamp = Param(request, "timestamp");
  const std::string* nonce = Param(request, "nonce");
  const std::string* echostr = Param(request, "echostr");
  if (msg_signature == nullptr || timestamp == nullptr || nonce == nullptr || echostr == nullptr) {
    return Refuse<std::string>(RejectReason::kMissingParameter,
                               "URL verification needs msg_signature, timestamp, nonce, echostr");
  }
  // The body is the decrypted bytes exactly: no quotes, BOM or newline (§1.2).
  return VerifyAndDecrypt(*msg_signature, *timestamp, *nonce, *echostr);
}

Decoded<model::Interaction> WecomAdapter::Decode(const CallbackRequest& request) const {
  const std::string* msg_signature = Param(request, "msg_signature");
  const std::string* timestamp = Param(request, "timestamp");
  const std::string* nonce = Param(request, "nonce");
  if (msg_signature == nullptr || timestamp == nullptr || nonce == nullptr) {
    return Refuse<model::Interaction>(RejectReason::kMissingParameter,
                                      "callback needs msg_signature, timestamp, nonce");
  }
  std::string encrypt;
  std::string detail;
  if (!ExtractEncrypt(request.body, encrypt, detail)) {
    return Refuse<model::Interaction>(RejectReason::kMalformedEnvelope, std::move(detail));
  }
  Decoded<std::string> plain = VerifyAndDecrypt(*msg_signature, *timestamp, *nonce, encrypt);
  if (!plain.ok())
    return Refuse<model::Interaction>(plain.rejection.reason, std::move(plain.rejection.detail));

  // §3.3 / §3.4: the decrypted payload is always XML for WeCom.
  Decoded<model::Interaction> out =
      NormalizePayload(model::Platform::kWecom, account_id_, *plain.value, PayloadFormat::kXml);
  if (out.ok()) out.value->received_at_ms = request.received_at_ms;
  return out;
}

std::string WecomAdapter::AckBody(const CallbackRequest& request,
                                  const model::Interaction& interaction,
                                  const ReplyMessage* reply) const {
  // §1.2 / §2: HTTP 200 with an empty body means "received, no reply" for self-built app and
  // 客户联系 callbacks. (A third-party suite's 指令回调 URL would have to answer the literal
  // "success" instead; this adapter serves CorpID-keyed callbacks only.)
  if (reply == nullptr) return "";
  // A passive reply goes to the member who wrote (FromUserName = UserID, §3.3); an event from
  // "sys" has no one to answer, and then the plain acknowledgement is the right body.
  const auto timestamp = request.query.find("timestamp");
  const auto nonce = request.query.find("nonce");
  if (interaction.userid.empty() || timestamp == request.query.end() ||
      nonce == request.query.end()) {
    return "";
  }

  // WeCom passive text reply ([WC-DOC] 被动回复消息格式): ToUserName = member UserID,
  // FromUserName = CorpID.
  std::string xml = "<xml>";
  AppendCdataElement(xml, "ToUserName", interaction.userid);
  AppendCdataElement(xml, "FromUserName", corp_id_);
  xml += "<CreateTime>" + std::to_string(clock_.NowUnixSeconds()) + "</CreateTime>";
  AppendCdataElement(xml, "MsgType", "text");
  AppendCdataElement(xml, "Content", reply->text);
  xml += "</xml>";

  // §1.2 passive encrypted reply, echoing the request's TimeStamp and Nonce (§1.1 Encrypt).
  wxcrypto::Result<std::string> envelope =
      crypt_.BuildEncryptedReplyXml(xml, timestamp->second, nonce->second, random_);
  // The interaction is already durable: if the reply cannot be built (a nonce that cannot be
  // echoed safely), acknowledging without it still stops the platform's retries.
  if (!envelope.ok()) return "";
  return std::move(envelope).value();
}

}  // namespace scrm::channels::wecom
