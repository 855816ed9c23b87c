// WecomClient: typed calls to the WeCom (企业微信) APIs the product uses (PROTOCOL §4.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/platform/api_caller.h"
#include "src/platform/client_support.h"
#include "src/platform/credential.h"
#include "src/platform/errors.h"
#include "src/platform/wecom_types.h"

namespace scrm::platform {

// Thread-safe (stateless besides its credentials); the ApiCaller must outlive it.
// Every reply is parsed defensively: errcode first (ApiCaller), then the documented members;
// a wrong shape is kBadReply, never a crash. Local argument checks fail with kRejected before
// anything is sent.
class WecomClient {
 public:
  // `contact` is the 客户联系 secret's credential; `app` (optional) the self-built app's, used
  // only by SendAppMessage.
  WecomClient(Credential contact, ApiCaller& caller, std::optional<Credential> app = {});

  // GET externalcontact/get
  ApiResult<WecomContactDetail> GetExternalContact(const std::string& external_userid,
                                                   const std::string& cursor = "",
                                                   const CallOptions& options = {});
  // POST externalcontact/batch/get_by_user (<= 100 userids, limit <= 100)
  ApiResult<WecomContactsPage> BatchGetByUser(const std::vector<std::string>& userids,
                                              const std::string& cursor, int64_t limit = 100,
                                              const CallOptions& options = {});
  // POST externalcontact/get_corp_tag_list (both lists empty = every group)
  ApiResult<std::vector<WecomCorpTagGroup>> GetCorpTagList(
      const std::vector<std::string>& tag_ids = {}, const std::vector<std::string>& group_ids = {},
      const CallOptions& options = {});
  // POST externalcontact/add_corp_tag (not idempotent: an unknown outcome is not resent)
  ApiResult<WecomCorpTagGroup> AddCorpTag(const WecomNewTags& request,
                                          const CallOptions& options = {});
  // POST externalcontact/mark_tag (idempotent: setting the same tags twice is harmless)
  ApiResult<Done> MarkTag(const std::string& userid, const std::string& external_userid,
                          const std::vector<std::string>& add_tag,
                          const std::vector<std::string>& remove_tag,
                          const CallOptions& options = {});
  // POST externalcontact/add_contact_way (not idempotent)
  ApiResult<WecomContactWay> AddContactWay(const WecomContactWayRequest& request,
                                           const CallOptions& options = {});
  // POST externalcontact/del_contact_way (not resent after an unknown outcome)
  ApiResult<Done> DelContactWay(const std::string& config_id, const CallOptions& options = {});
  // POST externalcontact/send_welcome_msg (single-shot by design: never resent)
  ApiResult<Done> SendWelcomeMsg(const WecomWelcomeMessage& message,
                                 const CallOptions& options = {});
  // POST externalcontact/add_msg_template (no idempotency key: never resent)
  ApiResult<WecomGroupMessageTask> AddMsgTemplate(const WecomGroupMessage& message,
                                                  const CallOptions& options = {});
  // POST externalcontact/get_groupmsg_list_v2
  ApiResult<WecomGroupMessagesPage> GetGroupMsgListV2(const WecomGroupMessageQuery& query,
                                                      const CallOptions& options = {});
  // POST externalcontact/get_groupmsg_send_result
  ApiResult<WecomSendResultsPage> GetGroupMsgSendResult(const std::string& msgid,
                                                        const std::string& userid,
                                                        const std::string& cursor = "",
                                                        int64_t limit = 500,
                                                        const CallOptions& options = {});
  // POST message/send with the app credential (resent after an unknown outcome only with
  // enable_duplicate_check).
  ApiResult<WecomAppMessageResult> SendAppMessage(const WecomAppMessage& message,
                                                  const CallOptions& options = {});

 private:
  Credential contact_;
  ApiCaller& caller_;
  std::optional<Credential> app_;
};

}  // namespace scrm::platform
