// LoadGenerator: builds signed, encrypted WeCom / OA callbacks ahead of time and drives them
// into a loopback HTTP/1.1 server over keep-alive connections, one request in flight per
// connection, counting answers by status and timing each one. Shared by the `loadgen` program
// and `ingest_bench`; a benchmark tool, never linked into the service.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "src/core/status.h"

namespace scrm::bench {

// Where requests go. Only loopback hosts are accepted (see ParseLoopbackUrl), so a mistyped URL
// can never aim the generator at somebody else's server.
struct Target {
  std::string host = "127.0.0.1";  // literal 127.x.y.z or ::1 once resolved
  int port = 0;
  std::string path = "/";  // path only; the generated query is appended
};

// InvalidArgument unless `host` is "localhost", a 127.0.0.0/8 address or ::1 (brackets allowed).
// Returns the literal address to connect to ("localhost" becomes 127.0.0.1).
core::StatusOr<std::string> LoopbackAddress(const std::string& host);
// Parses "http://HOST:PORT/PATH" (IPv6 as "[::1]"); InvalidArgument for anything else, for
// https, for a missing port and for a non-loopback host.
core::StatusOr<Target> ParseLoopbackUrl(const std::string& url);

enum class CallbackPlatform { kWecom, kOfficialAccount };

// What the generated callbacks look like and the account secrets they are signed with.
struct CallbackSpec {
  CallbackPlatform platform = CallbackPlatform::kWecom;
  std::string token;
  std::string encoding_aes_key;  // 43 characters
  std::string receive_id;        // CorpID (WeCom) or AppID (OA)
  uint64_t seed = 1;             // nonces, AES IVs and the content mix follow from it
};

// Fully serialised HTTP/1.1 requests, ready to be written to a socket.
struct PreparedRequests {
  std::vector<std::string> wire;
  size_t body_bytes = 0;  // sum of the bodies' sizes (for the average in the report)
};

// Builds `count` distinct callbacks numbered from `first_index` (MsgId, ExternalUserID and
// openid derive from the index, so two calls with disjoint ranges never collide), all signed
// with `timestamp_s`. WeCom: 9 in 10 are text messages from members with Chinese content and a
// unique MsgId, 1 in 10 add_external_contact events with a unique ExternalUserID. OA: safe-mode
// text messages, unique MsgId and openid. InvalidArgument for a bad key.
core::StatusOr<PreparedRequests> BuildCallbackRequests(const CallbackSpec& spec,
                                                       const Target& target, size_t count,
                                                       uint64_t first_index, int64_t timestamp_s);

struct LoadOptions {
  int connections = 64;
  // A request without a complete answer after this long counts as a timeout error.
  std::chrono::milliseconds request_timeout{30'000};
};

// What one Run observed.
struct LoadResult {
  size_t sent = 0;                   // requests started
  size_t answered = 0;               // complete HTTP responses, any status
  std::map<int, size_t> by_status;   // answers per HTTP status
  size_t connect_errors = 0;         // connect() refused or failed
  size_t reset_errors = 0;           // connection closed or reset before a complete answer
  size_t timeout_errors = 0;         // no complete answer within request_timeout
  size_t protocol_errors = 0;        // an answer that is not HTTP/1.x
  size_t connections_opened = 0;     // including reconnects after Connection: close
  std::vector<double> latencies_ms;  // per answered request, from start to the last byte
  double seconds = 0;                // wall time of the run

  size_t errors() const { return connect_errors + reset_errors + timeout_errors + protocol_errors; }
  size_t Count(int status) const;
  double PerSecond(int status) const;
  // Nearest-rank percentile of latencies_ms (p in [0, 1]); 0 without answers.
  double PercentileMs(double p) const;
};

// Drives prepared requests. Connections stay open between Runs (a warm-up Run leaves them
// established for the measured one) and are closed by the destructor.
//
// Thread-safety: one thread uses an instance; it runs its own epoll loop on the caller's thread.
class LoadGenerator {
 public:
  LoadGenerator(Target target, LoadOptions options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Sends every request, or stops starting new ones after `duration_cap` (0: no cap), and
  // returns once each one sent has been answered or has failed (at worst after
  // request_timeout). Internal if epoll cannot be set up.
  core::StatusOr<LoadResult> Run(std::span<const std::string> requests,
                                 std::chrono::milliseconds duration_cap = {});

 private:
  struct Connection;
  class Loop;

  Target target_;
  LoadOptions options_;
  std::vector<Connection> connections_;
};

// One markdown row: | label | N msg/s | p50, p99 | answered a of n (200: k, other: {...},
// errors: e), c conns, b-byte bodies<extra> |. msg/s counts 200 answers only.
std::string FormatRow(const std::string& label, const LoadResult& result, int connections,
                      size_t average_body_bytes, const std::string& extra = "");

}  // namespace scrm::bench
