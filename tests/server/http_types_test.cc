#include "src/server/http_types.h"

#include <catch2/catch.hpp>

namespace scrm::server {
namespace {

TEST_CASE("Request finds a header whatever the case of its name", "[unit]") {
  Request req;
  req.headers.emplace("Content-Type", "text/xml");
  CHECK(req.HasHeader("content-type"));
  CHECK(req.HasHeader("CONTENT-TYPE"));
  CHECK(req.Header("content-TYPE") == "text/xml");
  CHECK_FALSE(req.HasHeader("Content-Length"));
  CHECK(req.Header("Content-Length").empty());
}

TEST_CASE("Request gives the first value of a repeated header or query parameter", "[unit]") {
  Request req;
  req.headers.emplace("X-Tag", "one");
  req.headers.emplace("x-tag", "two");
  req.query.emplace("a", "1");
  req.query.emplace("a", "2");
  CHECK(req.headers.count("X-TAG") == 2);
  CHECK(req.Header("X-Tag") == "one");
  CHECK(req.query.count("a") == 2);
  CHECK(req.Param("a") == "1");
}

TEST_CASE("Request matches query parameter names exactly", "[unit]") {
  Request req;
  req.query.emplace("limit", "10");
  CHECK(req.HasParam("limit"));
  CHECK_FALSE(req.HasParam("Limit"));
  CHECK(req.Param("Limit").empty());
  CHECK(req.Param("after").empty());
}

TEST_CASE("Response answers 200 with an empty body when a handler sets nothing", "[unit]") {
  const Response res;
  CHECK(res.status == 200);
  CHECK(res.body.empty());
  CHECK(res.headers.empty());
}

TEST_CASE("Response SetContent replaces an earlier Content-Type whatever its case", "[unit]") {
  Response res;
  res.SetHeader("content-type", "text/plain");
  res.SetContent("{}", "application/json");
  CHECK(res.body == "{}");
  CHECK(res.headers.count("Content-Type") == 1);
  CHECK(res.Header("Content-Type") == "application/json");
}

TEST_CASE("Response SetHeader adds a repeated name once per call", "[unit]") {
  Response res;
  res.SetHeader("Vary", "Accept");
  res.SetHeader("Vary", "Origin");
  CHECK(res.headers.count("vary") == 2);
  CHECK(res.HasHeader("VARY"));
  CHECK(res.Header("Vary") == "Accept");
  CHECK_FALSE(res.HasHeader("Allow"));
}

}  // namespace
}  // namespace scrm::server
