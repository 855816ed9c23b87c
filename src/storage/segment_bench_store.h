// Bench-only (bench/segment_bench): what the segment benchmark needs of SQLite besides the
// repositories — dropping and re-creating the customer_tags_tag index around a bulk load (one
// sort instead of millions of random inserts), and the SQL form of the benchmark's five segment
// queries, answered by SQLite on the same file for the comparison with the in-memory index.
// Not used by scrmd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// The benchmark's query shapes (bench/segment_bench prints the segment language form of each).
enum class BenchShape {
  kTagsAndNotActive,    // (tag A and tag B) and not tag C and last_active < window
  kStageOwnerChannel,   // stage and owner and channel
  kAnyTagNotLost,       // (tag A or tag D or tag E) and not stage:lost
  kCountAndTag,         // count(message.text, count_window) >= 1 and tag B
  kNotTagNewOnPlatform  // not tag A and created < window and platform
};

// The values a shape uses (the others are ignored). Tags by id; a tag is held when its score
// decayed with half_life_ms (rows that decay) reaches threshold, as src/profiles computes it.
struct BenchParams {
  int64_t now_ms = 0;
  int64_t tag_a = 0, tag_b = 0, tag_c = 0, tag_d = 0, tag_e = 0;
  int64_t half_life_ms = 0;
  double threshold = 1;
  int64_t window_ms = 0;          // last_active
  int64_t created_window_ms = 0;  // created
  int64_t count_window_ms = 0;    // count(...)
  std::string stage, owner, channel, platform;
};

struct BenchAnswer {
  int64_t count = 0;
  std::vector<int64_t> page;  // the first ids, ascending
};

class SegmentBenchStore {
 public:
  explicit SegmentBenchStore(Database& db) : db_(db) {}
  core::Status DropTagIndex();
  core::Status CreateTagIndex();
  // Customers in the file (merged ones too).
  core::StatusOr<int64_t> CountCustomers();
  // COUNT(*) and the first `limit` ids of the shape, on a read connection.
  core::StatusOr<BenchAnswer> Run(BenchShape shape, const BenchParams& params, size_t limit);

 private:
  Database& db_;
};

}  // namespace scrm::storage
