// ProfileChunkProcessor: plugs the profile pipeline (profiles::InteractionApplier — identity ->
// tagger -> profile -> triggers) into the ingest worker as its transactional ChunkProcessor.
#pragma once

#include <span>
#include <string_view>

#include "src/core/status.h"
#include "src/ingest/processor.h"
#include "src/model/interaction.h"
#include "src/profiles/interaction_applier.h"

namespace scrm::ingest {

// Applies a chunk with InteractionApplier::ApplyChunk: every interaction and the cursor in one
// transaction. Called on the worker thread only. Does not own the applier.
class ProfileChunkProcessor final : public ChunkProcessor {
 public:
  // A chunk gives way to a waiting writer of the main file (API writes, the outbox runner) after
  // this many interactions; enough that the worker still moves forward while they write. The
  // inbox writer does not wait for it: the inbox has its own file and writer lock.
  static constexpr size_t kMinBeforeYield = 64;

  explicit ProfileChunkProcessor(const profiles::InteractionApplier& applier) : applier_(applier) {}

  std::string_view name() const override { return "profiles"; }
  core::Status ProcessChunk(std::span<const model::Interaction> chunk,
                            const ChunkCursor* cursor) override;
  // InteractionApplier::ApplyChunkPrefix: commits early when another writer of the main file waits.
  core::StatusOr<size_t> ProcessChunkPrefix(std::span<const model::Interaction> chunk,
                                            const ChunkCursor& cursor) override;
  // Identity, rules and effects read the typed payload only.
  bool reads_raw_body() const override { return false; }

 private:
  const profiles::InteractionApplier& applier_;
};

}  // namespace scrm::ingest
