#include "src/platform/oa_client.h"

#include <limits>
#include <utility>

namespace scrm::platform {
namespace {

using internal::BadReply;
using internal::Invalid;
using nlohmann::json;

constexpr size_t kMaxBatchGet = 100;
constexpr size_t kMaxTagging = 50;  // more is 40032
constexpr size_t kMaxTagNameBytes = 30;
constexpr size_t kMaxSceneStr = 64;
constexpr int64_t kMaxExpireSeconds = 2592000;

OaUser ReadUser(JsonFields& f) {
  OaUser u;
  u.subscribe = f.Int("subscribe");
  u.openid = f.String("openid", /*required=*/true);
  u.unionid = f.String("unionid");
  u.language = f.String("language");
  u.subscribe_time = f.Int("subscribe_time");
  u.remark = f.String("remark");
  u.groupid = f.Int("groupid");
  u.tagid_list = f.Ints("tagid_list");
  u.subscribe_scene = f.String("subscribe_scene");
  u.qr_scene = f.Int("qr_scene");
  u.qr_scene_str = f.String("qr_scene_str");
  return u;
}

}  // namespace

OaClient::OaClient(Credential credential, ApiCaller& caller)
    : credential_(std::move(credential)), caller_(caller) {}

ApiResult<OaUser> OaClient::GetUserInfo(const std::string& openid, const std::string& lang,
                                        const CallOptions& options) {
  if (openid.empty()) return Invalid("openid is empty");
  ApiCall call = internal::Get("user/info", options);
  call.query.emplace_back("openid", UrlEncode(openid));
  call.query.emplace_back("lang", UrlEncode(lang));
  return internal::Run<OaUser>(caller_, credential_, std::move(call), nullptr,
                               [](const json& reply) -> ApiResult<OaUser> {
                                 JsonFields f(reply, "reply");
                                 OaUser user = ReadUser(f);
                                 if (!f.ok()) return BadReply(f);
                                 return user;
                               });
}

ApiResult<std::vector<OaUser>> OaClient::BatchGetUserInfo(const std::vector<std::string>& openids,
                                                          const std::string& lang,
                                                          const CallOptions& options) {
  if (openids.empty() || openids.size() > kMaxBatchGet) return Invalid("1..100 openids");
  json list = json::array();
  for (const auto& openid : openids) list.push_back({{"openid", openid}, {"lang", lang}});
  const json body = {{"user_list", std::move(list)}};
  return internal::Run<std::vector<OaUser>>(
      caller_, credential_, internal::Post("user/info/batchget", options, true), &body,
      [](const json& reply) -> ApiResult<std::vector<OaUser>> {
        JsonFields f(reply, "reply");
        std::vector<OaUser> users;
        const json* infos = f.Array("user_info_list", /*required=*/true);
        if (infos != nullptr) {
          size_t i = 0;
          for (const json& element : *infos) {
            JsonFields u(element, "reply.user_info_list[" + std::to_string(i++) + "]");
            if (u.ok()) users.push_back(ReadUser(u));
            if (!u.ok()) {
              f.Fail(u.error());
              break;
            }
          }
        }
        if (!f.ok()) return BadReply(f);
        return users;
      });
}

ApiResult<OaTag> OaClient::CreateTag(const std::string& name, const CallOptions& options) {
  if (name.empty() || name.size() > kMaxTagNameBytes) return Invalid("tag name: 1..30 bytes");
  const json body = {{"tag", {{"name", name}}}};
  return internal::Run<OaTag>(caller_, credential_, internal::Post("tags/create", options, false),
                              &body, [](const json& reply) -> ApiResult<OaTag> {
                                JsonFields f(reply, "reply");
                                OaTag tag;
                                const json* object = f.Object("tag", /*required=*/true);
                                if (object != nullptr) {
                                  JsonFields t(*object, "reply.tag");
                                  tag.id = t.Int("id", /*required=*/true);
                                  tag.name = t.String("name");
                                  if (!t.ok()) f.Fail(t.error());
                                }
                                if (!f.ok()) return BadReply(f);
                                return tag;
                              });
}

ApiResult<Done> OaClient::Tagging(const char* api, const std::vector<std::string>& openids,
                                  int64_t tag_id, const CallOptions& options) {
  if (openids.empty() || openids.size() > kMaxTagging) return Invalid("1..50 openids");
  const json body = {{"openid_list", openids}, {"tagid", tag_id}};
  return internal::Run<Done>(caller_, credential_, internal::Post(api, options, true), &body,
                             [](const json&) -> ApiResult<Done> { return Done{}; });
}

ApiResult<Done> OaClient::BatchTag(const std::vector<std::string>& openids, int64_t tag_id,
                                   const CallOptions& options) {
  return Tagging("tags/members/batchtagging", openids, tag_id, options);
}

ApiResult<Done> OaClient::BatchUntag(const std::vector<std::string>& openids, int64_t tag_id,
                                     const CallOptions& options) {
  return Tagging("tags/members/batchuntagging", openids, tag_id, options);
}

ApiResult<OaQrCode> OaClient::CreateQrCode(const OaQrRequest& request, const CallOptions& options) {
  json body;
  switch (request.type) {
    case QrType::kTemporaryId:
      if (request.scene_id == 0 || request.scene_id > std::numeric_limits<uint32_t>::max() ||
          request.scene_id < 0) {
        return Invalid("scene_id must be a non-zero 32-bit value");
      }
      body = {{"action_name", "QR_SCENE"},
              {"action_info", {{"scene", {{"scene_id", request.scene_id}}}}}};
      break;
    case QrType::kTemporaryString:
    case QrType::kPermanentString:
      if (request.scene_str.empty() || request.scene_str.size() > kMaxSceneStr) {
        return Invalid("scene_str must be 1..64 characters");
      }
      body = {{"action_name",
               request.type == QrType::kTemporaryString ? "QR_STR_SCENE" : "QR_LIMIT_STR_SCENE"},
              {"action_info", {{"scene", {{"scene_str", request.scene_str}}}}}};
      break;
  }
  if (request.type != QrType::kPermanentString) {
    if (request.expire_seconds < 1 || request.expire_seconds > kMaxExpireSeconds) {
      return Invalid("expire_seconds must be 1..2592000");
    }
    body["expire_seconds"] = request.expire_seconds;
  }
  // Creating the same code twice only yields another ticket for the same scene: idempotent.
  return internal::Run<OaQrCode>(caller_, credential_,
                                 internal::Post("qrcode/create", options, true), &body,
                                 [](const json& reply) -> ApiResult<OaQrCode> {
                                   JsonFields f(reply, "reply");
                                   OaQrCode code;
                                   code.ticket = f.String("ticket", /*required=*/true);
                                   code.expire_seconds = f.Int("expire_seconds");
                                   code.url = f.String("url", /*required=*/true);
                                   if (f.ok() && code.ticket.empty()) f.Fail("reply.ticket: empty");
                                   if (!f.ok()) return BadReply(f);
                                   return code;
                                 });
}

ApiResult<std::string> OaClient::SendTemplate(const OaTemplateMessage& message,
                                              const CallOptions& options) {
  if (message.touser.empty() || message.template_id.empty()) {
    return Invalid("touser and template_id are required");
  }
  json data = json::object();
  for (const auto& [key, value] : message.data) data[key] = {{"value", value}};
  json body = {{"touser", message.touser}, {"template_id", message.template_id}, {"data", data}};
  if (!message.url.empty()) body["url"] = message.url;
  if (!message.miniprogram_appid.empty()) {
    body["miniprogram"] = {{"appid", message.miniprogram_appid},
                           {"pagepath", message.miniprogram_pagepath}};
  }
  const bool idempotent = !message.client_msg_id.empty();
  if (idempotent) body["client_msg_id"] = message.client_msg_id;
  return internal::Run<std::string>(
      caller_, credential_, internal::Post("message/template/send", options, idempotent), &body,
      [](const json& reply) -> ApiResult<std::string> {
        JsonFields f(reply, "reply");
        std::string msgid = f.Id("msgid");  // a 64-bit number: kept as text
        if (!f.ok()) return BadReply(f);
        return msgid;
      });
}

ApiResult<Done> OaClient::SendCustom(const OaCustomMessage& message, const CallOptions& options) {
  if (message.touser.empty()) return Invalid("touser is required");
  if (message.msgtype.empty() || !message.content.is_object()) {
    return Invalid("msgtype and its content object are required");
  }
  json body = {
      {"touser", message.touser}, {"msgtype", message.msgtype}, {message.msgtype, message.content}};
  if (!message.kf_account.empty()) body["customservice"] = {{"kf_account", message.kf_account}};
  return internal::Run<Done>(caller_, credential_,
                             internal::Post("message/custom/send", options, false), &body,
                             [](const json&) -> ApiResult<Done> { return Done{}; });
}

ApiResult<OaMassResult> OaClient::MassSendAll(const OaMassMessage& message,
                                              const CallOptions& options) {
  if (message.msgtype.empty() || !message.content.is_object()) {
    return Invalid("msgtype and its content object are required");
  }
  if (!message.is_to_all && message.tag_id <= 0) return Invalid("tag_id or is_to_all");
  json filter = {{"is_to_all", message.is_to_all}};
  if (!message.is_to_all) filter["tag_id"] = message.tag_id;
  json body = {
      {"filter", filter}, {"msgtype", message.msgtype}, {message.msgtype, message.content}};
  if (message.msgtype == "mpnews") body["send_ignore_reprint"] = message.send_ignore_reprint;
  const bool idempotent = !message.clientmsgid.empty();
  if (idempotent) body["clientmsgid"] = message.clientmsgid;
  return internal::Run<OaMassResult>(caller_, credential_,
                                     internal::Post("message/mass/sendall", options, idempotent),
                                     &body, [](const json& reply) -> ApiResult<OaMassResult> {
                                       JsonFields f(reply, "reply");
                                       OaMassResult result;
                                       result.msg_id = f.Id("msg_id");
                                       result.msg_data_id = f.Id("msg_data_id");
                                       if (!f.ok()) return BadReply(f);
                                       return result;
                                     });
}

}  // namespace scrm::platform
