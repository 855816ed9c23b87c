// CompiledTemplate: a message template checked and parsed once (kainjow mustache, partials off),
// then rendered for many customers. Compile refuses unknown variables (naming them), constructs a
// message template does not support (template_scan.h), variables in id fields, and contents over
// the channel limits on their static text and counts (limits.h). Render fills every field from a
// RenderProfile and the campaign's Placeholders, escaping each value for its field (escape.h),
// and checks the limits again on the rendered message. docs/templates.md is the user's guide.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "campaigns/render/variables.h"
#include "src/core/status.h"
#include "src/model/message_template.h"

namespace scrm::render {

// Not safe for concurrent Render calls on one object (kainjow's render is a non-const member):
// compile one per thread, which is cheap (microseconds for a message). Movable, not copyable.
class CompiledTemplate {
 public:
  // InvalidArgument naming the field path and, for a variable, the variable and its byte offset:
  // "content.text.content: unknown variable {{custmer.name}} at byte 3".
  static core::StatusOr<CompiledTemplate> Compile(model::MessageContent source);

  CompiledTemplate(CompiledTemplate&&) noexcept;
  CompiledTemplate& operator=(CompiledTemplate&&) noexcept;
  ~CompiledTemplate();

  model::TemplateChannel channel() const;
  const model::MessageContent& source() const;
  // The variables the template uses (sections included), sorted, each once.
  const std::vector<std::string>& variables() const;
  // Whether it uses {{link}}, {{coupon}} or {{referral_code}}.
  bool UsesPlaceholders() const;

  // The message for one customer. FailedPrecondition when a placeholder the template uses is not
  // given, when {{link}} is not an http(s) URL, or when the rendered message breaks a channel
  // limit (naming the field: "content.text.content: 4100 bytes, at most 4000").
  core::StatusOr<model::MessageContent> Render(const RenderProfile& profile,
                                               const Placeholders& placeholders) const;

 private:
  struct Impl;
  explicit CompiledTemplate(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace scrm::render
