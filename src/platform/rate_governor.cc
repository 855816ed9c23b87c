#include "src/platform/rate_governor.h"

#include <algorithm>
#include <cmath>

namespace scrm::platform {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

// Floating-point slack: a bucket that is 1e-9 short of a permit has one.
constexpr double kEpsilon = 1e-9;

std::string KeyOf(std::string_view account, std::string_view api) {
  std::string key(account);
  key += '\n';
  key += api;
  return key;
}

}  // namespace

int64_t EffectiveBurst(const RateLimit& limit) {
  return std::clamp<int64_t>(limit.burst > 0 ? limit.burst : limit.limit / 50, 1,
                             std::max<int64_t>(limit.limit, 1));
}

RateGovernor::RateGovernor(const core::Clock& clock, GovernorOptions options)
    : clock_(clock), options_(std::move(options)) {}

RateGovernor::State& RateGovernor::StateFor(std::string_view account, model::Platform platform,
                                            std::string_view api) {
  const std::string key = KeyOf(account, api);
  auto it = states_.find(key);
  if (it != states_.end()) return *it->second;
  const bool wecom = platform == model::Platform::kWecom;
  const auto& per_api = wecom ? options_.wecom_api : options_.oa_api;
  const auto found = per_api.find(api);
  const std::vector<RateLimit>& limits =
      found != per_api.end() ? found->second
                             : (wecom ? options_.wecom_default : options_.oa_default);
  auto state = std::make_unique<State>();
  for (const RateLimit& limit : limits) {
    if (limit.limit <= 0 || limit.window.count() <= 0) continue;  // no limit
    const int64_t burst = EffectiveBurst(limit);
    Bucket bucket;
    bucket.capacity = static_cast<double>(burst);
    // limit == burst (tiny limits) would never refill; refill one per window then.
    const int64_t refill = std::max<int64_t>(limit.limit - burst, 1);
    bucket.per_ms =
        static_cast<double>(refill) / static_cast<double>(milliseconds(limit.window).count());
    bucket.tokens = bucket.capacity;
    state->buckets.push_back(bucket);
  }
  state->refilled_at = clock_.SteadyNow();
  State& ref = *state;
  states_.emplace(key, std::move(state));
  return ref;
}

void RateGovernor::Refill(State& state, SteadyTime now) const {
  if (now <= state.refilled_at) return;
  // Fractional milliseconds count: refilled_at moves to now, so truncating here would drop
  // the remainder on every call, and with many waiters re-checking each permit, most of the
  // refill (governor_bench measured 81 % of the limit instead of 90 %).
  const double elapsed = std::chrono::duration<double, std::milli>(now - state.refilled_at).count();
  for (Bucket& bucket : state.buckets) {
    bucket.tokens = std::min(bucket.capacity, bucket.tokens + elapsed * bucket.per_ms);
  }
  state.refilled_at = now;
}

SteadyTime RateGovernor::PermitTime(const State& state, SteadyTime now) const {
  SteadyTime at = std::max(now, state.paused_until);
  for (const Bucket& bucket : state.buckets) {
    const double missing = 1.0 - bucket.tokens;
    if (missing <= kEpsilon) continue;
    const auto wait_ms = static_cast<int64_t>(std::ceil(missing / bucket.per_ms));
    at = std::max(at, now + milliseconds(std::max<int64_t>(wait_ms, 1)));
  }
  return at;
}

core::Status RateGovernor::Acquire(std::string_view account, model::Platform platform,
                                   std::string_view api, Priority priority, SteadyTime deadline) {
  std::unique_lock lock(mu_);
  State& state = StateFor(account, platform, api);
  const size_t mine = priority == Priority::kRealtime ? 0 : 1;
  const uint64_t ticket = state.next_ticket++;
  state.queue[mine].push_back(ticket);
  auto leave = [&] {
    auto& queue = state.queue[mine];
    queue.erase(std::find(queue.begin(), queue.end(), ticket));
    state.changed.notify_all();
  };
  while (true) {
    const SteadyTime now = clock_.SteadyNow();
    if (state.paused_until > deadline) {
      leave();
      return core::ResourceExhaustedError("platform API paused after a frequency block");
    }
    Refill(state, now);
    // Realtime first: a bulk call is at the head of the line only when no realtime call waits.
    const bool my_turn = mine == 0 ? state.queue[0].front() == ticket
                                   : state.queue[0].empty() && state.queue[1].front() == ticket;
    const SteadyTime permit_at = PermitTime(state, now);
    if (my_turn && permit_at <= now) {
      for (Bucket& bucket : state.buckets) bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
      leave();
      return core::OkStatus();
    }
    if (now >= deadline) {
      leave();
      return core::DeadlineExceededError("no rate permit for " + std::string(api) +
                                         " before the deadline");
    }
    // Sleep until this caller could act: its permit time if at the head, else its deadline
    // (the head wakes everyone when it takes its permit or leaves).
    const SteadyTime wake = my_turn ? std::min(permit_at, deadline) : deadline;
    state.changed.wait_for(lock, wake - now);
  }
}

void RateGovernor::PauseUntil(std::string_view account, model::Platform platform,
                              std::string_view api, SteadyTime until) {
  std::lock_guard lock(mu_);
  State& state = StateFor(account, platform, api);
  state.paused_until = std::max(state.paused_until, until);
  state.changed.notify_all();
}

SteadyTime RateGovernor::PausedUntil(std::string_view account, std::string_view api) const {
  std::lock_guard lock(mu_);
  const auto it = states_.find(KeyOf(account, api));
  return it == states_.end() ? SteadyTime{} : it->second->paused_until;
}

void RateGovernor::Wake() {
  std::lock_guard lock(mu_);
  for (auto& [key, state] : states_) state->changed.notify_all();
}

size_t RateGovernor::Waiting(std::string_view account, std::string_view api) const {
  std::lock_guard lock(mu_);
  const auto it = states_.find(KeyOf(account, api));
  if (it == states_.end()) return 0;
  return it->second->queue[0].size() + it->second->queue[1].size();
}

}  // namespace scrm::platform
