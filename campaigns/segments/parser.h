// The segment language's parser and printer (docs/segments.md has the grammar): query text in,
// a validated syntax tree (query.h) out, and back. Pure functions of their input: no I/O, no
// clock; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "campaigns/segments/query.h"
#include "src/core/status.h"

namespace scrm::segments {

// The limits on untrusted query text (docs/segments.md "Limits").
inline constexpr size_t kMaxQueryBytes = 4096;
inline constexpr int kMaxDepth = 32;           // nested parentheses and `not`
inline constexpr size_t kMaxPredicates = 100;  // leaves of the tree
inline constexpr size_t kMaxValueBytes = 256;  // one name or value, after unescaping
inline constexpr int64_t kMaxCountWindowMs = int64_t{90} * 86'400'000;
inline constexpr int64_t kMaxWindowMs = int64_t{3650} * 86'400'000;

// Parses and validates `text`. Sets every Predicate's pos/len (the clause as written),
// Query::text, relation_filter (kAny when a relation: predicate appears anywhere) and
// segment_refs (each referenced name once, in order of first appearance). `and` and `or` chains
// become one node with all their operands; parentheses are kept as written (a parenthesized
// `and` inside an `and` stays a child node).
// Errors: InvalidArgument "at <byte offset>: expected <what>, found <what>" (or another
// sentence starting "at <offset>: ") for bad syntax, an unknown stage / platform / interaction
// kind / relation, a window out of range, an operator the field does not take, a number that
// is not finite, and for the limits above (a text over kMaxQueryBytes: "at 4096: ...").
core::StatusOr<Query> Parse(std::string_view text);

// A query text that Parse reads back to the same tree (every member but pos/len; the same
// relation_filter and segment_refs): values quoted and escaped where needed, windows in the
// largest whole unit, `and` / `or` operands that are themselves `and` / `or` in parentheses.
std::string Format(const Query& query);
// The text of one node (a predicate, or a whole subtree) as Format writes it.
std::string FormatNode(const Node& node);

}  // namespace scrm::segments
