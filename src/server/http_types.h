// The HTTP edge's own request and response: what a route handler reads and writes. Plain values,
// no I/O: HttpServer (http_server.h) fills a Request from the wire and sends a Response. Only what
// the routes use is here: method, target and decoded path, query parameters, headers, body and
// the client's address; status, headers and body. Value types without locking: const members may
// be called concurrently, writes need the caller's exclusion.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace scrm::server {

// Orders names without regard to ASCII case: header field names are case-insensitive (RFC 9110
// §5.1), so Header("content-type") finds "Content-Type". Transparent: lookups by string_view.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

// Header fields by case-insensitive name; a name may repeat, its values kept in arrival order.
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;
// Query parameters, URL-decoded, by exact name; a name may repeat (a=1&a=2), in order.
using QueryParams = std::multimap<std::string, std::string, std::less<>>;

// One request as the server read it. A handler gets it by const reference, valid during the call.
struct Request {
  std::string method;       // as sent: "GET", "POST", ...
  std::string target;       // the request target as sent: path and query string, not decoded
  std::string path;         // the decoded path, without the query string
  QueryParams query;        // the decoded query string
  Headers headers;          // the request's header fields
  std::string body;         // read within ServerOptions::max_body_bytes; empty if none was sent
  std::string remote_addr;  // the client's address as text ("" when unknown)

  bool HasParam(std::string_view name) const;
  // The first value of query parameter `name`; "" when there is none.
  std::string Param(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The first value of header `name` (any case); "" when there is none.
  std::string Header(std::string_view name) const;
};

// The answer a handler builds. A handler that sets nothing answers 200 with an empty body; the
// server adds X-Request-Id and the framing headers, and gives an empty 4xx/5xx without a
// Content-Type the JSON error body (http_server.h).
struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // Sets the body and its Content-Type, replacing any Content-Type set before.
  void SetContent(std::string content, std::string_view content_type);
  // Adds a header field; a name added twice is sent twice.
  void SetHeader(std::string_view name, std::string_view value);
  bool HasHeader(std::string_view name) const;
  // The first value of header `name` (any case); "" when there is none.
  std::string Header(std::string_view name) const;
};

}  // namespace scrm::server
