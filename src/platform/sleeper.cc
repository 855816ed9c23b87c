#include "src/platform/sleeper.h"

#include <thread>

namespace scrm::platform {

void RealSleeper::SleepFor(std::chrono::milliseconds duration) {
  if (duration.count() > 0) std::this_thread::sleep_for(duration);
}

}  // namespace scrm::platform
