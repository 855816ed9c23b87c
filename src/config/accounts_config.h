// The `accounts` section of the service configuration: the WeCom corps and Official Accounts we
// receive callbacks for and call. Parsed and validated by accounts_config.cc, including the
// secrets file's and the environment's account overrides (see config.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/model/platform.h"

namespace scrm::config {

enum class EncryptMode { kPlain, kCompat, kSafe };

// The config spelling: "plain" | "compat" | "safe". (A platform's is model::PlatformName.)
std::string_view EncryptModeName(EncryptMode mode);

// api_base when the account does not set one.
inline constexpr std::string_view kWecomDefaultApiBase = "https://qyapi.weixin.qq.com";
inline constexpr std::string_view kOfficialAccountDefaultApiBase = "https://api.weixin.qq.com";

// One entry of `accounts`: a WeCom corp or an Official Account we receive callbacks for.
struct AccountConfig {
  std::string id;  // [A-Za-z0-9_-]{1,64}, unique; appears in the callback URL
  model::Platform platform = model::Platform::kWecom;  // required in the file: "wecom" | "oa"
  std::string corp_id;                                 // wecom: CorpID (receiveid)
  std::string app_id;                                  // oa: AppID (receiveid)
  std::string token;                                   // secret; 1..128 chars [A-Za-z0-9]
  std::string encoding_aes_key;  // secret; exactly 43 chars [A-Za-z0-9]; optional for oa plain
  std::string secret;            // secret; wecom contact secret
  std::string app_secret;        // secret; oa app secret
  // wecom only, optional: the self-built app that sends member messages (message/send).
  int64_t agent_id = 0;      // AgentId; 0 = none; 0..4294967295
  std::string agent_secret;  // secret; the app's own secret (a separate access token)
  EncryptMode encrypt_mode = EncryptMode::kSafe;  // oa only; wecom is always encrypted
  std::string api_base;  // default https://qyapi.weixin.qq.com or https://api.weixin.qq.com
                         // must be http(s)://host...; trailing '/' removed at load
  int64_t timestamp_window_s = 300;  // callbacks whose timestamp is further off are replays;
                                     // 1..86400
};

}  // namespace scrm::config
