// Sleeper: how the retry loop waits between attempts. Injected so tests never sleep.
#pragma once

#include <chrono>

namespace scrm::platform {

// Thread-safe.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void SleepFor(std::chrono::milliseconds duration) = 0;
};

// Really blocks the calling thread.
class RealSleeper final : public Sleeper {
 public:
  void SleepFor(std::chrono::milliseconds duration) override;
};

}  // namespace scrm::platform
