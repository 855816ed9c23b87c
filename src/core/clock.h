// Clock: the injected source of time. Production code reads time only through this interface.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace scrm::core {

// Wall time for timestamps and expiry, steady time for durations. Implementations are
// thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;

  // Seconds / milliseconds since the Unix epoch of Now().
  int64_t NowUnixSeconds() const;
  int64_t NowUnixMillis() const;
};

// The real clocks of the machine.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;
};

// A clock that moves only when told to; wall and steady time advance together. Thread-safe.
class FakeClock final : public Clock {
 public:
  // Starts at `unix_millis` (default 2026-01-01T00:00:00Z).
  explicit FakeClock(int64_t unix_millis = 1767225600000);
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;
  void Advance(std::chrono::milliseconds delta);
  void SetUnixMillis(int64_t unix_millis);

 private:
  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> steady_ms_{0};
};

}  // namespace scrm::core
