// Router: maps a request's method and decoded path to a registered route, segment by segment (no
// regular expressions: the cost of a lookup is linear in the path's length, its stack depth
// bounded by the longest pattern, whatever the path).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/core/status.h"

namespace scrm::server {

// The values a route pattern captured, by name or by position (0 is the first capture).
// A value type; not thread-safe for writes.
class PathParams {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // The value captured by {name}; empty when the pattern has no such capture.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // The value of the capture at `index`; empty when there is none.
  std::string_view At(size_t index) const;
  size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Registered patterns and their routes. A pattern is "/" followed by segments separated by "/":
// - a literal segment ("customers") matches itself, byte for byte;
// - "{id}", or any "{<word>_id}", matches one segment of ASCII digits (1 or more);
// - "{<word>}" matches one non-empty segment (any bytes but "/");
// - "{<word>...}", last only, matches the rest of the path (one or more bytes, "/" included).
// Words are [a-z0-9_], 1..32 characters, distinct within a pattern. The path is matched as
// decoded, without normalisation: an empty segment ("//", a trailing "/") matches no pattern.
// Where several patterns match, a literal segment wins over {id}, {id} over {word}, {word} over
// {word...}, segment by segment from the left.
//
// Thread-safety: Add before serving; Find is const and may run concurrently.
class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers `pattern` for `method` ("GET", "POST", ...); Find returns `value` for it.
  // InvalidArgument for a malformed pattern or a (method, pattern) registered twice.
  core::Status Add(std::string_view method, std::string_view pattern, size_t value);

  struct Found {
    enum class Kind { kRoute, kWrongMethod, kNoRoute };
    Kind kind = Kind::kNoRoute;
    size_t value = 0;   // kRoute: the value given to Add
    PathParams params;  // kRoute: the captures
    // kWrongMethod: the methods registered for this path, in a fixed order (GET, HEAD when GET
    // is there, POST, PUT, PATCH, DELETE, then any other in registration order).
    std::vector<std::string> allowed;
  };
  // HEAD finds the GET route.
  Found Find(std::string_view method, std::string_view path) const;

  // Every registered pattern once, in registration order.
  const std::vector<std::string>& Patterns() const { return patterns_; }

  struct Node;

 private:
  std::unique_ptr<Node> root_;
  std::vector<std::string> patterns_;
};

}  // namespace scrm::server
