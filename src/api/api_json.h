// Helpers shared by the /api/v1 route files: strict query and path parameters, JSON request
// bodies, JSON answers, and the id codec every route uses (docs/api.md "Ids are strings").
// Errors are InvalidArgument statuses whose message starts with the name of the parameter or
// body member at fault, for server::WriteStatusError (400).
#pragma once

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

// ---- Ids are strings (docs/api.md): every id in a response body is a JSON string of decimal
// digits ("4539142716416000017"), never a number, whatever its size — interaction ids are
// (ms << 16) | seq, above 2^53, which a JavaScript client would round. On input (a body member,
// a query parameter, a path segment) an id may be a string of decimal digits or a JSON integer.

// The id as a JSON string ("0" stays "0": the field's documented "none").
nlohmann::json IdJson(int64_t id);
// null when empty, else IdJson.
nlohmann::json IdJson(const std::optional<int64_t>& id);
// A JSON string of 1..19 decimal digits or a JSON integer, in [min, INT64_MAX]; InvalidArgument
// "<name>: must be an id ..." otherwise (floats, signs, spaces, numbers above 2^63 included).
core::StatusOr<int64_t> IdFromJson(const nlohmann::json& value, const std::string& name,
                                   int64_t min = 1);
// The member `name` read with IdFromJson; nullopt when absent or null.
core::StatusOr<std::optional<int64_t>> IdMember(const nlohmann::json& body, const std::string& name,
                                                int64_t min = 1);
// A query parameter holding an id (decimal digits) in [min, INT64_MAX]; `fallback` when absent.
core::StatusOr<int64_t> IdParam(const server::Request& req, const std::string& name,
                                int64_t fallback, int64_t min = 1);

// A query parameter as a decimal integer in [min, max]; `fallback` when absent.
core::StatusOr<int64_t> IntParam(const server::Request& req, const std::string& name,
                                 int64_t fallback, int64_t min, int64_t max);
// A query parameter as text of at most max_bytes; nullopt when absent.
core::StatusOr<std::optional<std::string>> TextParam(const server::Request& req,
                                                     const std::string& name, size_t max_bytes);
// A list route's cursor paging: `after` (an id, IdParam, >= 0, default 0) and `limit`
// (1..max_limit, default_limit when absent), checked in that order.
struct PageParams {
  int64_t after_id = 0;
  size_t limit = 0;
};
core::StatusOr<PageParams> PageParamsOf(const server::Request& req, int64_t default_limit,
                                        size_t max_limit);
// The route's capture {name} as a positive id ("<name>: ..." when out of range).
core::StatusOr<int64_t> PathId(const ApiContext& ctx, const std::string& name);
// The body as a JSON object ("body: must be a JSON object"). An empty body is an empty object
// when allow_empty.
core::StatusOr<nlohmann::json> JsonObjectBody(const server::Request& req, bool allow_empty = false);
// Writes `body` with the status; invalid UTF-8 in strings is replaced, never thrown.
void WriteJson(server::Response& res, const nlohmann::json& body, int status = 200);
// Answers the error (server::WriteStatusError) and returns false when `status` is not ok.
bool Check(const core::Status& status, server::Response& res, const ApiContext& ctx);

// A required string member of a body, 1..max_bytes long.
core::StatusOr<std::string> StringMember(const nlohmann::json& body, const std::string& name,
                                         size_t max_bytes);
// Refuses members other than `allowed` (a typo must not be silently ignored).
core::Status OnlyMembers(const nlohmann::json& body,
                         std::initializer_list<std::string_view> allowed);

}  // namespace scrm::api
