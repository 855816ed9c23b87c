// The value types of the WeChat Official Account (公众号) APIs the product uses (PROTOCOL §4.2):
// what OaClient sends and returns, and the message kinds an Official Account sends through the
// outbound seam (channels/common/outbound.h). Plain values, no behaviour.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace scrm::platform {

// user/info. With subscribe == 0 only openid (and unionid when bound) come back.
struct OaUser {
  int64_t subscribe = 0;
  std::string openid;
  std::string unionid;  // only when the OA is bound to an open-platform account
  std::string language;
  int64_t subscribe_time = 0;
  std::string remark;
  int64_t groupid = 0;
  std::vector<int64_t> tagid_list;
  std::string subscribe_scene;  // ADD_SCENE_QR_CODE, ...
  int64_t qr_scene = 0;
  std::string qr_scene_str;
};

struct OaTag {
  int64_t id = 0;
  std::string name;
};

enum class QrType {
  kTemporaryId,      // QR_SCENE: scene_id, expires
  kTemporaryString,  // QR_STR_SCENE: scene_str, expires
  kPermanentString,  // QR_LIMIT_STR_SCENE: scene_str, never expires (<= 100 000 per OA)
};

struct OaQrRequest {
  QrType type = QrType::kTemporaryString;
  int64_t scene_id = 0;              // QR_SCENE: 32-bit, non-zero
  std::string scene_str;             // 1..64 characters
  int64_t expire_seconds = 2592000;  // temporary only; 1..2 592 000 (30 days)
};

struct OaQrCode {
  std::string ticket;  // image: https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=<encoded>
  int64_t expire_seconds = 0;  // 0 for permanent codes
  std::string url;             // the content of the code
};

struct OaTemplateMessage {
  std::string touser;  // openid
  std::string template_id;
  std::string url;
  std::string miniprogram_appid;  // wins over url when set
  std::string miniprogram_pagepath;
  // The platform's idempotency key: the same openid + client_msg_id is sent once within
  // 10 minutes, so a send whose outcome is unknown is retried only when it is set.
  std::string client_msg_id;
  std::map<std::string, std::string> data;  // keyword -> value
};

struct OaCustomMessage {
  std::string touser;  // openid
  std::string msgtype = "text";
  nlohmann::json content = nlohmann::json::object();  // the member named msgtype
  std::string kf_account;                             // customservice.kf_account, optional
};

struct OaMassMessage {
  bool is_to_all = false;
  int64_t tag_id = 0;  // when !is_to_all
  std::string msgtype = "mpnews";
  nlohmann::json content = nlohmann::json::object();  // the member named msgtype
  int64_t send_ignore_reprint = 0;
  // Idempotency key: de-duplicated by the platform for 24 h (45065 / 45066 on a repeat).
  std::string clientmsgid;
};

struct OaMassResult {
  std::string msg_id;
  std::string msg_data_id;
};

}  // namespace scrm::platform
