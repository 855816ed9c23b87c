#include "src/server/http_types.h"

#include <algorithm>
#include <utility>

#include "src/core/strings.h"

namespace scrm::server {
namespace {

unsigned char Lower(char c) { return static_cast<unsigned char>(core::AsciiLower(c)); }

template <typename Map>
std::string FirstValue(const Map& map, std::string_view name) {
  // equal_range, not find: find may return any of a repeated name's values.
  const auto [first, last] = map.equal_range(name);
  return first == last ? std::string() : first->second;
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return Lower(x) < Lower(y); });
}

bool Request::HasParam(std::string_view name) const { return query.find(name) != query.end(); }

std::string Request::Param(std::string_view name) const { return FirstValue(query, name); }

bool Request::HasHeader(std::string_view name) const { return headers.find(name) != headers.end(); }

std::string Request::Header(std::string_view name) const { return FirstValue(headers, name); }

void Response::SetContent(std::string content, std::string_view content_type) {
  body = std::move(content);
  headers.erase("Content-Type");
  SetHeader("Content-Type", content_type);
}

void Response::SetHeader(std::string_view name, std::string_view value) {
  headers.emplace(std::string(name), std::string(value));
}

bool Response::HasHeader(std::string_view name) const {
  return headers.find(name) != headers.end();
}

std::string Response::Header(std::string_view name) const { return FirstValue(headers, name); }

}  // namespace scrm::server
