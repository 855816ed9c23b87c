#include "src/server/router.h"

#include <algorithm>
#include <functional>

#include "src/core/strings.h"

namespace scrm::server {
namespace {

constexpr size_t kMaxCaptureName = 32;

bool IsCaptureName(std::string_view name) {
  if (name.empty() || name.size() > kMaxCaptureName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

enum class SegmentKind { kLiteral, kDigits, kSegment, kRest };

struct PatternSegment {
  SegmentKind kind = SegmentKind::kLiteral;
  std::string text;  // the literal, or the capture's name
};

core::StatusOr<std::vector<PatternSegment>> ParsePattern(std::string_view pattern) {
  const auto fail = [&](const std::string& why) {
    return core::InvalidArgumentError("route pattern \"" + std::string(pattern) + "\": " + why);
  };
  if (pattern.size() < 2 || pattern.front() != '/') {
    return fail("must start with \"/\" and name at least one segment");
  }
  std::vector<PatternSegment> out;
  std::vector<std::string_view> names;
  std::string_view rest = pattern.substr(1);
  for (;;) {
    const size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    if (text.empty()) return fail("has an empty segment");
    if (!out.empty() && out.back().kind == SegmentKind::kRest) {
      return fail("{name...} must be the last segment");
    }
    PatternSegment segment;
    if (text.front() == '{') {
      if (text.back() != '}') return fail("a capture segment must be one {name}");
      std::string_view name = text.substr(1, text.size() - 2);
      segment.kind = SegmentKind::kSegment;
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        segment.kind = SegmentKind::kRest;
        name.remove_suffix(3);
      } else if (name == "id" || (name.size() > 3 && name.substr(name.size() - 3) == "_id")) {
        segment.kind = SegmentKind::kDigits;
      }
      if (!IsCaptureName(name)) return fail("a capture name must be 1..32 of [a-z0-9_]");
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        return fail("captures {" + std::string(name) + "} twice");
      }
      names.push_back(name);
      segment.text = std::string(name);
    } else {
      if (text.find_first_of("{}") != std::string_view::npos) {
        return fail("\"{\" and \"}\" only delimit a whole capture segment");
      }
      segment.text = std::string(text);
    }
    out.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

// Fixed order of the Allow header; methods outside it follow in registration order.
constexpr std::string_view kMethodOrder[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};

size_t MethodRank(std::string_view method) {
  for (size_t i = 0; i < std::size(kMethodOrder); ++i) {
    if (kMethodOrder[i] == method) return i;
  }
  return std::size(kMethodOrder);
}

}  // namespace

std::string_view PathParams::Get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) return value;
  }
  return {};
}

bool PathParams::Has(std::string_view name) const {
  return std::any_of(items_.begin(), items_.end(),
                     [&](const auto& item) { return item.first == name; });
}

std::string_view PathParams::At(size_t index) const {
  return index < items_.size() ? std::string_view(items_[index].second) : std::string_view();
}

struct Router::Node {
  struct Entry {
    std::string method;
    size_t value = 0;
    std::vector<std::string> names;  // of the captures, in path order
  };
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> digits;
  std::unique_ptr<Node> segment;
  std::unique_ptr<Node> rest;
  std::vector<Entry> entries;  // the routes ending here
};

namespace {

// The path cut at "/": segments and where each starts in the path (for {name...}).
struct SplitPath {
  std::string_view path;
  std::vector<std::string_view> segments;
  std::vector<size_t> starts;
};

bool Split(std::string_view path, SplitPath& out) {
  if (path.empty() || path.front() != '/') return false;
  out.path = path;
  size_t start = 1;
  for (;;) {
    const size_t slash = path.find('/', start);
    out.segments.push_back(
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
    out.starts.push_back(start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

using Visit = std::function<bool(const Router::Node&, const std::vector<std::string_view>&)>;

// Depth-first in precedence order; stops at the first node `visit` accepts. The recursion is as
// deep as the longest pattern, never deeper: a node without a matching child ends the walk.
bool Walk(const Router::Node& node, const SplitPath& split, size_t index,
          std::vector<std::string_view>& captures, const Visit& visit) {
  if (index == split.segments.size()) return visit(node, captures);
  const std::string_view segment = split.segments[index];
  if (const auto it = node.literals.find(segment); it != node.literals.end()) {
    if (Walk(*it->second, split, index + 1, captures, visit)) return true;
  }
  for (const Router::Node* child : {node.digits.get(), node.segment.get()}) {
    if (child == nullptr || segment.empty()) continue;
    if (child == node.digits.get() && !core::AllAsciiDigits(segment)) continue;
    captures.push_back(segment);
    if (Walk(*child, split, index + 1, captures, visit)) return true;
    captures.pop_back();
  }
  if (node.rest != nullptr) {
    const std::string_view rest = split.path.substr(split.starts[index]);
    if (!rest.empty()) {
      captures.push_back(rest);
      if (visit(*node.rest, captures)) return true;
      captures.pop_back();
    }
  }
  return false;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

core::Status Router::Add(std::string_view method, std::string_view pattern, size_t value) {
  SCRM_ASSIGN_OR_RETURN(const std::vector<PatternSegment> segments, ParsePattern(pattern));
  if (method.empty()) return core::InvalidArgumentError("route method must not be empty");
  Node* node = root_.get();
  std::vector<std::string> names;
  for (const PatternSegment& segment : segments) {
    std::unique_ptr<Node>* child = nullptr;
    switch (segment.kind) {
      case SegmentKind::kLiteral: child = &node->literals[segment.text]; break;
      case SegmentKind::kDigits: child = &node->digits; break;
      case SegmentKind::kSegment: child = &node->segment; break;
      case SegmentKind::kRest: child = &node->rest; break;
    }
    if (segment.kind != SegmentKind::kLiteral) names.push_back(segment.text);
    if (*child == nullptr) *child = std::make_unique<Node>();
    node = child->get();
  }
  for (const Node::Entry& entry : node->entries) {
    if (entry.method == method) {
      return core::InvalidArgumentError(std::string(method) + " " + std::string(pattern) +
                                        ": a route with this method and path shape exists");
    }
  }
  node->entries.push_back(Node::Entry{std::string(method), value, std::move(names)});
  if (std::find(patterns_.begin(), patterns_.end(), pattern) == patterns_.end()) {
    patterns_.emplace_back(pattern);
  }
  return core::OkStatus();
}

Router::Found Router::Find(std::string_view method, std::string_view path) const {
  Found found;
  SplitPath split;
  if (!Split(path, split)) return found;
  const std::string_view lookup = method == "HEAD" ? std::string_view("GET") : method;
  std::vector<std::string_view> captures;
  const bool matched = Walk(*root_, split, 0, captures,
                            [&](const Node& node, const std::vector<std::string_view>& values) {
                              for (const Node::Entry& entry : node.entries) {
                                if (entry.method != lookup) continue;
                                found.kind = Found::Kind::kRoute;
                                found.value = entry.value;
                                for (size_t i = 0; i < values.size(); ++i) {
                                  found.params.Add(entry.names[i], std::string(values[i]));
                                }
                                return true;
                              }
                              return false;
                            });
  if (matched) return found;
  // No route for this method: which methods would this path take?
  captures.clear();
  Walk(*root_, split, 0, captures, [&](const Node& node, const std::vector<std::string_view>&) {
    for (const Node::Entry& entry : node.entries) {
      if (std::find(found.allowed.begin(), found.allowed.end(), entry.method) ==
          found.allowed.end()) {
        found.allowed.push_back(entry.method);
      }
    }
    return false;  // every matching node contributes
  });
  if (found.allowed.empty()) return found;
  if (std::find(found.allowed.begin(), found.allowed.end(), "GET") != found.allowed.end() &&
      std::find(found.allowed.begin(), found.allowed.end(), "HEAD") == found.allowed.end()) {
    found.allowed.push_back("HEAD");
  }
  std::stable_sort(
      found.allowed.begin(), found.allowed.end(),
      [](const std::string& a, const std::string& b) { return MethodRank(a) < MethodRank(b); });
  found.kind = Found::Kind::kWrongMethod;
  return found;
}

}  // namespace scrm::server
