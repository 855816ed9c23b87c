// ConnectionWatch: the HTTP edge's limits on slow and greedy clients that libmicrohttpd's
// inactivity timeout cannot express: a deadline for a whole request (headers and body), a minimum
// body rate after a grace, and a cap on the memory held by bodies still arriving.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "src/core/clock.h"
#include "src/server/request_log.h"

namespace scrm::server::internal {

struct WatchOptions {
  std::chrono::seconds request_timeout{30};
  int64_t min_body_bytes_per_s = 1024;  // 0 = no minimum
  std::chrono::seconds body_rate_grace{5};
  int64_t max_pending_body_bytes = int64_t{64} << 20;
};

// One connection as the watch sees it. Created by Open, deleted by Close; its fields are the
// watch's (guarded by its mutex), the event thread reaches them only through the watch.
struct WatchedConnection {
  int fd = -1;
  std::string remote;
  bool reading = true;  // a request is awaited or being read: the deadline runs
  std::chrono::steady_clock::time_point since;  // accept, or the end of the previous answer
  std::string request_id;                       // of the request being read, once its headers are
  bool body_started = false;
  std::chrono::steady_clock::time_point body_start;
  int64_t body_bytes = 0;
  int64_t body_expected = -1;  // Content-Length, -1 for chunked
  bool cut = false;            // the watch shut the socket down
};

// Thread-safety: every method may be called from any thread (one mutex; the body budget is an
// atomic). A connection is cut by writing a short answer (408, or 503 when stopping) if a request
// has begun, then shutdown(2) of its socket: libmicrohttpd sees the end of the stream and closes
// the connection on its own thread. Close runs before libmicrohttpd closes the descriptor (its
// closed notification), so a cut never reaches a descriptor number reused by another
// connection. Does not own the clock or the log, which must outlive it.
class ConnectionWatch {
 public:
  ConnectionWatch(WatchOptions options, const core::Clock& clock, RequestLog& log);
  ~ConnectionWatch();
  ConnectionWatch(const ConnectionWatch&) = delete;
  ConnectionWatch& operator=(const ConnectionWatch&) = delete;

  // Connection lifecycle (libmicrohttpd's connection notifications).
  WatchedConnection* Open(int fd, std::string remote);
  void Close(WatchedConnection* connection);

  // Request phases (event thread). The deadline runs from Open, or from AwaitNext, until Done.
  void HeadersRead(WatchedConnection* connection, std::string request_id, int64_t body_expected);
  void BodyRead(WatchedConnection* connection, int64_t body_bytes);
  // The request is read (or answered before its end): its time is no longer the client's.
  void Done(WatchedConnection* connection);
  // The answer went out on a connection that stays open: the next request's deadline starts.
  void AwaitNext(WatchedConnection* connection);

  // Cuts every connection whose request is past the deadline or whose body is too slow; returns
  // how many. Called periodically.
  size_t Sweep();
  // Cuts every connection with a request begun and not yet read (Stop's deadline); returns how
  // many.
  size_t CutReading();

  // The body budget: bytes of bodies still arriving, all connections together. TryReserve fails
  // (and reserves nothing) when the total would exceed max_pending_body_bytes.
  bool TryReserve(int64_t bytes);
  void Release(int64_t bytes);
  int64_t reserved() const { return reserved_.load(std::memory_order_relaxed); }

 private:
  void CutLocked(WatchedConnection& connection, std::string_view reason, int status);

  const WatchOptions options_;
  const core::Clock& clock_;
  RequestLog& log_;
  std::mutex mu_;
  std::unordered_set<WatchedConnection*> connections_;
  std::atomic<int64_t> reserved_{0};
};

}  // namespace scrm::server::internal
