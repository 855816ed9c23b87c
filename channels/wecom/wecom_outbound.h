// The outbound channel of one WeCom (企业微信) corp (channels/common/outbound.h) over
// platform::WecomClient: externalcontact/get, mark_tag, the three message kinds and
// add_contact_way (PROTOCOL §4.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "channels/common/outbound.h"
#include "src/platform/wecom_client.h"

namespace scrm::channels::wecom {

// Thread-safe as WecomClient is; `client` is borrowed and must outlive the channel.
class WecomOutbound final : public OutboundChannel {
 public:
  WecomOutbound(std::string account_id, platform::WecomClient& client);

  const std::string& account_id() const override { return account_id_; }
  model::Platform platform() const override { return model::Platform::kWecom; }

  // externalcontact/get and every follow_user page after it (next_cursor): unionid; attributes
  // wecom.name, wecom.position, wecom.corp_name; the corp tags of every follow relation. A
  // cursor that does not move, or more than max_pages pages, is kBadReply; a page that fails
  // fails the read (nothing partial comes back).
  platform::ApiResult<ContactInfo> ReadContact(const std::string& external_userid,
                                               const ReadContactOptions& options) override;
  bool IsTagId(std::string_view id) const override { return !id.empty(); }
  // One externalcontact/mark_tag on (target.member, target.contact).
  platform::ApiResult<platform::Done> MarkTags(const TagTarget& target,
                                               const std::vector<std::string>& add,
                                               const std::vector<std::string>& remove,
                                               const platform::CallOptions& options) override;
  // WecomWelcomeMessage: send_welcome_msg; WecomGroupMessage: add_msg_template; WecomAppMessage:
  // message/send (the app credential). OA kinds: kRejected.
  platform::ApiResult<SendReceipt> Send(const OutboundMessage& message,
                                        const platform::CallOptions& options) override;
  // add_contact_way, scene 2 (QR code): type 1 for one member, 2 for several (not temporary).
  platform::ApiResult<ContactWay> CreateContactWay(const ContactWayRequest& request,
                                                   const platform::CallOptions& options) override;
  platform::ApiResult<platform::Done> DeleteContactWay(
      const std::string& id, const platform::CallOptions& options) override;

 private:
  const std::string account_id_;
  platform::WecomClient& client_;
};

}  // namespace scrm::channels::wecom
