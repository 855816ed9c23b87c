// bare_server: the baseline for ingest_bench. A cpp-httplib server that answers every POST with
// 200 and an empty body, set up like scrmd's HttpServer with its default config: the same
// ElasticTaskQueue (8 warm workers, up to 1024, extras retire after 10 s idle), keep-alive max
// 1000 and timeout 5 s, read/write timeouts 10 s, 1 MiB body limit, TCP_NODELAY, SO_REUSEADDR
// only, listen backlog raised to SOMAXCONN. What it leaves out is exactly scrmd's work: request
// ids, access log, metrics, callback verification, decryption, parsing and the durable inbox.
// Prints "listening on http://127.0.0.1:PORT" and serves until SIGINT or SIGTERM.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "bench/load_generator.h"
#include "src/server/elastic_task_queue.h"

namespace {

// httplib 0.11.4 listens with a backlog of 5; scrmd raises it (src/server/http_server.cc), and
// so does the baseline, or 64 simultaneous connects would overflow it here only.
class BaselineServer final : public httplib::Server {
 public:
  void RaiseBacklog() {
    const socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
  }
};

// cpp-httplib's task queue interface over scrmd's handler pool.
class PoolTaskQueue final : public httplib::TaskQueue {
 public:
  PoolTaskQueue(size_t min_threads, size_t max_threads)
      : pool_(min_threads, max_threads, std::chrono::milliseconds(10'000)) {}
  void enqueue(std::function<void()> fn) override { pool_.Enqueue(std::move(fn)); }
  void shutdown() override { pool_.Shutdown(); }

 private:
  scrm::server::ElasticTaskQueue pool_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bare_server: cpp-httplib answering 200 to every POST (ingest_bench baseline)"};
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 8;
  int max_connections = 1024;
  int keep_alive_max = 1000;
  app.add_option("--host", host, "loopback address to listen on")->capture_default_str();
  app.add_option("--port", port, "0 = ephemeral")->check(CLI::Range(0, 65535));
  app.add_option("--threads", threads, "warm workers (scrmd http.threads)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--max-connections", max_connections, "most workers (scrmd http.max_connections)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--keep-alive-max", keep_alive_max, "requests per connection")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto address = scrm::bench::LoopbackAddress(host);
  if (!address.ok()) {
    std::fprintf(stderr, "bare_server: %s\n", address.status().message().c_str());
    return 2;
  }

  // SIGINT/SIGTERM are taken by sigwait on this thread; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  BaselineServer server;
  server.set_payload_max_length(size_t{1} << 20);
  server.set_keep_alive_max_count(static_cast<size_t>(keep_alive_max));
  server.set_keep_alive_timeout(5);
  server.set_read_timeout(10);
  server.set_write_timeout(10);
  server.set_tcp_nodelay(true);
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  const auto min_threads = static_cast<size_t>(threads);
  const auto max_threads = static_cast<size_t>(std::max(max_connections, threads));
  server.new_task_queue = [min_threads, max_threads] {
    return new PoolTaskQueue(min_threads, max_threads);
  };
  server.Post(R"([\s\S]*)",
              [](const httplib::Request&, httplib::Response& res) { res.status = 200; });

  const int bound = port == 0 ? server.bind_to_any_port(*address)
                              : (server.bind_to_port(*address, port) ? port : -1);
  if (bound < 0) {
    std::fprintf(stderr, "bare_server: cannot listen on %s:%d\n", address->c_str(), port);
    return 1;
  }
  server.RaiseBacklog();
  std::atomic<bool> finished{false};
  std::thread listener([&server, &finished] {
    if (!server.listen_after_bind()) std::fprintf(stderr, "bare_server: accept failed\n");
    finished = true;
  });
  const bool v6 = address->find(':') != std::string::npos;
  std::printf("listening on http://%s%s%s:%d\n", v6 ? "[" : "", address->c_str(), v6 ? "]" : "",
              bound);
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  // Between listen_after_bind starting and is_running, stop() would be a no-op.
  while (!server.is_running() && !finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server.stop();
  listener.join();
  return 0;
}
