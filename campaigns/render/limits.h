// The text fields of a message content with where they land (FieldsOf) and the per channel
// limits (CheckLimits): bytes, characters, attachment and article counts, required members, URL
// shapes (docs/templates.md "Limits" lists each with its source: PROTOCOL §4 where it states
// one, a documented conservative value otherwise). Checked when a template is saved, on its
// static text (every variable empty) and its counts, and on every rendered message. Pure;
// thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "campaigns/render/escape.h"
#include "src/core/status.h"
#include "src/model/message_template.h"

namespace scrm::render {

// WeCom send_welcome_msg / add_msg_template.
inline constexpr size_t kWecomMaxTextBytes = 4000;  // text.content (WeCom doc; not in PROTOCOL)
inline constexpr size_t kWecomMaxAttachments = 9;   // PROTOCOL §4.1
inline constexpr size_t kWecomMaxLinkTitleBytes = 128;
inline constexpr size_t kWecomMaxLinkDescBytes = 512;
inline constexpr size_t kWecomMaxMiniTitleBytes = 64;
// OA message/template/send: since 2023-05-04 WeChat shows at most 20 characters of a data value
// (the rest is elided); typed keys (thing, phrase, ...) allow fewer (docs/templates.md).
inline constexpr size_t kOaTemplateMaxValueChars = 20;
inline constexpr size_t kOaTemplateMaxFields = 20;
// OA message/custom/send.
inline constexpr size_t kOaCustomMaxTextBytes = 2048;
inline constexpr size_t kOaCustomMaxArticles = 1;  // news: one article (45008 beyond)
inline constexpr size_t kOaNewsMaxTitleBytes = 128;
inline constexpr size_t kOaNewsMaxDescriptionBytes = 512;
// Every channel.
inline constexpr size_t kMaxUrlBytes = 2048;
inline constexpr size_t kMaxIdBytes = 256;     // media ids, appids, template ids
inline constexpr size_t kMaxPathBytes = 1024;  // mini-program pages

// One text field of a content: its path ("content.attachments[0].link.url"), how the channel
// shows it, and the string itself (pointing into the content FieldsOf was given).
struct FieldRef {
  std::string path;
  FieldKind kind = FieldKind::kPlain;
  std::string* value = nullptr;
};

// Every text field of `content`, in a fixed order for a given content (the order renderer.h
// relies on). The pointers live as long as `content` is not resized.
std::vector<FieldRef> FieldsOf(model::MessageContent& content);

// The most characters a value of OA template data key `key` may hold: by its type prefix
// (thing 20, phrase 5, name 10, ...), capped at kOaTemplateMaxValueChars.
size_t OaTemplateValueLimit(std::string_view key);

// Unicode code points of UTF-8 text (continuation bytes are not counted).
size_t Utf8Chars(std::string_view text);

// Checks the limits of `content`. A field for which `dynamic(path)` is true holds variables whose
// values are not known yet: it may be empty and its URL shape is not checked (its size still
// counts). Pass nullptr for a rendered message (every rule applies). InvalidArgument naming the
// field and the limit: "content.text.content: 4012 bytes, at most 4000".
core::Status CheckLimits(const model::MessageContent& content,
                         const std::function<bool(const std::string& path)>& dynamic);

}  // namespace scrm::render
