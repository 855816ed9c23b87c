// The dispatcher's two small seams (dispatcher.h): the campaign's message for a recipient, and
// the WeCom group-message records the reconcile and the result polls read. Production
// implementations: TemplateMessageSource (campaigns/engine/dispatcher_message.h) and, over the
// WeCom client, src/app's WecomGroupMessageRecords; tests use fakes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "channels/common/outbound.h"
#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/model/message_template.h"

namespace scrm::campaigns {

// Called from the dispatcher thread only.
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // The campaign's template version rendered for `customer_id`, with `link` as {{link}} when
  // given. customer_id 0: the one text of a WeCom group-message task, shared by all its
  // recipients (customer variables are empty; owner is `sender`). FailedPrecondition when it
  // does not render (a limit, a missing placeholder): the deliveries fail with that message.
  virtual core::StatusOr<model::MessageContent> Render(const model::Campaign& campaign,
                                                       int64_t customer_id,
                                                       const std::string& sender,
                                                       const std::optional<std::string>& link) = 0;
};

// One task of get_groupmsg_list_v2.
struct GroupTaskRecord {
  std::string msgid;
  int64_t create_time_s = 0;
};

// One recipient of get_groupmsg_send_result.
struct RecipientResult {
  std::string external_userid;
  int64_t status = 0;  // 0 not yet sent, 1 sent, 2 not a friend, 3 recipient quota used up
};

// Reads of the WeCom group-message records (PROTOCOL §4.1). Thread-safe as the client is.
class GroupMessageRecords {
 public:
  virtual ~GroupMessageRecords() = default;
  // The single-chat tasks `sender` created in [start_s, end_s] (every page).
  virtual platform::ApiResult<std::vector<GroupTaskRecord>> ListTasks(const std::string& account,
                                                                      const std::string& sender,
                                                                      int64_t start_s,
                                                                      int64_t end_s) = 0;
  // Every recipient of task `msgid` for member `sender` (every page).
  virtual platform::ApiResult<std::vector<RecipientResult>> SendResults(
      const std::string& account, const std::string& msgid, const std::string& sender) = 0;
};

}  // namespace scrm::campaigns
