#include "src/model/message_template.h"

#include <type_traits>

namespace scrm::model {

std::string_view TemplateChannelName(TemplateChannel channel) {
  switch (channel) {
    case TemplateChannel::kWecomMessage: return "wecom_message";
    case TemplateChannel::kOaTemplate: return "oa_template";
    case TemplateChannel::kOaCustomText: return "oa_custom_text";
    case TemplateChannel::kOaCustomNews: return "oa_custom_news";
  }
  return "wecom_message";
}

std::optional<TemplateChannel> ParseTemplateChannel(std::string_view name) {
  for (TemplateChannel channel : {TemplateChannel::kWecomMessage, TemplateChannel::kOaTemplate,
                                  TemplateChannel::kOaCustomText, TemplateChannel::kOaCustomNews}) {
    if (TemplateChannelName(channel) == name) return channel;
  }
  return std::nullopt;
}

std::string_view WecomAttachmentType(const WecomAttachment& attachment) {
  return std::visit(
      [](const auto& a) -> std::string_view {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, WecomImage>) return "image";
        if constexpr (std::is_same_v<T, WecomLink>) return "link";
        return "miniprogram";
      },
      attachment);
}

TemplateChannel ChannelOf(const MessageContent& content) {
  switch (content.index()) {
    case 0: return TemplateChannel::kWecomMessage;
    case 1: return TemplateChannel::kOaTemplate;
    case 2: return TemplateChannel::kOaCustomText;
    default: return TemplateChannel::kOaCustomNews;
  }
}

}  // namespace scrm::model
