#include "channels/wecom/wecom_outbound.h"

#include <type_traits>
#include <utility>

namespace scrm::channels::wecom {
namespace {

platform::ApiError Error(platform::Outcome outcome, std::string message) {
  platform::ApiError error;
  error.outcome = outcome;
  error.message = std::move(message);
  return error;
}

// message/send answers partial failures with errcode 0 and "a|b" lists.
std::vector<std::string> SplitBars(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find('|', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

WecomOutbound::WecomOutbound(std::string account_id, platform::WecomClient& client)
    : account_id_(std::move(account_id)), client_(client) {}

platform::ApiResult<ContactInfo> WecomOutbound::ReadContact(const std::string& external_userid,
                                                            const ReadContactOptions& options) {
  // follow_user comes in pages of 500 members with next_cursor (PROTOCOL §4.1): every page is
  // read before anything is returned, since a caller that syncs the tags removes the platform
  // tags it is not given — a partial list would take away the corp tags of the members on
  // later pages.
  auto detail = client_.GetExternalContact(external_userid, "", options.call);
  if (!detail.ok()) return detail.error();
  const platform::WecomExternalContact contact = detail.value().contact;
  std::vector<platform::WecomFollowUser> follow_users = std::move(detail.value().follow_users);
  std::string cursor = detail.value().next_cursor;
  for (int pages = 1; !cursor.empty(); ++pages) {
    // A platform reply is untrusted: a cursor that does not move, or more pages than any corp
    // has members for, must not keep the caller here.
    if (pages >= options.max_pages) {
      return Error(platform::Outcome::kBadReply, "externalcontact/get: more than " +
                                                     std::to_string(options.max_pages) +
                                                     " pages of follow_user");
    }
    auto page = client_.GetExternalContact(external_userid, cursor, options.call);
    if (!page.ok()) return page.error();
    if (page.value().next_cursor == cursor) {
      return Error(platform::Outcome::kBadReply, "externalcontact/get: next_cursor did not move");
    }
    for (platform::WecomFollowUser& follow : page.value().follow_users) {
      follow_users.push_back(std::move(follow));
    }
    cursor = page.value().next_cursor;
  }
  ContactInfo info;
  info.unionid = contact.unionid;
  info.SetAttribute("wecom.name", contact.name);
  info.SetAttribute("wecom.position", contact.position);
  info.SetAttribute("wecom.corp_name", contact.corp_name);
  info.tags.emplace();
  for (const platform::WecomFollowUser& follow : follow_users) {
    for (const platform::WecomFollowTag& tag : follow.tags) {
      info.tags->push_back(
          model::PlatformTag{tag.group_name, tag.tag_name, tag.tag_id, static_cast<int>(tag.type)});
    }
  }
  return info;
}

platform::ApiResult<platform::Done> WecomOutbound::MarkTags(const TagTarget& target,
                                                            const std::vector<std::string>& add,
                                                            const std::vector<std::string>& remove,
                                                            const platform::CallOptions& options) {
  return client_.MarkTag(target.member, target.contact, add, remove, options);
}

platform::ApiResult<SendReceipt> WecomOutbound::Send(const OutboundMessage& message,
                                                     const platform::CallOptions& options) {
  return std::visit(
      [&](const auto& m) -> platform::ApiResult<SendReceipt> {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, platform::WecomWelcomeMessage>) {
          auto sent = client_.SendWelcomeMsg(m, options);
          if (!sent.ok()) return sent.error();
          return SendReceipt{};
        } else if constexpr (std::is_same_v<M, platform::WecomGroupMessage>) {
          auto task = client_.AddMsgTemplate(m, options);
          if (!task.ok()) return task.error();
          return SendReceipt{task.value().msgid, task.value().fail_list};
        } else if constexpr (std::is_same_v<M, platform::WecomAppMessage>) {
          auto sent = client_.SendAppMessage(m, options);
          if (!sent.ok()) return sent.error();
          return SendReceipt{sent.value().msgid, SplitBars(sent.value().invaliduser)};
        } else {
          return Error(platform::Outcome::kRejected,
                       "WeCom account " + account_id_ + " cannot send an Official Account message");
        }
      },
      message);
}

platform::ApiResult<ContactWay> WecomOutbound::CreateContactWay(
    const ContactWayRequest& request, const platform::CallOptions& options) {
  if (request.members.empty()) {
    return Error(platform::Outcome::kRejected, "a WeCom contact way needs at least one member");
  }
  if (request.temporary && request.members.size() != 1) {
    // Temp-session mode takes a single member (PROTOCOL §4.1 add_contact_way).
    return Error(platform::Outcome::kRejected,
                 "a temporary WeCom contact way takes exactly one member");
  }
  platform::WecomContactWayRequest way;
  way.type = request.members.size() == 1 ? 1 : 2;
  way.scene = 2;  // a QR code (1 is a mini-program button, which has no qr_code)
  way.remark = request.remark;
  way.skip_verify = request.skip_verify;
  way.state = request.state;
  way.users = request.members;
  way.is_temp = request.temporary;
  if (request.temporary) way.expires_in = request.expires_in_s;
  auto created = client_.AddContactWay(way, options);
  if (!created.ok()) return created.error();
  ContactWay out;
  out.id = created.value().config_id;
  out.qr_image = created.value().qr_code;
  return out;
}

platform::ApiResult<platform::Done> WecomOutbound::DeleteContactWay(
    const std::string& id, const platform::CallOptions& options) {
  return client_.DelContactWay(id, options);
}

}  // namespace scrm::channels::wecom
