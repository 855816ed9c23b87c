// Helpers shared by the /api/v1 route files: strict query and path parameters, JSON request
// bodies, JSON answers. Errors are InvalidArgument statuses whose message starts with the name
// of the parameter or body member at fault, for server::WriteStatusError (400).
#pragma once

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "src/api/auth.h"
#include "src/core/status.h"

namespace scrm::api {

// A query parameter as a decimal integer in [min, max]; `fallback` when absent.
core::StatusOr<int64_t> IntParam(const httplib::Request& req, const std::string& name,
                                 int64_t fallback, int64_t min, int64_t max);
// A query parameter as text of at most max_bytes; nullopt when absent.
core::StatusOr<std::optional<std::string>> TextParam(const httplib::Request& req,
                                                     const std::string& name, size_t max_bytes);
// A list route's cursor paging: `after` (an id, >= 0, default 0) and `limit` (1..max_limit,
// default_limit when absent), checked in that order.
struct PageParams {
  int64_t after_id = 0;
  size_t limit = 0;
};
core::StatusOr<PageParams> PageParamsOf(const httplib::Request& req, int64_t default_limit,
                                        size_t max_limit);
// The route's capture {name} as a positive id ("<name>: ..." when out of range).
core::StatusOr<int64_t> PathId(const ApiContext& ctx, const std::string& name);
// The body as a JSON object ("body: must be a JSON object"). An empty body is an empty object
// when allow_empty.
core::StatusOr<nlohmann::json> JsonObjectBody(const httplib::Request& req,
                                              bool allow_empty = false);
// Writes `body` with the status; invalid UTF-8 in strings is replaced, never thrown.
void WriteJson(httplib::Response& res, const nlohmann::json& body, int status = 200);
// Answers the error (server::WriteStatusError) and returns false when `status` is not ok.
bool Check(const core::Status& status, httplib::Response& res, const ApiContext& ctx);

// A required string member of a body, 1..max_bytes long.
core::StatusOr<std::string> StringMember(const nlohmann::json& body, const std::string& name,
                                         size_t max_bytes);
// Refuses members other than `allowed` (a typo must not be silently ignored).
core::Status OnlyMembers(const nlohmann::json& body,
                         std::initializer_list<std::string_view> allowed);

}  // namespace scrm::api
