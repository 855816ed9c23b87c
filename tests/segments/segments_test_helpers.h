// Helpers shared by the segment tests: tree equality that ignores where clauses were written.
#pragma once

#include "campaigns/segments/query.h"

namespace scrm::segments::testing {

// Same kinds, fields, operators and values, recursively; pos / len are not compared (a text
// and its Format have the same tree at other offsets).
inline bool SameTree(const Node& a, const Node& b) {
  if (a.kind != b.kind || a.children.size() != b.children.size()) return false;
  const Predicate& p = a.predicate;
  const Predicate& q = b.predicate;
  if (p.field != q.field || p.op != q.op || p.name != q.name || p.value != q.value ||
      p.number != q.number || p.window_ms != q.window_ms) {
    return false;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!SameTree(a.children[i], b.children[i])) return false;
  }
  return true;
}

}  // namespace scrm::segments::testing
