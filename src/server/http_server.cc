#include "src/server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "src/core/thread_name.h"
#include "src/server/http_errors.h"
#include "src/server/http_server_impl.h"

namespace scrm::server {
namespace {

using internal::ClientAddress;

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

void ConnectionThunk(void* cls, MHD_Connection* connection, void** socket_context,
                     MHD_ConnectionNotificationCode code) {
  auto& impl = *static_cast<HttpServer::Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* state = new ConnectionState();
    if (const MHD_ConnectionInfo* info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        info != nullptr) {
      state->watched = impl.watch.Open(info->connect_fd, ClientAddress(connection));
    }
    *socket_context = state;
  } else {
    // libmicrohttpd notifies before it closes the descriptor: the watch lets go of it first.
    auto* state = static_cast<ConnectionState*>(*socket_context);
    if (state != nullptr) impl.watch.Close(state->watched);
    delete state;
    *socket_context = nullptr;
  }
}

// libmicrohttpd's own diagnostics (accept failures, resource limits). They name no bodies; control
// characters are replaced so that a line stays a line. One per refused connection would let a
// client flood the log: at most kMhdLinesPerSecond a second, then a count of the rest.
void MhdLogThunk(void* cls, const char* format, va_list args) {
  constexpr int kMhdLinesPerSecond = 10;
  auto& impl = *static_cast<HttpServer::Impl*>(cls);
  spdlog::logger* log = impl.log.get();
  {
    std::lock_guard lock(impl.mhd_log_mu);
    const auto now = impl.clock.SteadyNow();
    if (now - impl.mhd_log_window >= std::chrono::seconds(1)) {
      if (impl.mhd_log_suppressed > 0) {
        log->warn("libmicrohttpd: {} more message(s) suppressed", impl.mhd_log_suppressed);
      }
      impl.mhd_log_window = now;
      impl.mhd_log_lines = 0;
      impl.mhd_log_suppressed = 0;
    }
    if (++impl.mhd_log_lines > kMhdLinesPerSecond) {
      ++impl.mhd_log_suppressed;
      return;
    }
  }
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  log->warn("libmicrohttpd: {}", text);
}

}  // namespace

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
  // A cap at or above max_connections caps nothing more; config keeps it within (docs).
  if (options.max_connections_per_ip < 0) {
    return core::InvalidArgumentError("max_connections_per_ip must be >= 0");
  }
  if (options.request_timeout_s < 1 || options.body_rate_grace_s < 0 ||
      options.min_body_bytes_per_s < 0) {
    return core::InvalidArgumentError(
        "request_timeout_s must be >= 1, body_rate_grace_s and min_body_bytes_per_s >= 0");
  }
  if (options.max_pending_body_bytes < options.max_body_bytes) {
    return core::InvalidArgumentError("max_pending_body_bytes must be >= max_body_bytes");
  }
  return registration;
}

void HttpServer::Impl::AddRoute(const std::string& method, const std::string& pattern,
                                Handler handler, AsyncHandler async_handler) {
  if (method != "GET" && method != "POST" &&
      std::find(extra_body_methods.begin(), extra_body_methods.end(), method) ==
          extra_body_methods.end()) {
    extra_body_methods.push_back(method);
  }
  if (const core::Status added = router.Add(method, pattern, routes.size()); !added.ok()) {
    if (registration.ok()) registration = added;
    return;
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->name = pattern;
  route->handler = std::move(handler);
  route->async_handler = std::move(async_handler);
  routes.push_back(std::move(route));
}

void HttpServer::Impl::WatchLoop() {
  // Four sweeps a second: a limit is enforced within a quarter second of being passed.
  constexpr std::chrono::milliseconds kWatchTick{250};
  core::NameThisThread("http-watch");
  std::unique_lock lock(watcher_mu);
  while (!watcher_stop) {
    watcher_cv.wait_for(lock, kWatchTick, [&] { return watcher_stop; });
    if (watcher_stop) break;
    lock.unlock();
    watch.Sweep();
    lock.lock();
  }
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
      this, MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(listen_fd),
      MHD_OPTION_THREAD_POOL_SIZE, pool_size, MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned int>(options.max_connections),
      // Counted by the daemon that accepts (the pool shares one listening socket and one count):
      // a connection over the cap is closed at accept, before any byte is read. 0 = no cap.
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned int>(options.max_connections_per_ip),
      MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned int>(std::max(options.keep_alive_timeout_s, 1)),
      // libmicrohttpd zeroes a connection's memory pool beyond what it keeps each time a
      // keep-alive connection starts its next request: the default 32 KiB pool cost a 32 KiB
      // memset per callback. The pool holds only the request line and the headers here (bodies
      // are copied out as they arrive), so 16 KiB is room enough.
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(16 * 1024),
      MHD_OPTION_URI_LOG_CALLBACK, &RequestLineThunk, this, MHD_OPTION_NOTIFY_COMPLETED,
      &CompletedThunk, this, MHD_OPTION_NOTIFY_CONNECTION, &ConnectionThunk, this, MHD_OPTION_END);
  if (daemon == nullptr) {
    pool->Shutdown();
    pool.reset();
    return core::UnavailableError("cannot start the HTTP server on " + options.host + ":" +
                                  std::to_string(options.port));
  }
  started = true;
  watcher = std::thread([this] { WatchLoop(); });
  return core::OkStatus();
}

HttpServer::HttpServer(ServerOptions options, const core::Clock& clock, core::Random& random,
                       std::shared_ptr<spdlog::logger> access_log, core::MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), clock, random, std::move(access_log),
                                   metrics)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& pattern, Handler handler) {
  impl_->AddRoute("GET", pattern, std::move(handler), nullptr);
}

void HttpServer::Post(const std::string& pattern, Handler handler) {
  impl_->AddRoute("POST", pattern, std::move(handler), nullptr);
}

void HttpServer::Put(const std::string& pattern, Handler handler) {
  impl_->AddRoute("PUT", pattern, std::move(handler), nullptr);
}

void HttpServer::Patch(const std::string& pattern, Handler handler) {
  impl_->AddRoute("PATCH", pattern, std::move(handler), nullptr);
}

void HttpServer::Delete(const std::string& pattern, Handler handler) {
  impl_->AddRoute("DELETE", pattern, std::move(handler), nullptr);
}

void HttpServer::GetAsync(const std::string& pattern, AsyncHandler handler) {
  impl_->AddRoute("GET", pattern, nullptr, std::move(handler));
}

void HttpServer::PostAsync(const std::string& pattern, AsyncHandler handler) {
  impl_->AddRoute("POST", pattern, nullptr, std::move(handler));
}

const std::vector<std::string>& HttpServer::RoutePatterns() const {
  return impl_->router.Patterns();
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
        Response res;
        res.status = 503;
        impl.Finish(*exchange, std::move(res), "unanswered when the server stopped: 503");
      }
      // A client still sending its request would hold Stop for as long as it likes: cut it.
      if (const size_t cut = impl.watch.CutReading(); cut > 0) {
        impl.log->warn("stopping: cut {} connection(s) still sending a request", cut);
      }
      lock.lock();
      // What is left (a request whose headers are still arriving) is closed by
      // MHD_stop_daemon below.
      constexpr std::chrono::seconds kCloseWait{5};
      if (!impl.active_cv.wait_for(lock, kCloseWait, [&] { return impl.active == 0; })) {
        impl.log->warn("stopping: {} request(s) still open, closing their connections",
                       impl.active);
      }
    }
    lock.unlock();
    {
      std::lock_guard watcher_lock(impl.watcher_mu);
      impl.watcher_stop = true;
    }
    impl.watcher_cv.notify_all();
    if (impl.watcher.joinable()) impl.watcher.join();
    MHD_stop_daemon(daemon);
    // Handlers still running (answers given up above) finish before the pool is joined.
    impl.pool->Shutdown();
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
