#include "tests/support/segment_reference.h"

#include <algorithm>

namespace scrm::segments::testing {
namespace {

bool Connected(const CustomerFacts& f) {
  return std::any_of(f.followers.begin(), f.followers.end(),
                     [](const FollowerFact& r) { return model::IsConnected(r.state); });
}

bool Holds(const Node& node, const CustomerFacts& f, int64_t now_ms) {
  switch (node.kind) {
    case Node::Kind::kPredicate: return ReferenceMeets(node.predicate, f, now_ms);
    case Node::Kind::kNot: return !Holds(node.children.at(0), f, now_ms);
    case Node::Kind::kAnd:
      for (const Node& child : node.children) {
        if (!Holds(child, f, now_ms)) return false;
      }
      return true;
    case Node::Kind::kOr:
      for (const Node& child : node.children) {
        if (Holds(child, f, now_ms)) return true;
      }
      return false;
  }
  return false;
}

bool HasSegment(const Node& node) {
  if (node.kind == Node::Kind::kPredicate) return node.predicate.field == Field::kSegment;
  return std::any_of(node.children.begin(), node.children.end(), HasSegment);
}

void Leaves(const Node& node, std::vector<const Predicate*>& out) {
  if (node.kind == Node::Kind::kPredicate) {
    out.push_back(&node.predicate);
    return;
  }
  for (const Node& child : node.children) Leaves(child, out);
}

}  // namespace

bool ReferenceMeets(const Predicate& p, const CustomerFacts& f, int64_t now_ms) {
  switch (p.field) {
    case Field::kTag: {
      const auto it = f.tags.find(p.name);
      return it != f.tags.end() && it->second.score >= it->second.threshold;
    }
    case Field::kTagScore: {
      const auto it = f.tags.find(p.name);
      return it != f.tags.end() && Compare(it->second.score, p.op, p.number);
    }
    case Field::kStage: return model::LifecycleStageName(f.stage) == p.value;
    case Field::kPlatform: return f.platforms.count(p.value) > 0;
    case Field::kAccount: return f.accounts.count(p.value) > 0;
    case Field::kOwner: return f.owner == p.value;
    case Field::kFollower:
      return std::any_of(f.followers.begin(), f.followers.end(), [&](const FollowerFact& r) {
        return r.userid == p.value && model::IsConnected(r.state);
      });
    case Field::kAttr: {
      const auto it = f.attributes.find(p.name);
      if (it == f.attributes.end()) return false;  // = and != both need the attribute
      return p.op == Op::kEq ? it->second == p.value : it->second != p.value;
    }
    case Field::kChannel: return !f.channel.empty() && f.channel == p.value;
    case Field::kLastActive: {
      // Never active: as old as the customer (as the at_risk sweep counts it).
      const int64_t last = f.last_active_ms != 0 ? f.last_active_ms : f.created_at_ms;
      return Compare(now_ms - last, p.op, p.window_ms);
    }
    case Field::kCreated: return Compare(now_ms - f.created_at_ms, p.op, p.window_ms);
    case Field::kCount: {
      int64_t n = 0;
      for (const auto& i : f.interactions) {
        if (i.kind == p.name && i.at_ms <= now_ms && now_ms - i.at_ms <= p.window_ms) ++n;
      }
      return Compare(static_cast<double>(n), p.op, p.number);
    }
    case Field::kSegment: return false;
    case Field::kOrdersCount:
    case Field::kOrdersTotal:
    case Field::kBought:
    case Field::kBoughtCategory: return false;  // no order facts until the order bridge
    case Field::kRelation:
      if (p.value == "any") return true;
      if (p.value == "connected") return Connected(f);
      return !f.followers.empty() && !Connected(f);  // ended
  }
  return false;
}

bool ReferenceMatches(const Query& query, const CustomerFacts& facts, int64_t now_ms) {
  if (query.relation_filter == Query::RelationFilter::kConnected && !Connected(facts)) {
    return false;
  }
  return Holds(query.root, facts, now_ms);
}

core::StatusOr<Evaluation> ReferenceEvaluator::Evaluate(const Query& query, int64_t now_ms,
                                                        int64_t after, size_t limit) const {
  if (HasSegment(query.root)) return core::InvalidArgumentError("query is not expanded");
  Evaluation out;
  for (const auto& [id, facts] : customers_) {
    if (!ReferenceMatches(query, facts, now_ms)) continue;
    ++out.count;
    if (id <= after) continue;
    if (out.page.size() < limit) {
      out.page.push_back(id);
    } else if (limit > 0 && out.next_after == 0) {
      out.next_after = out.page.back();
    }
  }
  return out;
}

core::StatusOr<Explanation> ReferenceEvaluator::Explain(const Query& query, int64_t customer_id,
                                                        int64_t now_ms) const {
  if (HasSegment(query.root)) return core::InvalidArgumentError("query is not expanded");
  const auto it = customers_.find(customer_id);
  if (it == customers_.end()) {
    return core::NotFoundError("no customer " + std::to_string(customer_id) + " in the index");
  }
  Explanation out;
  out.matches = ReferenceMatches(query, it->second, now_ms);
  std::vector<const Predicate*> leaves;
  Leaves(query.root, leaves);
  for (const Predicate* leaf : leaves) {
    ClauseOutcome outcome;
    outcome.pos = leaf->pos;
    outcome.len = leaf->len;
    outcome.met = ReferenceMeets(*leaf, it->second, now_ms);
    out.clauses.push_back(outcome);
  }
  if (query.relation_filter == Query::RelationFilter::kConnected) {
    ClauseOutcome implicit;
    implicit.met = Connected(it->second);
    out.clauses.push_back(implicit);
  }
  return out;
}

}  // namespace scrm::segments::testing
