// HttpServer against slow and greedy clients: the per-address connection cap, the request
// deadline, the minimum body rate, the body memory budget and Stop's deadline. Real loopback
// sockets; the deadlines run on a FakeClock the tests advance, so nothing waits for real time to
// pass a limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/server/http_server.h"

namespace scrm::server {
namespace {

using namespace std::chrono_literals;

ServerOptions LimitOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.event_threads = 2;
  options.max_connections = 64;
  options.keep_alive_timeout_s = 2;
  options.read_timeout_s = 60;  // inactivity never ends a test's connection: the limits do
  options.write_timeout_s = 5;
  options.max_body_bytes = 1024;
  options.max_connections_per_ip = 0;
  options.request_timeout_s = 30;
  options.min_body_bytes_per_s = 0;
  options.body_rate_grace_s = 5;
  options.max_pending_body_bytes = 1 << 20;
  options.stop_grace_s = 1;
  return options;
}

// A server whose limits run on `clock`, with /hello (GET) and /echo (POST).
struct LimitServer {
  explicit LimitServer(ServerOptions options)
      : server(std::move(options), clock, random, core::MakeNullLogger(), metrics) {
    server.Get("/hello", [](const Request&, Response& res, const RequestContext&) {
      res.SetContent("hi", "text/plain");
    });
    server.Post("/echo", [](const Request& req, Response& res, const RequestContext&) {
      res.SetContent(req.body, "text/plain");
    });
    const core::Status started = server.Start();
    INFO(started.ToString());
    REQUIRE(started.ok());
  }
  uint64_t Cuts(const std::string& reason) {
    return metrics.Counter("scrmd_http_connections_cut_total", "", {"reason"}).Value({reason});
  }

  core::FakeClock clock;
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  HttpServer server;
};

// A raw client connection, optionally from another loopback address (Linux routes 127/8 to lo).
class RawClient {
 public:
  RawClient(int port, const char* from = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &local.sin_addr);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until `needle` arrived, the server closed, or `limit` passed; true if the server closed.
  bool ReadUntil(const std::string& needle, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (data_.find(needle) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;  // EOF or reset: closed by the server
      data_.append(buf, static_cast<size_t>(n));
    }
    return false;
  }
  // Waits up to `limit` for the server to close the connection (reading whatever comes first).
  bool WaitClosed(std::chrono::milliseconds limit) { return ReadUntil("\x01never\x01", limit); }
  const std::string& data() const { return data_; }

 private:
  int fd_ = -1;
  std::string data_;
};

std::string PostHead(size_t length, bool expect_continue = false) {
  std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n";
  if (expect_continue) head += "Expect: 100-continue\r\n";
  return head + "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

constexpr char kGetHello[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_CASE("HttpServer caps open connections per client address across its event threads",
          "[integration]") {
  ServerOptions options = LimitOptions();
  options.max_connections_per_ip = 3;
  LimitServer ls(options);
  // Six connections from 127.0.0.2, all open at once: three are served, the others closed at
  // accept. Another address is served meanwhile.
  std::vector<std::unique_ptr<RawClient>> attackers;
  for (int i = 0; i < 6; ++i) {
    attackers.push_back(std::make_unique<RawClient>(ls.server.port(), "127.0.0.2"));
  }
  int served = 0;
  int refused = 0;
  for (auto& attacker : attackers) {
    attacker->Send(kGetHello);
    const bool closed = attacker->ReadUntil("\r\n\r\nhi", 10s);
    if (attacker->data().find(" 200 ") != std::string::npos) {
      ++served;
    } else if (closed) {
      ++refused;
    }
  }
  CHECK(served == 3);
  CHECK(refused == 3);
  RawClient other(ls.server.port(), "127.0.0.1");
  other.Send(kGetHello);
  other.ReadUntil("\r\n\r\nhi", 10s);
  CHECK(other.data().find(" 200 ") != std::string::npos);
}

TEST_CASE("HttpServer cuts a request past request_timeout_s with 408", "[integration]") {
  ServerOptions options = LimitOptions();
  options.request_timeout_s = 10;
  LimitServer ls(options);
  RawClient slow(ls.server.port());
  REQUIRE(slow.Send(PostHead(100, true)));
  REQUIRE_FALSE(slow.ReadUntil("100 Continue", 10s));  // the headers were read
  REQUIRE(slow.Send(std::string(10, 'x')));
  ls.clock.Advance(11s);
  CHECK(slow.WaitClosed(10s));
  CHECK(slow.data().find("HTTP/1.1 408 ") != std::string::npos);
  CHECK(slow.data().find("request_timeout") != std::string::npos);
  CHECK(ls.Cuts("request_timeout") == 1);
  // A request line that never ends is cut too (no answer: no request began). Its deadline starts
  // when libmicrohttpd accepts it, which the client cannot see: time moves on until it is cut.
  RawClient silent(ls.server.port());
  REQUIRE(silent.Send("GET /hel"));
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    ls.clock.Advance(11s);
    closed = silent.WaitClosed(500ms);
  }
  CHECK(closed);
  CHECK(silent.data().empty());
  CHECK(ls.Cuts("request_timeout") == 2);
}

TEST_CASE("HttpServer cuts a body slower than min_body_bytes_per_s after the grace",
          "[integration]") {
  ServerOptions options = LimitOptions();
  options.min_body_bytes_per_s = 100;
  options.body_rate_grace_s = 2;
  LimitServer ls(options);
  RawClient trickle(ls.server.port());
  REQUIRE(trickle.Send(PostHead(1000, true)));
  REQUIRE_FALSE(trickle.ReadUntil("100 Continue", 10s));
  REQUIRE(trickle.Send("x"));
  // 5 s after the headers: 3 s past the grace, 300 bytes owed, at most 1 read.
  ls.clock.Advance(5s);
  CHECK(trickle.WaitClosed(10s));
  CHECK(trickle.data().find("HTTP/1.1 408 ") != std::string::npos);
  CHECK(ls.Cuts("body_rate") == 1);
  CHECK(ls.Cuts("request_timeout") == 0);
  // The server goes on serving bodies at any speed within the rules.
  RawClient next(ls.server.port());
  REQUIRE(next.Send(PostHead(3) + "abc"));
  next.ReadUntil("\r\n\r\nabc", 10s);
  CHECK(next.data().find("HTTP/1.1 200 ") != std::string::npos);
}

TEST_CASE("HttpServer answers 503 to a body beyond max_pending_body_bytes", "[integration]") {
  ServerOptions options = LimitOptions();
  options.max_body_bytes = 1000;
  options.max_pending_body_bytes = 2000;
  LimitServer ls(options);
  RawClient first(ls.server.port());
  RawClient second(ls.server.port());
  REQUIRE(first.Send(PostHead(1000, true)));
  REQUIRE(second.Send(PostHead(1000, true)));
  REQUIRE_FALSE(first.ReadUntil("100 Continue", 10s));
  REQUIRE_FALSE(second.ReadUntil("100 Continue", 10s));
  // Both bodies are announced and unread: the budget is spent.
  RawClient third(ls.server.port());
  REQUIRE(third.Send(PostHead(10, true)));
  CHECK(third.WaitClosed(10s));
  CHECK(third.data().find("HTTP/1.1 503 ") != std::string::npos);
  CHECK(third.data().find("Retry-After: 1") != std::string::npos);
  // A body read gives its share back.
  REQUIRE(first.Send(std::string(1000, 'a')));
  first.ReadUntil(std::string(1000, 'a'), 10s);
  CHECK(first.data().find("HTTP/1.1 200 ") != std::string::npos);
  RawClient fourth(ls.server.port());
  REQUIRE(fourth.Send(PostHead(3) + "abc"));
  fourth.ReadUntil("\r\n\r\nabc", 10s);
  CHECK(fourth.data().find("HTTP/1.1 200 ") != std::string::npos);
}

TEST_CASE("HttpServer Stop returns while a client is still trickling a body", "[integration]") {
  ServerOptions options = LimitOptions();
  options.request_timeout_s = 3600;  // only Stop's own deadline applies
  options.stop_grace_s = 1;
  LimitServer ls(options);
  RawClient trickle(ls.server.port());
  REQUIRE(trickle.Send(PostHead(1000, true)));
  REQUIRE_FALSE(trickle.ReadUntil("100 Continue", 10s));
  REQUIRE(trickle.Send("x"));
  std::atomic<bool> stop_trickling{false};
  std::thread trickler([&] {
    // One byte now and then, for longer than the test would wait for Stop.
    while (!stop_trickling.load()) {
      if (!trickle.Send("x")) break;
      std::this_thread::sleep_for(100ms);
    }
  });
  auto stopped = std::async(std::launch::async, [&] { ls.server.Stop(); });
  const bool returned = stopped.wait_for(30s) == std::future_status::ready;
  stop_trickling = true;
  trickler.join();
  REQUIRE(returned);
  CHECK_FALSE(ls.server.IsRunning());
  CHECK(ls.Cuts("stopping") == 1);
}

TEST_CASE("HttpServer answers 405 with the path's methods in Allow", "[integration]") {
  LimitServer ls(LimitOptions());
  RawClient client(ls.server.port());
  REQUIRE(client.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  client.ReadUntil("}", 10s);
  CHECK(client.data().find("HTTP/1.1 405 ") != std::string::npos);
  CHECK(client.data().find("Allow: POST\r\n") != std::string::npos);
  CHECK(client.data().find("method_not_allowed") != std::string::npos);
}

TEST_CASE("HttpServer refuses to start with a malformed route pattern", "[unit]") {
  core::FakeClock clock;
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  HttpServer server(LimitOptions(), clock, random, core::MakeNullLogger(), metrics);
  server.Get("/items/{id", [](const Request&, Response&, const RequestContext&) {});
  const core::Status started = server.Start();
  CHECK(started.code() == core::StatusCode::kInvalidArgument);
  CHECK(started.message().find("/items/{id") != std::string::npos);
}

}  // namespace
}  // namespace scrm::server
