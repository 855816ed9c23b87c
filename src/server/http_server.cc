#include "src/server/http_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "src/server/elastic_task_queue.h"

namespace scrm::server {
namespace {

constexpr char kUnmatchedRoute[] = "unmatched";

// Extra workers (above ServerOptions::threads) exit after this long without a connection.
constexpr std::chrono::milliseconds kIdleWorkerTimeout{10'000};

// How much of a body beyond max_body_bytes we read and throw away before answering 413. Reading
// it keeps the connection in sync and lets a client that writes its whole body before reading
// (httplib, curl without Expect) see the 413 instead of a reset; past this we stop reading and
// close the connection rather than spend a worker on an endless upload.
constexpr int64_t kMaxDrainBytes = int64_t{1} << 20;

// Latency buckets in seconds, 0.5 ms to 5 s.
const std::vector<double>& DurationBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5};
  return kBuckets;
}

// The splitmix64 finaliser (http://xoshiro.di.unimi.it/splitmix64.c): a bijection on 64-bit
// values, so distinct inputs give distinct ids that still look random.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Metrics label for the method: the request line is untrusted, so anything unexpected is
// "other" (bounded label cardinality).
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST",    "PUT",   "PATCH",
                                                "DELETE", "OPTIONS", "CONNECT", "TRACE", "PRI"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

// The path as it goes into a log line: bytes that could break the line or its key=value shape
// (control characters, space, quote, backslash, non-ASCII) become %XX, and the length is capped.
std::string LogSafe(std::string_view text, size_t max_len = 256) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (text.empty()) return "-";
  std::string out;
  out.reserve(std::min(text.size(), max_len) + 3);
  for (char ch : text.substr(0, max_len)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    } else {
      out.push_back(ch);
    }
  }
  if (text.size() > max_len) out += "...";
  return out;
}

// Error code (JSON "code") for a status produced outside a handler, or by a handler that set
// only the status. Names match core::StatusCodeName where a canonical code exists.
std::string_view ErrorCodeForStatus(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthenticated";
    case 403: return "permission_denied";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "request_timeout";
    case 409: return "conflict";
    case 411: return "length_required";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 415: return "unsupported_media_type";
    case 416: return "range_not_satisfiable";
    case 417: return "expectation_failed";
    case 429: return "resource_exhausted";
    case 500: return "internal";
    case 501: return "not_implemented";
    case 503: return "unavailable";
    case 504: return "deadline_exceeded";
    default: return status < 500 ? "bad_request" : "internal";
  }
}

std::string DefaultMessageForStatus(int status, int64_t max_body_bytes) {
  switch (status) {
    case 400: return "malformed request";
    case 401: return "authentication required";
    case 403: return "permission denied";
    case 404: return "no route for this path";
    case 405: return "method not allowed";
    case 413: return "request body exceeds " + std::to_string(max_body_bytes) + " bytes";
    case 414: return "request target too long";
    case 415: return "unsupported media type";
    case 416: return "range not satisfiable";
    case 503: return "service unavailable";
    default: return status < 500 ? "request rejected" : "internal error";
  }
}

std::string ErrorJson(std::string_view code, std::string_view message,
                      std::string_view request_id) {
  const nlohmann::json body = {{"error",
                                {{"code", std::string(code)},
                                 {"message", std::string(message)},
                                 {"request_id", std::string(request_id)}}}};
  // `replace`: a message built from input may hold invalid UTF-8, and dump() must not throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Bytes of the response body on the wire (after compression, if any).
size_t ResponseBytes(const httplib::Response& res) {
  const std::string length = res.get_header_value("Content-Length");
  if (length.empty()) return res.body.size();
  size_t value = 0;
  for (char c : length) {
    if (c < '0' || c > '9') return res.body.size();
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

std::string DescribeException(const std::exception_ptr& ep) {
  try {
    if (ep) std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "non-standard exception";
  }
  return "unknown exception";
}

bool IsAllDigits(std::string_view text) {
  if (text.empty() || text.size() > 18) return false;  // 18 digits cannot overflow int64
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// httplib::Server with access to the listening socket, which 0.11.4 keeps protected.
class ListeningServer final : public httplib::Server {
 public:
  // httplib 0.11.4 listens with a hard-coded backlog of 5: a burst of new connections (webhook
  // retries after an outage) overflows it and each dropped SYN costs the client a 1 s retry.
  // Linux lets listen() be called again on a listening socket to change the backlog.
  void RaiseBacklog() {
    const socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
  }
  // Closes a socket bound by Bind() that never reached listen_after_bind (which closes its own
  // through stop()); httplib's destructor does not.
  void CloseUnservedSocket() {
    const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) ::close(sock);
  }
};

// Names looked up on every request, built once: httplib's lookups take a const std::string&,
// and a literal longer than the small-string buffer would be allocated on each call.
struct HeaderNames {
  const std::string content_length = "Content-Length";
  const std::string transfer_encoding = "Transfer-Encoding";
  const std::string request_id = kRequestIdHeader;
};

struct RequestState {
  std::string request_id;
  // Points at a route name owned by a registered handler (or at kUnmatchedRoute); handlers live
  // as long as the server.
  const char* route = kUnmatchedRoute;
  std::chrono::steady_clock::time_point start;
};

}  // namespace

void WriteJsonError(httplib::Response& res, int status, std::string_view code,
                    std::string_view message, std::string_view request_id) {
  res.status = status;
  // set_header appends (Headers is a multimap): drop a Content-Type the handler already set.
  res.headers.erase("Content-Type");
  res.set_content(ErrorJson(code, message, request_id), "application/json");
}

int HttpStatusFor(core::StatusCode code) {
  // The HTTP mapping of google.rpc.Code (as in abseil and grpc-gateway).
  switch (code) {
    case core::StatusCode::kOk: return 200;
    case core::StatusCode::kCancelled: return 499;
    case core::StatusCode::kInvalidArgument: return 400;
    case core::StatusCode::kFailedPrecondition: return 400;
    case core::StatusCode::kUnauthenticated: return 401;
    case core::StatusCode::kPermissionDenied: return 403;
    case core::StatusCode::kNotFound: return 404;
    case core::StatusCode::kAlreadyExists: return 409;
    case core::StatusCode::kResourceExhausted: return 429;
    case core::StatusCode::kInternal: return 500;
    case core::StatusCode::kUnavailable: return 503;
    case core::StatusCode::kDeadlineExceeded: return 504;
  }
  return 500;
}

void WriteStatusError(httplib::Response& res, const core::Status& status,
                      std::string_view request_id) {
  // An ok status here is a caller bug; answering 200 with an error body would hide it.
  if (status.ok() || status.code() == core::StatusCode::kInternal) {
    WriteJsonError(res, 500, core::StatusCodeName(core::StatusCode::kInternal), "internal error",
                   request_id);
    return;
  }
  WriteJsonError(res, HttpStatusFor(status.code()), core::StatusCodeName(status.code()),
                 status.message(), request_id);
}

class HttpServer::Impl {
 public:
  Impl(ServerOptions opts, const core::Clock& clk, core::Random& rnd,
       std::shared_ptr<spdlog::logger> logger, core::MetricsRegistry& metrics)
      : options(std::move(opts)),
        clock(clk),
        random(rnd),
        request_id_seed(rnd.NextU64()),
        log(std::move(logger)),
        requests_total(metrics.Counter("scrmd_http_requests_total",
                                       "HTTP requests answered, by route, method and status.",
                                       {"route", "method", "status"})),
        request_duration(metrics.Histogram("scrmd_http_request_duration_seconds",
                                           "Time from request headers read to response written.",
                                           {"route"}, DurationBuckets())) {
    Configure();
  }

  void Configure();
  core::Status ValidateOptions() const;

  // Per-request state lives here, keyed by the address of httplib's Request: every hook for
  // one request (pre-routing, handler, error, exception, post-routing, logger) runs on the same
  // worker thread with the same Request object, and httplib gives hooks no other way to share
  // data. Pre-routing creates the entry and the logger, which runs after every response,
  // removes it. Requests that fail before pre-routing (a malformed request line) get their
  // entry from whichever hook sees them first.

  // Starts the request's entry and sets X-Request-Id on the response; returns the id.
  std::string BeginRequest(const httplib::Request& req, httplib::Response& res);
  std::string RequestIdFor(const httplib::Request& req, httplib::Response& res);
  RequestContext EnterRoute(const httplib::Request& req, const httplib::Response& res,
                            const std::string& route);
  RequestState TakeState(const httplib::Request& req);
  std::string NewRequestId(const httplib::Request& req);

  httplib::Server::HandlerResponse PreRouting(const httplib::Request& req, httplib::Response& res);
  httplib::Server::HandlerResponse OnError(const httplib::Request& req, httplib::Response& res);
  void OnException(const httplib::Request& req, httplib::Response& res,
                   const std::exception_ptr& ep);
  void PostRouting(const httplib::Request& req, httplib::Response& res);
  void OnComplete(const httplib::Request& req, const httplib::Response& res);

  // Reads the body into `body`, at most max_body_bytes; on failure writes the error response
  // and returns false.
  bool ReadBody(const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& reader, const std::string& request_id,
                std::string& body);
  // Answers with a JSON error and closes the connection after it: for requests whose body is
  // left (partly) unread, so the next bytes on the connection are not a request line.
  void RespondAndClose(httplib::Response& res, int status, const std::string& request_id,
                       std::string_view message = {});
  // Registers a handler for a method with a body (POST, PUT, PATCH, DELETE) whose body goes
  // through ReadBody.
  void AddBodyRoute(const std::string& method, const std::string& pattern,
                    httplib::Server::HandlerWithContentReader handler);
  bool IsServedMethod(const std::string& method) const;
  std::string AllowHeader() const;

  const ServerOptions options;
  const core::Clock& clock;
  core::Random& random;
  // Generated request ids: Mix64(seed + n * odd constant) for n = 0, 1, ... Unique within the
  // process (a bijection of a counter) and unpredictable across processes, for one atomic add
  // instead of a call into the CSPRNG per request. They correlate log lines; they are not
  // secrets.
  const uint64_t request_id_seed;
  std::atomic<uint64_t> request_id_counter{0};
  const HeaderNames headers;
  const std::shared_ptr<spdlog::logger> log;
  core::CounterFamily& requests_total;
  core::HistogramFamily& request_duration;
  ListeningServer http;

  std::mutex states_mu;
  std::unordered_map<const httplib::Request*, RequestState> states;

  // Lifecycle. run_mu orders Run's start against Stop so that Stop never misses a Run that is
  // about to listen.
  std::mutex run_mu;
  bool bound = false;
  bool run_started = false;
  bool stopping = false;
  bool catch_all_registered = false;
  // Methods with a body besides POST ("PUT", "PATCH", "DELETE") that some route uses: written
  // while routes are registered (before Start/Run), only read once serving.
  std::vector<std::string> extra_body_methods;
  std::atomic<bool> in_run{false};
  std::atomic<bool> run_finished{false};
  std::mutex thread_mu;  // guards `thread` (Start and Stop may race)
  std::thread thread;
};

void HttpServer::Impl::Configure() {
  http.set_payload_max_length(static_cast<size_t>(std::max<int64_t>(options.max_body_bytes, 0)));
  http.set_keep_alive_max_count(static_cast<size_t>(std::max(options.keep_alive_max, 1)));
  http.set_keep_alive_timeout(options.keep_alive_timeout_s);
  http.set_read_timeout(options.read_timeout_s);
  http.set_write_timeout(options.write_timeout_s);
  http.set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEPORT, with which a second scrmd on the same port binds
  // silently and takes part of the traffic. SO_REUSEADDR alone still allows a restart while old
  // connections sit in TIME_WAIT, and makes a port in use fail Bind().
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  const auto min_threads = static_cast<size_t>(std::max(options.threads, 1));
  const auto max_threads = static_cast<size_t>(std::max(options.max_connections, 1));
  // Why not httplib's ThreadPool: see ElasticTaskQueue (a fixed pool starves keep-alive
  // connections beyond its size). httplib owns and deletes the queue when listen ends.
  http.new_task_queue = [min_threads, max_threads] {
    return new ElasticTaskQueue(min_threads, max_threads, kIdleWorkerTimeout);
  };

  http.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return PreRouting(req, res); });
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) { return OnError(req, res); }));
  http.set_exception_handler([this](const httplib::Request& req, httplib::Response& res,
                                    std::exception_ptr ep) { OnException(req, res, ep); });
  http.set_post_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { PostRouting(req, res); });
  http.set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) { OnComplete(req, res); });
}

core::Status HttpServer::Impl::ValidateOptions() const {
  if (options.port < 0 || options.port > 65535) {
    return core::InvalidArgumentError("port must be in 0..65535");
  }
  if (options.threads < 1) return core::InvalidArgumentError("threads must be at least 1");
  if (options.max_connections < options.threads) {
    return core::InvalidArgumentError("max_connections must be at least threads");
  }
  if (options.keep_alive_max < 1) {
    return core::InvalidArgumentError("keep_alive_max must be at least 1");
  }
  if (options.keep_alive_timeout_s < 0 || options.read_timeout_s < 1 ||
      options.write_timeout_s < 1) {
    return core::InvalidArgumentError(
        "keep_alive_timeout_s must be >= 0, read_timeout_s and write_timeout_s >= 1");
  }
  if (options.max_body_bytes < 0) {
    return core::InvalidArgumentError("max_body_bytes must be >= 0");
  }
  return core::OkStatus();
}

std::string HttpServer::Impl::NewRequestId(const httplib::Request& req) {
  // A well-formed client id lets a caller correlate its logs with ours; anything else could be
  // used to inject into our logs, so it is replaced.
  const auto client_id = req.headers.find(headers.request_id);
  if (client_id != req.headers.end() && IsValidRequestId(client_id->second)) {
    return client_id->second;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  // The golden-ratio step of splitmix64: odd, so n -> n * step is a bijection too.
  constexpr uint64_t kStep = 0x9e3779b97f4a7c15ULL;
  const uint64_t n = request_id_counter.fetch_add(1, std::memory_order_relaxed);
  uint64_t value = Mix64(request_id_seed + n * kStep);
  std::string id(16, '0');
  for (size_t i = id.size(); i-- > 0; value >>= 4) id[i] = kHex[value & 0x0f];
  return id;
}

std::string HttpServer::Impl::BeginRequest(const httplib::Request& req, httplib::Response& res) {
  RequestState fresh;
  fresh.request_id = NewRequestId(req);
  fresh.start = clock.SteadyNow();
  res.headers.erase(kRequestIdHeader);
  res.set_header(kRequestIdHeader, fresh.request_id);
  std::string id = fresh.request_id;
  std::lock_guard lock(states_mu);
  // Overwrites: the address of a finished request's Request is reused by the next one.
  states[&req] = std::move(fresh);
  return id;
}

std::string HttpServer::Impl::RequestIdFor(const httplib::Request& req, httplib::Response& res) {
  std::string id = res.get_header_value(kRequestIdHeader);
  if (!id.empty()) return id;
  // Failed before pre-routing (malformed request line or headers).
  return BeginRequest(req, res);
}

RequestContext HttpServer::Impl::EnterRoute(const httplib::Request& req,
                                            const httplib::Response& res,
                                            const std::string& route) {
  std::lock_guard lock(states_mu);
  RequestState& state = states[&req];  // created by PreRouting, which runs before any route
  state.route = route.c_str();
  if (state.request_id.empty()) state.request_id = res.get_header_value(kRequestIdHeader);
  return RequestContext{state.request_id, route};
}

RequestState HttpServer::Impl::TakeState(const httplib::Request& req) {
  std::lock_guard lock(states_mu);
  auto it = states.find(&req);
  if (it == states.end()) return RequestState{};
  RequestState state = std::move(it->second);
  states.erase(it);
  return state;
}

httplib::Server::HandlerResponse HttpServer::Impl::PreRouting(const httplib::Request& req,
                                                              httplib::Response& res) {
  using HandlerResponse = httplib::Server::HandlerResponse;
  const std::string request_id = BeginRequest(req, res);

  // Decide on the body before httplib reads any of it. httplib 0.11.4 enforces
  // payload_max_length only for a Content-Length body; a chunked body, or one with neither
  // header (read until the peer closes), would be buffered without limit. So every body goes
  // through ReadBody, which only the POST handlers call, and the framing is checked here.
  // Each header is looked up once; the values are read in place.
  const auto lengths = req.headers.equal_range(headers.content_length);
  const auto encodings = req.headers.equal_range(headers.transfer_encoding);
  const bool has_length = lengths.first != lengths.second;
  const bool has_encoding = encodings.first != encodings.second;
  const bool has_body = has_encoding || (has_length && lengths.first->second != "0");

  if (!IsServedMethod(req.method)) {
    if (has_body) {
      RespondAndClose(res, 405, request_id);
    } else {
      res.status = 405;
    }
    res.set_header("Allow", AllowHeader());
    return HandlerResponse::Handled;
  }
  if (req.method == "GET" || req.method == "HEAD") {
    // httplib does not read a GET body: its bytes would be parsed as the next request.
    if (has_body) {
      RespondAndClose(res, 400, request_id, "a GET or HEAD request must not carry a body");
      return HandlerResponse::Handled;
    }
    return HandlerResponse::Unhandled;
  }

  // RFC 9112 section 6: Transfer-Encoding together with Content-Length is a request-smuggling
  // signal, and httplib knows only a lone "chunked" coding (anything else it would read until
  // the peer closes). Several Content-Length headers, or a non-numeric one, which httplib would
  // read as 0, leave the message length unknown.
  if (has_encoding) {
    if (has_length || std::next(encodings.first) != encodings.second ||
        !EqualsIgnoreCase(encodings.first->second, "chunked")) {
      RespondAndClose(res, 400, request_id, "unsupported Transfer-Encoding");
      return HandlerResponse::Handled;
    }
  } else if (has_length) {
    const std::string& length = lengths.first->second;
    if (std::next(lengths.first) != lengths.second || !IsAllDigits(length)) {
      RespondAndClose(res, 400, request_id, "invalid Content-Length");
      return HandlerResponse::Handled;
    }
    // Within max_body_bytes + kMaxDrainBytes httplib answers 413 itself after skipping the
    // body (ReadBody); beyond it, skipping would cost more than closing.
    if (std::stoll(length) > options.max_body_bytes + kMaxDrainBytes) {
      RespondAndClose(res, 413, request_id);
      return HandlerResponse::Handled;
    }
  }
  return HandlerResponse::Unhandled;
}

bool HttpServer::Impl::ReadBody(const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader, const std::string& request_id,
                                std::string& body) {
  // RFC 9112 section 6.3: a request with neither Content-Length nor Transfer-Encoding has an
  // empty body. httplib would instead read until the peer closes.
  if (!req.has_header(headers.content_length) && !req.has_header(headers.transfer_encoding)) {
    return true;
  }

  const int64_t limit = options.max_body_bytes;
  int64_t total = 0;
  bool too_large = false;
  const bool complete = reader([&](const char* data, size_t size) {
    total += static_cast<int64_t>(size);
    if (!too_large && total <= limit) {
      body.append(data, size);
      return true;
    }
    if (!too_large) {
      too_large = true;
      std::string().swap(body);
    }
    // Read and discard up to the drain budget (see kMaxDrainBytes), then give up.
    return total <= limit + kMaxDrainBytes;
  });

  if (complete && !too_large) return true;
  if (complete) {
    // A chunked body over the limit, read to its end: the connection can serve the next request.
    res.status = 413;
    return false;
  }
  if (too_large) {
    RespondAndClose(res, 413, request_id);
  } else if (res.status == 413) {
    // httplib saw a Content-Length over payload_max_length and skipped the body itself.
    res.status = 413;
    res.body.clear();
  } else {
    // Truncated body, bad chunk framing, undecodable Content-Encoding or a read timeout.
    RespondAndClose(res, 400, request_id, "request body could not be read");
  }
  return false;
}

void HttpServer::Impl::RespondAndClose(httplib::Response& res, int status,
                                       const std::string& request_id, std::string_view message) {
  const std::string text = message.empty() ? DefaultMessageForStatus(status, options.max_body_bytes)
                                           : std::string(message);
  auto json =
      std::make_shared<const std::string>(ErrorJson(ErrorCodeForStatus(status), text, request_id));
  res.status = status;
  res.body.clear();
  res.headers.erase("Content-Type");
  res.set_header("Connection", "close");
  // httplib 0.11.4 offers a handler no way to close the connection: it keeps serving unless the
  // response write fails. A content provider that returns false after writing the whole body is
  // such a failure: the client gets a complete response, then httplib closes the socket.
  res.set_content_provider(json->size(), "application/json",
                           [json](size_t offset, size_t length, httplib::DataSink& sink) {
                             sink.write(json->data() + offset, length);
                             return false;
                           });
}

void HttpServer::Impl::AddBodyRoute(const std::string& method, const std::string& pattern,
                                    httplib::Server::HandlerWithContentReader handler) {
  if (method == "POST") {
    http.Post(pattern, std::move(handler));
    return;
  }
  if (std::find(extra_body_methods.begin(), extra_body_methods.end(), method) ==
      extra_body_methods.end()) {
    extra_body_methods.push_back(method);
  }
  if (method == "PUT") {
    http.Put(pattern, std::move(handler));
  } else if (method == "PATCH") {
    http.Patch(pattern, std::move(handler));
  } else {
    http.Delete(pattern, std::move(handler));
  }
}

bool HttpServer::Impl::IsServedMethod(const std::string& method) const {
  if (method == "GET" || method == "HEAD" || method == "POST") return true;
  return std::find(extra_body_methods.begin(), extra_body_methods.end(), method) !=
         extra_body_methods.end();
}

std::string HttpServer::Impl::AllowHeader() const {
  std::string allow = "GET, HEAD, POST";
  for (const std::string& method : extra_body_methods) allow += ", " + method;
  return allow;
}

httplib::Server::HandlerResponse HttpServer::Impl::OnError(const httplib::Request& req,
                                                           httplib::Response& res) {
  // A body (or a content provider, which sets Content-Type) is the handler's own answer.
  if (!res.body.empty() || res.has_header("Content-Type")) {
    return httplib::Server::HandlerResponse::Unhandled;
  }
  if (!res.has_header(kRequestIdHeader)) {
    // httplib failed the request before routing (malformed request line or headers, target too
    // long): where the next request would start is unknown, so answer and close.
    RespondAndClose(res, res.status, RequestIdFor(req, res));
    return httplib::Server::HandlerResponse::Handled;
  }
  const std::string request_id = RequestIdFor(req, res);
  WriteJsonError(res, res.status, ErrorCodeForStatus(res.status),
                 DefaultMessageForStatus(res.status, options.max_body_bytes), request_id);
  return httplib::Server::HandlerResponse::Handled;
}

void HttpServer::Impl::OnException(const httplib::Request& req, httplib::Response& res,
                                   const std::exception_ptr& ep) {
  const std::string request_id = RequestIdFor(req, res);
  log->error("request_id={} method={} path={} handler threw: {}", request_id,
             LogSafe(req.method, 16), LogSafe(req.path), DescribeException(ep));
  // Whatever the handler had put into the response is dropped: the client gets the generic
  // error only (httplib would otherwise answer with the status the handler left, even 200).
  res = httplib::Response();
  res.version = "HTTP/1.1";
  res.set_header(kRequestIdHeader, request_id);
  WriteJsonError(res, 500, "internal", "internal error", request_id);
}

void HttpServer::Impl::PostRouting(const httplib::Request& req, httplib::Response& res) {
  if (!res.has_header(kRequestIdHeader)) {
    res.set_header(kRequestIdHeader, RequestIdFor(req, res));
  }
  // httplib adds "Keep-Alive: timeout=..." to every response it does not close itself; a
  // response from RespondAndClose must not advertise a connection that is about to close.
  if (res.get_header_value("Connection") == "close") {
    res.headers.erase("Keep-Alive");
    res.headers.erase("Connection");
    res.set_header("Connection", "close");
  }
}

void HttpServer::Impl::OnComplete(const httplib::Request& req, const httplib::Response& res) {
  RequestState state = TakeState(req);
  const auto now = clock.SteadyNow();
  if (state.start == std::chrono::steady_clock::time_point{}) state.start = now;
  const double seconds = std::chrono::duration<double>(now - state.start).count();

  requests_total.Inc(
      {state.route, std::string(MethodLabel(req.method)), std::to_string(res.status)});
  request_duration.Observe({state.route}, seconds);
  // The arguments below cost allocations and copies: only when the line is written.
  if (!log->should_log(spdlog::level::info)) return;
  const std::string request_id = res.get_header_value(kRequestIdHeader);
  // req.path never includes the query string, which can carry signatures.
  log->info("method={} path={} status={} bytes={} duration_ms={:.3f} request_id={} remote={}",
            LogSafe(req.method, 16), LogSafe(req.path), res.status, ResponseBytes(res),
            seconds * 1000.0, LogSafe(request_id, 64), LogSafe(req.remote_addr, 64));
}

HttpServer::HttpServer(ServerOptions options, const core::Clock& clock, core::Random& random,
                       std::shared_ptr<spdlog::logger> access_log, core::MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), clock, random, std::move(access_log),
                                   metrics)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& pattern, const std::string& route, Handler handler) {
  Impl* impl = impl_.get();
  impl->http.Get(pattern, [impl, route, handler = std::move(handler)](const httplib::Request& req,
                                                                      httplib::Response& res) {
    handler(req, res, impl->EnterRoute(req, res, route));
  });
}

void HttpServer::Post(const std::string& pattern, const std::string& route, Handler handler) {
  AddBodyRoute("POST", pattern, route, std::move(handler));
}

void HttpServer::Put(const std::string& pattern, const std::string& route, Handler handler) {
  AddBodyRoute("PUT", pattern, route, std::move(handler));
}

void HttpServer::Patch(const std::string& pattern, const std::string& route, Handler handler) {
  AddBodyRoute("PATCH", pattern, route, std::move(handler));
}

void HttpServer::Delete(const std::string& pattern, const std::string& route, Handler handler) {
  AddBodyRoute("DELETE", pattern, route, std::move(handler));
}

void HttpServer::AddBodyRoute(const std::string& method, const std::string& pattern,
                              const std::string& route, Handler handler) {
  Impl* impl = impl_.get();
  // A content-reader handler, so that ReadBody, not httplib, reads (and limits) the body.
  impl->AddBodyRoute(method, pattern,
                     [impl, route, handler = std::move(handler)](
                         const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& reader) {
                       const RequestContext context = impl->EnterRoute(req, res, route);
                       std::string body;
                       if (!impl->ReadBody(req, res, reader, context.request_id, body)) return;
                       // Handlers expect req.body; httplib hands content-reader handlers a const
                       // Request without one. httplib 0.11.4 builds that Request as a non-const
                       // local of Server::process_request (and passes it on by const reference
                       // only), so setting the body in place is defined, and spares a copy of every
                       // header, parameter and match per request.
                       const_cast<httplib::Request&>(req).body = std::move(body);
                       handler(req, res, context);
                     });
}

core::Status HttpServer::Bind() {
  std::lock_guard lock(impl_->run_mu);
  if (impl_->bound) return core::FailedPreconditionError("server is already bound");
  SCRM_RETURN_IF_ERROR(impl_->ValidateOptions());
  const ServerOptions& options = impl_->options;
  const std::string address = options.host + ":" + std::to_string(options.port);
  errno = 0;
  int port = -1;
  if (options.port == 0) {
    port = impl_->http.bind_to_any_port(options.host);
  } else if (impl_->http.bind_to_port(options.host, options.port)) {
    port = options.port;
  }
  if (port < 0) {
    const int error = errno;
    return core::UnavailableError(
        "cannot listen on " + address + ": " +
        (error != 0 ? std::strerror(error) : "address invalid, not local or in use"));
  }
  impl_->http.RaiseBacklog();
  bound_port_ = port;
  impl_->bound = true;
  return core::OkStatus();
}

void HttpServer::Run() {
  {
    std::lock_guard lock(impl_->run_mu);
    if (!impl_->bound || impl_->run_started || impl_->stopping) {
      if (!impl_->bound) impl_->log->error("HttpServer::Run called without a successful Bind");
      impl_->run_finished = true;
      return;
    }
    impl_->run_started = true;
    impl_->in_run = true;
    if (!impl_->catch_all_registered) {
      impl_->catch_all_registered = true;
      Impl* impl = impl_.get();
      // Registered last, so it matches only requests with a body that no route took: their
      // body still has to go through ReadBody (httplib would buffer a chunked one without
      // limit) before the 404. "[\s\S]*" and not ".*": a decoded path may contain a newline.
      const auto catch_all = [impl](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
        const std::string request_id = impl->RequestIdFor(req, res);
        std::string body;
        if (!impl->ReadBody(req, res, reader, request_id, body)) return;
        res.status = 404;
      };
      const std::vector<std::string> methods = impl->extra_body_methods;
      impl->AddBodyRoute("POST", R"([\s\S]*)", catch_all);
      for (const std::string& method : methods) {
        impl->AddBodyRoute(method, R"([\s\S]*)", catch_all);
      }
    }
  }
  if (!impl_->http.listen_after_bind()) {
    impl_->log->error("HTTP server on {}:{} stopped: accept failed", impl_->options.host,
                      bound_port_);
  }
  impl_->in_run = false;
  impl_->run_finished = true;
}

core::Status HttpServer::Start() {
  bool need_bind = false;
  {
    std::lock_guard lock(impl_->run_mu);
    if (impl_->thread.joinable() || impl_->run_started) {
      return core::FailedPreconditionError("server is already started");
    }
    need_bind = !impl_->bound;
  }
  if (need_bind) SCRM_RETURN_IF_ERROR(Bind());
  {
    std::lock_guard lock(impl_->thread_mu);
    impl_->run_finished = false;
    impl_->thread = std::thread([this] { Run(); });
  }
  // httplib 0.11.4 has no wait_until_ready; is_running() turns true as listen starts.
  while (!impl_->http.is_running()) {
    if (impl_->run_finished) {
      std::lock_guard lock(impl_->thread_mu);
      if (impl_->thread.joinable()) impl_->thread.join();
      return core::UnavailableError("HTTP server stopped before it accepted connections");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return core::OkStatus();
}

void HttpServer::Stop() {
  bool ran = false;
  {
    std::lock_guard lock(impl_->run_mu);
    impl_->stopping = true;
    ran = impl_->run_started;
  }
  // Between Run's start and httplib setting is_running, httplib's stop() would be a no-op.
  while (impl_->in_run && !impl_->http.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Closes the listening socket; listen then shuts the worker pool down, which lets every
  // in-flight request finish (and waits for idle keep-alive connections up to
  // keep_alive_timeout_s, since httplib 0.11.4 does not interrupt that wait).
  impl_->http.stop();
  {
    std::lock_guard lock(impl_->thread_mu);
    if (impl_->thread.joinable()) impl_->thread.join();
  }
  // Run on a caller's thread: wait for it to finish its in-flight requests too.
  while (impl_->in_run) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!ran) impl_->http.CloseUnservedSocket();
}

bool HttpServer::IsRunning() const { return impl_->http.is_running(); }

}  // namespace scrm::server
