// RateGovernor: per (account, API) token buckets from the platforms' documented limits, with
// realtime calls served before bulk ones and every wait bounded by a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/platform.h"

namespace scrm::platform {

enum class Priority {
  kRealtime,  // a person or a callback waits for it (welcome message, profile enrichment)
  kBulk,      // campaigns, backfills: yields to any waiting realtime call
};

// At most `limit` calls in any window of `window`. Enforced with a token bucket of capacity
// `burst` refilled at (limit - burst) / window, so that any window admits at most
// burst + (limit - burst) = limit calls. The price is the sustained rate: (limit - burst) per
// window, so the burst is small. burst 0 means limit / 50 (at least 1): 98 % of the limit
// sustained, and e.g. 200 calls at once of WeCom's 10 000 / min (docs/outbound.md).
struct RateLimit {
  int64_t limit = 0;
  std::chrono::seconds window{60};
  int64_t burst = 0;
};

// The bucket capacity a limit gets: `burst` when set, else the default above; within [1, limit].
int64_t EffectiveBurst(const RateLimit& limit);

// Limits per API name ("externalcontact/get", the path after /cgi-bin/). An API without its own
// entry gets the platform default. Defaults from PROTOCOL §4.1 / §4.2 (docs/outbound.md).
struct GovernorOptions {
  // WeCom: per corp per API 10 000/min and 150 000/h (90454, 2023-08-28).
  std::vector<RateLimit> wecom_default = {{10000, std::chrono::seconds(60), 0},
                                          {150000, std::chrono::seconds(3600), 0}};
  std::map<std::string, std::vector<RateLimit>, std::less<>> wecom_api;
  // OA: no general per-minute figure is documented; 10 000/min is stable_token's.
  std::vector<RateLimit> oa_default = {{10000, std::chrono::seconds(60), 0}};
  std::map<std::string, std::vector<RateLimit>, std::less<>> oa_api = {
      // 60 API calls/min (§4.2 sendall).
      {"message/mass/sendall", {{60, std::chrono::seconds(60), 0}}},
      // Console quota: 100 000 a day baseline.
      {"message/template/send",
       {{10000, std::chrono::seconds(60), 0}, {100000, std::chrono::seconds(86400), 0}}},
      // 10 000/min, 500 000/day.
      {"stable_token",
       {{10000, std::chrono::seconds(60), 0}, {500000, std::chrono::seconds(86400), 0}}},
  };
};

// Thread-safe. Acquire blocks the calling thread (any thread that makes platform calls).
// Time comes from the injected Clock; a waiter sleeps until the moment its permit can exist
// (or its deadline) and is woken whenever a permit is taken or a waiter leaves. With a
// FakeClock, call Wake() after moving the clock so that waiters look at the new time.
class RateGovernor {
 public:
  RateGovernor(const core::Clock& clock, GovernorOptions options = {});

  // Takes one permit for (account, api), waiting while needed. Permits go to waiting realtime
  // calls (in arrival order) before any waiting bulk call. Returns DeadlineExceeded when no
  // permit came by `deadline` (steady time of the clock), and ResourceExhausted at once when the
  // API is paused (PauseUntil) past the deadline.
  core::Status Acquire(std::string_view account, model::Platform platform, std::string_view api,
                       Priority priority, std::chrono::steady_clock::time_point deadline);

  // No permits for (account, api) before `until` (the platform answered 45009: blocked).
  void PauseUntil(std::string_view account, model::Platform platform, std::string_view api,
                  std::chrono::steady_clock::time_point until);
  // The pause end for (account, api); a time in the past when not paused.
  std::chrono::steady_clock::time_point PausedUntil(std::string_view account,
                                                    std::string_view api) const;

  // Makes every waiter re-read the clock (after a FakeClock jump; harmless otherwise).
  void Wake();
  // Calls waiting for (account, api) right now (tests, metrics).
  size_t Waiting(std::string_view account, std::string_view api) const;

 private:
  struct Bucket {
    double capacity = 1;
    double per_ms = 0;  // refill rate
    double tokens = 1;
  };
  struct State {
    std::vector<Bucket> buckets;
    std::chrono::steady_clock::time_point refilled_at{};
    std::chrono::steady_clock::time_point paused_until{};
    std::deque<uint64_t> queue[2];  // waiting tickets per Priority, arrival order
    uint64_t next_ticket = 0;
    std::condition_variable changed;
  };

  State& StateFor(std::string_view account, model::Platform platform, std::string_view api);
  void Refill(State& state, std::chrono::steady_clock::time_point now) const;
  // When every bucket of `state` holds a whole permit (now if they already do).
  std::chrono::steady_clock::time_point PermitTime(const State& state,
                                                   std::chrono::steady_clock::time_point now) const;

  const core::Clock& clock_;
  const GovernorOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<State>, std::less<>> states_;  // guarded by mu_
};

}  // namespace scrm::platform
