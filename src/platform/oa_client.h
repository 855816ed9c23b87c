// OaClient: typed calls to the WeChat Official Account (公众号) APIs the product uses
// (PROTOCOL §4.2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/platform/api_caller.h"
#include "src/platform/client_support.h"
#include "src/platform/credential.h"
#include "src/platform/errors.h"
#include "src/platform/oa_types.h"

namespace scrm::platform {

// Thread-safe (stateless besides its credential); the ApiCaller must outlive it. Replies are
// parsed defensively like WecomClient's.
class OaClient {
 public:
  OaClient(Credential credential, ApiCaller& caller);

  // GET user/info
  ApiResult<OaUser> GetUserInfo(const std::string& openid, const std::string& lang = "zh_CN",
                                const CallOptions& options = {});
  // POST user/info/batchget (<= 100 openids)
  ApiResult<std::vector<OaUser>> BatchGetUserInfo(const std::vector<std::string>& openids,
                                                  const std::string& lang = "zh_CN",
                                                  const CallOptions& options = {});
  // POST tags/create (name <= 30 bytes; not idempotent: 45157 on a repeat)
  ApiResult<OaTag> CreateTag(const std::string& name, const CallOptions& options = {});
  // POST tags/members/batchtagging / batchuntagging (<= 50 openids; idempotent)
  ApiResult<Done> BatchTag(const std::vector<std::string>& openids, int64_t tag_id,
                           const CallOptions& options = {});
  ApiResult<Done> BatchUntag(const std::vector<std::string>& openids, int64_t tag_id,
                             const CallOptions& options = {});
  // POST qrcode/create
  ApiResult<OaQrCode> CreateQrCode(const OaQrRequest& request, const CallOptions& options = {});
  // POST message/template/send -> msgid
  ApiResult<std::string> SendTemplate(const OaTemplateMessage& message,
                                      const CallOptions& options = {});
  // POST message/custom/send (客服消息; only inside the user's window; never resent)
  ApiResult<Done> SendCustom(const OaCustomMessage& message, const CallOptions& options = {});
  // POST message/mass/sendall by tag or to all
  ApiResult<OaMassResult> MassSendAll(const OaMassMessage& message,
                                      const CallOptions& options = {});

 private:
  ApiResult<Done> Tagging(const char* api, const std::vector<std::string>& openids, int64_t tag_id,
                          const CallOptions& options);

  Credential credential_;
  ApiCaller& caller_;
};

}  // namespace scrm::platform
