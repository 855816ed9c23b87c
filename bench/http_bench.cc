// http_bench: the scrmd HTTP server (elastic pool) under more keep-alive connections than warm
// workers. Counts every answer and prints throughput and latency percentiles.
// Usage: http_bench [connections=200] [requests_per_connection=200] [threads=8]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/server/http_server.h"

namespace {

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return v[idx];
}

}  // namespace

int main(int argc, char** argv) {
  const int connections = argc > 1 ? std::atoi(argv[1]) : 200;
  const int per_connection = argc > 2 ? std::atoi(argv[2]) : 200;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 8;

  scrm::core::SystemClock clock;
  scrm::core::SecureRandom random;
  scrm::core::MetricsRegistry metrics;
  scrm::server::ServerOptions options;
  options.port = 0;
  options.threads = threads;
  options.max_connections = 512;
  options.keep_alive_max = 100000;
  options.max_connections_per_ip = 0;  // every load client is 127.0.0.1
  scrm::server::HttpServer server(options, clock, random, scrm::core::MakeNullLogger(), metrics);
  server.Post("/echo", [](const scrm::server::Request& req, scrm::server::Response& res,
                          const scrm::server::RequestContext&) {
    res.SetContent(std::to_string(req.body.size()), "text/plain");
  });
  if (auto s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }

  const std::string body(600, 'x');
  std::atomic<long> ok{0};
  std::atomic<long> failed{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(static_cast<size_t>(connections) * static_cast<size_t>(per_connection));
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c) {
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", server.port());
      client.set_keep_alive(true);
      client.set_read_timeout(60, 0);
      client.set_connection_timeout(60, 0);
      std::vector<double> local;
      local.reserve(static_cast<size_t>(per_connection));
      for (int i = 0; i < per_connection; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto res = client.Post("/echo", body, "text/plain");
        const auto t1 = std::chrono::steady_clock::now();
        if (res && res->status == 200) {
          ++ok;
        } else {
          ++failed;
        }
        local.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::lock_guard lock(mu);
      latencies_ms.insert(latencies_ms.end(), local.begin(), local.end());
    });
  }
  for (auto& t : clients) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  server.Stop();

  const long total = static_cast<long>(connections) * per_connection;
  const double p50 = Percentile(latencies_ms, 0.50);
  const double p99 = Percentile(latencies_ms, 0.99);
  std::printf(
      "| http keep-alive, %d conns > %d warm workers | %.0f req/s | p50 %.2f ms, p99 %.2f ms"
      " | answered %ld of %ld (200: %ld, failed: %ld), 600-byte POST, client on the same "
      "cores |\n",
      connections, threads, static_cast<double>(ok.load()) / seconds, p50, p99,
      ok.load() + failed.load(), total, ok.load(), failed.load());
  return failed.load() == 0 ? 0 : 1;
}
