// The `http` section of the service configuration: the libmicrohttpd server (src/server). Parsed
// and validated by http_config.cc (see config.h for sources and error messages).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/core/status.h"

namespace scrm::config {

// `http`: the libmicrohttpd server (src/server). Event threads serve the connections; `threads`
// workers run the ordinary (blocking) handlers, and a connection never holds a worker.
struct HttpConfig {
  int threads = 8;            // workers for the ordinary handlers; 1..900
  int max_connections = 512;  // open connections at once (more are refused at accept); threads..900
  int keep_alive_max = 1000;  // requests per keep-alive connection; 1..1000000
  int keep_alive_timeout_s = 5;      // idle keep-alive connection closed after; 1..3600
  int read_timeout_s = 10;           // 1..3600
  int write_timeout_s = 10;          // 1..3600
  int64_t max_body_bytes = 1 << 20;  // larger bodies get 413; 1..(64 MiB)
  // Slow and greedy clients (docs/configuration.md "http"):
  int max_connections_per_ip = 128;  // open connections from one client address; 0 = no cap;
                                     // 0..max_connections
  int request_timeout_s = 30;  // a whole request (headers and body) from the connection's accept
                               // or the previous answer; 1..3600, > keep_alive_timeout_s
  int64_t min_body_bytes_per_s = 1024;  // a body slower than this after the grace is cut off;
                                        // 0 = no minimum; 0..(1 GiB)
  int body_rate_grace_s = 5;  // seconds after the headers before min_body_bytes_per_s applies;
                              // 0..3600
  int64_t max_pending_body_bytes = int64_t{64} << 20;  // bodies still arriving, all connections
                                                       // together: more get 503;
                                                       // max_body_bytes..(4 GiB)
  // "host:port" of a second listener that alone serves /metrics and the /readyz detail; "" = none
  // (everything on `listen`). Must differ from `listen`.
  std::string admin_listen;
};

// A listen address split: the host of "[::1]:8080" is "::1".
struct HostPort {
  std::string host;
  int port = 0;
};

// Splits "host:port" / "[v6]:port" (`listen`, `http.admin_listen`); port 0 = ephemeral. The
// error is InvalidArgument whose message is the reason only (no key path).
core::StatusOr<HostPort> SplitListen(std::string_view listen);

}  // namespace scrm::config
