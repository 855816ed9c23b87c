// loadgen: drives signed, encrypted WeCom or OA callbacks into a loopback callback URL over
// keep-alive connections and prints one markdown row (msg/s of 200 answers, p50/p99, answers by
// status, errors). Every request is built before the timed phase, so during it the generator
// only does socket I/O. Stops by itself after --requests or --duration-s; refuses any host that
// is not loopback. Exits 0 only when every request sent was answered (whatever the status).
//
//   loadgen --url http://127.0.0.1:8080/callbacks/wecom/acme --token T --aes-key K
//           --receive-id wwCORPID [--platform wecom|oa] [--connections 64] [--requests 100000]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include "bench/load_generator.h"

namespace {

// Upper bound of this machine's rate (DEPENDENCIES.md: bare httplib 30-34k req/s) used to size
// the pre-built set when only a duration is given.
constexpr size_t kRequestsPerSecondBound = 50'000;
constexpr size_t kMaxPrebuilt = 3'000'000;

int Fail(const std::string& what) {
  std::fprintf(stderr, "loadgen: %s\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"loadgen: signed, encrypted WeCom/OA callbacks over keep-alive (loopback only)"};
  std::string url;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path;
  std::string platform = "wecom";
  scrm::bench::CallbackSpec spec;
  int connections = 64;
  size_t requests = 0;
  double duration_s = 0;
  size_t warmup = 1000;
  double timeout_s = 30;
  std::string label;

  app.add_option("--url", url, "http://HOST:PORT/callbacks/{wecom|oa}/ACCOUNT (loopback only)");
  app.add_option("--host", host, "loopback host, instead of --url")->capture_default_str();
  app.add_option("--port", port, "port, instead of --url");
  app.add_option("--path", path, "callback path, instead of --url");
  app.add_option("--platform", platform, "wecom or oa")
      ->check(CLI::IsMember({"wecom", "oa"}))
      ->capture_default_str();
  app.add_option("--token", spec.token, "the account's Token")->required();
  app.add_option("--aes-key", spec.encoding_aes_key, "the account's EncodingAESKey (43 chars)")
      ->required();
  app.add_option("--receive-id", spec.receive_id, "CorpID (wecom) or AppID (oa)")->required();
  app.add_option("--connections", connections, "keep-alive connections, one request in flight each")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--requests", requests,
                 "requests in the timed phase (default 100000, or duration x 50k/s)");
  app.add_option("--duration-s", duration_s, "stop starting requests after this many seconds")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--warmup-requests", warmup, "untimed requests sent first on the same connections")
      ->capture_default_str();
  app.add_option("--timeout-s", timeout_s, "per-request timeout")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  app.add_option("--seed", spec.seed, "nonces, IVs and content mix")->capture_default_str();
  app.add_option("--label", label, "first column of the printed row");
  CLI11_PARSE(app, argc, argv);

  scrm::bench::Target target;
  if (!url.empty()) {
    auto parsed = scrm::bench::ParseLoopbackUrl(url);
    if (!parsed.ok()) return Fail(parsed.status().message());
    target = *parsed;
  } else {
    if (port <= 0 || port > 65535 || path.empty() || path.front() != '/') {
      return Fail("give --url, or --port and --path (starting with /)");
    }
    auto address = scrm::bench::LoopbackAddress(host);
    if (!address.ok()) return Fail(address.status().message());
    target.host = *address;
    target.port = port;
    target.path = path;
  }
  spec.platform = platform == "oa" ? scrm::bench::CallbackPlatform::kOfficialAccount
                                   : scrm::bench::CallbackPlatform::kWecom;
  if (requests == 0) {
    requests = duration_s > 0 ? std::min(kMaxPrebuilt,
                                         static_cast<size_t>(duration_s) * kRequestsPerSecondBound +
                                             kRequestsPerSecondBound)
                              : 100'000;
  }
  if (requests > kMaxPrebuilt) return Fail("--requests: at most 3000000 (all are pre-built)");

  // Signed now: the server accepts timestamps within its window (300 s by default).
  const int64_t now_s = static_cast<int64_t>(std::time(nullptr));
  auto warm = scrm::bench::BuildCallbackRequests(spec, target, warmup, 0, now_s);
  if (!warm.ok()) return Fail(warm.status().message());
  auto timed = scrm::bench::BuildCallbackRequests(spec, target, requests, warmup, now_s);
  if (!timed.ok()) return Fail(timed.status().message());

  scrm::bench::LoadOptions options;
  options.connections = connections;
  options.request_timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  scrm::bench::LoadGenerator generator(target, options);
  if (!warm->wire.empty()) {
    auto warm_result = generator.Run(warm->wire);
    if (!warm_result.ok()) return Fail(warm_result.status().message());
    std::fprintf(stderr, "loadgen: warm-up %zu of %zu answered (200: %zu)\n", warm_result->answered,
                 warm_result->sent, warm_result->Count(200));
  }
  // The duration cap applies to the timed phase only.
  auto result = generator.Run(timed->wire,
                              std::chrono::milliseconds(static_cast<int64_t>(duration_s * 1000)));
  if (!result.ok()) return Fail(result.status().message());

  if (label.empty()) label = "loadgen " + platform + " " + target.path;
  const size_t average_body = timed->wire.empty() ? 0 : timed->body_bytes / timed->wire.size();
  std::printf("%s\n", scrm::bench::FormatRow(label, *result, connections, average_body).c_str());
  return result->answered == result->sent && result->sent > 0 ? 0 : 1;
}
