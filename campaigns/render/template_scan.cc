#include "campaigns/render/template_scan.h"

#include "src/core/strings.h"

namespace scrm::render {
namespace {

// kainjow trims tag contents with std::isspace in the C locale.
bool IsMustacheSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsMustacheSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsMustacheSpace(text.back())) text.remove_suffix(1);
  return text;
}

core::Status At(const std::string& path, const std::string& what, size_t position) {
  return core::InvalidArgumentError(path + ": " + what + " at byte " + std::to_string(position));
}

}  // namespace

core::StatusOr<std::vector<ScannedTag>> ScanTags(std::string_view source, const std::string& path) {
  if (source.size() > kMaxSourceBytes) {
    return core::InvalidArgumentError(path + ": " + std::to_string(source.size()) +
                                      " bytes of template, at most " +
                                      std::to_string(kMaxSourceBytes));
  }
  std::vector<ScannedTag> tags;
  std::vector<std::string> open;  // names of the open sections
  size_t pos = 0;
  while ((pos = source.find("{{", pos)) != std::string_view::npos) {
    const size_t start = pos;
    if (source.compare(start + 2, 1, "{") == 0) {
      return At(path, "unescaped variable {{{...}}} (escaping follows the field)", start);
    }
    const size_t end = source.find("}}", start + 2);
    if (end == std::string_view::npos) return At(path, "unclosed tag", start);
    const std::string_view contents = Trim(source.substr(start + 2, end - start - 2));
    pos = end + 2;
    if (tags.size() >= kMaxTags) {
      return core::InvalidArgumentError(path + ": more than " + std::to_string(kMaxTags) + " tags");
    }
    ScannedTag tag;
    tag.position = start;
    std::string_view name = contents;
    if (!contents.empty()) {
      switch (contents.front()) {
        case '#': tag.kind = TagKind::kSection; break;
        case '^': tag.kind = TagKind::kInvertedSection; break;
        case '/': tag.kind = TagKind::kSectionEnd; break;
        case '!': tag.kind = TagKind::kComment; break;
        case '>': return At(path, "partials ({{> ...}}) are not supported", start);
        case '=': return At(path, "delimiter changes ({{= ... =}}) are not supported", start);
        case '&':
          return At(path, "unescaped variable {{& ...}} (escaping follows the field)", start);
        default: break;
      }
      if (tag.kind != TagKind::kVariable) name = Trim(contents.substr(1));
    }
    if (tag.kind == TagKind::kComment) {
      tags.push_back(std::move(tag));
      continue;
    }
    if (name.empty()) return At(path, "tag without a name", start);
    tag.name = std::string(name);
    if (tag.kind == TagKind::kSection || tag.kind == TagKind::kInvertedSection) {
      if (open.size() >= kMaxSectionDepth) {
        return At(path, "sections nested deeper than " + std::to_string(kMaxSectionDepth), start);
      }
      open.push_back(tag.name);
    } else if (tag.kind == TagKind::kSectionEnd) {
      if (open.empty()) {
        return At(path, "{{/" + core::Printable(tag.name, 64) + "}} closes no section", start);
      }
      if (open.back() != tag.name) {
        return At(path,
                  "{{/" + core::Printable(tag.name, 64) + "}} closes section \"" +
                      core::Printable(open.back(), 64) + "\"",
                  start);
      }
      open.pop_back();
    }
    tags.push_back(std::move(tag));
  }
  if (!open.empty()) {
    return core::InvalidArgumentError(path + ": section \"" + core::Printable(open.back(), 64) +
                                      "\" is not closed");
  }
  return tags;
}

}  // namespace scrm::render
