// InteractionProcessor: one step the ingest worker runs on every stored interaction (identity
// resolution, tagging, profile timeline, segment index, triggers); ChunkProcessor: a pipeline
// that applies a whole chunk and the worker's cursor in one transaction.
#pragma once

#include <cstdint>
#include <span>
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

namespace scrm::ingest {

// Where the worker's cursor goes when a chunk commits: ingest_cursors row `name` = last_id.
struct ChunkCursor {
  std::string_view name;
  int64_t last_id = 0;
};

// The transactional alternative to InteractionProcessor: the processor takes a whole chunk and
// applies it, together with the cursor, in ONE transaction of its own store (the profile
// pipeline: identity -> tagger -> profile -> triggers). Contract: all or nothing. On ok every
// interaction's effects and, when `cursor` is not null, the cursor are committed; on an error
// nothing of the chunk is (the worker then retries it one interaction at a time, so that the
// error names the interaction and the ones before it get through). Effects must still be
// idempotent: a replay (cursor null) delivers interactions that were applied before. Called on
// the worker thread only.
class ChunkProcessor {
 public:
  virtual ~ChunkProcessor() = default;
  // Stable, short, Prometheus-label-safe name, used in logs and metrics.
  virtual std::string_view name() const = 0;
  virtual core::Status ProcessChunk(std::span<const model::Interaction> chunk,
                                    const ChunkCursor* cursor) = 0;
  // The worker's call for its own chunks (cursor set): like ProcessChunk, except that the
  // processor may commit only a prefix of the chunk, with the cursor at the prefix's last
  // interaction, to give way to other writers. Returns the prefix's length (>= 1 for a
  // non-empty chunk); on an error nothing is committed. By default the whole chunk.
  virtual core::StatusOr<size_t> ProcessChunkPrefix(std::span<const model::Interaction> chunk,
                                                    const ChunkCursor& cursor) {
    SCRM_RETURN_IF_ERROR(ProcessChunk(chunk, &cursor));
    return chunk.size();
  }
  // False when the processor never reads Interaction::raw_body: the worker then reads chunks
  // without it (the body is most of a stored row).
  virtual bool reads_raw_body() const { return true; }
};

}  // namespace scrm::ingest
