// HttpClient: the outbound HTTP seam. Platform clients talk to WeCom / OA through it; tests fake
// it, production uses CurlHttpClient (src/net/curl_http_client.h).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scrm::net {

enum class HttpMethod { kGet, kPost };

// "GET" / "POST".
std::string_view HttpMethodName(HttpMethod method);

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string url;  // absolute http:// or https:// URL, query already encoded
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string body;                                          // sent for kPost
  std::chrono::milliseconds timeout{10000};                  // whole exchange, connect included
  std::chrono::milliseconds connect_timeout{3000};           // TCP + TLS handshake
  // Whether the transport may send the request again on its own. false for a send without an
  // idempotency key: the client must then never repeat it behind the caller's back (see
  // CurlHttpClient), so that an interrupted exchange comes back as kUnknown.
  bool idempotent = true;
};

// What became of a request. The distinction between kNotSent and kUnknown decides whether a
// non-idempotent send may be tried again (docs/outbound.md, "Retry rules").
enum class HttpOutcome {
  kResponse,  // a complete HTTP response arrived (any status)
  kNotSent,   // the request never left: bad URL, DNS failure, connection refused, connect or TLS
              // handshake failed or timed out. The server cannot have acted on it.
  kUnknown,   // some of the request was sent, then a timeout, reset or a bad / oversized reply:
              // the server may or may not have acted on it.
};

// "response" | "not_sent" | "unknown" (metrics labels, logs).
std::string_view HttpOutcomeName(HttpOutcome outcome);

struct HttpResult {
  HttpOutcome outcome = HttpOutcome::kNotSent;
  int status = 0;     // HTTP status when outcome == kResponse
  std::string body;   // response body when outcome == kResponse
  std::string error;  // transport detail otherwise (for logs; never contains the URL's query)

  bool has_response() const { return outcome == HttpOutcome::kResponse; }
};

// Sends one request and waits for its outcome. Implementations are thread-safe: many threads
// call Send concurrently. Send never throws.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResult Send(const HttpRequest& request) = 0;
};

}  // namespace scrm::net
