#include "channels/wecom/wecom_adapter.h"

#include <string_view>
#include <utility>

#include "channels/common/normalize.h"
#include "channels/common/wx_callback.h"

namespace scrm::channels::wecom {

core::StatusOr<std::unique_ptr<WecomAdapter>> WecomAdapter::Create(
    const config::AccountConfig& account, const core::Clock& clock, core::Random& random) {
  const std::string where = "wecom account \"" + account.id + "\": ";
  if (account.platform != model::Platform::kWecom) {
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
  const std::string* msg_signature = QueryParam(request, "msg_signature");
  const std::string* timestamp = QueryParam(request, "timestamp");
  const std::string* nonce = QueryParam(request, "nonce");
  const std::string* echostr = QueryParam(request, "echostr");
  if (msg_signature == nullptr || timestamp == nullptr || nonce == nullptr || echostr == nullptr) {
    return Refuse<std::string>(RejectReason::kMissingParameter,
                               "URL verification needs msg_signature, timestamp, nonce, echostr");
  }
  // The body is the decrypted bytes exactly: no quotes, BOM or newline (§1.2).
  return VerifyAndDecrypt(*msg_signature, *timestamp, *nonce, *echostr);
}

Decoded<model::Interaction> WecomAdapter::Decode(const CallbackRequest& request) const {
  const std::string* msg_signature = QueryParam(request, "msg_signature");
  const std::string* timestamp = QueryParam(request, "timestamp");
  const std::string* nonce = QueryParam(request, "nonce");
  if (msg_signature == nullptr || timestamp == nullptr || nonce == nullptr) {
    return Refuse<model::Interaction>(RejectReason::kMissingParameter,
                                      "callback needs msg_signature, timestamp, nonce");
  }
  std::string encrypt;
  std::string detail;
  if (!ExtractXmlEncrypt(request.body, encrypt, detail)) {
    return Refuse<model::Interaction>(RejectReason::kMalformedEnvelope, std::move(detail));
  }
  Decoded<std::string> plain = VerifyAndDecrypt(*msg_signature, *timestamp, *nonce, encrypt);
  if (!plain.ok())
    return Refuse<model::Interaction>(plain.rejection.reason, std::move(plain.rejection.detail));

  // §3.3 / §3.4: the decrypted payload is always XML for WeCom.
  Decoded<model::Interaction> out = NormalizeAuthenticated(model::Platform::kWecom, account_id_,
                                                           *plain.value, PayloadFormat::kXml);
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
