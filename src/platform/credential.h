// Credential: which account and secret an access token belongs to, and where its API lives.
#pragma once

#include <string>

#include "src/config/config.h"

namespace scrm::platform {

// One access token exists per (account, app id, secret). WeCom issues one token per secret
// (the 客户联系 secret and each app's secret are separate); OA one per AppID.
struct Credential {
  std::string account_id;  // config account id: metrics and logs
  model::Platform platform = model::Platform::kWecom;
  std::string api_base;  // "https://qyapi.weixin.qq.com" (no trailing '/'); loopback in tests
  std::string app_id;    // WeCom CorpID (corpid) / OA AppID (appid)
  std::string secret;    // WeCom corpsecret / OA appsecret; never logged
};

// The account's own credential: WeCom corp_id + secret (the 客户联系 secret), OA app_id +
// app_secret; api_base as configured.
Credential CredentialFor(const config::AccountConfig& account);

}  // namespace scrm::platform
