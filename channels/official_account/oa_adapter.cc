#include "channels/official_account/oa_adapter.h"

#include <charconv>
#include <cstddef>
#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "channels/common/normalize.h"
#include "channels/common/wx_callback.h"

namespace scrm::channels::oa {
namespace {

// The account's data format ("数据格式", a console setting, §1.3) shows in the body itself: a
// JSON body starts with '{' after optional whitespace, anything else is read as XML.
PayloadFormat DetectFormat(std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '{' ? PayloadFormat::kJson
                                                               : PayloadFormat::kXml;
}

// "Encrypt" of a JSON envelope {"ToUserName":"gh_…","Encrypt":"…"} (§1.3, the official worked
// example). nlohmann is used without exceptions; the catch is for allocation failures only.
bool ExtractJsonEncrypt(const std::string& body, std::string& encrypt, std::string& detail) {
  try {
    const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      detail = "envelope is not well-formed JSON";
      return false;
    }
    if (!doc.is_object()) {
      detail = "envelope is not a JSON object";
      return false;
    }
    const auto it = doc.find("Encrypt");
    if (it == doc.end() || !it->is_string()) {
      detail = "envelope has no string \"Encrypt\"";
      return false;
    }
    encrypt = it->get<std::string>();
  } catch (const std::exception& e) {
    detail = std::string("envelope JSON: ") + e.what();
    return false;
  }
  if (encrypt.empty()) {
    detail = "envelope \"Encrypt\" is empty";
    return false;
  }
  return true;
}

// OA passive text reply ([MP-DOC] 被动回复用户消息): ToUserName = the user's openid,
// FromUserName = the account's original id (gh_…), CreateTime, MsgType text, Content.
std::string TextReplyXml(const model::Interaction& interaction, std::string_view text,
                         int64_t now_s) {
  std::string xml = "<xml>";
  AppendCdataElement(xml, "ToUserName", interaction.openid);
  AppendCdataElement(xml, "FromUserName", interaction.to_user);
  xml += "<CreateTime>" + std::to_string(now_s) + "</CreateTime>";
  AppendCdataElement(xml, "MsgType", "text");
  AppendCdataElement(xml, "Content", text);
  xml += "</xml>";
  return xml;
}

// The same reply for a JSON-format account: the same member names, CreateTime a number.
// UTF-8 is written as is (Chinese stays readable); invalid UTF-8 becomes U+FFFD instead of
// throwing.
std::string TextReplyJson(const model::Interaction& interaction, std::string_view text,
                          int64_t now_s) {
  nlohmann::json reply = nlohmann::json::object();
  reply["ToUserName"] = interaction.openid;
  reply["FromUserName"] = interaction.to_user;
  reply["CreateTime"] = now_s;
  reply["MsgType"] = "text";
  reply["Content"] = std::string(text);
  return reply.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

core::StatusOr<std::unique_ptr<OaAdapter>> OaAdapter::Create(const config::AccountConfig& account,
                                                             const core::Clock& clock,
                                                             core::Random& random) {
  const std::string where = "oa account \"" + account.id + "\": ";
  if (account.platform != model::Platform::kOfficialAccount) {
    return core::InvalidArgumentError(where + "platform is not oa");
  }
  if (account.app_id.empty()) return core::InvalidArgumentError(where + "app_id is empty");
  if (account.token.empty()) return core::InvalidArgumentError(where + "token is empty");
  if (account.timestamp_window_s <= 0) {
    return core::InvalidArgumentError(where + "timestamp_window_s must be positive");
  }
  std::optional<wxcrypto::MsgCrypt> crypt;
  if (account.encrypt_mode != config::EncryptMode::kPlain || !account.encoding_aes_key.empty()) {
    if (account.encoding_aes_key.empty()) {
      return core::InvalidArgumentError(where + "encoding_aes_key is required in " +
                                        std::string(config::EncryptModeName(account.encrypt_mode)) +
                                        " mode");
    }
    // receiveid = AppID in safe / compatible mode (§1.1 receiveid table).
    wxcrypto::Result<wxcrypto::MsgCrypt> created =
        wxcrypto::MsgCrypt::Create(account.token, account.encoding_aes_key, account.app_id);
    if (!created.ok()) {
      // Name the failed check only: its detail could describe the key.
      return core::InvalidArgumentError(where + "token / encoding_aes_key unusable (" +
                                        std::string(wxcrypto::WxErrorName(created.code())) + ")");
    }
    crypt.emplace(std::move(created).value());
  }
  return std::unique_ptr<OaAdapter>(new OaAdapter(account.id, account.token, account.encrypt_mode,
                                                  account.timestamp_window_s, std::move(crypt),
                                                  clock, random));
}

OaAdapter::OaAdapter(std::string account_id, std::string token, config::EncryptMode mode,
                     int64_t timestamp_window_s, std::optional<wxcrypto::MsgCrypt> crypt,
                     const core::Clock& clock, core::Random& random)
    : account_id_(std::move(account_id)),
      token_(std::move(token)),
      mode_(mode),
      timestamp_window_s_(timestamp_window_s),
      crypt_(std::move(crypt)),
      clock_(clock),
      random_(random) {}

Decoded<std::string> OaAdapter::VerifyUrl(const CallbackRequest& request) const {
  // §1.3: URL verification is plaintext in every mode; echostr is NOT encrypted for OA.
  const std::string* signature = QueryParam(request, "signature");
  const std::string* timestamp = QueryParam(request, "timestamp");
  const std::string* nonce = QueryParam(request, "nonce");
  const std::string* echostr = QueryParam(request, "echostr");
  if (signature == nullptr || timestamp == nullptr || nonce == nullptr || echostr == nullptr) {
    return Refuse<std::string>(RejectReason::kMissingParameter,
                               "URL verification needs signature, timestamp, nonce, echostr");
  }
  // Constant-time compare (wxcrypto); signature first so a forgery counts as bad_signature.
  if (!wxcrypto::VerifyPlainSignature(*signature, token_, *timestamp, *nonce)) {
    return Refuse<std::string>(RejectReason::kBadSignature, "signature does not match");
  }
  if (!WithinWindow(*timestamp, clock_.NowUnixSeconds(), timestamp_window_s_)) {
    return Refuse<std::string>(
        RejectReason::kStaleTimestamp,
        "timestamp is not within " + std::to_string(timestamp_window_s_) + " s of now");
  }
  Decoded<std::string> out;
  out.value = *echostr;  // unchanged (§1.3)
  return out;
}

Decoded<model::Interaction> OaAdapter::Decode(const CallbackRequest& request) const {
  Decoded<model::Interaction> out =
      mode_ == config::EncryptMode::kPlain ? DecodePlain(request) : DecodeEncrypted(request);
  if (out.ok()) out.value->received_at_ms = request.received_at_ms;
  return out;
}

Decoded<model::Interaction> OaAdapter::DecodePlain(const CallbackRequest& request) const {
  // §1.3 plaintext mode: query signature, timestamp, nonce (openid too, informational). The
  // signature covers only [token, timestamp, nonce], not the body: plaintext mode cannot
  // authenticate content, which is why the timestamp window matters and safe mode is preferred.
  // encrypt_type is not looked at: a plain account reads the body as the message.
  const std::string* signature = QueryParam(request, "signature");
  const std::string* timestamp = QueryParam(request, "timestamp");
  const std::string* nonce = QueryParam(request, "nonce");
  if (signature == nullptr || timestamp == nullptr || nonce == nullptr) {
    return Refuse<model::Interaction>(RejectReason::kMissingParameter,
                                      "callback needs signature, timestamp, nonce");
  }
  if (!wxcrypto::VerifyPlainSignature(*signature, token_, *timestamp, *nonce)) {
    return Refuse<model::Interaction>(RejectReason::kBadSignature, "signature does not match");
  }
  const int64_t now_s = clock_.NowUnixSeconds();
  if (!WithinWindow(*timestamp, now_s, timestamp_window_s_)) {
    return Refuse<model::Interaction>(
        RejectReason::kStaleTimestamp,
        "timestamp is not within " + std::to_string(timestamp_window_s_) + " s of now");
  }
  // The signature does not cover the body: anyone who saw one callback URL could post any body
  // under it until the timestamp leaves the window. The guard admits a second use of the pair
  // only with the same body (a platform retry may reuse them, §2; the inbox dedupes it) and
  // refuses another body. Only here: msg_signature (compat / safe, every WeCom callback) covers
  // Encrypt, so a reused pair there can only carry the same encrypted body, a retry that must
  // be acked again.
  int64_t ts = 0;
  std::from_chars(timestamp->data(), timestamp->data() + timestamp->size(), ts);  // checked above
  switch (replay_.Check(*timestamp, *nonce, request.body, ts + timestamp_window_s_, now_s)) {
    case ReplayGuard::Verdict::kFirstUse:
    case ReplayGuard::Verdict::kSameBody: break;
    case ReplayGuard::Verdict::kReplayed:
      return Refuse<model::Interaction>(RejectReason::kReplayed,
                                        "timestamp and nonce were used with another body");
    case ReplayGuard::Verdict::kFull:
      return Refuse<model::Interaction>(
          RejectReason::kReplayMemoryFull,
          "replay memory full (" + std::to_string(replay_.capacity()) + " pairs in the window)");
  }
  return NormalizeAuthenticated(model::Platform::kOfficialAccount, account_id_, request.body,
                                DetectFormat(request.body));
}

Decoded<model::Interaction> OaAdapter::DecodeEncrypted(const CallbackRequest& request) const {
  // §1.3 safe / compatible mode: query signature, timestamp, nonce, openid, encrypt_type=aes,
  // msg_signature. The configured mode is authoritative: a request without encrypt_type=aes and
  // msg_signature is refused, never read as plaintext (that would let anyone holding one plain
  // `signature` inject an unauthenticated body).
  const auto encrypt_type = request.query.find("encrypt_type");
  if (encrypt_type == request.query.end() || encrypt_type->second != "aes") {
    return Refuse<model::Interaction>(RejectReason::kMissingParameter,
                                      std::string("encrypt_type=aes is required in ") +
                                          std::string(config::EncryptModeName(mode_)) + " mode");
  }
  const std::string* msg_signature = QueryParam(request, "msg_signature");
  const std::string* timestamp = QueryParam(request, "timestamp");
  const std::string* nonce = QueryParam(request, "nonce");
  if (msg_signature == nullptr || timestamp == nullptr || nonce == nullptr) {
    return Refuse<model::Interaction>(RejectReason::kMissingParameter,
                                      "callback needs msg_signature, timestamp, nonce");
  }

  const PayloadFormat format = DetectFormat(request.body);
  std::string encrypt;
  std::string detail;
  const bool extracted = format == PayloadFormat::kJson
                             ? ExtractJsonEncrypt(request.body, encrypt, detail)
                             : ExtractXmlEncrypt(request.body, encrypt, detail);
  if (!extracted) {
    return Refuse<model::Interaction>(RejectReason::kMalformedEnvelope, std::move(detail));
  }

  // msg_signature over [token, timestamp, nonce, Encrypt]: "不要使用signature验证" (§1.3), the
  // plain signature does not cover the body. Checked before the window and before any decoding
  // (no padding oracle); Decrypt() then runs §1.1 steps 3-7.
  if (!crypt_->VerifyMsgSignature(*msg_signature, *timestamp, *nonce, encrypt)) {
    return Refuse<model::Interaction>(RejectReason::kBadSignature, "msg_signature does not match");
  }
  if (!WithinWindow(*timestamp, clock_.NowUnixSeconds(), timestamp_window_s_)) {
    return Refuse<model::Interaction>(
        RejectReason::kStaleTimestamp,
        "timestamp is not within " + std::to_string(timestamp_window_s_) + " s of now");
  }
  wxcrypto::Result<std::string> plain = crypt_->Decrypt(encrypt);
  if (!plain.ok()) {
    return Refuse<model::Interaction>(ReasonFor(plain.code()), plain.error().ToStatus().message());
  }
  // The decrypted payload has the envelope's format (a JSON account encrypts JSON).
  return NormalizeAuthenticated(model::Platform::kOfficialAccount, account_id_, *plain, format);
}

std::string OaAdapter::AckBody(const CallbackRequest& request,
                               const model::Interaction& interaction,
                               const ReplyMessage* reply) const {
  // §2: "success" (or an empty string) acknowledges without a reply and needs no encryption
  // in any mode ("回复空串或者success（无需加密）", §1.3).
  static constexpr std::string_view kSuccess = "success";
  if (reply == nullptr || interaction.openid.empty() || interaction.to_user.empty()) {
    return std::string(kSuccess);
  }
  const PayloadFormat format = DetectFormat(request.body);
  const int64_t now_s = clock_.NowUnixSeconds();
  std::string plaintext = format == PayloadFormat::kJson
                              ? TextReplyJson(interaction, reply->text, now_s)
                              : TextReplyXml(interaction, reply->text, now_s);
  if (mode_ == config::EncryptMode::kPlain) return plaintext;

  // Compat / safe: the encrypted envelope (XML, or the JSON variant for a JSON account),
  // echoing the request's timestamp and nonce (§1.1 Encrypt, §1.3).
  const auto timestamp = request.query.find("timestamp");
  const auto nonce = request.query.find("nonce");
  if (timestamp == request.query.end() || nonce == request.query.end()) {
    return std::string(kSuccess);
  }
  wxcrypto::Result<std::string> envelope =
      format == PayloadFormat::kJson
          ? crypt_->BuildEncryptedReplyJson(plaintext, timestamp->second, nonce->second, random_)
          : crypt_->BuildEncryptedReplyXml(plaintext, timestamp->second, nonce->second, random_);
  // The interaction is already durable: if the reply cannot be built (a nonce that cannot be
  // echoed safely), acknowledging without it still stops the platform's retries. Anything
  // else would show the user "该公众号暂时无法提供服务" (§2).
  if (!envelope.ok()) return std::string(kSuccess);
  return std::move(envelope).value();
}

}  // namespace scrm::channels::oa
