// Defensive reading of platform JSON replies and writing of request bodies (no exceptions escape).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"

namespace scrm::platform {

// Parses `text` as a JSON object; anything else (syntax error, array, scalar, over 16 MiB) is an
// InvalidArgument naming the problem. Never throws.
core::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text);

// Serializes a request body as raw UTF-8 (PROTOCOL §4: no \uXXXX escapes, some endpoints count
// bytes). A string that is not valid UTF-8 is an InvalidArgument. Never throws.
core::StatusOr<std::string> DumpJson(const nlohmann::json& value);

// Percent-encodes a query-string value (RFC 3986 unreserved characters kept).
std::string UrlEncode(std::string_view value);

// Typed access to the members of one JSON object from an untrusted reply. A missing optional
// member reads as its default; a required member that is missing, or any member of the wrong
// type, records the first error (with its path) and reads as the default. Check ok() at the
// end. Not thread-safe; lives on the stack of one parse.
class JsonFields {
 public:
  // `object` must outlive this reader. A non-object records an error.
  JsonFields(const nlohmann::json& object, std::string path);

  std::string String(std::string_view key, bool required = false);
  // An id the platform sends as a number or a string (OA msgid): returned as decimal text.
  std::string Id(std::string_view key, bool required = false);
  int64_t Int(std::string_view key, bool required = false);
  bool Bool(std::string_view key, bool required = false);  // also accepts 0 / 1
  std::vector<std::string> Strings(std::string_view key, bool required = false);
  std::vector<int64_t> Ints(std::string_view key, bool required = false);
  // The member if it is an object / array, else nullptr (and an error if required or present
  // with the wrong type).
  const nlohmann::json* Object(std::string_view key, bool required = false);
  const nlohmann::json* Array(std::string_view key, bool required = false);

  // Records an error found by the caller (first one wins).
  void Fail(std::string message);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json* Find(std::string_view key, bool required);
  void TypeError(std::string_view key, std::string_view expected);

  const nlohmann::json& object_;
  std::string path_;
  std::string error_;
};

}  // namespace scrm::platform
