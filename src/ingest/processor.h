// InteractionProcessor: one step the ingest worker runs on every stored interaction (identity
// resolution, tagging, profile timeline, segment index, triggers).
#pragma once

#include <string_view>

#include "src/core/status.h"
#include "src/model/interaction.h"

namespace scrm::ingest {

// Contract: Process MUST be idempotent. The worker delivers at least once: after a crash it
// re-runs the last chunk it had not yet recorded as done, after an error it re-runs the failed
// interaction through every processor (including those that had already succeeded on it), and
// a replay re-delivers a whole time range on purpose. Key any effect on interaction.id (or the
// platform's dedupe_key), e.g. an INSERT ... ON CONFLICT DO NOTHING keyed by it, so that a
// second delivery changes nothing.
//
// A non-ok Status means "not done, try again later": the worker stops at this interaction,
// logs and counts the error, and retries it after a pause; it never skips it. Interactions
// arrive in id order, one at a time, on the worker thread only (implementations need no locks
// for the worker's sake).
class InteractionProcessor {
 public:
  virtual ~InteractionProcessor() = default;
  // Stable, short, Prometheus-label-safe name ("profiles", "tagger"), used in logs and metrics.
  virtual std::string_view name() const = 0;
  virtual core::Status Process(const model::Interaction& interaction) = 0;
};

}  // namespace scrm::ingest
