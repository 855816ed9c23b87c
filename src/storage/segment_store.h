// SegmentStore: the saved segments of /api/v1/segments (migration 12): the latest version of
// each segment in `segments` (a deleted one keeps its row, deleted_at_ms set), and every version
// ever saved in `segment_versions`. Storage does not interpret the query text
// (campaigns/segments parses and validates it before a save).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace scrm::storage {

// One version of a segment as stored.
struct StoredSegment {
  int64_t id = 0;
  std::string name;  // unique among the live segments
  std::string description;
  std::string query;  // the segment language text as written
  int version = 1;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;  // when this version was saved
  int64_t deleted_at_ms = 0;  // 0 while live

  friend bool operator==(const StoredSegment&, const StoredSegment&) = default;
};

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail
// with the codes of Database::WithWriter / WithReader.
class SegmentStore {
 public:
  explicit SegmentStore(Database& db) : db_(db) {}

  // The live segments, by id.
  core::StatusOr<std::vector<StoredSegment>> List();
  // A live segment's latest version. NotFound for an unknown or deleted id.
  core::StatusOr<StoredSegment> Get(int64_t id);
  // The live segment with this name, nullopt when none.
  core::StatusOr<std::optional<StoredSegment>> FindByName(const std::string& name);
  // Every saved version of a segment (live or deleted), ascending; empty for an unknown id.
  core::StatusOr<std::vector<StoredSegment>> ListVersions(int64_t id);

  // Inserts a new segment at version 1 (id, version and deleted_at_ms of `segment` are
  // ignored) and its first history row, in one transaction; returns it with its new id.
  // AlreadyExists when a live segment has the name. InvalidArgument for an empty name.
  core::StatusOr<StoredSegment> Insert(const StoredSegment& segment);
  // Saves segment.version (> expected_version) as the new latest version of live segment
  // segment.id, compare-and-set on expected_version, plus its history row. NotFound when the
  // segment is missing or deleted; FailedPrecondition when its version is not expected_version;
  // AlreadyExists when another live segment has the name.
  core::Status Update(const StoredSegment& segment, int expected_version);
  // Marks the live segment deleted at `at_ms`. NotFound when missing or already deleted.
  core::Status Delete(int64_t id, int64_t at_ms);

 private:
  Database& db_;
};

}  // namespace scrm::storage
