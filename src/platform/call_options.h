// CallOptions: the per-call knobs every typed client method (and the outbound seam,
// channels/common/outbound.h) accepts.
#pragma once

#include <chrono>

#include "src/platform/rate_governor.h"

namespace scrm::platform {

struct CallOptions {
  Priority priority = Priority::kRealtime;  // kBulk yields to waiting realtime calls
  // The whole call (governor waits, token fetch, retries and backoff) ends by this long after it
  // starts (ApiCall::time_budget).
  std::chrono::milliseconds time_budget{30000};
};

}  // namespace scrm::platform
