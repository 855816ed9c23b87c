#include "src/platform/wecom_client.h"

#include <utility>

namespace scrm::platform {
namespace {

using internal::BadReply;
using internal::Invalid;
using nlohmann::json;

constexpr size_t kMaxUserids = 100;     // batch/get_by_user
constexpr size_t kMaxAttachments = 9;   // send_welcome_msg, add_msg_template
constexpr size_t kMaxStateLength = 30;  // add_contact_way state

// Reads the array `key` of `fields` as objects; `each(JsonFields&)` reads one element. An
// element that is not an object fails the whole parse.
template <typename Each>
void ForEachObject(JsonFields& fields, std::string_view key, bool required, Each each) {
  const json* array = fields.Array(key, required);
  if (array == nullptr) return;
  size_t i = 0;
  for (const json& element : *array) {
    JsonFields item(element,
                    fields.path() + "." + std::string(key) + "[" + std::to_string(i++) + "]");
    if (item.ok()) each(item);
    if (!item.ok()) {
      fields.Fail(item.error());
      return;
    }
  }
}

// Reads the object `key` of `fields` with `read(JsonFields&)`.
template <typename Read>
void WithObject(JsonFields& fields, std::string_view key, bool required, Read read) {
  const json* object = fields.Object(key, required);
  if (object == nullptr) return;
  JsonFields inner(*object, fields.path() + "." + std::string(key));
  read(inner);
  if (!inner.ok()) fields.Fail(inner.error());
}

WecomExternalContact ReadContact(JsonFields& f) {
  WecomExternalContact c;
  c.external_userid = f.String("external_userid", /*required=*/true);
  c.name = f.String("name");
  c.position = f.String("position");
  c.avatar = f.String("avatar");
  c.corp_name = f.String("corp_name");
  c.corp_full_name = f.String("corp_full_name");
  c.type = f.Int("type");
  c.gender = f.Int("gender");
  c.unionid = f.String("unionid");
  return c;
}

WecomFollowUser ReadFollowUser(JsonFields& f) {
  WecomFollowUser u;
  u.userid = f.String("userid", /*required=*/true);
  u.remark = f.String("remark");
  u.description = f.String("description");
  u.createtime = f.Int("createtime");
  ForEachObject(f, "tags", false, [&](JsonFields& t) {
    WecomFollowTag tag;
    tag.group_name = t.String("group_name");
    tag.tag_name = t.String("tag_name");
    tag.tag_id = t.String("tag_id");
    tag.type = t.Int("type");
    u.tags.push_back(std::move(tag));
  });
  u.tag_ids = f.Strings("tag_id");
  u.remark_corp_name = f.String("remark_corp_name");
  u.remark_mobiles = f.Strings("remark_mobiles");
  u.oper_userid = f.String("oper_userid");
  u.add_way = f.Int("add_way");
  u.state = f.String("state");
  return u;
}

WecomCorpTagGroup ReadTagGroup(JsonFields& f) {
  WecomCorpTagGroup g;
  g.group_id = f.String("group_id", /*required=*/true);
  g.group_name = f.String("group_name");
  g.create_time = f.Int("create_time");
  g.order = f.Int("order");
  g.deleted = f.Bool("deleted");
  ForEachObject(f, "tag", false, [&](JsonFields& t) {
    WecomCorpTag tag;
    tag.id = t.String("id", /*required=*/true);
    tag.name = t.String("name");
    tag.create_time = t.Int("create_time");
    tag.order = t.Int("order");
    tag.deleted = t.Bool("deleted");
    g.tags.push_back(std::move(tag));
  });
  return g;
}

json TagFilter(const std::vector<std::vector<std::string>>& groups) {
  json list = json::array();
  for (const auto& tags : groups) list.push_back({{"tag_list", tags}});
  return {{"group_list", list}};
}

}  // namespace

WecomClient::WecomClient(Credential contact, ApiCaller& caller, std::optional<Credential> app)
    : contact_(std::move(contact)), caller_(caller), app_(std::move(app)) {}

ApiResult<WecomContactDetail> WecomClient::GetExternalContact(const std::string& external_userid,
                                                              const std::string& cursor,
                                                              const CallOptions& options) {
  if (external_userid.empty()) return Invalid("external_userid is empty");
  ApiCall call = internal::Get("externalcontact/get", options);
  call.query.emplace_back("external_userid", UrlEncode(external_userid));
  if (!cursor.empty()) call.query.emplace_back("cursor", UrlEncode(cursor));
  return internal::Run<WecomContactDetail>(
      caller_, contact_, std::move(call), nullptr,
      [](const json& reply) -> ApiResult<WecomContactDetail> {
        JsonFields f(reply, "reply");
        WecomContactDetail detail;
        WithObject(f, "external_contact", true,
                   [&](JsonFields& c) { detail.contact = ReadContact(c); });
        ForEachObject(f, "follow_user", false,
                      [&](JsonFields& u) { detail.follow_users.push_back(ReadFollowUser(u)); });
        detail.next_cursor = f.String("next_cursor");
        if (!f.ok()) return BadReply(f);
        return detail;
      });
}

ApiResult<WecomContactsPage> WecomClient::BatchGetByUser(const std::vector<std::string>& userids,
                                                         const std::string& cursor, int64_t limit,
                                                         const CallOptions& options) {
  if (userids.empty() || userids.size() > kMaxUserids) return Invalid("1..100 userids");
  if (limit < 1 || limit > 100) return Invalid("limit must be 1..100");
  // Current docs: userid_list (older SDKs send a single userid; PROTOCOL §7.7).
  const json body = {{"userid_list", userids}, {"cursor", cursor}, {"limit", limit}};
  return internal::Run<WecomContactsPage>(
      caller_, contact_, internal::Post("externalcontact/batch/get_by_user", options, true), &body,
      [](const json& reply) -> ApiResult<WecomContactsPage> {
        JsonFields f(reply, "reply");
        WecomContactsPage page;
        ForEachObject(f, "external_contact_list", false, [&](JsonFields& item) {
          WecomContactsPage::Item entry;
          WithObject(item, "external_contact", true,
                     [&](JsonFields& c) { entry.contact = ReadContact(c); });
          WithObject(item, "follow_info", false,
                     [&](JsonFields& u) { entry.follow_info = ReadFollowUser(u); });
          page.items.push_back(std::move(entry));
        });
        page.next_cursor = f.String("next_cursor");
        if (!f.ok()) return BadReply(f);
        return page;
      });
}

ApiResult<std::vector<WecomCorpTagGroup>> WecomClient::GetCorpTagList(
    const std::vector<std::string>& tag_ids, const std::vector<std::string>& group_ids,
    const CallOptions& options) {
  json body = json::object();
  if (!tag_ids.empty()) body["tag_id"] = tag_ids;
  if (!group_ids.empty()) body["group_id"] = group_ids;
  return internal::Run<std::vector<WecomCorpTagGroup>>(
      caller_, contact_, internal::Post("externalcontact/get_corp_tag_list", options, true), &body,
      [](const json& reply) -> ApiResult<std::vector<WecomCorpTagGroup>> {
        JsonFields f(reply, "reply");
        std::vector<WecomCorpTagGroup> groups;
        ForEachObject(f, "tag_group", false,
                      [&](JsonFields& g) { groups.push_back(ReadTagGroup(g)); });
        if (!f.ok()) return BadReply(f);
        return groups;
      });
}

ApiResult<WecomCorpTagGroup> WecomClient::AddCorpTag(const WecomNewTags& request,
                                                     const CallOptions& options) {
  if (request.tags.empty()) return Invalid("at least one tag (no empty groups)");
  if (request.group_id.empty() && request.group_name.empty()) {
    return Invalid("group_id or group_name is required");
  }
  json body = json::object();
  if (!request.group_id.empty()) {
    body["group_id"] = request.group_id;
  } else {
    body["group_name"] = request.group_name;
    if (request.group_order != 0) body["order"] = request.group_order;
  }
  json tags = json::array();
  for (const auto& tag : request.tags) {
    if (tag.name.empty()) return Invalid("tag name is empty");
    json t = {{"name", tag.name}};
    if (tag.order != 0) t["order"] = tag.order;
    tags.push_back(std::move(t));
  }
  body["tag"] = std::move(tags);
  if (request.agentid != 0) body["agentid"] = request.agentid;
  return internal::Run<WecomCorpTagGroup>(
      caller_, contact_, internal::Post("externalcontact/add_corp_tag", options, false), &body,
      [](const json& reply) -> ApiResult<WecomCorpTagGroup> {
        JsonFields f(reply, "reply");
        WecomCorpTagGroup group;
        WithObject(f, "tag_group", true, [&](JsonFields& g) { group = ReadTagGroup(g); });
        if (!f.ok()) return BadReply(f);
        return group;
      });
}

ApiResult<Done> WecomClient::MarkTag(const std::string& userid, const std::string& external_userid,
                                     const std::vector<std::string>& add_tag,
                                     const std::vector<std::string>& remove_tag,
                                     const CallOptions& options) {
  if (userid.empty() || external_userid.empty()) return Invalid("userid and external_userid");
  if (add_tag.empty() && remove_tag.empty()) return Invalid("add_tag and remove_tag both empty");
  json body = {{"userid", userid}, {"external_userid", external_userid}};
  if (!add_tag.empty()) body["add_tag"] = add_tag;
  if (!remove_tag.empty()) body["remove_tag"] = remove_tag;
  return internal::Run<Done>(caller_, contact_,
                             internal::Post("externalcontact/mark_tag", options, true), &body,
                             [](const json&) -> ApiResult<Done> { return Done{}; });
}

ApiResult<WecomContactWay> WecomClient::AddContactWay(const WecomContactWayRequest& request,
                                                      const CallOptions& options) {
  if (request.type != 1 && request.type != 2) return Invalid("type must be 1 or 2");
  if (request.scene != 1 && request.scene != 2) return Invalid("scene must be 1 or 2");
  if (request.type == 1 && request.users.size() + request.parties.size() != 1) {
    return Invalid("type 1 takes exactly one user");
  }
  if (request.state.size() > kMaxStateLength) return Invalid("state longer than 30 characters");
  json body = {
      {"type", request.type}, {"scene", request.scene}, {"skip_verify", request.skip_verify}};
  if (request.style != 0) body["style"] = request.style;
  if (!request.remark.empty()) body["remark"] = request.remark;
  if (!request.state.empty()) body["state"] = request.state;
  if (!request.users.empty()) body["user"] = request.users;
  if (!request.parties.empty()) body["party"] = request.parties;
  if (request.is_temp) {
    body["is_temp"] = true;
    if (request.expires_in != 0) body["expires_in"] = request.expires_in;
    if (request.chat_expires_in != 0) body["chat_expires_in"] = request.chat_expires_in;
    if (!request.unionid.empty()) body["unionid"] = request.unionid;
  }
  if (request.is_exclusive) body["is_exclusive"] = true;
  const bool needs_qr = request.scene == 2;
  return internal::Run<WecomContactWay>(
      caller_, contact_, internal::Post("externalcontact/add_contact_way", options, false), &body,
      [needs_qr](const json& reply) -> ApiResult<WecomContactWay> {
        JsonFields f(reply, "reply");
        WecomContactWay way;
        way.config_id = f.String("config_id", /*required=*/true);
        way.qr_code = f.String("qr_code", /*required=*/needs_qr);
        if (!f.ok()) return BadReply(f);
        return way;
      });
}

ApiResult<Done> WecomClient::DelContactWay(const std::string& config_id,
                                           const CallOptions& options) {
  if (config_id.empty()) return Invalid("config_id is empty");
  json body = {{"config_id", config_id}};
  return internal::Run<Done>(caller_, contact_,
                             internal::Post("externalcontact/del_contact_way", options, false),
                             &body, [](const json&) -> ApiResult<Done> { return Done{}; });
}

ApiResult<Done> WecomClient::SendWelcomeMsg(const WecomWelcomeMessage& message,
                                            const CallOptions& options) {
  if (message.welcome_code.empty()) return Invalid("welcome_code is empty");
  if (!message.attachments.is_array() || message.attachments.size() > kMaxAttachments) {
    return Invalid("attachments must be an array of at most 9");
  }
  if (message.text.empty() && message.attachments.empty()) return Invalid("nothing to send");
  json body = {{"welcome_code", message.welcome_code}};
  if (!message.text.empty()) body["text"] = {{"content", message.text}};
  if (!message.attachments.empty()) body["attachments"] = message.attachments;
  return internal::Run<Done>(caller_, contact_,
                             internal::Post("externalcontact/send_welcome_msg", options, false),
                             &body, [](const json&) -> ApiResult<Done> { return Done{}; });
}

ApiResult<WecomGroupMessageTask> WecomClient::AddMsgTemplate(const WecomGroupMessage& message,
                                                             const CallOptions& options) {
  if (message.chat_type != "single" && message.chat_type != "group") {
    return Invalid("chat_type must be single or group");
  }
  if (message.chat_type == "group" && message.sender.empty()) {
    return Invalid("sender is required for chat_type group");
  }
  if (!message.attachments.is_array() || message.attachments.size() > kMaxAttachments) {
    return Invalid("attachments must be an array of at most 9");
  }
  if (message.text.empty() && message.attachments.empty()) return Invalid("nothing to send");
  json body = {{"chat_type", message.chat_type}};
  if (!message.external_userids.empty()) body["external_userid"] = message.external_userids;
  if (!message.chat_ids.empty()) body["chat_id_list"] = message.chat_ids;
  if (!message.tag_filter.empty()) body["tag_filter"] = TagFilter(message.tag_filter);
  if (!message.sender.empty()) body["sender"] = message.sender;
  if (message.allow_select) body["allow_select"] = true;
  if (!message.text.empty()) body["text"] = {{"content", message.text}};
  if (!message.attachments.empty()) body["attachments"] = message.attachments;
  return internal::Run<WecomGroupMessageTask>(
      caller_, contact_, internal::Post("externalcontact/add_msg_template", options, false), &body,
      [](const json& reply) -> ApiResult<WecomGroupMessageTask> {
        JsonFields f(reply, "reply");
        WecomGroupMessageTask task;
        // The task exists once errcode is 0: a missing msgid is reported, not treated as a
        // failure that would invite a second task.
        task.msgid = f.String("msgid");
        task.fail_list = f.Strings("fail_list");
        if (!f.ok()) return BadReply(f);
        return task;
      });
}

ApiResult<WecomGroupMessagesPage> WecomClient::GetGroupMsgListV2(
    const WecomGroupMessageQuery& query, const CallOptions& options) {
  if (query.end_time <= query.start_time) return Invalid("end_time must be after start_time");
  if (query.limit < 1 || query.limit > 100) return Invalid("limit must be 1..100");
  json body = {{"chat_type", query.chat_type},
               {"start_time", query.start_time},
               {"end_time", query.end_time},
               {"filter_type", query.filter_type},
               {"limit", query.limit}};
  if (!query.creator.empty()) body["creator"] = query.creator;
  if (!query.cursor.empty()) body["cursor"] = query.cursor;
  return internal::Run<WecomGroupMessagesPage>(
      caller_, contact_, internal::Post("externalcontact/get_groupmsg_list_v2", options, true),
      &body, [](const json& reply) -> ApiResult<WecomGroupMessagesPage> {
        JsonFields f(reply, "reply");
        WecomGroupMessagesPage page;
        ForEachObject(f, "group_msg_list", false, [&](JsonFields& m) {
          WecomGroupMessagesPage::Item item;
          item.msgid = m.String("msgid", /*required=*/true);
          item.creator = m.String("creator");
          // The documented reply gives create_time as a string ("1605171726"); a number is
          // accepted too.
          const std::string created = m.Id("create_time");
          if (!created.empty() && (created.size() > 18 ||
                                   created.find_first_not_of("0123456789") != std::string::npos)) {
            m.Fail("create_time: not a unix time");
          } else if (!created.empty()) {
            item.create_time = std::stoll(created);
          }
          item.create_type = m.Int("create_type");
          WithObject(m, "text", false, [&](JsonFields& t) { item.text = t.String("content"); });
          page.items.push_back(std::move(item));
        });
        page.next_cursor = f.String("next_cursor");
        if (!f.ok()) return BadReply(f);
        return page;
      });
}

ApiResult<WecomSendResultsPage> WecomClient::GetGroupMsgSendResult(const std::string& msgid,
                                                                   const std::string& userid,
                                                                   const std::string& cursor,
                                                                   int64_t limit,
                                                                   const CallOptions& options) {
  if (msgid.empty() || userid.empty()) return Invalid("msgid and userid are required");
  if (limit < 1 || limit > 1000) return Invalid("limit must be 1..1000");
  json body = {{"msgid", msgid}, {"userid", userid}, {"limit", limit}};
  if (!cursor.empty()) body["cursor"] = cursor;
  return internal::Run<WecomSendResultsPage>(
      caller_, contact_, internal::Post("externalcontact/get_groupmsg_send_result", options, true),
      &body, [](const json& reply) -> ApiResult<WecomSendResultsPage> {
        JsonFields f(reply, "reply");
        WecomSendResultsPage page;
        ForEachObject(f, "send_list", false, [&](JsonFields& s) {
          WecomSendResultsPage::Item item;
          item.external_userid = s.String("external_userid");
          item.chat_id = s.String("chat_id");
          item.userid = s.String("userid");
          item.status = s.Int("status", /*required=*/true);
          item.send_time = s.Int("send_time");
          page.items.push_back(std::move(item));
        });
        page.next_cursor = f.String("next_cursor");
        if (!f.ok()) return BadReply(f);
        return page;
      });
}

ApiResult<WecomAppMessageResult> WecomClient::SendAppMessage(const WecomAppMessage& message,
                                                             const CallOptions& options) {
  if (!app_) {
    ApiError error;
    error.outcome = Outcome::kConfigError;
    error.message = "no app credential configured for message/send";
    return error;
  }
  if (message.touser.empty() && message.toparty.empty() && message.totag.empty()) {
    return Invalid("no recipient");
  }
  if (message.msgtype.empty() || !message.content.is_object()) {
    return Invalid("msgtype and its content object are required");
  }
  json body = {{"msgtype", message.msgtype},
               {"agentid", message.agentid},
               {message.msgtype, message.content},
               {"safe", message.safe ? 1 : 0},
               {"enable_duplicate_check", message.enable_duplicate_check ? 1 : 0}};
  if (message.enable_duplicate_check) {
    body["duplicate_check_interval"] = message.duplicate_check_interval;
  }
  if (!message.touser.empty()) body["touser"] = message.touser;
  if (!message.toparty.empty()) body["toparty"] = message.toparty;
  if (!message.totag.empty()) body["totag"] = message.totag;
  // With duplicate checking the platform drops a repeat inside the interval: safe to resend.
  return internal::Run<WecomAppMessageResult>(
      caller_, *app_, internal::Post("message/send", options, message.enable_duplicate_check),
      &body, [](const json& reply) -> ApiResult<WecomAppMessageResult> {
        JsonFields f(reply, "reply");
        WecomAppMessageResult result;
        result.msgid = f.Id("msgid");
        result.invaliduser = f.String("invaliduser");
        result.invalidparty = f.String("invalidparty");
        result.invalidtag = f.String("invalidtag");
        result.unlicenseduser = f.String("unlicenseduser");
        if (!f.ok()) return BadReply(f);
        return result;
      });
}

}  // namespace scrm::platform
