#include "sim/callback_builder.h"

namespace scrm::sim {

std::string UrlEncode(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

core::StatusOr<CallbackBuilder> CallbackBuilder::Create(std::string token,
                                                        const std::string& encoding_aes_key,
                                                        std::string receive_id, uint64_t seed) {
  auto crypt = wxcrypto::MsgCrypt::Create(token, encoding_aes_key, std::move(receive_id));
  if (!crypt.ok()) return crypt.status();
  return CallbackBuilder(std::move(token), std::move(crypt).value(), seed);
}

CallbackBuilder::CallbackBuilder(std::string token, wxcrypto::MsgCrypt crypt, uint64_t seed)
    : token_(std::move(token)),
      crypt_(std::move(crypt)),
      random_(std::make_unique<core::FakeRandom>(seed)) {}

std::string CallbackBuilder::Nonce() {
  return std::to_string(random_->NextU64() % 1'000'000'000ULL);
}

SimRequest CallbackBuilder::WecomPost(const std::string& path, const std::string& plaintext_xml,
                                      int64_t timestamp_s) {
  const std::string ts = std::to_string(timestamp_s);
  const std::string nonce = Nonce();
  auto encrypted = crypt_.EncryptMessage(plaintext_xml, ts, nonce, *random_);
  // EncryptMessage fails only for messages over 4 GiB; the builder's callers never get there.
  SCRM_CHECK(encrypted.ok());
  SimRequest req;
  req.path_and_query =
      path + "?msg_signature=" + encrypted->msg_signature + "&timestamp=" + ts + "&nonce=" + nonce;
  req.body = "<xml><ToUserName><![CDATA[" + crypt_.receive_id() +
             "]]></ToUserName><Encrypt><![CDATA[" + encrypted->encrypt +
             "]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>";
  return req;
}

SimRequest CallbackBuilder::WecomVerify(const std::string& path, const std::string& echo,
                                        int64_t timestamp_s) {
  const std::string ts = std::to_string(timestamp_s);
  const std::string nonce = Nonce();
  auto encrypted = crypt_.EncryptMessage(echo, ts, nonce, *random_);
  SCRM_CHECK(encrypted.ok());
  SimRequest req;
  req.path_and_query = path + "?msg_signature=" + encrypted->msg_signature + "&timestamp=" + ts +
                       "&nonce=" + nonce + "&echostr=" + UrlEncode(encrypted->encrypt);
  return req;
}

SimRequest CallbackBuilder::OaSafePost(const std::string& path, const std::string& plaintext_xml,
                                       const std::string& openid, int64_t timestamp_s) {
  const std::string ts = std::to_string(timestamp_s);
  const std::string nonce = Nonce();
  auto encrypted = crypt_.EncryptMessage(plaintext_xml, ts, nonce, *random_);
  SCRM_CHECK(encrypted.ok());
  SimRequest req;
  req.path_and_query = path + "?signature=" + wxcrypto::PlainSignature(token_, ts, nonce) +
                       "&timestamp=" + ts + "&nonce=" + nonce + "&openid=" + UrlEncode(openid) +
                       "&encrypt_type=aes&msg_signature=" + encrypted->msg_signature;
  req.body = "<xml><ToUserName><![CDATA[gh_sim]]></ToUserName><Encrypt><![CDATA[" +
             encrypted->encrypt + "]]></Encrypt></xml>";
  return req;
}

SimRequest CallbackBuilder::OaPlainPost(const std::string& path, const std::string& plaintext_xml,
                                        const std::string& openid, int64_t timestamp_s) {
  const std::string ts = std::to_string(timestamp_s);
  const std::string nonce = Nonce();
  SimRequest req;
  req.path_and_query = path + "?signature=" + wxcrypto::PlainSignature(token_, ts, nonce) +
                       "&timestamp=" + ts + "&nonce=" + nonce + "&openid=" + UrlEncode(openid);
  req.body = plaintext_xml;
  return req;
}

std::string CallbackBuilder::WecomContactAddXml(const std::string& corp_id,
                                                const std::string& userid,
                                                const std::string& external_userid,
                                                const std::string& state, int64_t create_time) {
  return "<xml><ToUserName><![CDATA[" + corp_id +
         "]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>" +
         std::to_string(create_time) +
         "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_"
         "contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><!"
         "[CDATA[" +
         userid + "]]></UserID><ExternalUserID><![CDATA[" + external_userid +
         "]]></ExternalUserID><State><![CDATA[" + state +
         "]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>";
}

std::string CallbackBuilder::WecomTextXml(const std::string& corp_id, const std::string& userid,
                                          const std::string& content, uint64_t msg_id,
                                          int64_t create_time) {
  return "<xml><ToUserName><![CDATA[" + corp_id + "]]></ToUserName><FromUserName><![CDATA[" +
         userid + "]]></FromUserName><CreateTime>" + std::to_string(create_time) +
         "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content +
         "]]></Content><MsgId>" + std::to_string(msg_id) + "</MsgId><AgentID>1</AgentID></xml>";
}

std::string CallbackBuilder::OaTextXml(const std::string& gh_id, const std::string& openid,
                                       const std::string& content, uint64_t msg_id,
                                       int64_t create_time) {
  return "<xml><ToUserName><![CDATA[" + gh_id + "]]></ToUserName><FromUserName><![CDATA[" + openid +
         "]]></FromUserName><CreateTime>" + std::to_string(create_time) +
         "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content +
         "]]></Content><MsgId>" + std::to_string(msg_id) + "</MsgId></xml>";
}

}  // namespace scrm::sim
