// SegmentEvaluator: the seam between the segment service / routes and what answers a query over
// the customers (the bitmap index, segment_index.h; a fake in the route tests). The result
// types are the ones the index's API names (Evaluation, ClauseOutcome, Explanation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "campaigns/segments/query.h"
#include "src/core/status.h"

namespace scrm::segments {

// The result of one evaluation, computed under one consistent snapshot.
struct Evaluation {
  uint64_t count = 0;         // customers matching
  std::vector<int64_t> page;  // matching customer ids > after, ascending, at most `limit`
  int64_t next_after = 0;     // last id of page when more match after it, else 0
  int64_t eval_us = 0;        // wall time of the evaluation
};

// One predicate leaf as one customer meets it or not.
struct ClauseOutcome {
  size_t pos = 0;  // Predicate::pos / len: the clause in Query::text; 0 / 0 for the implicit
  size_t len = 0;  // relation:connected of a query with RelationFilter::kConnected
  bool met = false;
};

struct Explanation {
  bool matches = false;
  std::vector<ClauseOutcome> clauses;  // every leaf in tree order (+ the implicit filter)
};

// Thread-safety: implementations are safe from any thread. `query` must be expanded (no
// Field::kSegment left; SegmentService::Compile does it): a kSegment is InvalidArgument.
// now_ms is the injected clock's now (decay, last_active, created, count windows).
class SegmentEvaluator {
 public:
  virtual ~SegmentEvaluator() = default;
  // The customers matching `query` (merged ones never do): the count, and the ids > after,
  // ascending, at most `limit` (0: the count alone).
  virtual core::StatusOr<Evaluation> Evaluate(const Query& query, int64_t now_ms, int64_t after,
                                              size_t limit) const = 0;
  // Whether `customer_id` matches and meets each leaf. NotFound for a customer the evaluator
  // does not hold (unknown, or merged into another).
  virtual core::StatusOr<Explanation> Explain(const Query& query, int64_t customer_id,
                                              int64_t now_ms) const = 0;
};

}  // namespace scrm::segments
