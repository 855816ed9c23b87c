// The outbound channel of one WeChat Official Account (公众号) (channels/common/outbound.h) over
// platform::OaClient: user/info, tags/members/batchtagging / batchuntagging, the three message
// kinds and qrcode/create (PROTOCOL §4.2).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "channels/common/outbound.h"
#include "src/platform/oa_client.h"

namespace scrm::channels::oa {

// Thread-safe as OaClient is; `client` is borrowed and must outlive the channel.
class OaOutbound final : public OutboundChannel {
 public:
  OaOutbound(std::string account_id, platform::OaClient& client);

  const std::string& account_id() const override { return account_id_; }
  model::Platform platform() const override { return model::Platform::kOfficialAccount; }

  // user/info (lang zh_CN): unionid; attributes oa.subscribe_scene, oa.language (with
  // subscribe == 0 only openid and unionid come back); no tags.
  platform::ApiResult<ContactInfo> ReadContact(const std::string& openid,
                                               const ReadContactOptions& options) override;
  bool IsTagId(std::string_view id) const override;
  // batchtagging for each added tag, then batchuntagging for each removed one, on
  // target.contact (the openid); stops at the first failure. Every id is checked first: one
  // that is not a positive integer is kRejected and nothing is sent.
  platform::ApiResult<platform::Done> MarkTags(const TagTarget& target,
                                               const std::vector<std::string>& add,
                                               const std::vector<std::string>& remove,
                                               const platform::CallOptions& options) override;
  // OaTemplateMessage: message/template/send; OaCustomMessage: message/custom/send;
  // OaMassMessage: message/mass/sendall. WeCom kinds: kRejected.
  platform::ApiResult<SendReceipt> Send(const OutboundMessage& message,
                                        const platform::CallOptions& options) override;
  // qrcode/create with scene_str = state: QR_STR_SCENE when temporary (expires_in_s, 0 = 30
  // days), QR_LIMIT_STR_SCENE otherwise (<= 100 000 per account). Members are kRejected: a scan
  // adds no member on an Official Account.
  platform::ApiResult<ContactWay> CreateContactWay(const ContactWayRequest& request,
                                                   const platform::CallOptions& options) override;

 private:
  const std::string account_id_;
  platform::OaClient& client_;
};

}  // namespace scrm::channels::oa
