// Helpers shared by the segment tests: query trees built by hand (the parser is tested apart) and
// an index fed with deltas.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "campaigns/segments/query.h"
#include "campaigns/segments/segment_index.h"

namespace scrm::segments::testing {

inline constexpr int64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z
inline constexpr int64_t kDayMs = int64_t{86400} * 1000;

// A predicate leaf. `value` is the value (stage, owner, ...) or, for tag / tag_score / attr /
// count, the name; `operand` the attr value.
inline Node Leaf(Field field, std::string value, Op op = Op::kEq, double number = 0,
                 int64_t window_ms = 0, std::string operand = "") {
  Node node;
  node.kind = Node::Kind::kPredicate;
  node.predicate.field = field;
  node.predicate.op = op;
  const bool named = field == Field::kTag || field == Field::kTagScore || field == Field::kAttr ||
                     field == Field::kCount || field == Field::kSegment;
  if (named) {
    node.predicate.name = std::move(value);
    node.predicate.value = std::move(operand);
  } else {
    node.predicate.value = std::move(value);
  }
  node.predicate.number = number;
  node.predicate.window_ms = window_ms;
  return node;
}

inline Node Combine(Node::Kind kind, std::vector<Node> children) {
  Node node;
  node.kind = kind;
  node.children = std::move(children);
  return node;
}
inline Node And(std::vector<Node> children) {
  return Combine(Node::Kind::kAnd, std::move(children));
}
inline Node Or(std::vector<Node> children) { return Combine(Node::Kind::kOr, std::move(children)); }
inline Node Not(Node child) { return Combine(Node::Kind::kNot, {std::move(child)}); }

// A query over every customer (relation:any) unless `connected_only`.
inline Query MakeQuery(Node root, bool connected_only = false) {
  Query query;
  query.root = std::move(root);
  query.relation_filter =
      connected_only ? Query::RelationFilter::kConnected : Query::RelationFilter::kAny;
  return query;
}

// Every matching customer id (the whole list, not a page).
inline std::vector<int64_t> Ids(const SegmentIndex& index, const Query& query, int64_t now_ms) {
  auto result = index.Evaluate(query, now_ms, 0, 1u << 30);
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  CHECK(result->count == result->page.size());
  return result->page;
}

}  // namespace scrm::segments::testing
