// HttpServer: an event-driven HTTP/1.1 server (libmicrohttpd) configured from config (keep-alive,
// limits, timeouts), with request ids, an access log, per-route metrics, a JSON error body on every
// 4xx/5xx, and routes that answer later from another thread without holding one.
#pragma once

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/core/status.h"

namespace scrm::server {

// Carries the request id both ways: accepted from the client if it is 1..64 characters of
// [A-Za-z0-9._-], otherwise generated (16 hex characters); always set on the response.
inline constexpr char kRequestIdHeader[] = "X-Request-Id";

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0 = ephemeral (tests)
  int threads = 8;                   // workers that run the ordinary (blocking) handlers
  int max_connections = 512;         // open connections at once; more are refused at accept
  int event_threads = 2;             // event loops (one epoll each) that read, parse and write
  int keep_alive_max = 1000;         // requests per connection, then it is closed
  int keep_alive_timeout_s = 5;      // idle time between requests (0 counts as 1)
  int read_timeout_s = 10;           // inactivity while a request is being read
  int write_timeout_s = 10;          // inactivity while a response is being written
  int64_t max_body_bytes = 1 << 20;  // larger bodies get 413 (Content-Length or chunked)
  // Stop answers async requests still unanswered this long after it began with 503.
  int stop_grace_s = 10;
};

// What every handler gets besides the request.
struct RequestContext {
  std::string request_id;  // X-Request-Id from the client if well-formed, else generated
  std::string route;       // the route name given at registration ("/api/v1/me")
};

using Handler =
    std::function<void(const httplib::Request&, httplib::Response&, const RequestContext&)>;

namespace internal {
struct Exchange;    // one request in flight (http_server.cc)
struct Completion;  // what all copies of one Responder share (http_server.cc)
}  // namespace internal

// Answers one async request. A copyable handle: every copy refers to the same request, and the
// request is answered exactly once, by the first Send on any copy. Send may be called from any
// thread, at any time (also after the client went away or the server stopped, when it is a
// no-op); it never blocks on the network. If the last copy is destroyed without a Send, the
// request is answered with 500 (a handler bug, logged), so a client never waits forever.
class Responder {
 public:
  Responder() = default;  // refers to no request; Send returns false

  // Sends `res` (status, headers, body) as the answer, with everything HttpServer adds (request
  // id, the JSON error body on an empty 4xx/5xx). True when this call answered the request; false
  // when it had been answered already (or Stop answered it with 503).
  bool Send(httplib::Response res) const;

 private:
  friend class HttpServer;
  explicit Responder(std::shared_ptr<internal::Completion> completion);

  std::shared_ptr<internal::Completion> completion_;
};

// An async handler starts the work and returns; it (or any thread, later) answers through the
// responder. `req` is valid only during the call: copy what the answer needs.
using AsyncHandler = std::function<void(const httplib::Request& req, const RequestContext& ctx,
                                        Responder responder)>;

// Writes {"error":{"code","message","request_id"}} with the given status.
void WriteJsonError(httplib::Response& res, int status, std::string_view code,
                    std::string_view message, std::string_view request_id);
// HTTP status for a canonical code (InvalidArgument 400, Unauthenticated 401, ...).
int HttpStatusFor(core::StatusCode code);
// A response header a handler sets to the detail of an error it answered without it: the server
// logs it (warn, with the request id) and never sends it.
inline constexpr char kErrorDetailHeader[] = "X-Scrm-Error-Detail";
// Writes the status as a JSON error with HttpStatusFor(code). For Internal, and for a message
// the storage layer built from a database error ("sqlite: UNIQUE constraint failed: ..."), the
// message is replaced by a stable one written for the API's user (the code stays); the detail
// goes to the log (kErrorDetailHeader), not in the answer.
void WriteStatusError(httplib::Response& res, const core::Status& status,
                      std::string_view request_id);

// Behaviour on top of the handlers:
// - Every response carries X-Request-Id; every 4xx/5xx whose body is empty gets the JSON error
//   body (404 for unknown routes, 413 for bodies over max_body_bytes, 405 with an Allow header for
//   methods other than GET, HEAD, POST and the PUT / PATCH / DELETE that a route was registered
//   for, 400 for ambiguous body framing or a GET / HEAD with a body, 414 for a request target over
//   8 KiB). A handler that throws yields a 500 with a generic message; the exception's text goes
//   to the log. Requests so malformed that libmicrohttpd cannot parse them (no request line,
//   unparsable Content-Length, headers beyond the per-connection memory) get libmicrohttpd's own
//   4xx, no request id, no log line, and their connection is closed.
// - Bodies are read by the server within max_body_bytes (Content-Length or chunked; a request
//   with neither has an empty body). A body over the limit is read and discarded up to 1 MiB past
//   it, then answered 413 on a connection that stays open; a larger one (or a Content-Length that
//   announces one) is answered 413 at once and the connection closed. Whenever the server
//   answers before reading a body to its end, the response says "Connection: close" and the
//   connection is closed after it.
// - One access log line per answered request (method, path without the query string, status,
//   bytes, duration, request id, remote address) and the metrics scrmd_http_requests_total{route,
//   method,status} and scrmd_http_request_duration_seconds{route}; the route is the name given at
//   registration, "unmatched" when no route took the request.
// - Threads: `event_threads` event loops (libmicrohttpd's epoll thread pool) accept, read, parse
//   and write for every connection; a connection waiting for its answer is suspended and costs
//   no thread. Ordinary handlers run on a pool of `threads` workers, never on an event loop (they
//   may block on SQLite). Async handlers run on the event loop: they must not block.
//
// Thread-safety: register routes before Start/Run; Stop may be called from any thread except a
// handler's or an event loop's (it waits for in-flight requests). Handlers run concurrently.
// Does not own clock, random, logger or metrics, which must outlive the server.
class HttpServer {
 public:
  HttpServer(ServerOptions options, const core::Clock& clock, core::Random& random,
             std::shared_ptr<spdlog::logger> access_log, core::MetricsRegistry& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is a cpp-httplib regex pattern (std::regex_match on the decoded path, captures in
  // req.matches); `route` is the low-cardinality metrics label. A Post, Put, Patch or Delete
  // handler gets the body in req.body (read within max_body_bytes; empty without
  // Content-Length / Transfer-Encoding). Handlers should answer errors with WriteStatusError /
  // WriteJsonError. PUT, PATCH and DELETE are served (not 405) once a route uses them.
  void Get(const std::string& pattern, const std::string& route, Handler handler);
  void Post(const std::string& pattern, const std::string& route, Handler handler);
  void Put(const std::string& pattern, const std::string& route, Handler handler);
  void Patch(const std::string& pattern, const std::string& route, Handler handler);
  void Delete(const std::string& pattern, const std::string& route, Handler handler);
  // Async routes: the same matching, body reading and limits; the handler runs on the event loop
  // once the body is read, and the connection waits (suspended) until the responder is used.
  void GetAsync(const std::string& pattern, const std::string& route, AsyncHandler handler);
  void PostAsync(const std::string& pattern, const std::string& route, AsyncHandler handler);

  // Binds host:port; Unavailable if the address is taken or invalid. After Bind, port() is
  // the real port.
  core::Status Bind();
  int port() const { return bound_port_; }
  // Serves until Stop(); must follow a successful Bind().
  void Run();
  // Bind (if not bound yet) and serve on the event threads; returns once the server accepts
  // connections.
  core::Status Start();
  // Stops accepting, lets in-flight requests finish (ordinary handlers run to their end; async
  // ones still unanswered after stop_grace_s get 503), closes every connection (idle keep-alive
  // ones at once), and makes Run return. Idempotent; the destructor calls it.
  void Stop();
  bool IsRunning() const;

  class Impl;  // opaque: defined in http_server.cc

 private:
  std::unique_ptr<Impl> impl_;
  int bound_port_ = 0;
};

}  // namespace scrm::server
