// HttpServer's insides, shared by http_server.cc (configuration, lifecycle, the libmicrohttpd
// daemon and its callbacks) and http_exchange.cc (one request, from its request line to its
// answer). Included by those two files only.
#pragma once

#include <microhttpd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "src/server/connection_watch.h"
#include "src/server/elastic_task_queue.h"
#include "src/server/http_server.h"
#include "src/server/request_log.h"
#include "src/server/router.h"

namespace scrm::server {
namespace internal {

// The handler pool has a fixed size (ServerOptions::threads), so its workers never idle out.
inline constexpr std::chrono::milliseconds kIdleWorkerTimeout{60'000};

// Longest request target (path and query) served; longer ones get 414, as from most servers.
inline constexpr size_t kMaxTargetBytes = 8192;

// How much of a body beyond max_body_bytes we read and throw away before answering 413. Reading
// it keeps the connection in sync and lets a client that writes its whole body before reading
// (httplib, curl without Expect) see the 413 instead of a reset; past this we stop reading and
// close the connection rather than spend the event loop on an endless upload.
inline constexpr int64_t kMaxDrainBytes = int64_t{1} << 20;

inline constexpr char kBodyBudgetMessage[] =
    "too many request bodies are arriving at once: retry later";

struct Route {
  std::string method;          // "GET", "POST", "PUT", "PATCH" or "DELETE"
  std::string name;            // the pattern; the metrics label; also RequestContext::route
  Handler handler;             // set for an ordinary route
  AsyncHandler async_handler;  // set for an async route
};

// libmicrohttpd's per-connection context (MHD_OPTION_NOTIFY_CONNECTION): event thread only.
struct ConnectionState {
  int requests = 0;  // requests begun on this connection (keep_alive_max)
  internal::WatchedConnection* watched = nullptr;  // the limits' view, owned by the watch
};

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
  Request req;
  std::string request_id;
  const Route* route = nullptr;
  PathParams params;                 // the route's captures
  std::vector<std::string> allowed;  // a 405's Allow, when the path has routes for other methods
  internal::WatchedConnection* watched = nullptr;
  int64_t reserved = 0;  // bytes of the body budget this request holds (ConnectionWatch)
  Phase phase = Phase::kHeaders;
  int pending_status = 0;     // an answer decided on the headers, given once the body is read
  bool too_large = false;     // the body went over max_body_bytes: answer 413 at its end
  int64_t body_bytes = 0;     // seen so far, kept or not
  int64_t body_expected = 0;  // Content-Length, -1 for chunked
  bool close_after = false;
  int status = 0;    // as queued
  size_t bytes = 0;  // body bytes as queued

  // Shared with whoever answers (a handler worker, a Responder on any thread, Stop).
  std::mutex mu;
  MHD_Connection* connection = nullptr;  // nullptr once libmicrohttpd completed the request
  bool answered = false;                 // `res` holds the answer
  bool suspended = false;                // the connection waits for MHD_resume_connection
  Response res;
};

// Shared by every copy of one Responder: the last copy gone without a Send answers 500.
struct Completion {
  explicit Completion(std::shared_ptr<Exchange> e) : exchange(std::move(e)) {}
  ~Completion();
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  std::shared_ptr<Exchange> exchange;
};

// The client's address as text ("" when unknown), and its port when `port` is given.
std::string ClientAddress(MHD_Connection* connection, uint16_t* port = nullptr);

}  // namespace internal

using internal::ConnectionState;
using internal::Exchange;
using internal::kBodyBudgetMessage;
using internal::kIdleWorkerTimeout;
using internal::kMaxDrainBytes;
using internal::kMaxTargetBytes;
using internal::Route;

class HttpServer::Impl {
 public:
  Impl(ServerOptions opts, const core::Clock& clk, core::Random& rnd,
       std::shared_ptr<spdlog::logger> logger, core::MetricsRegistry& metrics)
      : options(std::move(opts)),
        clock(clk),
        request_id_seed(rnd.NextU64()),
        log(std::move(logger)),
        request_log(log, metrics),
        watch(WatchOptionsOf(options), clock, request_log) {}

  static internal::WatchOptions WatchOptionsOf(const ServerOptions& o) {
    internal::WatchOptions w;
    w.request_timeout = std::chrono::seconds(o.request_timeout_s);
    w.min_body_bytes_per_s = o.min_body_bytes_per_s;
    w.body_rate_grace = std::chrono::seconds(o.body_rate_grace_s);
    w.max_pending_body_bytes = o.max_pending_body_bytes;
    return w;
  }

  core::Status ValidateOptions() const;
  void AddRoute(const std::string& method, const std::string& pattern, Handler handler,
                AsyncHandler async_handler);
  bool IsServedMethod(const std::string& method) const;
  std::string AllowHeader() const;
  // The connection's state (keep-alive count, the watch's view); nullptr if libmicrohttpd has none.
  static ConnectionState* StateOf(MHD_Connection* connection);
  // Gives back the body budget the request holds.
  void ReleaseBody(Exchange& ex);
  // The limits' sweep, every kWatchTick until Stop (its own thread, started with the daemon).
  void WatchLoop();
  std::string NewRequestId(const Request& req);

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
                          const char* method);
  MHD_Result ReadBody(Exchange& ex, MHD_Connection* connection, const char* data, size_t size);
  MHD_Result Dispatch(const std::shared_ptr<Exchange>& ex, MHD_Connection* connection);
  // Answers `status` (413 for a body past the drain budget, 503 past the body budget) in the
  // middle of a body, and aborts the connection.
  MHD_Result AbortMidBody(Exchange& ex, MHD_Connection* connection, int status);
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
  static bool Finish(Exchange& ex, Response res, const char* why_logged = nullptr);
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
  internal::RequestLog request_log;
  internal::ConnectionWatch watch;

  // Written while routes are registered (before Start/Run), only read once serving.
  std::vector<std::unique_ptr<Route>> routes;
  Router router;
  core::Status registration = core::OkStatus();  // the first bad registration; Bind reports it
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

  // MhdLogThunk's rate limit.
  std::mutex mhd_log_mu;
  std::chrono::steady_clock::time_point mhd_log_window;
  int mhd_log_lines = 0;
  uint64_t mhd_log_suppressed = 0;

  // The watch's sweeper.
  std::thread watcher;
  std::mutex watcher_mu;
  std::condition_variable watcher_cv;
  bool watcher_stop = false;  // guarded by watcher_mu

  // Requests begun (request line read) and not completed; Stop waits for zero.
  std::mutex active_mu;
  std::condition_variable active_cv;
  size_t active = 0;

  // Requests handed to a handler and not answered yet, for Stop's grace.
  std::mutex pending_mu;
  std::unordered_map<Exchange*, std::shared_ptr<Exchange>> pending;
};

}  // namespace scrm::server
