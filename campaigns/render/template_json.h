// The JSON form of message templates (docs/templates.md "Channels"): each channel's content in
// the shape of the platform's own request members (text.content, attachments[].link.url,
// data.<key>.value, news.articles[]...), and the template document a file of the templates folder
// or an API body holds ({"name", "channel", "content", "enabled"?}). Strict: an unknown member, a
// wrong type or a missing required member is InvalidArgument naming its path
// ("content.attachments[1].link.url: must be a string"). Size and count limits are checked by
// limits.h, variables by renderer.h. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "src/core/status.h"
#include "src/model/message_template.h"

namespace scrm::render {

// A template name: 1..64 bytes, no control characters.
inline constexpr size_t kMaxTemplateNameBytes = 64;

// The content of `channel` from its JSON object; `path` prefixes error messages.
core::StatusOr<model::MessageContent> ContentFromJson(const nlohmann::json& json,
                                                      model::TemplateChannel channel,
                                                      std::string_view path = "content");
// The inverse: members that are "" (or an absent miniprogram) are left out.
nlohmann::json ContentToJson(const model::MessageContent& content);

// What a template file or an API body says about a template.
struct TemplateDoc {
  std::string name;
  model::MessageContent content;
  bool enabled = true;
  std::optional<int> version;  // the version the client read (PUT's compare-and-set)

  friend bool operator==(const TemplateDoc&, const TemplateDoc&) = default;
};

// {"name", "channel", "content", "enabled"?, "version"?}. "id" and the members an answer adds
// ("variables", "source", "created_at_ms", "updated_at_ms") are accepted and ignored, so that
// what GET answered can be sent back with a change; anything else is refused.
core::StatusOr<TemplateDoc> TemplateDocFromJson(const nlohmann::json& json);

// Checks a template name (InvalidArgument "name: ...").
core::Status CheckTemplateName(std::string_view name);

}  // namespace scrm::render
