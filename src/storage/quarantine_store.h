// QuarantineStore: the inbox rows the ingest worker could not apply (table ingest_quarantine,
// main migration 9; docs/architecture.md "Ingest"), put aside so that the rows after them go on,
// listed for operators and removed once applied again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace scrm::storage {

// One row put aside.
struct QuarantinedRow {
  int64_t interaction_id = 0;  // the inbox row (InteractionStore id)
  std::string account_id;      // its account ("" when even that could not be read)
  std::string error;           // why it could not be applied, the last time it was tried
  int failures = 0;            // times it failed: the first time and each failed reapply since
  int64_t quarantined_at_ms = 0;
  int64_t updated_at_ms = 0;

  friend bool operator==(const QuarantinedRow&, const QuarantinedRow&) = default;
};

// Thread-safe (all access through Database). Does not own the Database, which is the main one
// (Schema::kMain). Calls may also fail with the codes of Database::WithWriter / WithReader.
class QuarantineStore {
 public:
  static constexpr size_t kMaxListLimit = 1000;

  explicit QuarantineStore(Database& db) : db_(db) {}

  // Puts the row aside (failures 1, or one more when it is there already) and records the
  // ingest cursor `cursor_name` at its id, in one transaction: either the worker moves past it
  // with the row kept here, or neither happens. InvalidArgument for an id <= 0 or an empty
  // cursor name.
  core::Status QuarantineAndAdvance(int64_t interaction_id, std::string_view account_id,
                                    std::string_view error, std::string_view cursor_name,
                                    int64_t now_ms);
  // A reapply that failed again: the new error, failures + 1. NotFound when not quarantined.
  core::Status RecordFailure(int64_t interaction_id, std::string_view error, int64_t now_ms);
  // A reapply that succeeded. NotFound when not quarantined.
  core::Status Remove(int64_t interaction_id);

  // NotFound when not quarantined.
  core::StatusOr<QuarantinedRow> Get(int64_t interaction_id);
  // By interaction id after after_id, at most limit (1..kMaxListLimit).
  core::StatusOr<std::vector<QuarantinedRow>> List(int64_t after_id, size_t limit);
  core::StatusOr<int64_t> Count();

 private:
  Database& db_;
};

}  // namespace scrm::storage
