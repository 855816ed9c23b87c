#include "src/server/connection_watch.h"

#include <sys/socket.h>

#include <utility>

#include "src/server/http_errors.h"

namespace scrm::server::internal {

ConnectionWatch::ConnectionWatch(WatchOptions options, const core::Clock& clock, RequestLog& log)
    : options_(options), clock_(clock), log_(log) {}

ConnectionWatch::~ConnectionWatch() {
  std::lock_guard lock(mu_);
  for (WatchedConnection* connection : connections_) delete connection;
}

WatchedConnection* ConnectionWatch::Open(int fd, std::string remote) {
  auto* connection = new WatchedConnection();
  connection->fd = fd;
  connection->remote = std::move(remote);
  connection->since = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  connections_.insert(connection);
  return connection;
}

void ConnectionWatch::Close(WatchedConnection* connection) {
  if (connection == nullptr) return;
  {
    std::lock_guard lock(mu_);
    connections_.erase(connection);
  }
  delete connection;
}

void ConnectionWatch::HeadersRead(WatchedConnection* connection, std::string request_id,
                                  int64_t body_expected) {
  if (connection == nullptr) return;
  const auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  connection->request_id = std::move(request_id);
  connection->body_started = true;
  connection->body_start = now;
  connection->body_bytes = 0;
  connection->body_expected = body_expected;
}

void ConnectionWatch::BodyRead(WatchedConnection* connection, int64_t body_bytes) {
  if (connection == nullptr) return;
  std::lock_guard lock(mu_);
  connection->body_bytes = body_bytes;
}

void ConnectionWatch::Done(WatchedConnection* connection) {
  if (connection == nullptr) return;
  std::lock_guard lock(mu_);
  connection->reading = false;
}

void ConnectionWatch::AwaitNext(WatchedConnection* connection) {
  if (connection == nullptr) return;
  const auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  connection->reading = true;
  connection->since = now;
  connection->request_id.clear();
  connection->body_started = false;
  connection->body_bytes = 0;
  connection->body_expected = -1;
}

size_t ConnectionWatch::Sweep() {
  const auto now = clock_.SteadyNow();
  const int64_t rate = options_.min_body_bytes_per_s;
  size_t cut = 0;
  std::lock_guard lock(mu_);
  for (WatchedConnection* connection : connections_) {
    if (!connection->reading || connection->cut) continue;
    if (now - connection->since >= options_.request_timeout) {
      CutLocked(*connection, "request_timeout", 408);
      ++cut;
      continue;
    }
    if (rate <= 0 || !connection->body_started ||
        connection->body_bytes == connection->body_expected) {
      continue;
    }
    // mod_reqtimeout's rule: after the grace, every second must have brought `rate` bytes.
    const auto late = now - connection->body_start - options_.body_rate_grace;
    if (late <= std::chrono::steady_clock::duration::zero()) continue;
    const double owed = std::chrono::duration<double>(late).count() * static_cast<double>(rate);
    if (static_cast<double>(connection->body_bytes) < owed) {
      CutLocked(*connection, "body_rate", 408);
      ++cut;
    }
  }
  return cut;
}

size_t ConnectionWatch::CutReading() {
  size_t cut = 0;
  std::lock_guard lock(mu_);
  for (WatchedConnection* connection : connections_) {
    // An idle keep-alive connection holds no request: libmicrohttpd closes it when it stops.
    if (!connection->reading || connection->cut || connection->request_id.empty()) continue;
    CutLocked(*connection, "stopping", 503);
    ++cut;
  }
  return cut;
}

void ConnectionWatch::CutLocked(WatchedConnection& connection, std::string_view reason,
                                int status) {
  connection.cut = true;
  log_.CountCut(reason);
  if (!connection.request_id.empty()) {
    // The write side is idle while a request is read (a 100 Continue, if any, went out before):
    // a best-effort answer, not retried if the socket cannot take it at once.
    const std::string body = ErrorJson(ErrorCodeForStatus(status),
                                       DefaultMessageForStatus(status, 0), connection.request_id);
    std::string wire =
        status == 408 ? "HTTP/1.1 408 Request Timeout\r\n" : "HTTP/1.1 503 Service Unavailable\r\n";
    wire += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\nX-Request-Id: " + connection.request_id + "\r\nConnection: close\r\n\r\n" + body;
    const ssize_t sent =
        ::send(connection.fd, wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    static_cast<void>(sent);
  }
  ::shutdown(connection.fd, SHUT_RDWR);
  log_.log().warn("cut connection remote={} request_id={} reason={} body_bytes={}",
                  LogSafe(connection.remote, 64), LogSafe(connection.request_id, 64), reason,
                  connection.body_bytes);
}

bool ConnectionWatch::TryReserve(int64_t bytes) {
  int64_t current = reserved_.load(std::memory_order_relaxed);
  do {
    if (current + bytes > options_.max_pending_body_bytes) return false;
  } while (!reserved_.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
  return true;
}

void ConnectionWatch::Release(int64_t bytes) {
  reserved_.fetch_sub(bytes, std::memory_order_relaxed);
}

}  // namespace scrm::server::internal
