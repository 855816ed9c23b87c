// Message templates as values: the content of one message per channel kind — a WeCom customer
// message (text and attachments), an OA template message, an OA customer-service (客服) text or
// news message — and the stored template around it. Each field mirrors the platform's JSON member
// (PROTOCOL §4.1 send_welcome_msg / add_msg_template, §4.2 message/template/send and
// message/custom/send). The same types hold a template (fields are mustache sources) and a
// rendered message (fields are the text to send). Parsed, checked and rendered by
// campaigns/render (docs/templates.md); plain data here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace scrm::model {

// Which send API a template is for.
enum class TemplateChannel {
  kWecomMessage,  // "wecom_message": WeCom welcome message / group message task (text +
                  // attachments)
  kOaTemplate,    // "oa_template": OA message/template/send
  kOaCustomText,  // "oa_custom_text": OA message/custom/send, msgtype text
  kOaCustomNews,  // "oa_custom_news": OA message/custom/send, msgtype news
};

// The spellings above. Stable: stored and in the API.
std::string_view TemplateChannelName(TemplateChannel channel);
std::optional<TemplateChannel> ParseTemplateChannel(std::string_view name);

// attachments[].image: one of media_id (an uploaded image) or pic_url.
struct WecomImage {
  std::string media_id;
  std::string pic_url;

  friend bool operator==(const WecomImage&, const WecomImage&) = default;
};

// attachments[].link.
struct WecomLink {
  std::string title;
  std::string url;
  std::string desc;
  std::string picurl;

  friend bool operator==(const WecomLink&, const WecomLink&) = default;
};

// attachments[].miniprogram.
struct WecomMiniprogram {
  std::string title;
  std::string appid;
  std::string page;
  std::string pic_media_id;

  friend bool operator==(const WecomMiniprogram&, const WecomMiniprogram&) = default;
};

using WecomAttachment = std::variant<WecomImage, WecomLink, WecomMiniprogram>;

// "image" | "link" | "miniprogram": the attachment's msgtype.
std::string_view WecomAttachmentType(const WecomAttachment& attachment);

// A WeCom customer message: text.content and / or attachments (at least one of them).
struct WecomMessageContent {
  std::string text;  // text.content; "" = no text
  std::vector<WecomAttachment> attachments;

  friend bool operator==(const WecomMessageContent&, const WecomMessageContent&) = default;
};

// data.<key> of a template message.
struct OaTemplateField {
  std::string value;
  std::string color;  // "#RRGGBB" or "" (WeChat has ignored colours since 2023-05)

  friend bool operator==(const OaTemplateField&, const OaTemplateField&) = default;
};

// miniprogram of a template message.
struct OaMiniprogram {
  std::string appid;
  std::string pagepath;

  friend bool operator==(const OaMiniprogram&, const OaMiniprogram&) = default;
};

// An OA template message. miniprogram wins over url when both are set (PROTOCOL §4.2).
struct OaTemplateContent {
  std::string template_id;
  std::string url;  // "" = no jump URL
  std::optional<OaMiniprogram> miniprogram;
  std::map<std::string, OaTemplateField> data;  // keyword1, thing2, ... (the keys of the template)

  friend bool operator==(const OaTemplateContent&, const OaTemplateContent&) = default;
};

// An OA customer-service text message (text.content). WeChat shows <a href> links in it.
struct OaCustomTextContent {
  std::string content;

  friend bool operator==(const OaCustomTextContent&, const OaCustomTextContent&) = default;
};

// news.articles[] of a customer-service news message.
struct OaNewsArticle {
  std::string title;
  std::string description;
  std::string url;
  std::string picurl;

  friend bool operator==(const OaNewsArticle&, const OaNewsArticle&) = default;
};

struct OaCustomNewsContent {
  std::vector<OaNewsArticle> articles;

  friend bool operator==(const OaCustomNewsContent&, const OaCustomNewsContent&) = default;
};

// The content of one message; the alternative is the channel (ChannelOf).
using MessageContent =
    std::variant<WecomMessageContent, OaTemplateContent, OaCustomTextContent, OaCustomNewsContent>;

TemplateChannel ChannelOf(const MessageContent& content);

// A stored template: its latest version, or one version of its history.
struct MessageTemplate {
  int64_t id = 0;
  std::string name;  // unique, 1..64 bytes
  MessageContent content;
  int version = 1;
  bool enabled = true;
  // Where this version came from: a file of the templates folder ("file") or the API ("api").
  // A shipped template is refreshed from its file only while its latest version is a file's.
  std::string source = "api";
  int64_t created_at_ms = 0;  // when version 1 was saved
  int64_t updated_at_ms = 0;  // when this version was saved

  friend bool operator==(const MessageTemplate&, const MessageTemplate&) = default;
};

inline constexpr std::string_view kTemplateSourceFile = "file";
inline constexpr std::string_view kTemplateSourceApi = "api";

}  // namespace scrm::model
