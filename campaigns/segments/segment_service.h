// SegmentService: saved segments (docs/segments.md "Saved segments") — create, update
// (compare-and-set on the version), delete, read — and the compilation of a query text into
// the expanded tree an evaluator runs: parsed, validated, and every segment:"name" replaced by
// the saved segment's own tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "campaigns/segments/query.h"
#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/storage/segment_store.h"

namespace scrm::segments {

inline constexpr size_t kMaxSegmentNameBytes = 128;
inline constexpr size_t kMaxDescriptionBytes = 1024;
inline constexpr int kMaxReferenceDepth = 8;            // segment:"a" → a's segment:"b" → ...
inline constexpr size_t kMaxExpandedPredicates = 1000;  // leaves once every reference is expanded

// What a client saves.
struct SegmentInput {
  std::string name;         // 1..kMaxSegmentNameBytes, no control characters
  std::string description;  // at most kMaxDescriptionBytes
  std::string query;        // the segment language (Parse)
};

// A part of CompiledQuery::query.text that a referenced saved segment contributed.
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;       // exclusive
  std::string segment;  // the saved segment's name
};

// A query ready for an evaluator. query.text is the text compiled followed, for each distinct
// saved segment it refers to (directly or through others), by "\n" and that segment's text
// (and "\nrelation:connected" when it has the default relation filter): every leaf's pos / len
// names its clause as written in query.text, including the leaves a reference brought in.
// query.root holds no Field::kSegment: a reference to a segment with the default relation
// filter became (its tree and relation:connected), any other its tree. query.relation_filter
// and segment_refs are those of the text compiled.
struct CompiledQuery {
  Query query;
  std::vector<TextSpan> spans;  // ascending, disjoint; text outside them is the query's own

  // The saved segment a clause at `pos` came from; "" for the query's own text.
  std::string SegmentAt(size_t pos) const;
};

// Thread-safety: any thread. Saves are serialised on one mutex (a save validates against the
// other segments, then writes). Does not own the store or clock, which must outlive it.
class SegmentService {
 public:
  SegmentService(storage::SegmentStore& store, const core::Clock& clock)
      : store_(store), clock_(clock) {}

  // Saves a new segment at version 1. InvalidArgument naming the member at fault ("name: ...",
  // "query: at 17: ...", "query: at 3: no saved segment named \"x\""); AlreadyExists when a
  // live segment has the name.
  core::StatusOr<storage::StoredSegment> Create(const SegmentInput& input);
  // Saves the whole segment as version + 1. With expected_version, the stored version must be
  // it (FailedPrecondition otherwise). As Create, plus: NotFound for an unknown or deleted id;
  // FailedPrecondition when the change would break a segment that refers to this one (a rename
  // it refers to by the old name, a cycle, nesting deeper than kMaxReferenceDepth).
  core::StatusOr<storage::StoredSegment> Update(int64_t id, const SegmentInput& input,
                                                std::optional<int> expected_version);
  // NotFound for an unknown or deleted id; FailedPrecondition "segment \"b\" refers to it" when
  // another live segment refers to it.
  core::Status Delete(int64_t id);
  core::StatusOr<storage::StoredSegment> Get(int64_t id) const;      // NotFound
  core::StatusOr<std::vector<storage::StoredSegment>> List() const;  // live ones, by id
  core::StatusOr<std::vector<storage::StoredSegment>> ListVersions(int64_t id) const;  // NotFound

  // Parses `text` and expands its references against the live saved segments. InvalidArgument
  // "at <pos>: ..." for a parse error, an unknown segment name, a cycle, nesting deeper than
  // kMaxReferenceDepth or more than kMaxExpandedPredicates leaves.
  core::StatusOr<CompiledQuery> Compile(std::string_view text) const;
  // The same against `live` (List()'s answer), for compiling many queries with one read.
  static core::StatusOr<CompiledQuery> Compile(std::string_view text,
                                               const std::vector<storage::StoredSegment>& live);

 private:
  core::Status ValidateInput(const SegmentInput& input) const;
  // Checks `input` as segment `id` (0: new) against the live segments with it in place: its
  // query compiles, and every other segment still compiles.
  core::Status ValidateAgainstOthers(int64_t id, const SegmentInput& input) const;

  storage::SegmentStore& store_;
  const core::Clock& clock_;
  std::mutex save_mu_;
};

}  // namespace scrm::segments
