// SimServer: the simulator on loopback HTTP — /cgi-bin/... answered by a Platform (with latency,
// 5xx and dropped-connection faults carried out here), and the /sim/... control API (faults,
// clock, tokens, world, events, records, play); docs/simulator.md lists the endpoints.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "sim/platform.h"
#include "sim/player.h"
#include "src/core/status.h"

namespace httplib {
class Server;
}

namespace scrm::sim {

struct SimServerOptions {
  std::string host = "127.0.0.1";  // loopback only; Start() refuses anything else
  int port = 0;                    // 0: an ephemeral port (read it back with port())
  int threads = 16;                // latency faults hold a worker while they sleep
  // Defaults of POST /sim/play (the body may override target and timings).
  PlayerOptions play;
};

// Owns the HTTP server and its listening thread; `platform` must outlive it. Start/Stop from one
// thread; the handlers run on the server's pool and only touch the (thread-safe) Platform.
class SimServer {
 public:
  SimServer(Platform& platform, SimServerOptions options);
  ~SimServer();  // Stop()
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Binds, starts listening on a thread and returns once the server accepts connections.
  core::Status Start();
  void Stop();
  int port() const { return port_; }
  std::string base_url() const;

 private:
  void InstallHandlers();

  Platform& platform_;
  SimServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace scrm::sim
