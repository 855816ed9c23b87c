#include "src/config/field_table.h"

#include <utility>

namespace scrm::config::internal {

core::Status KeyError(std::string_view path, std::string_view reason) {
  return core::InvalidArgumentError(std::string(path) + ": " + std::string(reason));
}

std::string JoinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string Alternatives(std::span<const std::string_view> names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += "\"" + std::string(names[i]) + "\"";
  }
  return out;
}

std::string RangeProblem(IntRange range) {
  return "must be in " + std::to_string(range.min) + ".." + std::to_string(range.max);
}

core::Status Checks::Fail(const std::string& path, std::string_view reason) const {
  std::string message = path + ": " + std::string(reason);
  const auto origin = loaded_.origins.find(path);
  if (origin != loaded_.origins.end() && !origin->second.empty()) {
    message += " (from " + origin->second + ")";
  }
  return core::InvalidArgumentError(std::move(message));
}

}  // namespace scrm::config::internal
