#include "campaigns/render/limits.h"

#include <utility>

#include "src/core/strings.h"

namespace scrm::render {
namespace {

using core::InvalidArgumentError;

std::string Index(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

// Checks one field. max is in bytes unless chars is set.
class FieldCheck {
 public:
  FieldCheck(const std::function<bool(const std::string&)>& dynamic) : dynamic_(dynamic) {}

  bool IsDynamic(const std::string& path) const { return dynamic_ && dynamic_(path); }

  core::Status Bytes(const std::string& path, const std::string& value, size_t max,
                     bool required) const {
    if (value.size() > max) {
      return InvalidArgumentError(path + ": " + std::to_string(value.size()) + " bytes, at most " +
                                  std::to_string(max));
    }
    if (required && value.empty() && !IsDynamic(path)) {
      return InvalidArgumentError(path + ": required, must not be empty");
    }
    return core::OkStatus();
  }

  core::Status Url(const std::string& path, const std::string& value, bool required) const {
    SCRM_RETURN_IF_ERROR(Bytes(path, value, kMaxUrlBytes, required));
    if (value.empty() || IsDynamic(path)) return core::OkStatus();
    if (!IsHttpUrl(value)) {
      return InvalidArgumentError(path + ": must be an http:// or https:// URL");
    }
    return core::OkStatus();
  }

  // An id or code: never templated.
  core::Status Id(const std::string& path, const std::string& value, bool required) const {
    return Bytes(path, value, kMaxIdBytes, required);
  }

 private:
  const std::function<bool(const std::string&)>& dynamic_;
};

core::Status CheckWecom(const model::WecomMessageContent& content, const FieldCheck& check) {
  const std::string text_path = "content.text.content";
  SCRM_RETURN_IF_ERROR(check.Bytes(text_path, content.text, kWecomMaxTextBytes, false));
  if (content.attachments.size() > kWecomMaxAttachments) {
    return InvalidArgumentError(
        "content.attachments: " + std::to_string(content.attachments.size()) +
        " attachments, at most " + std::to_string(kWecomMaxAttachments));
  }
  if (content.text.empty() && !check.IsDynamic(text_path) && content.attachments.empty()) {
    return InvalidArgumentError("content: needs text.content or at least one attachment");
  }
  for (size_t i = 0; i < content.attachments.size(); ++i) {
    const std::string base = Index("content.attachments", i);
    const auto& attachment = content.attachments[i];
    if (const auto* image = std::get_if<model::WecomImage>(&attachment)) {
      SCRM_RETURN_IF_ERROR(check.Id(base + ".image.media_id", image->media_id, false));
      SCRM_RETURN_IF_ERROR(check.Url(base + ".image.pic_url", image->pic_url, false));
      const bool has_url = !image->pic_url.empty() || check.IsDynamic(base + ".image.pic_url");
      if (image->media_id.empty() == !has_url) {
        return InvalidArgumentError(base + ".image: needs exactly one of media_id and pic_url");
      }
    } else if (const auto* link = std::get_if<model::WecomLink>(&attachment)) {
      SCRM_RETURN_IF_ERROR(
          check.Bytes(base + ".link.title", link->title, kWecomMaxLinkTitleBytes, true));
      SCRM_RETURN_IF_ERROR(check.Url(base + ".link.url", link->url, true));
      SCRM_RETURN_IF_ERROR(
          check.Bytes(base + ".link.desc", link->desc, kWecomMaxLinkDescBytes, false));
      SCRM_RETURN_IF_ERROR(check.Url(base + ".link.picurl", link->picurl, false));
    } else if (const auto* mini = std::get_if<model::WecomMiniprogram>(&attachment)) {
      SCRM_RETURN_IF_ERROR(
          check.Bytes(base + ".miniprogram.title", mini->title, kWecomMaxMiniTitleBytes, true));
      SCRM_RETURN_IF_ERROR(check.Id(base + ".miniprogram.appid", mini->appid, true));
      SCRM_RETURN_IF_ERROR(
          check.Bytes(base + ".miniprogram.page", mini->page, kMaxPathBytes, true));
      SCRM_RETURN_IF_ERROR(check.Id(base + ".miniprogram.pic_media_id", mini->pic_media_id, true));
    }
  }
  return core::OkStatus();
}

bool IsHexColor(std::string_view color) {
  if (color.size() != 7 || color[0] != '#') return false;
  for (const char c : color.substr(1)) {
    if (!core::IsAsciiDigit(c) && !((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

core::Status CheckOaTemplate(const model::OaTemplateContent& content, const FieldCheck& check) {
  SCRM_RETURN_IF_ERROR(check.Id("content.template_id", content.template_id, true));
  for (const char c : content.template_id) {
    if (!core::IsAsciiAlnum(c) && c != '-' && c != '_') {
      return InvalidArgumentError("content.template_id: letters, digits, '-' and '_' only");
    }
  }
  SCRM_RETURN_IF_ERROR(check.Url("content.url", content.url, false));
  if (content.miniprogram) {
    SCRM_RETURN_IF_ERROR(check.Id("content.miniprogram.appid", content.miniprogram->appid, true));
    SCRM_RETURN_IF_ERROR(check.Bytes("content.miniprogram.pagepath", content.miniprogram->pagepath,
                                     kMaxPathBytes, false));
  }
  if (content.data.empty()) return InvalidArgumentError("content.data: needs at least one field");
  if (content.data.size() > kOaTemplateMaxFields) {
    return InvalidArgumentError("content.data: " + std::to_string(content.data.size()) +
                                " fields, at most " + std::to_string(kOaTemplateMaxFields));
  }
  for (const auto& [key, field] : content.data) {
    const std::string base = "content.data." + core::Printable(key, 64);
    if (key.empty() || key.size() > 32) return InvalidArgumentError(base + ": key of 1..32 bytes");
    for (const char c : key) {
      if (!core::IsAsciiAlnum(c) && c != '_') {
        return InvalidArgumentError(base + ": key of letters, digits and '_' only");
      }
    }
    const size_t max_chars = OaTemplateValueLimit(key);
    const size_t chars = Utf8Chars(field.value);
    if (chars > max_chars) {
      return InvalidArgumentError(base + ".value: " + std::to_string(chars) +
                                  " characters, at most " + std::to_string(max_chars));
    }
    if (!field.color.empty() && !IsHexColor(field.color)) {
      return InvalidArgumentError(base + ".color: must be #RRGGBB");
    }
  }
  return core::OkStatus();
}

core::Status CheckOaText(const model::OaCustomTextContent& content, const FieldCheck& check) {
  return check.Bytes("content.text.content", content.content, kOaCustomMaxTextBytes, true);
}

core::Status CheckOaNews(const model::OaCustomNewsContent& content, const FieldCheck& check) {
  if (content.articles.empty() || content.articles.size() > kOaCustomMaxArticles) {
    return InvalidArgumentError(
        "content.news.articles: " + std::to_string(content.articles.size()) +
        " articles, must be 1.." + std::to_string(kOaCustomMaxArticles));
  }
  for (size_t i = 0; i < content.articles.size(); ++i) {
    const std::string base = Index("content.news.articles", i);
    const auto& article = content.articles[i];
    SCRM_RETURN_IF_ERROR(check.Bytes(base + ".title", article.title, kOaNewsMaxTitleBytes, true));
    SCRM_RETURN_IF_ERROR(
        check.Bytes(base + ".description", article.description, kOaNewsMaxDescriptionBytes, false));
    SCRM_RETURN_IF_ERROR(check.Url(base + ".url", article.url, true));
    SCRM_RETURN_IF_ERROR(check.Url(base + ".picurl", article.picurl, false));
  }
  return core::OkStatus();
}

}  // namespace

std::vector<FieldRef> FieldsOf(model::MessageContent& content) {
  std::vector<FieldRef> fields;
  auto add = [&fields](std::string path, FieldKind kind, std::string& value) {
    fields.push_back(FieldRef{std::move(path), kind, &value});
  };
  if (auto* wecom = std::get_if<model::WecomMessageContent>(&content)) {
    add("content.text.content", FieldKind::kPlain, wecom->text);
    for (size_t i = 0; i < wecom->attachments.size(); ++i) {
      const std::string base = Index("content.attachments", i);
      auto& attachment = wecom->attachments[i];
      if (auto* image = std::get_if<model::WecomImage>(&attachment)) {
        add(base + ".image.media_id", FieldKind::kStatic, image->media_id);
        add(base + ".image.pic_url", FieldKind::kUrl, image->pic_url);
      } else if (auto* link = std::get_if<model::WecomLink>(&attachment)) {
        add(base + ".link.title", FieldKind::kPlain, link->title);
        add(base + ".link.url", FieldKind::kUrl, link->url);
        add(base + ".link.desc", FieldKind::kPlain, link->desc);
        add(base + ".link.picurl", FieldKind::kUrl, link->picurl);
      } else if (auto* mini = std::get_if<model::WecomMiniprogram>(&attachment)) {
        add(base + ".miniprogram.title", FieldKind::kPlain, mini->title);
        add(base + ".miniprogram.appid", FieldKind::kStatic, mini->appid);
        add(base + ".miniprogram.page", FieldKind::kUrl, mini->page);
        add(base + ".miniprogram.pic_media_id", FieldKind::kStatic, mini->pic_media_id);
      }
    }
  } else if (auto* tmpl = std::get_if<model::OaTemplateContent>(&content)) {
    add("content.template_id", FieldKind::kStatic, tmpl->template_id);
    add("content.url", FieldKind::kUrl, tmpl->url);
    if (tmpl->miniprogram) {
      add("content.miniprogram.appid", FieldKind::kStatic, tmpl->miniprogram->appid);
      add("content.miniprogram.pagepath", FieldKind::kUrl, tmpl->miniprogram->pagepath);
    }
    for (auto& [key, field] : tmpl->data) {
      const std::string base = "content.data." + core::Printable(key, 64);
      add(base + ".value", FieldKind::kPlain, field.value);
      add(base + ".color", FieldKind::kStatic, field.color);
    }
  } else if (auto* text = std::get_if<model::OaCustomTextContent>(&content)) {
    // WeChat shows <a href="..."> links in customer-service text: values are HTML-escaped so a
    // customer's name cannot add one.
    add("content.text.content", FieldKind::kHtml, text->content);
  } else if (auto* news = std::get_if<model::OaCustomNewsContent>(&content)) {
    for (size_t i = 0; i < news->articles.size(); ++i) {
      const std::string base = Index("content.news.articles", i);
      auto& article = news->articles[i];
      add(base + ".title", FieldKind::kPlain, article.title);
      add(base + ".description", FieldKind::kPlain, article.description);
      add(base + ".url", FieldKind::kUrl, article.url);
      add(base + ".picurl", FieldKind::kUrl, article.picurl);
    }
  }
  return fields;
}

size_t OaTemplateValueLimit(std::string_view key) {
  // The typed keywords of WeChat's template / subscription messages (key = type + number):
  // documented value limits; longer prefixes first so "character_string" is not "car...".
  static const std::pair<std::string_view, size_t> kTyped[] = {
      {"character_string", 32},
      {"phone_number", 17},
      {"car_number", 8},
      {"thing", 20},
      {"number", 32},
      {"letter", 32},
      {"symbol", 5},
      {"amount", 11},
      {"phrase", 5},
      {"name", 10},
  };
  for (const auto& [prefix, limit] : kTyped) {
    if (key.starts_with(prefix)) return std::min(limit, kOaTemplateMaxValueChars);
  }
  return kOaTemplateMaxValueChars;
}

size_t Utf8Chars(std::string_view text) {
  size_t chars = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;
  }
  return chars;
}

core::Status CheckLimits(const model::MessageContent& content,
                         const std::function<bool(const std::string& path)>& dynamic) {
  const FieldCheck check(dynamic);
  if (const auto* wecom = std::get_if<model::WecomMessageContent>(&content)) {
    return CheckWecom(*wecom, check);
  }
  if (const auto* tmpl = std::get_if<model::OaTemplateContent>(&content)) {
    return CheckOaTemplate(*tmpl, check);
  }
  if (const auto* text = std::get_if<model::OaCustomTextContent>(&content)) {
    return CheckOaText(*text, check);
  }
  return CheckOaNews(std::get<model::OaCustomNewsContent>(content), check);
}

}  // namespace scrm::render
