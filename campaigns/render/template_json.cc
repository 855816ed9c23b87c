#include "campaigns/render/template_json.h"

#include <initializer_list>
#include <set>
#include <utility>

#include "src/core/strings.h"

namespace scrm::render {
namespace {

using nlohmann::json;

std::string Join(std::string_view path, std::string_view member) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += member;
  return out;
}

core::Status NotObject(const std::string& path) {
  return core::InvalidArgumentError(path + ": must be a JSON object");
}

core::Status OnlyMembersOf(const json& object, const std::string& path,
                           std::initializer_list<std::string_view> allowed) {
  for (const auto& item : object.items()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || item.key() == name;
    if (!known) {
      return core::InvalidArgumentError(Join(path, core::Printable(item.key(), 64)) +
                                        ": unknown member");
    }
  }
  return core::OkStatus();
}

// A string member: required ones must be present; optional ones default to "".
core::Status ReadString(const json& object, const std::string& path, std::string_view name,
                        bool required, std::string& out) {
  const auto it = object.find(std::string(name));
  if (it == object.end() || it->is_null()) {
    if (required) return core::InvalidArgumentError(Join(path, name) + ": required, a string");
    out.clear();
    return core::OkStatus();
  }
  if (!it->is_string()) return core::InvalidArgumentError(Join(path, name) + ": must be a string");
  out = it->get<std::string>();
  return core::OkStatus();
}

// The object member `name` (nullptr when absent or null).
core::StatusOr<const json*> ObjectMember(const json& object, const std::string& path,
                                         std::string_view name) {
  const auto it = object.find(std::string(name));
  if (it == object.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) return NotObject(Join(path, name));
  return &*it;
}

// The array member `name` (nullptr when absent or null).
core::StatusOr<const json*> ArrayMember(const json& object, const std::string& path,
                                        std::string_view name) {
  const auto it = object.find(std::string(name));
  if (it == object.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_array()) return core::InvalidArgumentError(Join(path, name) + ": must be an array");
  return &*it;
}

// Arrays longer than this are refused before their elements are read; the channel limits
// (limits.h) are smaller still.
constexpr size_t kMaxArrayItems = 64;

core::StatusOr<model::WecomAttachment> AttachmentFromJson(const json& item,
                                                          const std::string& path) {
  if (!item.is_object()) return NotObject(path);
  std::string msgtype;
  SCRM_RETURN_IF_ERROR(ReadString(item, path, "msgtype", true, msgtype));
  if (msgtype == "image") {
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(item, path, {"msgtype", "image"}));
    SCRM_ASSIGN_OR_RETURN(const json* body, ObjectMember(item, path, "image"));
    const std::string body_path = Join(path, "image");
    if (body == nullptr) return core::InvalidArgumentError(body_path + ": required, an object");
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(*body, body_path, {"media_id", "pic_url"}));
    model::WecomImage image;
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "media_id", false, image.media_id));
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "pic_url", false, image.pic_url));
    return model::WecomAttachment(std::move(image));
  }
  if (msgtype == "link") {
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(item, path, {"msgtype", "link"}));
    SCRM_ASSIGN_OR_RETURN(const json* body, ObjectMember(item, path, "link"));
    const std::string body_path = Join(path, "link");
    if (body == nullptr) return core::InvalidArgumentError(body_path + ": required, an object");
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(*body, body_path, {"title", "url", "desc", "picurl"}));
    model::WecomLink link;
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "title", true, link.title));
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "url", true, link.url));
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "desc", false, link.desc));
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "picurl", false, link.picurl));
    return model::WecomAttachment(std::move(link));
  }
  if (msgtype == "miniprogram") {
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(item, path, {"msgtype", "miniprogram"}));
    SCRM_ASSIGN_OR_RETURN(const json* body, ObjectMember(item, path, "miniprogram"));
    const std::string body_path = Join(path, "miniprogram");
    if (body == nullptr) return core::InvalidArgumentError(body_path + ": required, an object");
    SCRM_RETURN_IF_ERROR(
        OnlyMembersOf(*body, body_path, {"title", "appid", "page", "pic_media_id"}));
    model::WecomMiniprogram mini;
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "title", true, mini.title));
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "appid", true, mini.appid));
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "page", true, mini.page));
    SCRM_RETURN_IF_ERROR(ReadString(*body, body_path, "pic_media_id", true, mini.pic_media_id));
    return model::WecomAttachment(std::move(mini));
  }
  return core::InvalidArgumentError(Join(path, "msgtype") +
                                    ": must be \"image\", \"link\" or \"miniprogram\"");
}

core::StatusOr<model::MessageContent> WecomFromJson(const json& object, const std::string& path) {
  SCRM_RETURN_IF_ERROR(OnlyMembersOf(object, path, {"text", "attachments"}));
  model::WecomMessageContent content;
  SCRM_ASSIGN_OR_RETURN(const json* text, ObjectMember(object, path, "text"));
  if (text != nullptr) {
    const std::string text_path = Join(path, "text");
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(*text, text_path, {"content"}));
    SCRM_RETURN_IF_ERROR(ReadString(*text, text_path, "content", true, content.text));
  }
  SCRM_ASSIGN_OR_RETURN(const json* attachments, ArrayMember(object, path, "attachments"));
  if (attachments != nullptr) {
    if (attachments->size() > kMaxArrayItems) {
      return core::InvalidArgumentError(Join(path, "attachments") + ": too many items");
    }
    for (size_t i = 0; i < attachments->size(); ++i) {
      SCRM_ASSIGN_OR_RETURN(
          model::WecomAttachment attachment,
          AttachmentFromJson((*attachments)[i],
                             Join(path, "attachments[" + std::to_string(i) + "]")));
      content.attachments.push_back(std::move(attachment));
    }
  }
  return model::MessageContent(std::move(content));
}

core::StatusOr<model::MessageContent> OaTemplateFromJson(const json& object,
                                                         const std::string& path) {
  SCRM_RETURN_IF_ERROR(OnlyMembersOf(object, path, {"template_id", "url", "miniprogram", "data"}));
  model::OaTemplateContent content;
  SCRM_RETURN_IF_ERROR(ReadString(object, path, "template_id", true, content.template_id));
  SCRM_RETURN_IF_ERROR(ReadString(object, path, "url", false, content.url));
  SCRM_ASSIGN_OR_RETURN(const json* mini, ObjectMember(object, path, "miniprogram"));
  if (mini != nullptr) {
    const std::string mini_path = Join(path, "miniprogram");
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(*mini, mini_path, {"appid", "pagepath"}));
    model::OaMiniprogram program;
    SCRM_RETURN_IF_ERROR(ReadString(*mini, mini_path, "appid", true, program.appid));
    SCRM_RETURN_IF_ERROR(ReadString(*mini, mini_path, "pagepath", false, program.pagepath));
    content.miniprogram = std::move(program);
  }
  SCRM_ASSIGN_OR_RETURN(const json* data, ObjectMember(object, path, "data"));
  const std::string data_path = Join(path, "data");
  if (data == nullptr) return core::InvalidArgumentError(data_path + ": required, an object");
  if (data->size() > kMaxArrayItems) {
    return core::InvalidArgumentError(data_path + ": too many fields");
  }
  for (const auto& item : data->items()) {
    const std::string field_path = Join(data_path, core::Printable(item.key(), 64));
    if (!item.value().is_object()) return NotObject(field_path);
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(item.value(), field_path, {"value", "color"}));
    model::OaTemplateField field;
    SCRM_RETURN_IF_ERROR(ReadString(item.value(), field_path, "value", true, field.value));
    SCRM_RETURN_IF_ERROR(ReadString(item.value(), field_path, "color", false, field.color));
    content.data.emplace(item.key(), std::move(field));
  }
  return model::MessageContent(std::move(content));
}

core::StatusOr<model::MessageContent> OaTextFromJson(const json& object, const std::string& path) {
  SCRM_RETURN_IF_ERROR(OnlyMembersOf(object, path, {"text"}));
  SCRM_ASSIGN_OR_RETURN(const json* text, ObjectMember(object, path, "text"));
  const std::string text_path = Join(path, "text");
  if (text == nullptr) return core::InvalidArgumentError(text_path + ": required, an object");
  SCRM_RETURN_IF_ERROR(OnlyMembersOf(*text, text_path, {"content"}));
  model::OaCustomTextContent content;
  SCRM_RETURN_IF_ERROR(ReadString(*text, text_path, "content", true, content.content));
  return model::MessageContent(std::move(content));
}

core::StatusOr<model::MessageContent> OaNewsFromJson(const json& object, const std::string& path) {
  SCRM_RETURN_IF_ERROR(OnlyMembersOf(object, path, {"news"}));
  SCRM_ASSIGN_OR_RETURN(const json* news, ObjectMember(object, path, "news"));
  const std::string news_path = Join(path, "news");
  if (news == nullptr) return core::InvalidArgumentError(news_path + ": required, an object");
  SCRM_RETURN_IF_ERROR(OnlyMembersOf(*news, news_path, {"articles"}));
  SCRM_ASSIGN_OR_RETURN(const json* articles, ArrayMember(*news, news_path, "articles"));
  const std::string articles_path = Join(news_path, "articles");
  if (articles == nullptr) {
    return core::InvalidArgumentError(articles_path + ": required, an array");
  }
  if (articles->size() > kMaxArrayItems) {
    return core::InvalidArgumentError(articles_path + ": too many items");
  }
  model::OaCustomNewsContent content;
  for (size_t i = 0; i < articles->size(); ++i) {
    const std::string item_path = articles_path + "[" + std::to_string(i) + "]";
    const json& item = (*articles)[i];
    if (!item.is_object()) return NotObject(item_path);
    SCRM_RETURN_IF_ERROR(OnlyMembersOf(item, item_path, {"title", "description", "url", "picurl"}));
    model::OaNewsArticle article;
    SCRM_RETURN_IF_ERROR(ReadString(item, item_path, "title", true, article.title));
    SCRM_RETURN_IF_ERROR(ReadString(item, item_path, "description", false, article.description));
    SCRM_RETURN_IF_ERROR(ReadString(item, item_path, "url", true, article.url));
    SCRM_RETURN_IF_ERROR(ReadString(item, item_path, "picurl", false, article.picurl));
    content.articles.push_back(std::move(article));
  }
  return model::MessageContent(std::move(content));
}

void PutIfSet(json& object, const char* name, const std::string& value) {
  if (!value.empty()) object[name] = value;
}

json AttachmentToJson(const model::WecomAttachment& attachment) {
  json out;
  out["msgtype"] = std::string(model::WecomAttachmentType(attachment));
  if (const auto* image = std::get_if<model::WecomImage>(&attachment)) {
    json body = json::object();
    PutIfSet(body, "media_id", image->media_id);
    PutIfSet(body, "pic_url", image->pic_url);
    out["image"] = std::move(body);
  } else if (const auto* link = std::get_if<model::WecomLink>(&attachment)) {
    json body = {{"title", link->title}, {"url", link->url}};
    PutIfSet(body, "desc", link->desc);
    PutIfSet(body, "picurl", link->picurl);
    out["link"] = std::move(body);
  } else if (const auto* mini = std::get_if<model::WecomMiniprogram>(&attachment)) {
    out["miniprogram"] = {{"title", mini->title},
                          {"appid", mini->appid},
                          {"page", mini->page},
                          {"pic_media_id", mini->pic_media_id}};
  }
  return out;
}

}  // namespace

core::StatusOr<model::MessageContent> ContentFromJson(const json& json,
                                                      model::TemplateChannel channel,
                                                      std::string_view path) {
  const std::string root(path);
  if (!json.is_object()) return NotObject(root);
  switch (channel) {
    case model::TemplateChannel::kWecomMessage: return WecomFromJson(json, root);
    case model::TemplateChannel::kOaTemplate: return OaTemplateFromJson(json, root);
    case model::TemplateChannel::kOaCustomText: return OaTextFromJson(json, root);
    case model::TemplateChannel::kOaCustomNews: return OaNewsFromJson(json, root);
  }
  return core::InvalidArgumentError(root + ": unknown channel");
}

nlohmann::json ContentToJson(const model::MessageContent& content) {
  json out = json::object();
  if (const auto* wecom = std::get_if<model::WecomMessageContent>(&content)) {
    if (!wecom->text.empty()) out["text"] = {{"content", wecom->text}};
    if (!wecom->attachments.empty()) {
      json items = json::array();
      for (const auto& attachment : wecom->attachments)
        items.push_back(AttachmentToJson(attachment));
      out["attachments"] = std::move(items);
    }
  } else if (const auto* tmpl = std::get_if<model::OaTemplateContent>(&content)) {
    out["template_id"] = tmpl->template_id;
    PutIfSet(out, "url", tmpl->url);
    if (tmpl->miniprogram) {
      json mini = {{"appid", tmpl->miniprogram->appid}};
      PutIfSet(mini, "pagepath", tmpl->miniprogram->pagepath);
      out["miniprogram"] = std::move(mini);
    }
    json data = json::object();
    for (const auto& [key, field] : tmpl->data) {
      json value = {{"value", field.value}};
      PutIfSet(value, "color", field.color);
      data[key] = std::move(value);
    }
    out["data"] = std::move(data);
  } else if (const auto* text = std::get_if<model::OaCustomTextContent>(&content)) {
    out["text"] = {{"content", text->content}};
  } else if (const auto* news = std::get_if<model::OaCustomNewsContent>(&content)) {
    json articles = json::array();
    for (const auto& article : news->articles) {
      json item = {{"title", article.title}, {"url", article.url}};
      PutIfSet(item, "description", article.description);
      PutIfSet(item, "picurl", article.picurl);
      articles.push_back(std::move(item));
    }
    out["news"] = {{"articles", std::move(articles)}};
  }
  return out;
}

core::Status CheckTemplateName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTemplateNameBytes) {
    return core::InvalidArgumentError("name: must be 1..64 bytes");
  }
  if (core::Printable(name) != name) {
    return core::InvalidArgumentError("name: must not contain control characters");
  }
  return core::OkStatus();
}

core::StatusOr<TemplateDoc> TemplateDocFromJson(const json& json) {
  if (!json.is_object()) return NotObject("body");
  SCRM_RETURN_IF_ERROR(OnlyMembersOf(json, "",
                                     {"id", "name", "channel", "content", "enabled", "version",
                                      "variables", "source", "created_at_ms", "updated_at_ms"}));
  TemplateDoc doc;
  SCRM_RETURN_IF_ERROR(ReadString(json, "", "name", true, doc.name));
  SCRM_RETURN_IF_ERROR(CheckTemplateName(doc.name));
  std::string channel_name;
  SCRM_RETURN_IF_ERROR(ReadString(json, "", "channel", true, channel_name));
  const auto channel = model::ParseTemplateChannel(channel_name);
  if (!channel) {
    return core::InvalidArgumentError(
        "channel: must be wecom_message, oa_template, oa_custom_text or oa_custom_news");
  }
  const auto content = json.find("content");
  if (content == json.end() || content->is_null()) {
    return core::InvalidArgumentError("content: required, an object");
  }
  SCRM_ASSIGN_OR_RETURN(doc.content, ContentFromJson(*content, *channel, "content"));
  if (const auto it = json.find("enabled"); it != json.end() && !it->is_null()) {
    if (!it->is_boolean()) return core::InvalidArgumentError("enabled: must be true or false");
    doc.enabled = it->get<bool>();
  }
  if (const auto it = json.find("version"); it != json.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1000000000) {
      return core::InvalidArgumentError("version: must be an integer in 1..1000000000");
    }
    doc.version = static_cast<int>(it->get<int64_t>());
  }
  return doc;
}

}  // namespace scrm::render
