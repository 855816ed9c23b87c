// The outbound seam between the service and a platform account: what jobs (and later campaigns)
// ask of a platform — read a contact, mark its tags, send a message of the channel's own kinds,
// create a contact way / QR scene — whatever the platform. Implemented per platform over the
// typed clients of src/platform (channels/wecom/wecom_outbound.h, channels/official_account/
// oa_outbound.h) and found by account id in the OutboundDirectory that src/app builds.
//
// Outcomes are src/platform's (platform::ApiResult / ApiError / Outcome, the errcode classes of
// PROTOCOL §4.3), so a caller decides retries the same way on every platform.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/model/interaction.h"
#include "src/platform/call_options.h"
#include "src/platform/errors.h"
#include "src/platform/oa_types.h"
#include "src/platform/wecom_types.h"

namespace scrm::channels {

// What the platform says about a person (OutboundChannel::ReadContact).
struct ContactInfo {
  std::string unionid;  // "" when the platform gives none (account not bound to open platform)
  // Facts kept as customer attributes, keys "<platform>.<field>" ("oa.language", "wecom.name");
  // empty values are left out.
  std::map<std::string, std::string> attributes;
  // The platform's tags on the person, when its answer names them: WeCom, the corp tags of every
  // follow relation (all follow_user pages). nullopt on OA (user/info lists tag ids only).
  std::optional<std::vector<model::PlatformTag>> tags;

  // Keeps `value` as attribute `key`, unless it is empty (empty values are left out).
  void SetAttribute(const char* key, const std::string& value) {
    if (!value.empty()) attributes[key] = value;
  }
};

struct ReadContactOptions {
  platform::CallOptions call;
  // WeCom externalcontact/get: pages of follow_user (500 members each) read at most; more is a
  // kBadReply (a reply is untrusted: a cursor must not keep the caller forever).
  int max_pages = 200;
};

// The person whose tags change (OutboundChannel::MarkTags).
struct TagTarget {
  std::string member;   // WeCom: the member (userid) whose follow relation holds the tags; OA: ""
  std::string contact;  // WeCom: ExternalUserID; OA: openid
};

// A message of a channel-specific kind: a WeCom account sends the first three (welcome message,
// group message task, app message), an Official Account the last three (template, custom,
// mass). A kind of another platform is kRejected, nothing sent.
using OutboundMessage = std::variant<platform::WecomWelcomeMessage, platform::WecomGroupMessage,
                                     platform::WecomAppMessage, platform::OaTemplateMessage,
                                     platform::OaCustomMessage, platform::OaMassMessage>;

struct SendReceipt {
  // msgid (WeCom add_msg_template and message/send, OA template), msg_id (OA mass); "" when the
  // API gives none (welcome, custom).
  std::string message_id;
  // Recipients the platform says it could not reach though the call succeeded: WeCom
  // add_msg_template fail_list, message/send invaliduser ("a|b" split).
  std::vector<std::string> unreached;
};

// A way for people to become contacts: WeCom 联系我 (add_contact_way, scene 2: a QR code), OA a
// parametric QR code (qrcode/create with scene_str). Both bring `state` back with the contact
// (WeCom State of add_external_contact; OA EventKey "qrscene_<state>" / "<state>"), which is
// how a campaign knows where a contact came from.
struct ContactWayRequest {
  std::string state;  // WeCom <= 30 characters, OA 1..64
  // WeCom: the members a scan adds (one: type 1, several: type 2), at least one; exactly one
  // when temporary (temp-session mode, PROTOCOL §4.1). OA: none.
  std::vector<std::string> members;
  bool temporary = false;
  // Temporary only; 0 = WeCom: not sent (the platform's default), OA: 2 592 000 s (the longest).
  int64_t expires_in_s = 0;
  std::string remark;       // WeCom only
  bool skip_verify = true;  // WeCom only: added without the member's confirmation
};

struct ContactWay {
  std::string id;            // WeCom config_id (needed to update / delete it), OA ticket
  std::string qr_image;      // URL of the code's image (WeCom qr_code, OA showqrcode?ticket=)
  std::string qr_content;    // OA: the URL the code encodes; WeCom: ""
  int64_t expires_in_s = 0;  // OA expire_seconds (0: permanent); WeCom: 0
};

// One platform account's outbound side. Implementations are final, hold a client that must
// outlive them, and are thread-safe as the clients are (any thread may call). Every method
// blocks the calling thread for at most the call's time budget.
class OutboundChannel {
 public:
  virtual ~OutboundChannel() = default;
  virtual const std::string& account_id() const = 0;
  virtual model::Platform platform() const = 0;

  // OA user/info (lang zh_CN), WeCom externalcontact/get with every follow_user page.
  // `contact_id` is the openid / ExternalUserID. A read: the caller may repeat it.
  virtual platform::ApiResult<ContactInfo> ReadContact(const std::string& contact_id,
                                                       const ReadContactOptions& options) = 0;

  // Whether `id` is a tag id this platform could hold: WeCom any non-empty corp tag id, OA a
  // positive integer (tags/create). A mapping that is not one names nothing to add or remove.
  virtual bool IsTagId(std::string_view id) const = 0;

  // Adds and removes platform tag ids on one person (idempotent). WeCom: one mark_tag on the
  // follow relation (member, contact), all or nothing. OA: one batchtagging per added tag then
  // one batchuntagging per removed tag, stopping at the first failure (the ones before it are
  // set): a caller that records each tag sends one at a time. An id for which IsTagId is false
  // is kRejected before anything is sent.
  virtual platform::ApiResult<platform::Done> MarkTags(const TagTarget& target,
                                                       const std::vector<std::string>& add,
                                                       const std::vector<std::string>& remove,
                                                       const platform::CallOptions& options) = 0;

  // Sends one message of this platform's kinds (see OutboundMessage). Resent after an unknown
  // outcome only when it carries the platform's idempotency key (src/platform clients).
  virtual platform::ApiResult<SendReceipt> Send(const OutboundMessage& message,
                                                const platform::CallOptions& options) = 0;

  // WeCom add_contact_way (not idempotent: an unknown outcome is not resent), OA qrcode/create
  // (QR_STR_SCENE, or QR_LIMIT_STR_SCENE when not temporary). Arguments the platform would
  // refuse are kRejected before anything is sent.
  virtual platform::ApiResult<ContactWay> CreateContactWay(
      const ContactWayRequest& request, const platform::CallOptions& options) = 0;

  // Deletes a contact way CreateContactWay made (`id`: ContactWay::id). WeCom del_contact_way by
  // config_id (not resent after an unknown outcome). An OA parametric QR code cannot be deleted:
  // the default answers kRejected, nothing sent.
  virtual platform::ApiResult<platform::Done> DeleteContactWay(
      const std::string& id, const platform::CallOptions& options);
};

// Account id -> that account's OutboundChannel, for the accounts that can call their platform
// (an API secret is configured). Filled in src/app before any thread starts, read-only after:
// Find and AccountIds are then safe from any thread. Owns the channels.
class OutboundDirectory {
 public:
  // AlreadyExists when the account has a channel already (the directory is unchanged).
  core::Status Add(std::unique_ptr<OutboundChannel> channel);
  // The account's channel, nullptr when it has none. Valid as long as the directory.
  OutboundChannel* Find(std::string_view account_id) const;
  std::set<std::string, std::less<>> AccountIds() const;

 private:
  std::map<std::string, std::unique_ptr<OutboundChannel>, std::less<>> channels_;
};

}  // namespace scrm::channels
