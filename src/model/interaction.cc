#include "src/model/interaction.h"

#include <array>
#include <utility>

namespace scrm::model {
namespace {

constexpr std::array<std::pair<InteractionKind, std::string_view>, 31> kKindNames = {{
    {InteractionKind::kUnknown, "unknown"},
    {InteractionKind::kMessageText, "message.text"},
    {InteractionKind::kMessageImage, "message.image"},
    {InteractionKind::kMessageVoice, "message.voice"},
    {InteractionKind::kMessageVideo, "message.video"},
    {InteractionKind::kMessageLocation, "message.location"},
    {InteractionKind::kMessageLink, "message.link"},
    {InteractionKind::kSubscribe, "oa.subscribe"},
    {InteractionKind::kUnsubscribe, "oa.unsubscribe"},
    {InteractionKind::kScan, "oa.scan"},
    {InteractionKind::kMenuClick, "oa.menu_click"},
    {InteractionKind::kMenuView, "oa.menu_view"},
    {InteractionKind::kLocationReport, "oa.location_report"},
    {InteractionKind::kTemplateSendFinish, "oa.template_send_finish"},
    {InteractionKind::kMassSendFinish, "oa.mass_send_finish"},
    {InteractionKind::kEnterAgent, "wecom.enter_agent"},
    {InteractionKind::kContactAdd, "contact.add"},
    {InteractionKind::kContactAddHalf, "contact.add_half"},
    {InteractionKind::kContactEdit, "contact.edit"},
    {InteractionKind::kContactDelete, "contact.delete"},
    {InteractionKind::kFollowUserDelete, "contact.follow_user_delete"},
    {InteractionKind::kContactTransferFail, "contact.transfer_fail"},
    {InteractionKind::kChatCreate, "chat.create"},
    {InteractionKind::kChatUpdate, "chat.update"},
    {InteractionKind::kChatDismiss, "chat.dismiss"},
    {InteractionKind::kTagCreate, "tag.create"},
    {InteractionKind::kTagUpdate, "tag.update"},
    {InteractionKind::kTagDelete, "tag.delete"},
    {InteractionKind::kTagShuffle, "tag.shuffle"},
    {InteractionKind::kOtherEvent, "event.other"},
    {InteractionKind::kMalformed, "malformed"},
}};

}  // namespace

std::string_view KindName(InteractionKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<InteractionKind> ParseKind(std::string_view name) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

}  // namespace scrm::model
