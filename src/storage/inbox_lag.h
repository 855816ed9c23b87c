// InboxLagReader: how far the ingest worker is behind the inbox (interactions after its cursor,
// and when the oldest of them was received), for the lag metrics.
#pragma once

#include <cstdint>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace scrm::storage {

struct InboxLag {
  int64_t pending = 0;  // interactions with id > cursor, counted up to the cap
  bool capped = false;  // pending stopped counting at the cap
  // received_at_ms of the first interaction after the cursor; 0 when none is pending.
  int64_t oldest_received_at_ms = 0;
};

// Thread-safe (reads through Database). Does not own the Database.
class InboxLagReader {
 public:
  explicit InboxLagReader(Database& db) : db_(db) {}

  // Counts at most max_count rows (>= 1) so that a huge backlog costs a bounded scan of the
  // table's id b-tree. InvalidArgument when max_count < 1.
  core::StatusOr<InboxLag> Read(int64_t cursor, int64_t max_count);

 private:
  Database& db_;
};

}  // namespace scrm::storage
