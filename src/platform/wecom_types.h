// The value types of the WeCom (企业微信) APIs the product uses (PROTOCOL §4.1): what
// WecomClient sends and returns, and the message kinds a WeCom account sends through the outbound
// seam (channels/common/outbound.h). Plain values, no behaviour.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace scrm::platform {

// external_contact of externalcontact/get and batch/get_by_user.
struct WecomExternalContact {
  std::string external_userid;  // external_userid
  std::string name;
  std::string position;
  std::string avatar;
  std::string corp_name;
  std::string corp_full_name;
  int64_t type = 0;     // 1 WeChat user, 2 WeCom user
  int64_t gender = 0;   // 0 unknown, 1 male, 2 female
  std::string unionid;  // only for type 1 when the corp is bound to an open-platform account
};

struct WecomFollowTag {
  std::string group_name;
  std::string tag_name;
  std::string tag_id;
  int64_t type = 0;  // 1 企业标签, 2 用户自定义, 3 规则组标签
};

// follow_user[] of externalcontact/get (follow_info of batch/get_by_user has tag ids only).
struct WecomFollowUser {
  std::string userid;  // the member (employee)
  std::string remark;
  std::string description;
  int64_t createtime = 0;
  std::vector<WecomFollowTag> tags;  // externalcontact/get
  std::vector<std::string> tag_ids;  // batch/get_by_user follow_info.tag_id
  std::string remark_corp_name;
  std::vector<std::string> remark_mobiles;
  std::string oper_userid;
  int64_t add_way = 0;
  std::string state;  // the 联系我 state that produced this relation
};

struct WecomContactDetail {
  WecomExternalContact contact;
  std::vector<WecomFollowUser> follow_users;
  std::string next_cursor;  // follow_user paginates beyond 500 followers
};

struct WecomContactsPage {
  struct Item {
    WecomExternalContact contact;
    WecomFollowUser follow_info;
  };
  std::vector<Item> items;
  std::string next_cursor;  // "" on the last page
};

struct WecomCorpTag {
  std::string id;
  std::string name;
  int64_t create_time = 0;
  int64_t order = 0;
  bool deleted = false;
};

struct WecomCorpTagGroup {
  std::string group_id;
  std::string group_name;
  int64_t create_time = 0;
  int64_t order = 0;
  bool deleted = false;
  std::vector<WecomCorpTag> tags;
};

struct WecomNewTags {
  std::string group_id;    // add to this group (group_name / group_order then ignored)...
  std::string group_name;  // ...or to the group of this name (created if absent)
  int64_t group_order = 0;
  struct Tag {
    std::string name;
    int64_t order = 0;
  };
  std::vector<Tag> tags;  // at least one
  int64_t agentid = 0;    // 0 = not sent
};

struct WecomContactWayRequest {
  int64_t type = 1;   // 1 single member, 2 several
  int64_t scene = 2;  // 1 mini-program button, 2 QR code
  int64_t style = 0;  // 0 = not sent
  std::string remark;
  bool skip_verify = true;
  std::string state;  // <= 30 chars; comes back as State in add_external_contact
  std::vector<std::string> users;
  std::vector<int64_t> parties;
  bool is_temp = false;
  int64_t expires_in = 0;       // temp only; 0 = not sent
  int64_t chat_expires_in = 0;  // temp only; 0 = not sent
  std::string unionid;          // temp only
  bool is_exclusive = false;
};

struct WecomContactWay {
  std::string config_id;  // keep it: needed to update / delete the way
  std::string qr_code;    // scene 2 only
};

struct WecomWelcomeMessage {
  std::string welcome_code;  // WelcomeCode of the add_external_contact event (valid 20 s, once)
  std::string text;          // text.content; may be empty when attachments are given
  nlohmann::json attachments = nlohmann::json::array();  // <= 9, PROTOCOL §4.1 shapes
};

struct WecomGroupMessage {
  std::string chat_type = "single";  // single | group
  std::vector<std::string> external_userids;
  std::vector<std::string> chat_ids;
  std::vector<std::vector<std::string>> tag_filter;  // tag_filter.group_list[].tag_list
  std::string sender;                                // required for chat_type group
  bool allow_select = false;
  std::string text;
  nlohmann::json attachments = nlohmann::json::array();
};

struct WecomGroupMessageTask {
  std::string msgid;
  std::vector<std::string> fail_list;  // recipients not reachable
};

struct WecomGroupMessageQuery {
  std::string chat_type = "single";
  int64_t start_time = 0;  // span <= 1 month
  int64_t end_time = 0;
  std::string creator;      // "" = any
  int64_t filter_type = 2;  // 0 企业发表, 1 个人发表, 2 all
  int64_t limit = 50;       // <= 100
  std::string cursor;
};

struct WecomGroupMessagesPage {
  struct Item {
    std::string msgid;
    std::string creator;
    int64_t create_time = 0;
    int64_t create_type = 0;
    std::string text;  // text.content
  };
  std::vector<Item> items;
  std::string next_cursor;
};

struct WecomSendResultsPage {
  struct Item {
    std::string external_userid;
    std::string chat_id;
    std::string userid;
    int64_t status = 0;  // 0 未发送, 1 已发送, 2 not a friend, 3 recipient quota used up
    int64_t send_time = 0;
  };
  std::vector<Item> items;
  std::string next_cursor;
};

struct WecomAppMessage {
  std::string touser;  // "UserID1|UserID2"
  std::string toparty;
  std::string totag;
  int64_t agentid = 0;
  std::string msgtype = "text";
  nlohmann::json content = nlohmann::json::object();  // the member named msgtype
  bool safe = false;
  // The platform's idempotency key: with it a send whose outcome is unknown is retried.
  bool enable_duplicate_check = false;
  int64_t duplicate_check_interval = 1800;  // seconds, <= 4 h
};

struct WecomAppMessageResult {
  std::string msgid;
  std::string invaliduser;  // partial failures come back with errcode 0
  std::string invalidparty;
  std::string invalidtag;
  std::string unlicenseduser;
};

}  // namespace scrm::platform
