#include "src/server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "src/server/elastic_task_queue.h"

namespace scrm::server {
namespace {

constexpr char kUnmatchedRoute[] = "unmatched";

// The handler pool has a fixed size (ServerOptions::threads), so its workers never idle out.
constexpr std::chrono::milliseconds kIdleWorkerTimeout{60'000};

// Longest request target (path and query) served; longer ones get 414, as from most servers.
constexpr size_t kMaxTargetBytes = 8192;

// How much of a body beyond max_body_bytes we read and throw away before answering 413. Reading
// it keeps the connection in sync and lets a client that writes its whole body before reading
// (httplib, curl without Expect) see the 413 instead of a reset; past this we stop reading and
// close the connection rather than spend the event loop on an endless upload.
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

struct Route {
  std::string method;  // "GET", "POST", "PUT", "PATCH" or "DELETE"
  std::regex pattern;
  std::string name;            // the metrics label; also RequestContext::route
  Handler handler;             // set for an ordinary route
  AsyncHandler async_handler;  // set for an async route
};

// libmicrohttpd's per-connection context (MHD_OPTION_NOTIFY_CONNECTION): event thread only.
struct ConnectionState {
  int requests = 0;  // requests begun on this connection (keep_alive_max)
};

}  // namespace

namespace internal {

// One request, from its request line to the end of its response. Owned by libmicrohttpd's request
// context (a heap shared_ptr, deleted when the request completes), by the handler task or
// Responder while they may still answer, and by Impl::pending while it waits for an answer.
struct Exchange {
  enum class Phase {
    kHeaders,   // request line seen, headers not processed yet
    kBody,      // reading the body (or waiting for its end)
    kHandling,  // a handler has the request; the connection is suspended unless answered
    kQueued,    // the response is queued with libmicrohttpd
  };

  // Set on creation; the event thread owns everything below until `mu`.
  HttpServer::Impl* impl = nullptr;
  std::chrono::steady_clock::time_point start;
  httplib::Request req;
  std::string request_id;
  const Route* route = nullptr;
  Phase phase = Phase::kHeaders;
  int pending_status = 0;  // an answer decided on the headers, given once the body is read
  bool too_large = false;  // the body went over max_body_bytes: answer 413 at its end
  int64_t body_bytes = 0;  // seen so far, kept or not
  bool close_after = false;
  int status = 0;    // as queued
  size_t bytes = 0;  // body bytes as queued

  // Shared with whoever answers (a handler worker, a Responder on any thread, Stop).
  std::mutex mu;
  MHD_Connection* connection = nullptr;  // nullptr once libmicrohttpd completed the request
  bool answered = false;                 // `res` holds the answer
  bool suspended = false;                // the connection waits for MHD_resume_connection
  httplib::Response res;
};

// Shared by every copy of one Responder: the last copy gone without a Send answers 500.
struct Completion {
  explicit Completion(std::shared_ptr<Exchange> e) : exchange(std::move(e)) {}
  ~Completion();
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  std::shared_ptr<Exchange> exchange;
};

}  // namespace internal

using internal::Exchange;

namespace {

// Messages the storage layer builds from a database exception ("sqlite: UNIQUE constraint
// failed: tags.wecom_tag_id", "database: ...").
bool IsStorageDetail(std::string_view message) {
  return message.starts_with("sqlite") || message.starts_with("database:") ||
         message.find("constraint failed") != std::string_view::npos;
}

// What the client reads instead, by code: stable, written for the API's user.
std::string_view StorageErrorMessage(core::StatusCode code) {
  switch (code) {
    case core::StatusCode::kAlreadyExists:
      return "already exists: a name or id that must be unique is taken";
    case core::StatusCode::kInvalidArgument:
      return "the request breaks a rule of the stored data (a required value is missing or out "
             "of range)";
    case core::StatusCode::kFailedPrecondition:
      return "the request refers to a record that does not exist or is still in use";
    case core::StatusCode::kUnavailable: return "the database is busy; retry the request";
    default: return "internal error";
  }
}

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
    res.set_header(kErrorDetailHeader, status.ToString());
    return;
  }
  if (IsStorageDetail(status.message())) {
    // The database's own text (SQL, table and column names) is for the log, not the client.
    WriteJsonError(res, HttpStatusFor(status.code()), core::StatusCodeName(status.code()),
                   StorageErrorMessage(status.code()), request_id);
    res.set_header(kErrorDetailHeader, status.ToString());
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
        request_id_seed(rnd.NextU64()),
        log(std::move(logger)),
        requests_total(metrics.Counter("scrmd_http_requests_total",
                                       "HTTP requests answered, by route, method and status.",
                                       {"route", "method", "status"})),
        request_duration(metrics.Histogram("scrmd_http_request_duration_seconds",
                                           "Time from request line read to response written.",
                                           {"route"}, DurationBuckets())) {}

  core::Status ValidateOptions() const;
  void AddRoute(const std::string& method, const std::string& pattern, const std::string& name,
                Handler handler, AsyncHandler async_handler);
  bool IsServedMethod(const std::string& method) const;
  std::string AllowHeader() const;
  std::string NewRequestId(const httplib::Request& req);

  core::Status BindSocket(int& port);
  // Starts libmicrohttpd on the bound socket and the handler pool. run_mu held.
  core::Status StartDaemonLocked();

  // libmicrohttpd callbacks (event threads).
  void* OnRequestLine(const char* uri, MHD_Connection* connection);
  MHD_Result OnAccess(MHD_Connection* connection, const char* url, const char* method,
                      const char* version, const char* upload_data, size_t* upload_data_size,
                      void** request_context);
  void OnCompleted(MHD_Connection* connection, void** request_context,
                   MHD_RequestTerminationCode code);

  // Request phases (event thread).
  MHD_Result BeginRequest(Exchange& ex, MHD_Connection* connection, const char* url,
                          const char* method, const char* version);
  MHD_Result ReadBody(Exchange& ex, MHD_Connection* connection, const char* data, size_t size);
  MHD_Result Dispatch(const std::shared_ptr<Exchange>& ex, MHD_Connection* connection);
  // Answers 413 on a body that went past the drain budget mid-way, and aborts the connection.
  MHD_Result AbortTooLarge(Exchange& ex, MHD_Connection* connection);
  // Answers at once with a JSON error; `close` when the rest of the request stays unread.
  MHD_Result AnswerNow(Exchange& ex, MHD_Connection* connection, int status, bool close,
                       std::string_view message = {});
  // Turns ex.res into a libmicrohttpd response and queues it.
  MHD_Result Queue(Exchange& ex, MHD_Connection* connection);
  void Record(const Exchange& ex);

  // Takes `res` as the answer unless the request was answered already; resumes the connection if
  // it is suspended. `why_logged`, when set, is logged as an error if this call answers. Any
  // thread. Static: it reaches the Impl (through ex.impl) only when it answers, which cannot
  // happen once Stop has returned (Stop answers every pending request), so a late Send on a
  // Responder that outlived the server is safe.
  static bool Finish(Exchange& ex, httplib::Response res, const char* why_logged = nullptr);
  // Runs an ordinary handler (handler pool).
  void RunHandler(const std::shared_ptr<Exchange>& ex);

  void SetTimeout(MHD_Connection* connection, int seconds) const;

  const ServerOptions options;
  const core::Clock& clock;
  // Generated request ids: Mix64(seed + n * odd constant) for n = 0, 1, ... Unique within the
  // process (a bijection of a counter) and unpredictable across processes, for one atomic add
  // instead of a call into the CSPRNG per request. They correlate log lines; they are not
  // secrets.
  const uint64_t request_id_seed;
  std::atomic<uint64_t> request_id_counter{0};
  const std::shared_ptr<spdlog::logger> log;
  core::CounterFamily& requests_total;
  core::HistogramFamily& request_duration;

  // Written while routes are registered (before Start/Run), only read once serving.
  std::vector<std::unique_ptr<Route>> routes;
  // Methods with a body besides POST ("PUT", "PATCH", "DELETE") that some route uses.
  std::vector<std::string> extra_body_methods;

  // Lifecycle, guarded by run_mu.
  std::mutex run_mu;
  std::condition_variable run_cv;  // Run waits for `finished`
  int listen_fd = -1;
  bool bound = false;
  bool started = false;
  bool finished = false;
  MHD_Daemon* daemon = nullptr;
  std::unique_ptr<ElasticTaskQueue> pool;
  std::atomic<bool> stopping{false};
  std::mutex stop_mu;  // serialises Stop calls

  // Requests begun (request line read) and not completed; Stop waits for zero.
  std::mutex active_mu;
  std::condition_variable active_cv;
  size_t active = 0;

  // Requests handed to a handler and not answered yet, for Stop's grace.
  std::mutex pending_mu;
  std::unordered_map<Exchange*, std::shared_ptr<Exchange>> pending;
};

namespace {

// libmicrohttpd's C callbacks, forwarding to the Impl given as their closure.
MHD_Result AcceptThunk(void* cls, const sockaddr*, socklen_t) {
  // Once Stop has begun, new connections are closed as soon as they are accepted.
  return static_cast<HttpServer::Impl*>(cls)->stopping.load(std::memory_order_relaxed) ? MHD_NO
                                                                                       : MHD_YES;
}

void* RequestLineThunk(void* cls, const char* uri, MHD_Connection* connection) {
  return static_cast<HttpServer::Impl*>(cls)->OnRequestLine(uri, connection);
}

MHD_Result AccessThunk(void* cls, MHD_Connection* connection, const char* url, const char* method,
                       const char* version, const char* upload_data, size_t* upload_data_size,
                       void** request_context) {
  return static_cast<HttpServer::Impl*>(cls)->OnAccess(
      connection, url, method, version, upload_data, upload_data_size, request_context);
}

void CompletedThunk(void* cls, MHD_Connection* connection, void** request_context,
                    MHD_RequestTerminationCode code) {
  static_cast<HttpServer::Impl*>(cls)->OnCompleted(connection, request_context, code);
}

void ConnectionThunk(void*, MHD_Connection*, void** socket_context,
                     MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    *socket_context = new ConnectionState();
  } else {
    delete static_cast<ConnectionState*>(*socket_context);
    *socket_context = nullptr;
  }
}

// libmicrohttpd's own diagnostics (accept failures, resource limits). They name no bodies; control
// characters are replaced so that a line stays a line.
void MhdLogThunk(void* cls, const char* format, va_list args) {
  auto* log = static_cast<spdlog::logger*>(cls);
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  log->warn("libmicrohttpd: {}", text);
}

MHD_Result AddHeader(void* cls, MHD_ValueKind, const char* key, const char* value) {
  static_cast<httplib::Headers*>(cls)->emplace(key, value == nullptr ? "" : value);
  return MHD_YES;
}

MHD_Result AddParam(void* cls, MHD_ValueKind, const char* key, const char* value) {
  static_cast<httplib::Params*>(cls)->emplace(key, value == nullptr ? "" : value);
  return MHD_YES;
}

void FreeString(void* cls) { delete static_cast<std::string*>(cls); }

// Response headers libmicrohttpd writes itself (framing, connection management), and the
// error detail WriteStatusError leaves for the log.
bool IsManagedHeader(const std::string& name) {
  if (EqualsIgnoreCase(name, kErrorDetailHeader)) return true;
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection") || EqualsIgnoreCase(name, "Keep-Alive") ||
         EqualsIgnoreCase(name, "Date") || EqualsIgnoreCase(name, kRequestIdHeader);
}

}  // namespace

internal::Completion::~Completion() {
  if (exchange == nullptr) return;
  httplib::Response res;
  res.status = 500;
  HttpServer::Impl::Finish(*exchange, std::move(res),
                           "async handler dropped its responder without answering");
}

Responder::Responder(std::shared_ptr<internal::Completion> completion)
    : completion_(std::move(completion)) {}

bool Responder::Send(httplib::Response res) const {
  if (completion_ == nullptr) return false;
  return HttpServer::Impl::Finish(*completion_->exchange, std::move(res));
}

core::Status HttpServer::Impl::ValidateOptions() const {
  if (options.port < 0 || options.port > 65535) {
    return core::InvalidArgumentError("port must be in 0..65535");
  }
  if (options.threads < 1) return core::InvalidArgumentError("threads must be at least 1");
  if (options.max_connections < options.threads) {
    return core::InvalidArgumentError("max_connections must be at least threads");
  }
  if (options.event_threads < 1 || options.event_threads > 64) {
    return core::InvalidArgumentError("event_threads must be in 1..64");
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
  if (options.stop_grace_s < 0) return core::InvalidArgumentError("stop_grace_s must be >= 0");
  return core::OkStatus();
}

void HttpServer::Impl::AddRoute(const std::string& method, const std::string& pattern,
                                const std::string& name, Handler handler,
                                AsyncHandler async_handler) {
  if (method != "GET" && method != "POST" &&
      std::find(extra_body_methods.begin(), extra_body_methods.end(), method) ==
          extra_body_methods.end()) {
    extra_body_methods.push_back(method);
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = std::regex(pattern);
  route->name = name;
  route->handler = std::move(handler);
  route->async_handler = std::move(async_handler);
  routes.push_back(std::move(route));
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

std::string HttpServer::Impl::NewRequestId(const httplib::Request& req) {
  // A well-formed client id lets a caller correlate its logs with ours; anything else could be
  // used to inject into our logs, so it is replaced.
  const auto client_id = req.headers.find(kRequestIdHeader);
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

void HttpServer::Impl::SetTimeout(MHD_Connection* connection, int seconds) const {
  // libmicrohttpd's timeout is one inactivity limit per connection (0 would mean none); it is
  // switched here between the read, write and keep-alive phases.
  MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT,
                            static_cast<unsigned int>(std::max(seconds, 1)));
}

void* HttpServer::Impl::OnRequestLine(const char* uri, MHD_Connection* connection) {
  // Called once per request, when its request line has been read: the request's state starts
  // here and ends in OnCompleted.
  auto ex = std::make_shared<Exchange>();
  ex->impl = this;
  ex->start = clock.SteadyNow();
  ex->connection = connection;
  ex->req.target = uri == nullptr ? "" : uri;
  SetTimeout(connection, options.read_timeout_s);
  {
    std::lock_guard lock(active_mu);
    ++active;
  }
  return new std::shared_ptr<Exchange>(std::move(ex));
}

MHD_Result HttpServer::Impl::OnAccess(MHD_Connection* connection, const char* url,
                                      const char* method, const char* version,
                                      const char* upload_data, size_t* upload_data_size,
                                      void** request_context) {
  auto* holder = static_cast<std::shared_ptr<Exchange>*>(*request_context);
  // OnRequestLine runs for every request before this; refusing is the safe answer otherwise.
  if (holder == nullptr) return MHD_NO;
  Exchange& ex = **holder;
  switch (ex.phase) {
    case Exchange::Phase::kHeaders: return BeginRequest(ex, connection, url, method, version);
    case Exchange::Phase::kBody:
      if (*upload_data_size > 0) {
        const size_t size = *upload_data_size;
        *upload_data_size = 0;  // all of it is consumed (kept or discarded)
        return ReadBody(ex, connection, upload_data, size);
      }
      return Dispatch(*holder, connection);
    case Exchange::Phase::kHandling: {
      // Resumed: the answer is in ex.res.
      std::unique_lock lock(ex.mu);
      // Only Finish resumes a connection, after it stored the answer; nothing else calls here.
      if (!ex.answered) return MHD_YES;
      lock.unlock();
      return Queue(ex, connection);
    }
    case Exchange::Phase::kQueued:
      // Body bytes that arrive after an early answer are not read further.
      *upload_data_size = 0;
      return MHD_YES;
  }
  return MHD_NO;
}

MHD_Result HttpServer::Impl::BeginRequest(Exchange& ex, MHD_Connection* connection, const char* url,
                                          const char* method, const char* version) {
  httplib::Request& req = ex.req;
  req.method = method;
  req.path = url;  // decoded, without the query string
  req.version = version;
  MHD_get_connection_values(connection, MHD_HEADER_KIND, &AddHeader, &req.headers);
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &AddParam, &req.params);
  if (const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
      info != nullptr && info->client_addr != nullptr) {
    char text[INET6_ADDRSTRLEN] = {};
    const sockaddr* addr = info->client_addr;
    if (addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      req.remote_port = ntohs(in->sin_port);
    } else if (addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      req.remote_port = ntohs(in6->sin6_port);
    }
    req.remote_addr = text;
  }
  ex.request_id = NewRequestId(req);
  ex.phase = Exchange::Phase::kBody;

  if (const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
      info != nullptr && info->socket_context != nullptr) {
    auto* state = static_cast<ConnectionState*>(info->socket_context);
    if (++state->requests >= options.keep_alive_max) ex.close_after = true;
  }
  if (stopping.load(std::memory_order_relaxed)) ex.close_after = true;

  // Decide on the body before any of it is read. Each header is looked up once.
  const auto lengths = req.headers.equal_range("Content-Length");
  const auto encodings = req.headers.equal_range("Transfer-Encoding");
  const bool has_length = lengths.first != lengths.second;
  const bool has_encoding = encodings.first != encodings.second;
  const bool has_body = has_encoding || (has_length && lengths.first->second != "0");

  if (req.target.size() > kMaxTargetBytes) return AnswerNow(ex, connection, 414, true);
  if (!IsServedMethod(req.method)) {
    ex.res.set_header("Allow", AllowHeader());
    if (has_body) return AnswerNow(ex, connection, 405, true);
    ex.pending_status = 405;
    return MHD_YES;
  }
  if ((req.method == "GET" || req.method == "HEAD") && has_body) {
    return AnswerNow(ex, connection, 400, true, "a GET or HEAD request must not carry a body");
  }
  // RFC 9112 section 6: Transfer-Encoding together with Content-Length is a request-smuggling
  // signal, and only a lone "chunked" coding is understood. Several Content-Length headers, or a
  // non-numeric one, leave the message length unknown.
  if (has_encoding) {
    if (has_length || std::next(encodings.first) != encodings.second ||
        !EqualsIgnoreCase(encodings.first->second, "chunked")) {
      return AnswerNow(ex, connection, 400, true, "unsupported Transfer-Encoding");
    }
  } else if (has_length) {
    const std::string& length = lengths.first->second;
    if (std::next(lengths.first) != lengths.second || !IsAllDigits(length)) {
      return AnswerNow(ex, connection, 400, true, "invalid Content-Length");
    }
    const int64_t announced = std::stoll(length);
    // Within the drain budget the body is read and discarded (ReadBody) so that the connection
    // stays usable; beyond it, reading would cost more than closing.
    if (announced > options.max_body_bytes + kMaxDrainBytes) {
      return AnswerNow(ex, connection, 413, true);
    }
    if (announced <= options.max_body_bytes) req.body.reserve(static_cast<size_t>(announced));
  }

  const std::string& lookup = req.method == "HEAD" ? std::string("GET") : req.method;
  for (const auto& route : routes) {
    if (route->method == lookup && std::regex_match(req.path, req.matches, route->pattern)) {
      ex.route = route.get();
      return MHD_YES;
    }
  }
  req.matches = httplib::Match();
  ex.pending_status = 404;
  return MHD_YES;
}

MHD_Result HttpServer::Impl::ReadBody(Exchange& ex, MHD_Connection* connection, const char* data,
                                      size_t size) {
  const int64_t limit = options.max_body_bytes;
  ex.body_bytes += static_cast<int64_t>(size);
  if (!ex.too_large && ex.body_bytes <= limit) {
    ex.req.body.append(data, size);
    return MHD_YES;
  }
  if (!ex.too_large) {
    ex.too_large = true;
    std::string().swap(ex.req.body);
  }
  // Read and discard up to the drain budget (see kMaxDrainBytes), then give up on the body.
  if (ex.body_bytes > limit + kMaxDrainBytes) return AbortTooLarge(ex, connection);
  return MHD_YES;
}

MHD_Result HttpServer::Impl::AbortTooLarge(Exchange& ex, MHD_Connection* connection) {
  // libmicrohttpd 0.9.75 queues a response only before the body is read or after its end
  // (MHD_queue_response refuses in between), and only this chunked body's end is unknown. So the
  // 413 is written straight to the socket, whose write side is idle while a body is read (a
  // 100 Continue, if any, went out before), and the connection is then aborted. A send that
  // cannot take the ~200 bytes at once is not retried: the close tells the client enough.
  const std::string body = ErrorJson(
      ErrorCodeForStatus(413), DefaultMessageForStatus(413, options.max_body_bytes), ex.request_id);
  std::string wire = "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n";
  wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  wire += std::string(kRequestIdHeader) + ": " + ex.request_id + "\r\nConnection: close\r\n\r\n";
  wire += body;
  if (const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      info != nullptr) {
    const ssize_t sent =
        ::send(info->connect_fd, wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    static_cast<void>(sent);
  }
  {
    std::lock_guard lock(ex.mu);
    ex.answered = true;
  }
  ex.status = 413;
  ex.bytes = body.size();
  ex.phase = Exchange::Phase::kQueued;  // logged and counted when libmicrohttpd closes it
  return MHD_NO;
}

MHD_Result HttpServer::Impl::Dispatch(const std::shared_ptr<Exchange>& shared,
                                      MHD_Connection* connection) {
  Exchange& ex = *shared;
  // The body has been read to its end: the connection stays in sync whatever the answer.
  if (ex.too_large) return AnswerNow(ex, connection, 413, false);
  if (ex.pending_status != 0) return AnswerNow(ex, connection, ex.pending_status, false);

  ex.phase = Exchange::Phase::kHandling;
  {
    std::lock_guard lock(pending_mu);
    pending.emplace(&ex, shared);
  }
  const Route& route = *ex.route;
  if (route.async_handler) {
    // An answer given while the handler runs (on this thread or another) only lands in ex.res:
    // the connection is not suspended yet, so Finish does not resume it.
    try {
      route.async_handler(ex.req, RequestContext{ex.request_id, route.name},
                          Responder(std::make_shared<internal::Completion>(shared)));
    } catch (...) {
      log->error("request_id={} method={} path={} handler threw: {}", ex.request_id,
                 LogSafe(ex.req.method, 16), LogSafe(ex.req.path),
                 DescribeException(std::current_exception()));
      httplib::Response res;
      res.status = 500;
      Finish(ex, std::move(res));
    }
    std::unique_lock lock(ex.mu);
    if (ex.answered) {
      lock.unlock();
      return Queue(ex, connection);
    }
    // Answered later from another thread: Finish resumes the connection.
    ex.suspended = true;
    MHD_suspend_connection(connection);
    return MHD_YES;
  }
  {
    std::lock_guard lock(ex.mu);
    ex.suspended = true;
    MHD_suspend_connection(connection);
  }
  // Ordinary handlers may block (SQLite): never on an event thread.
  pool->enqueue([this, shared] { RunHandler(shared); });
  return MHD_YES;
}

void HttpServer::Impl::RunHandler(const std::shared_ptr<Exchange>& shared) {
  Exchange& ex = *shared;
  httplib::Response res;
  try {
    ex.route->handler(ex.req, res, RequestContext{ex.request_id, ex.route->name});
  } catch (...) {
    log->error("request_id={} method={} path={} handler threw: {}", ex.request_id,
               LogSafe(ex.req.method, 16), LogSafe(ex.req.path),
               DescribeException(std::current_exception()));
    // Whatever the handler had put into the response is dropped: the client gets the generic
    // error only.
    res = httplib::Response();
    res.status = 500;
  }
  Finish(ex, std::move(res));
}

bool HttpServer::Impl::Finish(Exchange& ex, httplib::Response res, const char* why_logged) {
  std::lock_guard lock(ex.mu);
  if (ex.answered) return false;
  ex.answered = true;
  ex.res = std::move(res);
  Impl& impl = *ex.impl;
  if (why_logged != nullptr) {
    impl.log->error("request_id={} method={} path={}: {}", ex.request_id,
                    LogSafe(ex.req.method, 16), LogSafe(ex.req.path), why_logged);
  }
  {
    std::lock_guard pending_lock(impl.pending_mu);
    impl.pending.erase(&ex);
  }
  if (ex.suspended) {
    ex.suspended = false;
    // libmicrohttpd then calls OnAccess again on the connection's event thread, which queues
    // the answer. The connection cannot complete while suspended, so it is still valid here.
    if (ex.connection != nullptr) MHD_resume_connection(ex.connection);
  }
  return true;
}

MHD_Result HttpServer::Impl::AnswerNow(Exchange& ex, MHD_Connection* connection, int status,
                                       bool close, std::string_view message) {
  const std::string text = message.empty() ? DefaultMessageForStatus(status, options.max_body_bytes)
                                           : std::string(message);
  WriteJsonError(ex.res, status, ErrorCodeForStatus(status), text, ex.request_id);
  if (close) ex.close_after = true;
  {
    std::lock_guard lock(ex.mu);
    ex.answered = true;
  }
  return Queue(ex, connection);
}

MHD_Result HttpServer::Impl::Queue(Exchange& ex, MHD_Connection* connection) {
  httplib::Response& res = ex.res;
  if (res.status == -1) res.status = 200;  // httplib's "not set"
  if (res.status < 100 || res.status > 999) {
    log->error("request_id={} path={}: handler set status {}", ex.request_id, LogSafe(ex.req.path),
               res.status);
    res = httplib::Response();
    res.status = 500;
  }
  // A body (or a Content-Type) is the handler's own answer; an empty error gets the JSON one.
  if (res.status >= 400 && res.body.empty() && !res.has_header("Content-Type")) {
    WriteJsonError(res, res.status, ErrorCodeForStatus(res.status),
                   DefaultMessageForStatus(res.status, options.max_body_bytes), ex.request_id);
  }
  auto* body = new std::string(std::move(res.body));
  MHD_Response* response = MHD_create_response_from_buffer_with_free_callback_cls(
      body->size(), body->data(), &FreeString, body);
  if (response == nullptr) {
    delete body;
    return MHD_NO;
  }
  ex.bytes = body->size();
  if (const auto detail = res.headers.find(kErrorDetailHeader); detail != res.headers.end()) {
    log->warn("request_id={} path={} status={}: {}", ex.request_id, LogSafe(ex.req.path),
              res.status, LogSafe(detail->second));
  }
  for (const auto& [name, value] : res.headers) {
    if (IsManagedHeader(name)) continue;
    // Refused (MHD_NO) for names or values with control characters: such a header is dropped.
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  MHD_add_response_header(response, kRequestIdHeader, ex.request_id.c_str());
  if (ex.close_after || stopping.load(std::memory_order_relaxed)) {
    // libmicrohttpd closes the connection after a response that says so.
    MHD_add_response_header(response, "Connection", "close");
  }
  SetTimeout(connection, options.write_timeout_s);
  ex.status = res.status;
  ex.phase = Exchange::Phase::kQueued;
  const MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned int>(res.status), response);
  MHD_destroy_response(response);
  return queued;
}

void HttpServer::Impl::OnCompleted(MHD_Connection* connection, void** request_context,
                                   MHD_RequestTerminationCode code) {
  auto* holder = static_cast<std::shared_ptr<Exchange>*>(*request_context);
  if (holder == nullptr) return;
  *request_context = nullptr;
  Exchange& ex = **holder;
  {
    std::lock_guard lock(ex.mu);
    ex.connection = nullptr;
  }
  if (ex.phase == Exchange::Phase::kQueued) Record(ex);
  if (code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
    SetTimeout(connection, options.keep_alive_timeout_s);
  delete holder;
  {
    std::lock_guard lock(active_mu);
    --active;
  }
  active_cv.notify_all();
}

void HttpServer::Impl::Record(const Exchange& ex) {
  const auto now = clock.SteadyNow();
  const double seconds = std::chrono::duration<double>(now - ex.start).count();
  const char* route =
      ex.route != nullptr && ex.pending_status == 0 ? ex.route->name.c_str() : kUnmatchedRoute;
  requests_total.Inc({route, std::string(MethodLabel(ex.req.method)), std::to_string(ex.status)});
  request_duration.Observe({route}, seconds);
  // The arguments below cost allocations and copies: only when the line is written.
  if (!log->should_log(spdlog::level::info)) return;
  // req.path never includes the query string, which can carry signatures.
  log->info("method={} path={} status={} bytes={} duration_ms={:.3f} request_id={} remote={}",
            LogSafe(ex.req.method, 16), LogSafe(ex.req.path), ex.status, ex.bytes, seconds * 1000.0,
            LogSafe(ex.request_id, 64), LogSafe(ex.req.remote_addr, 64));
}

core::Status HttpServer::Impl::BindSocket(int& port) {
  const std::string address = options.host + ":" + std::to_string(options.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(options.port);
  if (const int rc = ::getaddrinfo(options.host.c_str(), service.c_str(), &hints, &found);
      rc != 0 || found == nullptr) {
    return core::UnavailableError("cannot listen on " + address + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          found->ai_protocol);
  if (fd < 0) {
    return core::UnavailableError("cannot listen on " + address + ": " + std::strerror(errno));
  }
  // SO_REUSEADDR lets a restart bind while old connections sit in TIME_WAIT; no SO_REUSEPORT, so
  // a second scrmd on the same port fails here instead of silently taking part of the traffic.
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    ::close(fd);
    return core::UnavailableError("cannot listen on " + address + ": " + std::strerror(error));
  }
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    const int error = errno;
    ::close(fd);
    return core::UnavailableError("cannot listen on " + address + ": " + std::strerror(error));
  }
  port = local.ss_family == AF_INET6
             ? ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port)
             : ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
  listen_fd = fd;
  return core::OkStatus();
}

core::Status HttpServer::Impl::StartDaemonLocked() {
  const auto threads = static_cast<size_t>(options.threads);
  pool = std::make_unique<ElasticTaskQueue>(threads, threads, kIdleWorkerTimeout);
  // Epoll in libmicrohttpd's own threads; suspend/resume lets a connection wait for its answer
  // (a handler on the pool, an inbox commit) without a thread waiting with it.
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&local), &length) == 0 &&
      local.ss_family == AF_INET6) {
    flags |= MHD_USE_IPv6;
  }
  // A pool of one is no pool: libmicrohttpd then runs its single internal thread.
  const auto pool_size =
      static_cast<unsigned int>(options.event_threads > 1 ? options.event_threads : 0);
  // The logger comes first: options before it would log to stderr.
  daemon = MHD_start_daemon(
      flags, 0, &AcceptThunk, this, &AccessThunk, this, MHD_OPTION_EXTERNAL_LOGGER, &MhdLogThunk,
      log.get(), MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(listen_fd),
      MHD_OPTION_THREAD_POOL_SIZE, pool_size, MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned int>(options.max_connections), MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned int>(std::max(options.keep_alive_timeout_s, 1)),
      MHD_OPTION_URI_LOG_CALLBACK, &RequestLineThunk, this, MHD_OPTION_NOTIFY_COMPLETED,
      &CompletedThunk, this, MHD_OPTION_NOTIFY_CONNECTION, &ConnectionThunk, this, MHD_OPTION_END);
  if (daemon == nullptr) {
    pool->shutdown();
    pool.reset();
    return core::UnavailableError("cannot start the HTTP server on " + options.host + ":" +
                                  std::to_string(options.port));
  }
  started = true;
  return core::OkStatus();
}

HttpServer::HttpServer(ServerOptions options, const core::Clock& clock, core::Random& random,
                       std::shared_ptr<spdlog::logger> access_log, core::MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), clock, random, std::move(access_log),
                                   metrics)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& pattern, const std::string& route, Handler handler) {
  impl_->AddRoute("GET", pattern, route, std::move(handler), nullptr);
}

void HttpServer::Post(const std::string& pattern, const std::string& route, Handler handler) {
  impl_->AddRoute("POST", pattern, route, std::move(handler), nullptr);
}

void HttpServer::Put(const std::string& pattern, const std::string& route, Handler handler) {
  impl_->AddRoute("PUT", pattern, route, std::move(handler), nullptr);
}

void HttpServer::Patch(const std::string& pattern, const std::string& route, Handler handler) {
  impl_->AddRoute("PATCH", pattern, route, std::move(handler), nullptr);
}

void HttpServer::Delete(const std::string& pattern, const std::string& route, Handler handler) {
  impl_->AddRoute("DELETE", pattern, route, std::move(handler), nullptr);
}

void HttpServer::GetAsync(const std::string& pattern, const std::string& route,
                          AsyncHandler handler) {
  impl_->AddRoute("GET", pattern, route, nullptr, std::move(handler));
}

void HttpServer::PostAsync(const std::string& pattern, const std::string& route,
                           AsyncHandler handler) {
  impl_->AddRoute("POST", pattern, route, nullptr, std::move(handler));
}

core::Status HttpServer::Bind() {
  std::lock_guard lock(impl_->run_mu);
  if (impl_->bound) return core::FailedPreconditionError("server is already bound");
  SCRM_RETURN_IF_ERROR(impl_->ValidateOptions());
  int port = 0;
  SCRM_RETURN_IF_ERROR(impl_->BindSocket(port));
  bound_port_ = port;
  impl_->bound = true;
  return core::OkStatus();
}

void HttpServer::Run() {
  std::unique_lock lock(impl_->run_mu);
  if (!impl_->bound || impl_->started || impl_->stopping) {
    if (!impl_->bound) impl_->log->error("HttpServer::Run called without a successful Bind");
    return;
  }
  if (const core::Status started = impl_->StartDaemonLocked(); !started.ok()) {
    impl_->log->error("HTTP server: {}", started.message());
    return;
  }
  impl_->run_cv.wait(lock, [&] { return impl_->finished; });
}

core::Status HttpServer::Start() {
  bool need_bind = false;
  {
    std::lock_guard lock(impl_->run_mu);
    if (impl_->started) return core::FailedPreconditionError("server is already started");
    need_bind = !impl_->bound;
  }
  if (need_bind) SCRM_RETURN_IF_ERROR(Bind());
  std::lock_guard lock(impl_->run_mu);
  if (impl_->started) return core::FailedPreconditionError("server is already started");
  if (impl_->stopping) return core::UnavailableError("HTTP server was stopped");
  return impl_->StartDaemonLocked();
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  std::lock_guard stop_lock(impl.stop_mu);
  MHD_Daemon* daemon = nullptr;
  {
    std::lock_guard lock(impl.run_mu);
    if (impl.finished) return;
    impl.stopping = true;
    daemon = impl.daemon;
  }
  if (daemon != nullptr) {
    // From here on, AcceptThunk closes every new connection at once. (MHD_quiesce_daemon would
    // stop accepting altogether, but with a pool of epoll threads libmicrohttpd 0.9.75 races
    // with its own threads over the listening socket's epoll registration and aborts.) Open
    // connections keep being served; their answers say "Connection: close".
    std::unique_lock lock(impl.active_mu);
    const auto grace = std::chrono::seconds(impl.options.stop_grace_s);
    if (!impl.active_cv.wait_for(lock, grace, [&] { return impl.active == 0; })) {
      lock.unlock();
      // Requests still unanswered after the grace get 503 (a handler still running finishes,
      // but its answer is dropped); libmicrohttpd must not stop with a suspended connection.
      std::vector<std::shared_ptr<Exchange>> late;
      {
        std::lock_guard pending_lock(impl.pending_mu);
        for (const auto& [key, exchange] : impl.pending) late.push_back(exchange);
      }
      for (const auto& exchange : late) {
        httplib::Response res;
        res.status = 503;
        impl.Finish(*exchange, std::move(res), "unanswered when the server stopped: 503");
      }
      lock.lock();
      impl.active_cv.wait(lock, [&] { return impl.active == 0; });
    }
    lock.unlock();
    MHD_stop_daemon(daemon);
    // Handlers still running (answers given up above) finish before the pool is joined.
    impl.pool->shutdown();
  }
  {
    std::lock_guard lock(impl.run_mu);
    impl.daemon = nullptr;
    // A daemon closes the listening socket it was given when it stops; one never started did not
    // take it.
    if (daemon == nullptr && impl.listen_fd >= 0) ::close(impl.listen_fd);
    impl.listen_fd = -1;
    impl.finished = true;
  }
  impl.run_cv.notify_all();
}

bool HttpServer::IsRunning() const {
  std::lock_guard lock(impl_->run_mu);
  return impl_->daemon != nullptr && !impl_->stopping;
}

}  // namespace scrm::server
