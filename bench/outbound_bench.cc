// outbound_bench: throughput of the outbound path against a cpp-httplib platform stand-in on
// 127.0.0.1 — raw CurlHttpClient POSTs (1 and 8 threads, keep-alive reuse) and full
// OaClient::SendTemplate calls (governor + token cache + retry engine + reply parsing, 8
// threads). The server shares the machine's cores with the client. Run on purpose.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/oa_client.h"

namespace {

using std::chrono::steady_clock;
constexpr double kSeconds = 2.0;

// Runs `op` on `threads` threads for kSeconds; returns operations per second (failures count
// as nothing and are reported through `failures`).
template <typename Op>
double Measure(int threads, std::atomic<int64_t>& failures, Op op) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const auto start = steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (op()) {
          ++done;
        } else {
          ++failures;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(kSeconds));
  stop = true;
  for (auto& thread : pool) thread.join();
  const double elapsed = std::chrono::duration<double>(steady_clock::now() - start).count();
  return static_cast<double>(done.load()) / elapsed;
}

}  // namespace

int main() {
  using namespace scrm;
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(16); };
  server.set_keep_alive_max_count(1000000);
  server.set_keep_alive_timeout(30);
  server.set_tcp_nodelay(true);
  server.Post("/cgi-bin/stable_token", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"access_token":"BENCH","expires_in":7200})", "application/json");
  });
  server.Post(
      "/cgi-bin/message/template/send", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"errcode":0,"errmsg":"ok","msgid":200228332})", "application/json");
      });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  net::CurlGlobal curl;
  net::CurlHttpClient http;
  const std::string body =
      R"({"touser":"o1","template_id":"t","client_msg_id":"m","data":{"k":{"value":"v"}}})";
  std::atomic<int64_t> raw_failures{0};
  auto raw_post = [&] {
    net::HttpRequest request;
    request.method = net::HttpMethod::kPost;
    request.url = base + "/cgi-bin/message/template/send?access_token=BENCH";
    request.headers = {{"Content-Type", "application/json"}};
    request.body = body;
    const net::HttpResult result = http.Send(request);
    return result.outcome == net::HttpOutcome::kResponse && result.status == 200;
  };
  const double raw1 = Measure(1, raw_failures, raw_post);
  const uint64_t connections1 = http.connections_opened();
  const double raw8 = Measure(8, raw_failures, raw_post);
  const uint64_t connections8 = http.connections_opened() - connections1;

  core::SystemClock clock;
  core::SecureRandom random;
  platform::RealSleeper sleeper;
  core::MetricsRegistry metrics;
  platform::TokenService tokens(http, clock, metrics, core::MakeNullLogger());
  platform::GovernorOptions limits;
  limits.oa_api["message/template/send"] = {{1000000000, std::chrono::seconds(60), 0}};
  platform::RateGovernor governor(clock, limits);
  platform::ApiCaller caller(http, tokens, governor, clock, random, sleeper, metrics,
                             core::MakeNullLogger());
  platform::Credential credential;
  credential.account_id = "oa1";
  credential.platform = model::Platform::kOfficialAccount;
  credential.api_base = base;
  credential.app_id = "wx01";
  credential.secret = "s";
  platform::OaClient client(credential, caller);
  std::atomic<int64_t> call_failures{0};
  std::atomic<int64_t> sequence{0};
  const double full8 = Measure(8, call_failures, [&] {
    platform::OaTemplateMessage message;
    message.touser = "o1";
    message.template_id = "t";
    message.client_msg_id = "m" + std::to_string(++sequence);
    message.data = {{"k", "v"}};
    return client.SendTemplate(message).ok();
  });

  server.stop();
  listener.join();
  const std::string conditions = "loopback cpp-httplib stand-in (16 workers) on the same cores, " +
                                 std::to_string(std::thread::hardware_concurrency()) + " cores";
  std::printf(
      "| outbound_bench curl POST, 1 thread | %.0f req/s | %llu connection(s) opened, "
      "%lld failures | %s |\n",
      raw1, static_cast<unsigned long long>(connections1),
      static_cast<long long>(raw_failures.load()), conditions.c_str());
  std::printf(
      "| outbound_bench curl POST, 8 threads | %.0f req/s | %llu more connection(s) "
      "opened | %s |\n",
      raw8, static_cast<unsigned long long>(connections8), conditions.c_str());
  std::printf(
      "| outbound_bench OaClient::SendTemplate, 8 threads | %.0f calls/s | governor + token "
      "+ retries + parse, %lld failures | %s |\n",
      full8, static_cast<long long>(call_failures.load()), conditions.c_str());
  return raw_failures.load() == 0 && call_failures.load() == 0 ? 0 : 1;
}
