// Every registered /api/v1 route pattern against the longest request target the server takes:
// each is answered (401 without a key, 404, 405 or 414), never crashes the server (the std::regex
// router once recursed once per character of such a path).
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "tests/api/api_test_helpers.h"

namespace scrm::api {
namespace {

using testing::ApiFixture;

constexpr size_t kMaxTargetBytes = 8192;  // server: longer targets get 414

// The pattern with every capture filled with digits (a literal pattern gets one more segment),
// `length` bytes long.
std::string PathOfLength(const std::string& pattern, size_t length) {
  std::string path;
  size_t captures = 0;
  for (size_t at = 0; at < pattern.size();) {
    if (pattern[at] == '{') {
      path += "1";
      ++captures;
      at = pattern.find('}', at) + 1;
    } else {
      path += pattern[at++];
    }
  }
  if (captures == 0) path += "/1";
  REQUIRE(path.size() <= length);
  // The first capture (or the added segment) takes what is left.
  const size_t first = captures == 0 ? path.size() - 1 : path.find('1', pattern.find('{'));
  path.insert(first, std::string(length - path.size(), '7'));
  REQUIRE(path.size() == length);
  return path;
}

TEST_CASE("API routes answer the longest request target with 401, 404 or 405, and 414 beyond",
          "[db]") {
  ApiFixture f;
  const auto& patterns = f.http.RoutePatterns();
  REQUIRE(patterns.size() > 10);
  for (const std::string& pattern : patterns) {
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      INFO(method << " " << pattern);
      const auto longest = f.CallWithSecret(method, PathOfLength(pattern, kMaxTargetBytes), "");
      CHECK(std::set<int>{401, 404, 405}.count(longest.status) == 1);
      const auto beyond = f.CallWithSecret(method, PathOfLength(pattern, kMaxTargetBytes + 1), "");
      CHECK(beyond.status == 414);
    }
  }
  // Still serving.
  CHECK(f.Call("GET", "/api/v1/tags").status == 200);
}

}  // namespace
}  // namespace scrm::api
