// The segment language's syntax tree (docs/segments.md has the grammar and examples): what
// segments::Parse makes of a query text such as
//   tag:"兴趣/产品A" and tag_score:"意向/价格咨询" >= 3 and not stage:lost and last_active < 30d
// and what the evaluators (the bitmap index, the reference evaluator the tests use) walk. Plain
// values, no behaviour; a Query is immutable once parsed and may be shared between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace scrm::segments {

// What a predicate asks about a customer.
enum class Field {
  kTag,       // tag:"group/name"                 holds the tag now (decayed score >= threshold)
  kTagScore,  // tag_score:"group/name" >= 3       decayed score now compared with `number`
  kStage,     // stage:customer                    lifecycle stage (model::LifecycleStage name)
  kPlatform,  // platform:wecom                    has an identity on "wecom" | "oa"
  kAccount,   // account:acme                      has an identity or relation in the account
  kOwner,     // owner:zhangsan                    owner_userid
  kFollower,  // follower:lisi                     an active relation with that member
  kAttr,  // attr:city = "杭州"                 attribute `name` compared (= or !=) with `value`
  kChannel,      // channel:"expo2026"                came through that QR scene / contact-way state
  kLastActive,   // last_active < 30d                 age of the last interaction vs window_ms
  kCreated,      // created > 7d                      age of the customer vs window_ms
  kCount,        // count(message.text, 7d) >= 3      interactions of kind `name` in window_ms
  kSegment,      // segment:"vip-hangzhou"            member of a saved segment (by name)
  kOrdersCount,  // orders.count >= 2                 (order bridge; an empty set until then)
  kOrdersTotal,  // orders.total >= 100000            in fen (order bridge)
  kBought,       // bought:"sku-123"                  (order bridge)
  kBoughtCategory,  // bought_category:"冰箱"             (order bridge)
  kRelation,        // relation:connected | any | ended  the relation filter (see Query)
};

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };

// `value <op> operand`, for every evaluator (the index, the tests' reference).
template <typename T>
constexpr bool Compare(T value, Op op, T operand) {
  switch (op) {
    case Op::kEq: return value == operand;
    case Op::kNe: return value != operand;
    case Op::kLt: return value < operand;
    case Op::kLe: return value <= operand;
    case Op::kGt: return value > operand;
    case Op::kGe: return value >= operand;
  }
  return false;
}

// One clause. Only the members its Field names are set; the others keep their defaults.
struct Predicate {
  Field field = Field::kTag;
  Op op = Op::kEq;
  // tag / tag_score: "group/name"; attr: the key; count: the interaction kind
  // ("message.text", model::InteractionKindName); segment: the saved segment's name.
  std::string name;
  // stage / platform / account / owner / follower / channel / bought / bought_category /
  // relation: the value; attr: the value compared.
  std::string value;
  double number = 0;      // tag_score threshold, count, orders.count, orders.total (fen)
  int64_t window_ms = 0;  // last_active / created: the age compared; count: the window
  size_t pos = 0;         // byte offset of the clause in the query text
  size_t len = 0;         // its length in bytes: text.substr(pos, len) is the clause as written
};

// A node of the tree: a predicate (a leaf) or and / or / not over children.
struct Node {
  enum class Kind { kPredicate, kAnd, kOr, kNot };
  Kind kind = Kind::kPredicate;
  Predicate predicate;         // kPredicate
  std::vector<Node> children;  // kAnd / kOr: two or more; kNot: exactly one
};

// A parsed query. By default the audience is customers with at least one connected relation
// (a WeCom follow relation "active" or "half", or an OA subscription): unsubscribed and deleted
// relations are excluded, as if the query were `(<query>) and relation:connected`. A `relation:`
// predicate anywhere in the query says otherwise (relation_filter = kAny, nothing added):
// relation:connected has a connected relation, relation:ended has relations and none connected,
// relation:any is every customer.
struct Query {
  enum class RelationFilter { kConnected, kAny };
  std::string text;  // the query as given
  Node root;
  RelationFilter relation_filter = RelationFilter::kConnected;
  std::vector<std::string> segment_refs;  // names of the saved segments it refers to
};

}  // namespace scrm::segments
