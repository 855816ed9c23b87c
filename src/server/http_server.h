// HttpServer: cpp-httplib configured from config (pool, keep-alive, limits), with request ids,
// an access log, per-route metrics and a JSON error body on every 4xx/5xx.
#pragma once

#include <httplib.h>
#include <spdlog/spdlog.h>

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
  int port = 8080;            // 0 = ephemeral (tests)
  int threads = 8;            // warm workers
  int max_connections = 512;  // workers grow up to this so no connection starves
  int keep_alive_max = 1000;
  int keep_alive_timeout_s = 5;
  int read_timeout_s = 10;
  int write_timeout_s = 10;
  int64_t max_body_bytes = 1 << 20;  // larger bodies get 413 (Content-Length or chunked)
};

// What every handler gets besides the request.
struct RequestContext {
  std::string request_id;  // X-Request-Id from the client if well-formed, else generated
  std::string route;       // the route name given at registration ("/api/v1/me")
};

using Handler =
    std::function<void(const httplib::Request&, httplib::Response&, const RequestContext&)>;

// Writes {"error":{"code","message","request_id"}} with the given status.
void WriteJsonError(httplib::Response& res, int status, std::string_view code,
                    std::string_view message, std::string_view request_id);
// HTTP status for a canonical code (InvalidArgument 400, Unauthenticated 401, ...).
int HttpStatusFor(core::StatusCode code);
// Writes the status as a JSON error with HttpStatusFor(code). For Internal the message is
// replaced by a generic one (the detail belongs in the log, not in the answer).
void WriteStatusError(httplib::Response& res, const core::Status& status,
                      std::string_view request_id);

// Behaviour on top of the handlers:
// - Every response carries X-Request-Id; every 4xx/5xx whose body is empty gets the JSON error
//   body (404 for unknown routes, 413 for bodies over max_body_bytes, 405 for methods other
//   than GET, HEAD, POST and the PUT / PATCH / DELETE that a route was registered for, 400 for
//   malformed requests). A handler that throws yields a 500
//   with a generic message; the exception's text goes to the log.
// - Bodies are read by the server, never by httplib's unlimited reader: Content-Length or
//   chunked, at most max_body_bytes; a request with neither header has an empty body.
//   Requests whose body cannot be read to its end are answered, then their connection closed.
// - One access log line per response (method, path without the query string, status, bytes,
//   duration, request id, remote address) and the metrics scrmd_http_requests_total{route,
//   method,status} and scrmd_http_request_duration_seconds{route}; the route is the name given
//   at registration, "unmatched" when no route took the request.
// - Workers: `threads` stay warm, one more starts for each connection that finds none idle, up
//   to max_connections (a worker serves one keep-alive connection for its life; see
//   ElasticTaskQueue).
//
// Thread-safety: register routes before Start/Run; Stop may be called from any thread except a
// handler's (it waits for the workers). Handlers run on the worker threads, concurrently.
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

  // Binds host:port; Unavailable if the address is taken or invalid. After Bind, port() is
  // the real port.
  core::Status Bind();
  int port() const { return bound_port_; }
  // Serves until Stop(); must follow a successful Bind().
  void Run();
  // Bind + Run on an internal thread; returns once the server accepts connections.
  core::Status Start();
  // Stops accepting, lets in-flight requests finish, joins the internal thread if any (or waits
  // for Run to return). Idle keep-alive connections hold it up to keep_alive_timeout_s: httplib
  // 0.11.4 does not interrupt that wait. Idempotent; the destructor calls it.
  void Stop();
  bool IsRunning() const;

 private:
  void AddBodyRoute(const std::string& method, const std::string& pattern, const std::string& route,
                    Handler handler);

  class Impl;
  std::unique_ptr<Impl> impl_;
  int bound_port_ = 0;
};

}  // namespace scrm::server
