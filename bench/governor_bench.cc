// governor_bench: does the RateGovernor hold a platform's per-API limit? The scrm-sim simulator
// (in process, real HTTP on 127.0.0.1) enforces `limit` calls of externalcontact/get per fixed
// 60 s window of its clock and answers 45033 beyond; scrmd's RateGovernor is configured with the
// same limit; several threads offer TWICE the limit through the real WecomClient / ApiCaller /
// CurlHttpClient for `seconds`. Prints the calls the simulator saw, its 45033 / 45009 answers
// (must be 0), the throughput against the limit (over the whole run and after the initial
// burst) and the conditions. Run on purpose (docs/performance.md "Rate governor").
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim/platform.h"
#include "sim/sim_server.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/wecom_client.h"

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kApi[] = "externalcontact/get";
constexpr int64_t kWindowMs = 60'000;  // the platforms' per-minute counters (PROTOCOL §4.1)

std::string Today() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace scrm;
  CLI::App app{"governor_bench: the RateGovernor against the simulator's per-API limit"};
  double seconds = 60;
  int64_t limit = 10'000;  // WeCom: per corp per API 10 000 / min (PROTOCOL §4.1)
  int64_t burst = 0;       // 0: the governor's default
  int threads = 64;
  double demand_factor = 2.0;
  int64_t budget_ms = 100;
  app.add_option("--seconds", seconds, "how long to drive demand")->check(CLI::Range(5.0, 3600.0));
  app.add_option("--limit", limit, "calls per 60 s window, simulator and governor alike")
      ->check(CLI::Range(int64_t{60}, int64_t{1'000'000}));
  app.add_option("--burst", burst, "governor bucket capacity (0: its default)")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
  app.add_option("--threads", threads, "caller threads")->check(CLI::Range(1, 1024));
  app.add_option("--demand", demand_factor, "offered load as a multiple of the limit")
      ->check(CLI::Range(0.1, 10.0));
  app.add_option("--budget-ms", budget_ms, "each call's time budget (governor wait included)")
      ->check(CLI::Range(int64_t{10}, int64_t{10'000}));
  CLI11_PARSE(app, argc, argv);

  core::SystemClock clock;
  core::SecureRandom random;

  // The simulator: one WeCom corp with one contact; limit calls of kApi per fixed window.
  sim::World world;
  sim::ExternalContact contact;
  contact.external_userid = "wmBENCH";
  contact.name = "bench";
  contact.follow_user = {sim::FollowUser{"zhangsan", "", "", 1767225000, {}, "", 1, ""}};
  world.wecom.members = {{"zhangsan", "张三"}};
  world.wecom.external_contacts = {contact};
  world.rate_limits = {sim::RateLimitRule{kApi, limit, kWindowMs / 1000, 0}};  // 0: 45033
  sim::Platform platform(world, clock, random);
  sim::SimServerOptions server_options;
  server_options.threads = 32;
  sim::SimServer server(platform, server_options);
  if (const core::Status started = server.Start(); !started.ok()) {
    std::fprintf(stderr, "simulator: %s\n", started.ToString().c_str());
    return 1;
  }

  // scrmd's outbound stack, the governor set to the simulator's limit for that API.
  net::CurlGlobal curl;
  net::CurlHttpClient http;
  core::MetricsRegistry metrics;
  auto log = core::MakeNullLogger();
  platform::RealSleeper sleeper;
  platform::TokenService tokens(http, clock, metrics, log);
  platform::GovernorOptions governor_options;
  governor_options.wecom_api[kApi] = {
      platform::RateLimit{limit, std::chrono::seconds(kWindowMs / 1000), burst}};
  platform::RateGovernor governor(clock, governor_options);
  platform::ApiCaller caller(http, tokens, governor, clock, random, sleeper, metrics, log);
  platform::Credential credential;
  credential.account_id = "acme";
  credential.platform = model::Platform::kWecom;
  credential.api_base = server.base_url();
  credential.app_id = world.wecom.corp_id;
  credential.secret = world.wecom.corp_secret;
  platform::WecomClient wecom(credential, caller);
  if (!tokens.Get(credential).ok()) {  // the token fetch is not what is measured
    std::fprintf(stderr, "no token from the simulator\n");
    return 1;
  }

  // The simulator counts per fixed window of its clock; the governor's bucket starts full.
  // A bucket of capacity B refilled at (L - B) / W admits at most L calls in ANY interval of
  // length W, so every fixed window holds at most L as well — except for calls that arrive a
  // little after their permit (loopback jitter) across a window boundary. Start the run 1 s
  // into a simulator window so that the initial burst and that jitter never share a boundary.
  {
    const int64_t phase = platform.NowMs() % kWindowMs;
    platform.AdvanceClock((1000 - phase + kWindowMs) % kWindowMs);
  }
  const int64_t sim_start_ms = platform.NowMs();

  // Open-loop demand: call k of thread t is due at start + (k * threads + t) / rate. A call
  // that finds no permit within its budget is throttled (kThrottled): demand beyond the limit
  // is turned away by the governor, not by the platform.
  const double rate_per_s = demand_factor * static_cast<double>(limit) * 1000.0 / kWindowMs;
  const auto start = steady_clock::now();
  const auto end = start + std::chrono::duration_cast<steady_clock::duration>(
                               std::chrono::duration<double>(seconds));
  std::atomic<int64_t> offered{0}, ok{0}, throttled{0}, failed{0}, late{0};
  std::mutex failures_mu;
  std::map<std::string, int64_t> failures;  // outcome -> count, guarded by failures_mu
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      platform::CallOptions options;
      options.time_budget = milliseconds(budget_ms);
      for (int64_t k = 0;; ++k) {
        const double due_s = static_cast<double>(k * threads + t) / rate_per_s;
        const auto due = start + std::chrono::duration_cast<steady_clock::duration>(
                                     std::chrono::duration<double>(due_s));
        if (due >= end) break;
        const auto now = steady_clock::now();
        if (now > due + milliseconds(budget_ms)) {
          ++late;  // this thread could not keep up: the slot is counted, not offered
          continue;
        }
        std::this_thread::sleep_until(due);
        ++offered;
        auto detail = wecom.GetExternalContact("wmBENCH", "", options);
        if (detail.ok()) {
          ++ok;
        } else if (detail.error().outcome == platform::Outcome::kThrottled) {
          ++throttled;
        } else {
          ++failed;
          std::lock_guard lock(failures_mu);
          ++failures[std::string(platform::OutcomeName(detail.error().outcome))];
        }
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  const double elapsed = std::chrono::duration<double>(steady_clock::now() - start).count();
  server.Stop();

  // What the platform saw.
  const std::vector<sim::RecordedRequest> calls = platform.Requests(kApi);
  int64_t limited = 0;
  int64_t after_burst = 0;
  // The burst is spent within seconds; short runs measure their second half.
  const int64_t skip_ms = std::min<int64_t>(10'000, static_cast<int64_t>(seconds * 500));
  const int64_t steady_from_ms = sim_start_ms + skip_ms;
  int64_t last_ms = sim_start_ms;
  std::map<int64_t, int64_t> per_window;
  for (const sim::RecordedRequest& call : calls) {
    if (call.errcode == 45033 || call.errcode == 45009) ++limited;
    if (call.at_ms >= steady_from_ms) ++after_burst;
    last_ms = std::max(last_ms, call.at_ms);
    ++per_window[call.at_ms / kWindowMs];
  }
  const double made = static_cast<double>(calls.size());
  const double per_min = made / elapsed * 60.0;
  const double steady_s = static_cast<double>(last_ms - steady_from_ms) / 1000.0;
  const double steady_per_min =
      steady_s > 0 ? static_cast<double>(after_burst) / steady_s * 60.0 : 0.0;
  const int64_t effective_burst = platform::EffectiveBurst(
      platform::RateLimit{limit, std::chrono::seconds(kWindowMs / 1000), burst});

  std::printf("governor_bench  %s\n", Today().c_str());
  std::printf(
      "conditions: limit %lld calls / 60 s of %s (simulator fixed windows, governor "
      "bucket of %lld refilled at %lld / 60 s), demand %.1fx = %.1f calls/s from %d "
      "threads, call budget %lld ms, %.1f s, %u hardware threads\n",
      static_cast<long long>(limit), kApi, static_cast<long long>(effective_burst),
      static_cast<long long>(limit - effective_burst), demand_factor, rate_per_s, threads,
      static_cast<long long>(budget_ms), elapsed, std::thread::hardware_concurrency());
  std::printf(
      "offered %lld (late slots %lld), ok %lld, throttled by the governor %lld, other "
      "failures %lld\n",
      static_cast<long long>(offered.load()), static_cast<long long>(late.load()),
      static_cast<long long>(ok.load()), static_cast<long long>(throttled.load()),
      static_cast<long long>(failed.load()));
  for (const auto& [outcome, count] : failures) {
    std::printf("  failed %s: %lld\n", outcome.c_str(), static_cast<long long>(count));
  }
  std::printf("simulator: %zu calls, 45033/45009 answers: %lld\n", calls.size(),
              static_cast<long long>(limited));
  for (const auto& [window, count] : per_window) {
    std::printf("  window %lld: %lld calls\n",
                static_cast<long long>(window - per_window.begin()->first),
                static_cast<long long>(count));
  }
  std::printf(
      "throughput: %.0f calls/min over the run = %.1f %% of the limit; after the first %.0f s "
      "%.0f calls/min = %.1f %%\n",
      per_min, 100.0 * per_min / static_cast<double>(limit), static_cast<double>(skip_ms) / 1000.0,
      steady_per_min, 100.0 * steady_per_min / static_cast<double>(limit));
  const bool held = limited == 0;
  const bool close = std::abs(steady_per_min / static_cast<double>(limit) - 1.0) <= 0.05;
  std::printf("verdict: %s, %s\n", held ? "no platform rate-limit answers" : "LIMIT EXCEEDED",
              close ? "within 5 % of the limit" : "NOT within 5 % of the limit");
  // The row scripts/bench.sh collects.
  std::printf(
      "| governor_bench | %.1f %% of the limit after the burst, %lld x 45033 | %zu calls, "
      "%.0f / min over %.0f s | limit %lld / 60 s, demand %.1fx, %d threads |\n",
      100.0 * steady_per_min / static_cast<double>(limit), static_cast<long long>(limited),
      calls.size(), per_min, elapsed, static_cast<long long>(limit), demand_factor, threads);
  return held && close ? 0 : 2;
}
