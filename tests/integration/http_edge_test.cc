// The HTTP edge of the real scrmd process: platform callbacks keep getting through while one
// address holds slow connections, a huge path under an unlimited stack, 405 with Allow, and the
// admin listener for /metrics and the /readyz detail.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "sim/callback_builder.h"
#include "tests/integration/scrmd_fixture.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A non-blocking TCP connection to 127.0.0.1:port from `from`; -1 when it cannot be made.
int ConnectFrom(const char* from, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &local.sin_addr);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the server has closed `fd` (EOF or reset; whatever it answered is read and dropped).
bool ClosedByServer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[1024];
  const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// Holds `slots` connections from 127.0.0.2, each a callback POST announcing a large body sent
// one byte at a time; a connection the server closes is replaced. Counts the closures.
class SlowAttacker {
 public:
  SlowAttacker(int port, int slots) : port_(port), slots_(slots) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SlowAttacker() {
    stop_ = true;
    thread_.join();
  }
  int closed() const { return closed_.load(); }

 private:
  void Run() {
    const std::string head =
        "POST /callbacks/wecom/acme?msg_signature=0&timestamp=0&nonce=0 HTTP/1.1\r\n"
        "Host: x\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n";
    std::vector<int> fds(static_cast<size_t>(slots_), -1);
    while (!stop_) {
      for (int& fd : fds) {
        if (fd >= 0 && ClosedByServer(fd)) {
          ::close(fd);
          fd = -1;
          ++closed_;
        }
        if (fd < 0) {
          fd = ConnectFrom("127.0.0.2", port_);
          if (fd >= 0 && ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) < 0) {
            ::close(fd);
            fd = -1;
            ++closed_;
          }
          continue;
        }
        if (::send(fd, "<", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
          ::close(fd);
          fd = -1;
          ++closed_;
        }
      }
      // The attacker's pace (a byte per connection per 300 ms), not a wait for a result.
      std::this_thread::sleep_for(300ms);
    }
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }

  const int port_;
  const int slots_;
  std::atomic<bool> stop_{false};
  std::atomic<int> closed_{0};
  std::thread thread_;
};

// Polls `condition` every 50 ms until it holds or `limit` passes.
template <typename Condition>
bool WaitFor(Condition condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

uint64_t MetricValue(const std::string& text, const std::string& series) {
  const size_t at = text.find(series + " ");
  if (at == std::string::npos) return 0;
  return std::stoull(text.substr(at + series.size() + 1));
}

TEST_CASE("scrmd answers and stores signed callbacks while one address trickles bodies",
          "[integration]") {
  TempDir dir;
  // Every refused connection is a warn line of libmicrohttpd's: unread by this test, they would
  // fill the stderr pipe.
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts()},
                                                    {"log", {{"level", "error"}}},
                                                    {"http",
                                                     {{"threads", 4},
                                                      {"max_connections", 40},
                                                      {"max_connections_per_ip", 8},
                                                      {"request_timeout_s", 8},
                                                      {"min_body_bytes_per_s", 100},
                                                      {"body_rate_grace_s", 1}}}});
  const std::string key = CreateKey(config, "admin", "edge");
  ScrmdServer server(config);
  // 64 slow connections wanted from one address: more than all 40 slots.
  SlowAttacker attacker(server.port, 64);
  // The attacker's connections beyond its 8 are closed at accept; its 8 are cut by the rate rule.
  REQUIRE(WaitFor([&] { return attacker.closed() >= 64; }, 60s));

  auto builder = sim::CallbackBuilder::Create(kToken, kAesKey, kCorpId, 7);
  REQUIRE(builder.ok());
  constexpr int kCallbacks = 20;
  for (int i = 0; i < kCallbacks; ++i) {
    const auto req =
        builder->WecomPost("/callbacks/wecom/acme",
                           sim::CallbackBuilder::WecomTextXml(
                               kCorpId, "lisi", "hello " + std::to_string(i),
                               7100000000000000000ULL + static_cast<uint64_t>(i), NowSeconds()),
                           NowSeconds());
    auto client = server.Client();  // a new connection each time, from 127.0.0.1
    auto r = client.Post(req.path_and_query, req.body, "text/xml");
    INFO("callback " << i);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  auto client = server.Client();
  auto listed = client.Get("/api/v1/interactions?limit=1000", {{"Authorization", "Bearer " + key}});
  REQUIRE(listed);
  REQUIRE(listed->status == 200);
  CHECK(json::parse(listed->body)["items"].size() == kCallbacks);

  // The rate rule did the cutting (what the per-address cap refused is not counted there).
  std::string metrics;
  CHECK(WaitFor(
      [&] {
        auto m = client.Get("/metrics");
        if (!m) return false;
        metrics = m->body;
        return MetricValue(metrics, R"(scrmd_http_connections_cut_total{reason="body_rate"})") >= 8;
      },
      30s));
  INFO(metrics.substr(0, 2000));
  server.Stop();
}

TEST_CASE("scrmd answers a 7,900-digit customer path and stays up under an unlimited stack",
          "[integration]") {
  if (!std::filesystem::exists("/usr/bin/prlimit")) {
    WARN("prlimit is not installed: the stack limit stays as it is");
  }
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir);
  const std::string key = CreateKey(config, "readonly", "edge");
  std::vector<std::string> launcher;
  if (std::filesystem::exists("/usr/bin/prlimit")) {
    launcher = {"/usr/bin/prlimit", "--stack=unlimited"};
  }
  ScrmdServer server(config, "", launcher);
  auto client = server.Client();
  const std::string path = "/api/v1/customers/" + std::string(7900, '7');
  auto anonymous = client.Get(path);
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  auto keyed = client.Get(path, {{"Authorization", "Bearer " + key}});
  REQUIRE(keyed);
  CHECK(keyed->status == 400);  // the id is out of range
  auto beyond = client.Get("/api/v1/customers/" + std::string(8200, '7'));
  REQUIRE(beyond);
  CHECK(beyond->status == 414);
  auto letters = client.Get("/api/v1/customers/" + std::string(7900, 'a'));
  REQUIRE(letters);
  CHECK(letters->status == 404);
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  server.Stop();
}

TEST_CASE("scrmd answers a wrong method on a known path with 405 and the path's methods",
          "[integration]") {
  TempDir dir;
  ScrmdServer server(WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}}));
  auto client = server.Client();
  auto r = client.Delete("/callbacks/wecom/acme");
  REQUIRE(r);
  CHECK(r->status == 405);
  CHECK(r->get_header_value("Allow") == "GET, HEAD, POST");
  auto tags = client.Get("/api/v1/customers/1/tags");
  REQUIRE(tags);
  CHECK(tags->status == 405);
  CHECK(tags->get_header_value("Allow") == "POST, DELETE");
  server.Stop();
}

TEST_CASE("scrmd serves /metrics and the /readyz detail on the admin listener only",
          "[integration]") {
  TempDir dir;
  ScrmdServer server(WriteScrmdConfig(dir, {{"http", {{"admin_listen", "127.0.0.1:0"}}}}));
  std::smatch m;
  const std::string out = server.process.Stdout();
  REQUIRE(std::regex_search(out, m, std::regex(R"(admin endpoint http://127\.0\.0\.1:(\d+))")));
  httplib::Client admin("127.0.0.1", std::stoi(m[1]));
  admin.set_read_timeout(10, 0);
  auto client = server.Client();

  auto main_metrics = client.Get("/metrics");
  REQUIRE(main_metrics);
  CHECK(main_metrics->status == 404);
  auto main_ready = client.Get("/readyz");
  REQUIRE(main_ready);
  CHECK(main_ready->status == 200);
  CHECK(main_ready->body == R"({"status":"ready"})");

  auto admin_metrics = admin.Get("/metrics");
  REQUIRE(admin_metrics);
  CHECK(admin_metrics->status == 200);
  CHECK(admin_metrics->body.find("scrmd_build_info") != std::string::npos);
  // The main listener's requests are counted in the same registry.
  CHECK(admin_metrics->body.find(R"(route="/metrics",method="GET",status="404")") ==
        std::string::npos);
  CHECK(admin_metrics->body.find(R"(route="unmatched",method="GET",status="404")") !=
        std::string::npos);
  auto admin_ready = admin.Get("/readyz");
  REQUIRE(admin_ready);
  CHECK(admin_ready->status == 200);
  auto admin_api = admin.Get("/api/v1/me");
  REQUIRE(admin_api);
  CHECK(admin_api->status == 404);
  server.Stop();
}

}  // namespace
}  // namespace scrm::testing
