#include "src/server/router.h"

#include <catch2/catch.hpp>
#include <string>

namespace scrm::server {
namespace {

using Kind = Router::Found::Kind;

TEST_CASE("Router matches literal paths and captures {id} digits by name and index", "[unit]") {
  Router router;
  REQUIRE(router.Add("GET", "/api/v1/customers", 1).ok());
  REQUIRE(router.Add("GET", "/api/v1/customers/{id}", 2).ok());
  REQUIRE(router.Add("GET", "/api/v1/customers/{id}/timeline", 3).ok());
  REQUIRE(router.Add("GET", "/api/v1/customers/by-identity", 4).ok());

  auto list = router.Find("GET", "/api/v1/customers");
  CHECK(list.kind == Kind::kRoute);
  CHECK(list.value == 1);
  CHECK(list.params.size() == 0);

  auto one = router.Find("GET", "/api/v1/customers/42");
  REQUIRE(one.kind == Kind::kRoute);
  CHECK(one.value == 2);
  CHECK(one.params.Get("id") == "42");
  CHECK(one.params.At(0) == "42");
  CHECK(one.params.Has("id"));
  CHECK_FALSE(one.params.Has("name"));

  auto timeline = router.Find("GET", "/api/v1/customers/7/timeline");
  REQUIRE(timeline.kind == Kind::kRoute);
  CHECK(timeline.value == 3);
  CHECK(timeline.params.Get("id") == "7");

  // A literal segment wins; "by-identity" is not digits anyway.
  CHECK(router.Find("GET", "/api/v1/customers/by-identity").value == 4);
  // HEAD finds the GET route.
  CHECK(router.Find("HEAD", "/api/v1/customers/42").value == 2);
}

TEST_CASE("Router answers no route for non-digit ids, empty segments and unknown paths", "[unit]") {
  Router router;
  REQUIRE(router.Add("GET", "/api/v1/customers/{id}", 1).ok());
  for (const char* path :
       {"/api/v1/customers/abc", "/api/v1/customers/12a", "/api/v1/customers/",
        "/api/v1/customers//1", "/api/v1/customers/1/", "/api/v1/customers", "//api/v1/customers/1",
        "api/v1/customers/1", "", "/", "/api/v1/customers/-1", "/API/v1/customers/1"}) {
    INFO(path);
    CHECK(router.Find("GET", path).kind == Kind::kNoRoute);
  }
}

TEST_CASE("Router captures one segment with {name} and the rest with {name...}", "[unit]") {
  Router router;
  REQUIRE(router.Add("POST", "/callbacks/wecom/{account}", 1).ok());
  REQUIRE(router.Add("PUT", "/api/v1/tag-groups/{name...}", 2).ok());

  auto callback = router.Find("POST", "/callbacks/wecom/acme_1");
  REQUIRE(callback.kind == Kind::kRoute);
  CHECK(callback.params.Get("account") == "acme_1");
  CHECK(router.Find("POST", "/callbacks/wecom/acme/x").kind == Kind::kNoRoute);
  CHECK(router.Find("POST", "/callbacks/wecom/").kind == Kind::kNoRoute);

  auto group = router.Find("PUT", "/api/v1/tag-groups/a/b c/");
  REQUIRE(group.kind == Kind::kRoute);
  CHECK(group.params.Get("name") == "a/b c/");
  CHECK(router.Find("PUT", "/api/v1/tag-groups/").kind == Kind::kNoRoute);
  CHECK(router.Find("PUT", "/api/v1/tag-groups").kind == Kind::kNoRoute);
}

TEST_CASE("Router falls back from a literal to a capture when the literal branch has no route",
          "[unit]") {
  Router router;
  REQUIRE(router.Add("PUT", "/api/v1/tags/mapping", 1).ok());
  REQUIRE(router.Add("GET", "/api/v1/tags/{tag}", 2).ok());
  REQUIRE(router.Add("GET", "/a/b/c", 3).ok());
  REQUIRE(router.Add("GET", "/a/{x}/d", 4).ok());

  CHECK(router.Find("PUT", "/api/v1/tags/mapping").value == 1);
  auto by_capture = router.Find("GET", "/api/v1/tags/mapping");
  REQUIRE(by_capture.kind == Kind::kRoute);
  CHECK(by_capture.value == 2);
  CHECK(by_capture.params.Get("tag") == "mapping");
  auto deep = router.Find("GET", "/a/b/d");
  REQUIRE(deep.kind == Kind::kRoute);
  CHECK(deep.value == 4);
  CHECK(deep.params.Get("x") == "b");
}

TEST_CASE("Router reports the path's methods when only the method is wrong", "[unit]") {
  Router router;
  REQUIRE(router.Add("DELETE", "/api/v1/customers/{id}/tags", 1).ok());
  REQUIRE(router.Add("POST", "/api/v1/customers/{id}/tags", 2).ok());
  REQUIRE(router.Add("GET", "/api/v1/tag-rules/{id}", 3).ok());
  REQUIRE(router.Add("PUT", "/api/v1/tag-rules/{id}", 4).ok());

  auto tags = router.Find("GET", "/api/v1/customers/1/tags");
  REQUIRE(tags.kind == Kind::kWrongMethod);
  CHECK(tags.allowed == std::vector<std::string>{"POST", "DELETE"});

  auto rule = router.Find("PATCH", "/api/v1/tag-rules/9");
  REQUIRE(rule.kind == Kind::kWrongMethod);
  CHECK(rule.allowed == std::vector<std::string>{"GET", "HEAD", "PUT"});

  CHECK(router.Find("GET", "/api/v1/tag-rules/x").kind == Kind::kNoRoute);
  CHECK(router.Find("BREW", "/api/v1/tag-rules/9").kind == Kind::kWrongMethod);
}

TEST_CASE("Router refuses malformed patterns and a second route of the same shape", "[unit]") {
  Router router;
  for (const char* pattern :
       {"", "/", "x", "/a//b", "/a/", "/{}", "/{Id}", "/{a-b}", "/a{id}", "/{id}x", "/{rest...}/x",
        "/{a}/{a}", "/{...}", "/{abcdefghijklmnopqrstuvwxyz0123456789}"}) {
    INFO(pattern);
    CHECK(router.Add("GET", pattern, 0).code() == core::StatusCode::kInvalidArgument);
  }
  REQUIRE(router.Add("GET", "/x/{id}", 1).ok());
  CHECK(router.Add("GET", "/x/{customer_id}", 2).code() == core::StatusCode::kInvalidArgument);
  CHECK(router.Add("POST", "/x/{id}", 3).ok());
  CHECK(router.Patterns() == std::vector<std::string>{"/x/{id}"});
}

TEST_CASE("Router finds nothing fast in a path of thousands of segments or digits", "[unit]") {
  Router router;
  REQUIRE(router.Add("GET", "/api/v1/customers/{id}", 1).ok());
  REQUIRE(router.Add("GET", "/api/v1/customers/{id}/timeline", 2).ok());
  REQUIRE(router.Add("PUT", "/api/v1/tag-groups/{name...}", 3).ok());
  // What crashed the std::regex router (a recursive matcher): 7,900 digits.
  const std::string digits = "/api/v1/customers/" + std::string(7900, '7');
  auto long_id = router.Find("GET", digits);
  REQUIRE(long_id.kind == Kind::kRoute);
  CHECK(long_id.params.Get("id").size() == 7900);
  std::string slashes = "/api/v1/customers/1";
  for (int i = 0; i < 4000; ++i) slashes += "/x";
  CHECK(router.Find("GET", slashes).kind == Kind::kNoRoute);
  std::string group = "/api/v1/tag-groups/";
  for (int i = 0; i < 4000; ++i) group += "a/";
  CHECK(router.Find("PUT", group).params.Get("name").size() == 8000);
}

}  // namespace
}  // namespace scrm::server
