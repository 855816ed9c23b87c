#include "src/net/curl_http_client.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace scrm::net {
namespace {

using std::chrono::milliseconds;

// A real cpp-httplib server on an ephemeral loopback port.
class LoopbackServer {
 public:
  LoopbackServer() {
    server_.set_keep_alive_max_count(1000);
    server_.set_keep_alive_timeout(30);
    server_.Get("/hello", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      res.set_content("hi", "text/plain");
    });
    server_.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      res.set_header("X-Content-Type", req.get_header_value("Content-Type"));
      res.set_header("X-Expect", req.get_header_value("Expect"));
      res.set_content(req.body, "application/json");
    });
    server_.Get("/slow", [this](const httplib::Request& req, httplib::Response& res) {
      Record(req);
      ++slow_requests_;
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!release_.load() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(milliseconds(5));
      }
      res.set_content("late", "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(2 << 20, 'x'), "text/plain");
    });
    server_.Get("/fail", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content(R"({"errcode":-1})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  ~LoopbackServer() {
    release_ = true;
    server_.stop();
    thread_.join();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  size_t DistinctClientPorts() {
    std::lock_guard lock(mu_);
    return client_ports_.size();
  }
  int slow_requests() const { return slow_requests_.load(); }
  void Release() { release_ = true; }

 private:
  void Record(const httplib::Request& req) {
    std::lock_guard lock(mu_);
    client_ports_.insert(req.remote_port);
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> release_{false};
  std::atomic<int> slow_requests_{0};
  std::mutex mu_;
  std::set<int> client_ports_;
};

// A loopback port nobody listens on: bound, then closed.
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.url = url;
  request.timeout = milliseconds(5000);
  return request;
}

TEST_CASE("CurlHttpClient reuses one connection for sequential requests", "[integration]") {
  CurlGlobal curl;
  LoopbackServer server;
  CurlHttpClient client;
  for (int i = 0; i < 20; ++i) {
    const HttpResult result = client.Send(Get(server.Url("/hello")));
    REQUIRE(result.outcome == HttpOutcome::kResponse);
    CHECK(result.status == 200);
    CHECK(result.body == "hi");
  }
  CHECK(client.connections_opened() == 1);
  CHECK(client.handles_created() == 1);
  CHECK(server.DistinctClientPorts() == 1);
}

TEST_CASE("CurlHttpClient posts the body and headers without an Expect header", "[integration]") {
  CurlGlobal curl;
  LoopbackServer server;
  CurlHttpClient client;
  HttpRequest request = Get(server.Url("/echo"));
  request.method = HttpMethod::kPost;
  request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  request.body = std::string(4096, 'a');  // above libcurl's 100-continue threshold
  const HttpResult result = client.Send(request);
  REQUIRE(result.outcome == HttpOutcome::kResponse);
  CHECK(result.status == 200);
  CHECK(result.body == request.body);
}

TEST_CASE("CurlHttpClient returns a 5xx as a response with its body", "[integration]") {
  CurlGlobal curl;
  LoopbackServer server;
  CurlHttpClient client;
  const HttpResult result = client.Send(Get(server.Url("/fail")));
  REQUIRE(result.outcome == HttpOutcome::kResponse);
  CHECK(result.status == 503);
  CHECK(result.body == R"({"errcode":-1})");
}

TEST_CASE("CurlHttpClient reports never sent when the connection is refused", "[integration]") {
  CurlGlobal curl;
  CurlHttpClient client;
  const HttpResult result =
      client.Send(Get("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/x"));
  CHECK(result.outcome == HttpOutcome::kNotSent);
  CHECK_FALSE(result.error.empty());
}

TEST_CASE("CurlHttpClient reports never sent for a URL it refuses", "[integration]") {
  CurlGlobal curl;
  CurlHttpClient client;
  CHECK(client.Send(Get("ftp://127.0.0.1/x")).outcome == HttpOutcome::kNotSent);
  CHECK(client.Send(Get("not a url")).outcome == HttpOutcome::kNotSent);
}

TEST_CASE("CurlHttpClient reports an unknown outcome when the reply times out after sending",
          "[integration]") {
  CurlGlobal curl;
  LoopbackServer server;
  CurlHttpClient client;
  HttpRequest request = Get(server.Url("/slow"));
  request.timeout = milliseconds(300);
  const HttpResult result = client.Send(request);
  CHECK(result.outcome == HttpOutcome::kUnknown);
  CHECK(server.slow_requests() == 1);  // the server did get it
  server.Release();
  // The client stays usable afterwards.
  const HttpResult next = client.Send(Get(server.Url("/hello")));
  CHECK(next.outcome == HttpOutcome::kResponse);
}

TEST_CASE("CurlHttpClient drops a reply larger than the limit as an unknown outcome",
          "[integration]") {
  CurlGlobal curl;
  LoopbackServer server;
  CurlHttpClientOptions options;
  options.max_response_bytes = 1 << 20;
  CurlHttpClient client(options);
  const HttpResult result = client.Send(Get(server.Url("/big")));
  CHECK(result.outcome == HttpOutcome::kUnknown);
  CHECK(result.body.empty());
}

TEST_CASE("CurlHttpClient serves many threads at once and reuses their connections",
          "[integration]") {
  CurlGlobal curl;
  LoopbackServer server;
  CurlHttpClient client;
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        const HttpResult result = client.Send(Get(server.Url("/hello")));
        if (result.outcome == HttpOutcome::kResponse && result.body == "hi") ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(good.load() == kThreads * kEach);
  // One handle (and connection) per concurrent caller at most, not one per request.
  CHECK(client.handles_created() <= kThreads);
  CHECK(client.connections_opened() <= kThreads);
}

}  // namespace
}  // namespace scrm::net
