// HttpServer: an event-driven HTTP/1.1 server (libmicrohttpd) configured from config (keep-alive,
// limits, timeouts), with request ids, an access log, per-route metrics, a JSON error body on every
// 4xx/5xx, and routes that answer later from another thread without holding one. The pieces:
// http_types.h (the Request and Response handlers see), router.h (paths to routes),
// connection_watch.h (slow-client limits), request_log.h (access log and metrics), http_errors.h
// (JSON errors); this file is the libmicrohttpd adapter (http_server.cc: the daemon and its
// lifecycle; http_exchange.cc: one request from its request line to its answer).
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/core/status.h"
#include "src/server/http_errors.h"
#include "src/server/http_types.h"
#include "src/server/router.h"

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
  // Stop answers requests still unanswered this long after it began with 503, and cuts the
  // connections still sending one.
  int stop_grace_s = 10;
  // Slow and greedy clients (connection_watch.h):
  int max_connections_per_ip = 128;     // open connections from one address; more are closed at
                                        // accept (libmicrohttpd); 0 = no cap
  int request_timeout_s = 30;           // headers and body, from accept or the previous answer
  int64_t min_body_bytes_per_s = 1024;  // after body_rate_grace_s; 0 = no minimum
  int body_rate_grace_s = 5;
  int64_t max_pending_body_bytes = int64_t{64} << 20;  // bodies still arriving; more get 503
};

// What every handler gets besides the request.
struct RequestContext {
  std::string request_id;  // X-Request-Id from the client if well-formed, else generated
  std::string route;       // the route's pattern ("/api/v1/customers/{id}")
  PathParams params;       // the pattern's captures ("id" -> "42")
};

// An ordinary handler reads the request and fills in the response (status 200 and an empty body
// when it sets nothing).
using Handler = std::function<void(const Request&, Response&, const RequestContext&)>;

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
  bool Send(Response res) const;

 private:
  friend class HttpServer;
  explicit Responder(std::shared_ptr<internal::Completion> completion);

  std::shared_ptr<internal::Completion> completion_;
};

// An async handler starts the work and returns; it (or any thread, later) answers through the
// responder. `req` is valid only during the call: copy what the answer needs.
using AsyncHandler =
    std::function<void(const Request& req, const RequestContext& ctx, Responder responder)>;

// Behaviour on top of the handlers:
// - Every response carries X-Request-Id; every 4xx/5xx whose body is empty gets the JSON error
//   body (404 for paths no route takes, 405 with an Allow header listing the path's methods for a
//   path routed for other methods only, 413 for bodies over max_body_bytes, 400 for ambiguous
//   body framing or a GET / HEAD with a body, 414 for a request target over 8 KiB, 503 for a body
//   beyond max_pending_body_bytes, 408 and a close for a request past request_timeout_s or a body
//   slower than min_body_bytes_per_s after its grace). A handler that throws yields a 500 with a
//   generic message; the exception's text goes to the log. Requests so malformed that libmicrohttpd
//   cannot parse them (no request line, unparsable Content-Length, headers beyond the
//   per-connection memory) get libmicrohttpd's own 4xx, no request id, no log line, and their
//   connection is closed.
// - Bodies are read by the server within max_body_bytes (Content-Length or chunked; a request
//   with neither has an empty body). A body over the limit is read and discarded up to 1 MiB past
//   it, then answered 413 on a connection that stays open; a larger one (or a Content-Length that
//   announces one) is answered 413 at once and the connection closed. Whenever the server
//   answers before reading a body to its end, the response says "Connection: close" and the
//   connection is closed after it.
// - One access log line per answered request (method, path without the query string, status,
//   bytes, duration, request id, remote address) and the metrics scrmd_http_requests_total{route,
//   method,status} and scrmd_http_request_duration_seconds{route}; the route is the pattern given
//   at registration, "unmatched" when no route took the request (405 included). A connection cut by
//   a limit is logged (warn) and counted in scrmd_http_connections_cut_total{reason}.
// - Limits on clients: at most max_connections_per_ip open connections per client address
//   (libmicrohttpd closes more at accept, before any byte is read; behind a reverse proxy every
//   connection has the proxy's address: raise it or set 0); a watcher thread sweeps the
//   connections four times a second for request_timeout_s and min_body_bytes_per_s (the clock
//   given is the one they are measured on). libmicrohttpd's own warnings: at most 10 a second.
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

  // `pattern` is a Router pattern ("/api/v1/customers/{id}", router.h), matched against the
  // decoded path; it is also the route's metrics label and RequestContext::route, and its
  // captures are in RequestContext::params. A Post, Put, Patch or Delete handler gets the body in
  // req.body (read within max_body_bytes; empty without Content-Length / Transfer-Encoding).
  // Handlers should answer errors with WriteStatusError / WriteJsonError. A malformed pattern or
  // a second route for the same method and path shape makes Bind / Start fail (InvalidArgument).
  void Get(const std::string& pattern, Handler handler);
  void Post(const std::string& pattern, Handler handler);
  void Put(const std::string& pattern, Handler handler);
  void Patch(const std::string& pattern, Handler handler);
  void Delete(const std::string& pattern, Handler handler);
  // Async routes: the same matching, body reading and limits; the handler runs on the event loop
  // once the body is read, and the connection waits (suspended) until the responder is used.
  void GetAsync(const std::string& pattern, AsyncHandler handler);
  void PostAsync(const std::string& pattern, AsyncHandler handler);
  // Every registered pattern once, in registration order.
  const std::vector<std::string>& RoutePatterns() const;

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
  // ones still unanswered after stop_grace_s get 503, and connections still sending a request
  // then are cut with a 503), closes every connection (idle keep-alive ones at once), and makes
  // Run return. Returns within about stop_grace_s + 5 s whatever the clients do (ordinary
  // handlers still running are waited for). Idempotent; the destructor calls it.
  void Stop();
  bool IsRunning() const;

  class Impl;  // opaque: defined in http_server.cc

 private:
  std::unique_ptr<Impl> impl_;
  int bound_port_ = 0;
};

}  // namespace scrm::server
