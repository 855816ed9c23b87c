#include "src/ingest/profile_chunk_processor.h"

#include <optional>
#include <string>

namespace scrm::ingest {

core::Status ProfileChunkProcessor::ProcessChunk(std::span<const model::Interaction> chunk,
                                                 const ChunkCursor* cursor) {
  std::optional<profiles::CursorUpdate> update;
  if (cursor != nullptr)
    update = profiles::CursorUpdate{std::string(cursor->name), cursor->last_id};
  return applier_.ApplyChunk(chunk, update);
}

core::StatusOr<size_t> ProfileChunkProcessor::ProcessChunkPrefix(
    std::span<const model::Interaction> chunk, const ChunkCursor& cursor) {
  return applier_.ApplyChunkPrefix(chunk, cursor.name, kMinBeforeYield);
}

}  // namespace scrm::ingest
