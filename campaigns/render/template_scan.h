// The tags of one mustache source as kainjow's parser reads them with the default {{ }}
// delimiters, for validation before kainjow parses it (renderer.h): which variables a template
// uses, and the constructs refused in a message template — partials ({{> name}}), delimiter
// changes ({{=<% %>=}}), unescaped variables ({{{name}}}, {{& name}}: escaping follows the field,
// escape.h), sections deeper than kMaxSectionDepth, more than kMaxTags tags. This reads tags
// only; rendering is kainjow's. Bounded work (one pass, no recursion), so untrusted text cannot
// drive kainjow's recursive passes deep. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"

namespace scrm::render {

inline constexpr size_t kMaxSourceBytes = 8192;  // one field's mustache source
inline constexpr size_t kMaxTags = 256;          // tags in one field
inline constexpr size_t kMaxSectionDepth = 8;    // nested {{#...}} / {{^...}}

enum class TagKind { kVariable, kSection, kInvertedSection, kSectionEnd, kComment };

struct ScannedTag {
  TagKind kind = TagKind::kVariable;
  std::string name;     // trimmed; "" for a comment
  size_t position = 0;  // byte offset of its "{{"

  friend bool operator==(const ScannedTag&, const ScannedTag&) = default;
};

// The tags of `source` in order. InvalidArgument "<path>: ... at byte N" for an unclosed tag, an
// empty name, a refused construct, a section closed under another name or left open, or a
// source or tag count over the limits.
core::StatusOr<std::vector<ScannedTag>> ScanTags(std::string_view source, const std::string& path);

}  // namespace scrm::render
