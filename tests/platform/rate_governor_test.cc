#include "src/platform/rate_governor.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/core/clock.h"

namespace scrm::platform {
namespace {

using model::Platform;
using std::chrono::milliseconds;
using std::chrono::seconds;

GovernorOptions TenPerMinute() {
  GovernorOptions options;
  options.wecom_default = {{10, seconds(60), 2}};  // burst 2, refill 8 per 60 s = one per 7.5 s
  return options;
}

core::Status Take(RateGovernor& governor, core::FakeClock& clock, std::string_view api = "a",
                  Priority priority = Priority::kRealtime) {
  return governor.Acquire("corp1", Platform::kWecom, api, priority, clock.SteadyNow());
}

TEST_CASE("RateGovernor grants the burst at once and then one permit per refill interval",
          "[unit]") {
  core::FakeClock clock;
  RateGovernor governor(clock, TenPerMinute());
  CHECK(Take(governor, clock).ok());
  CHECK(Take(governor, clock).ok());
  CHECK(Take(governor, clock).code() == core::StatusCode::kDeadlineExceeded);
  clock.Advance(milliseconds(7499));
  CHECK(Take(governor, clock).code() == core::StatusCode::kDeadlineExceeded);
  clock.Advance(milliseconds(1));
  CHECK(Take(governor, clock).ok());
}

TEST_CASE("RateGovernor never admits more than the limit in any window", "[unit]") {
  core::FakeClock clock;
  GovernorOptions options;
  options.wecom_default = {{100, seconds(60), 0}, {1000, seconds(3600), 0}};
  RateGovernor governor(clock, options);
  std::deque<int64_t> granted;  // steady ms of each permit
  int64_t in_hour_max = 0;
  std::deque<int64_t> hour;
  // Ask every 100 ms for two simulated hours.
  for (int step = 0; step < 72000; ++step) {
    if (Take(governor, clock).ok()) {
      const int64_t now = step * 100;
      granted.push_back(now);
      hour.push_back(now);
      while (granted.front() <= now - 60000) granted.pop_front();
      while (hour.front() <= now - 3600000) hour.pop_front();
      REQUIRE(granted.size() <= 100);
      in_hour_max = std::max<int64_t>(in_hour_max, static_cast<int64_t>(hour.size()));
    }
    clock.Advance(milliseconds(100));
  }
  CHECK(in_hour_max <= 1000);
  CHECK(in_hour_max >= 900);  // and the budget is really used
}

TEST_CASE("RateGovernor keeps accounts and APIs apart", "[unit]") {
  core::FakeClock clock;
  GovernorOptions options;
  options.wecom_default = {{1, seconds(60), 1}};
  RateGovernor governor(clock, options);
  CHECK(Take(governor, clock, "a").ok());
  CHECK_FALSE(Take(governor, clock, "a").ok());
  CHECK(Take(governor, clock, "b").ok());
  CHECK(governor.Acquire("corp2", Platform::kWecom, "a", Priority::kRealtime, clock.SteadyNow())
            .ok());
}

// A clock that moves by any fraction of a millisecond (FakeClock moves by whole ones).
class NanoClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            steady_.time_since_epoch()));
  }
  std::chrono::steady_clock::time_point SteadyNow() const override { return steady_; }
  void Advance(std::chrono::nanoseconds delta) { steady_ += delta; }

 private:
  std::chrono::steady_clock::time_point steady_{seconds(1000)};
};

TEST_CASE("RateGovernor keeps the refill of the fractions of a millisecond between checks",
          "[unit]") {
  NanoClock clock;
  GovernorOptions options;
  options.wecom_default = {{60000, seconds(60), 1000}};  // refill 59 000 / 60 s = 0.983 per ms
  RateGovernor governor(clock, options);
  auto take = [&] {
    return governor.Acquire("corp1", Platform::kWecom, "a", Priority::kBulk, clock.SteadyNow());
  };
  for (int i = 0; i < 1000; ++i) REQUIRE(take().ok());
  REQUIRE_FALSE(take().ok());
  // 50 ms in steps of 250 us, checking at each step (as waiters woken by other permits do):
  // 49 permits refill; dropping each step's fraction of a millisecond would refill none.
  int granted = 0;
  for (int step = 0; step < 200; ++step) {
    clock.Advance(std::chrono::microseconds(250));
    if (take().ok()) ++granted;
  }
  CHECK(granted == 49);
}

TEST_CASE("RateGovernor uses the per API limits of OA mass send", "[unit]") {
  core::FakeClock clock;
  RateGovernor governor(clock);  // defaults: message/mass/sendall 60/min, burst 60 / 50 = 1
  int granted = 0;
  for (int i = 0; i < 100; ++i) {
    if (governor
            .Acquire("oa1", Platform::kOfficialAccount, "message/mass/sendall", Priority::kBulk,
                     clock.SteadyNow())
            .ok()) {
      ++granted;
    }
  }
  CHECK(granted == 1);
}

TEST_CASE("RateGovernor answers at once with ResourceExhausted while an API is paused", "[unit]") {
  core::FakeClock clock;
  RateGovernor governor(clock);
  governor.PauseUntil("corp1", Platform::kWecom, "a", clock.SteadyNow() + seconds(60));
  const auto status = governor.Acquire("corp1", Platform::kWecom, "a", Priority::kRealtime,
                                       clock.SteadyNow() + seconds(30));
  CHECK(status.code() == core::StatusCode::kResourceExhausted);
  CHECK(governor.PausedUntil("corp1", "a") == clock.SteadyNow() + seconds(60));
  clock.Advance(seconds(60));
  CHECK(Take(governor, clock, "a").ok());
}

// Waits (really, briefly) until `n` callers wait for (corp1, a).
void AwaitWaiting(RateGovernor& governor, size_t n) {
  const auto give_up = std::chrono::steady_clock::now() + seconds(10);
  while (governor.Waiting("corp1", "a") != n && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  REQUIRE(governor.Waiting("corp1", "a") == n);
}

TEST_CASE("RateGovernor gives the next permit to a waiting realtime call before waiting bulk calls",
          "[unit]") {
  core::FakeClock clock;
  GovernorOptions options;
  options.wecom_default = {{2, seconds(60), 1}};  // one now, then one per minute
  RateGovernor governor(clock, options);
  REQUIRE(Take(governor, clock).ok());

  std::mutex mu;
  std::vector<std::string> order;
  const auto deadline = clock.SteadyNow() + seconds(3600);
  auto waiter = [&](std::string name, Priority priority) {
    return std::thread([&, name, priority] {
      if (governor.Acquire("corp1", Platform::kWecom, "a", priority, deadline).ok()) {
        std::lock_guard lock(mu);
        order.push_back(name);
      }
    });
  };
  std::thread bulk1 = waiter("bulk1", Priority::kBulk);
  AwaitWaiting(governor, 1);
  std::thread bulk2 = waiter("bulk2", Priority::kBulk);
  AwaitWaiting(governor, 2);
  std::thread realtime = waiter("realtime", Priority::kRealtime);
  AwaitWaiting(governor, 3);

  for (size_t left = 2;; --left) {
    clock.Advance(seconds(60));
    governor.Wake();
    AwaitWaiting(governor, left);
    if (left == 0) break;
  }
  bulk1.join();
  bulk2.join();
  realtime.join();
  REQUIRE(order == std::vector<std::string>{"realtime", "bulk1", "bulk2"});
}

TEST_CASE("RateGovernor lets a waiter give up at its deadline and the next one move up", "[unit]") {
  core::FakeClock clock;
  GovernorOptions options;
  options.wecom_default = {{2, seconds(60), 1}};
  RateGovernor governor(clock, options);
  REQUIRE(Take(governor, clock).ok());
  core::Status first_status;
  std::thread first([&] {
    first_status = governor.Acquire("corp1", Platform::kWecom, "a", Priority::kRealtime,
                                    clock.SteadyNow() + seconds(10));
  });
  AwaitWaiting(governor, 1);
  core::Status second_status;
  std::thread second([&] {
    second_status = governor.Acquire("corp1", Platform::kWecom, "a", Priority::kBulk,
                                     clock.SteadyNow() + seconds(600));
  });
  AwaitWaiting(governor, 2);
  clock.Advance(seconds(11));
  governor.Wake();
  first.join();
  CHECK(first_status.code() == core::StatusCode::kDeadlineExceeded);
  clock.Advance(seconds(60));
  governor.Wake();
  second.join();
  CHECK(second_status.ok());
}

}  // namespace
}  // namespace scrm::platform
