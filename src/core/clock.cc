#include "src/core/clock.h"

namespace scrm::core {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

int64_t Clock::NowUnixSeconds() const {
  return duration_cast<seconds>(Now().time_since_epoch()).count();
}
int64_t Clock::NowUnixMillis() const {
  return duration_cast<milliseconds>(Now().time_since_epoch()).count();
}

std::chrono::system_clock::time_point SystemClock::Now() const {
  return std::chrono::system_clock::now();
}
std::chrono::steady_clock::time_point SystemClock::SteadyNow() const {
  return std::chrono::steady_clock::now();
}

FakeClock::FakeClock(int64_t unix_millis) : wall_ms_(unix_millis) {}

std::chrono::system_clock::time_point FakeClock::Now() const {
  return std::chrono::system_clock::time_point(milliseconds(wall_ms_.load()));
}
std::chrono::steady_clock::time_point FakeClock::SteadyNow() const {
  return std::chrono::steady_clock::time_point(milliseconds(steady_ms_.load()));
}
void FakeClock::Advance(milliseconds delta) {
  wall_ms_ += delta.count();
  steady_ms_ += delta.count();
}
void FakeClock::SetUnixMillis(int64_t unix_millis) { wall_ms_ = unix_millis; }

}  // namespace scrm::core
