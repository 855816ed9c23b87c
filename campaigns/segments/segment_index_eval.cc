// SegmentIndex: evaluating a query tree over the index under the shared lock (the state and its
// mutations: segment_index.cc).
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "campaigns/segments/segment_index.h"
#include "campaigns/segments/segment_index_state.h"
#include "src/profiles/profile_types.h"
#include "src/tagger/scoring.h"

namespace scrm::segments {
namespace {

using core::Status;
using core::StatusOr;
using internal::Bitmap;
using internal::State;
using internal::TagColumn;

// A tree deeper than this is refused (the parser limits depth; this guards the recursion).
constexpr int kMaxDepth = 64;

Status Invalid(const Predicate& p, const std::string& what) {
  return core::InvalidArgumentError("segment query: " + what + " (clause at byte " +
                                    std::to_string(p.pos) + ")");
}

std::vector<uint32_t> Ids(const Bitmap& b) {
  std::vector<uint32_t> ids(b.cardinality());
  b.toUint32Array(ids.data());
  return ids;
}

Bitmap FromSorted(const std::vector<uint32_t>& ids) {
  Bitmap out;
  out.addMany(ids.size(), ids.data());
  return out;
}

Bitmap Lookup(const std::unordered_map<uint32_t, Bitmap>& map, std::optional<uint32_t> key) {
  if (!key.has_value()) return Bitmap();
  const auto it = map.find(*key);
  return it == map.end() ? Bitmap() : it->second;
}

// Decides quickly whether a row's decayed score is clearly above or below an operand, for rows
// whose time is in whole seconds: score * 2^(-age / half_life) vs operand is score vs
// operand * 2^(age / half_life), and that factor is tabulated in bands of half_life / 64 of age.
// A score beyond a band's bounds (with a margin far above the rounding of either form) is decided;
// one inside, a negative or zero score or operand, a row newer than now or older than the table,
// is kNear: the caller computes it exactly.
class DecayBands {
 public:
  enum class Side { kAbove, kBelow, kNear };

  DecayBands(int64_t half_life_ms, double operand, int64_t now_ms, uint32_t oldest_s)
      : half_life_ms_(half_life_ms), operand_(operand), now_ms_(now_ms) {
    if (half_life_ms <= 0 || !(operand > 0)) return;  // no decay or a sign to care about: exact
    step_ms_ = std::max<int64_t>(1, half_life_ms / 64);
    const int64_t oldest_age = now_ms - int64_t{oldest_s} * 1000;
    if (oldest_age < 0) return;
    const int64_t bands = std::min<int64_t>(oldest_age / step_ms_ + 2, kMaxBands);
    factors_.resize(static_cast<size_t>(bands));
    for (int64_t b = 0; b < bands; ++b) {
      factors_[static_cast<size_t>(b)] = operand * std::exp2(static_cast<double>(b * step_ms_) /
                                                             static_cast<double>(half_life_ms));
    }
  }

  Side Classify(double score, uint32_t time_s) const {
    if (half_life_ms_ <= 0) {
      // No decay: the score itself (exact, no table needed).
      return score >= operand_ ? (score == operand_ ? Side::kNear : Side::kAbove) : Side::kBelow;
    }
    if (factors_.empty() || !(score > 0)) return Side::kNear;
    const int64_t age = now_ms_ - int64_t{time_s} * 1000;
    if (age < 0) return Side::kNear;
    const auto band = static_cast<size_t>(age / step_ms_);
    if (band + 1 >= factors_.size()) return Side::kNear;
    // age in [band, band + 1) steps: the operand scaled to the age lies in [lo, hi).
    if (score > factors_[band + 1] * (1 + kMargin)) return Side::kAbove;
    if (score < factors_[band] * (1 - kMargin)) return Side::kBelow;
    return Side::kNear;
  }

 private:
  static constexpr int64_t kMaxBands = 1 << 16;
  static constexpr double kMargin = 1e-9;
  const int64_t half_life_ms_;
  const double operand_;
  const int64_t now_ms_;
  int64_t step_ms_ = 1;
  std::vector<double> factors_;
};

// Evaluates a tree within a universe: every result is a subset of `within` (the customers the
// caller still cares about: the index's customers, narrowed by the relation filter and by the
// siblings of an `and` evaluated before).
class Evaluator {
 public:
  Evaluator(const State& s, const SegmentIndexOptions& options, int64_t now_ms)
      : s_(s), options_(options), now_ms_(now_ms) {}

  StatusOr<Bitmap> Eval(const Node& node, const Bitmap& within, int depth) const {
    if (depth > kMaxDepth) {
      return core::InvalidArgumentError("segment query: nested deeper than 64 levels");
    }
    switch (node.kind) {
      case Node::Kind::kPredicate: return Leaf(node.predicate, within);
      case Node::Kind::kNot: {
        if (node.children.size() != 1) {
          return core::InvalidArgumentError("segment query: a not needs exactly one operand");
        }
        SCRM_ASSIGN_OR_RETURN(const Bitmap inner, Eval(node.children[0], within, depth + 1));
        return within - inner;
      }
      case Node::Kind::kAnd: {
        if (node.children.size() < 2) {
          return core::InvalidArgumentError("segment query: an and needs two operands or more");
        }
        // Bitmap operands first, the ones that scan customers (time comparisons) last: they then
        // look only at the customers the others left.
        std::vector<const Node*> order;
        for (const Node& child : node.children) order.push_back(&child);
        std::stable_partition(order.begin(), order.end(),
                              [](const Node* n) { return !IsScan(*n); });
        Bitmap running = within;
        for (const Node* child : order) {
          SCRM_ASSIGN_OR_RETURN(running, Eval(*child, running, depth + 1));
          if (running.isEmpty()) break;
        }
        return running;
      }
      case Node::Kind::kOr: {
        if (node.children.size() < 2) {
          return core::InvalidArgumentError("segment query: an or needs two operands or more");
        }
        Bitmap out;
        for (const Node& child : node.children) {
          SCRM_ASSIGN_OR_RETURN(const Bitmap part, Eval(child, within, depth + 1));
          out |= part;
        }
        return out;
      }
    }
    return core::InvalidArgumentError("segment query: unknown node");
  }

  StatusOr<Bitmap> Leaf(const Predicate& p, const Bitmap& within) const {
    switch (p.field) {
      case Field::kTag:
      case Field::kTagScore: return TagLeaf(p, within);
      case Field::kStage: {
        const std::optional<model::LifecycleStage> stage = model::ParseLifecycleStage(p.value);
        if (!stage.has_value()) return Invalid(p, "unknown stage \"" + p.value + "\"");
        return Negate(p, s_.stages[static_cast<size_t>(*stage)] & within, within);
      }
      case Field::kPlatform: return Negate(p, Lookup(s_.platform, Named(p.value)) & within, within);
      case Field::kAccount: return Negate(p, Lookup(s_.account, Named(p.value)) & within, within);
      case Field::kOwner: return Negate(p, Lookup(s_.owner_of, Named(p.value)) & within, within);
      case Field::kChannel:
        return Negate(p, Lookup(s_.channel_of, Named(p.value)) & within, within);
      case Field::kFollower: {
        Bitmap out;
        if (const std::optional<uint32_t> user = Named(p.value)) {
          const auto keys = s_.follower_keys.find(*user);
          if (keys != s_.follower_keys.end()) {
            for (uint64_t key : keys->second) out |= s_.follower.at(key);
          }
        }
        return Negate(p, out & within, within);
      }
      case Field::kAttr: return AttrLeaf(p, within);
      case Field::kLastActive:
      case Field::kCreated: return AgeLeaf(p, within);
      case Field::kCount: return CountLeaf(p, within);
      case Field::kRelation: {
        if (p.value == "connected") return s_.connected & within;
        if (p.value == "ended") return (s_.related - s_.connected) & within;
        if (p.value == "any") return within;
        return Invalid(p, "relation must be connected, ended or any");
      }
      case Field::kSegment: return Invalid(p, "segment:\"" + p.value + "\" was not expanded");
      case Field::kOrdersCount:
      case Field::kOrdersTotal:
      case Field::kBought:
      case Field::kBoughtCategory: return Bitmap();  // the order bridge feeds these; no orders yet
    }
    return Invalid(p, "unknown field");
  }

 private:
  // Leaves that look at each customer of the universe: an `and` evaluates them last.
  static bool IsScan(const Node& n) {
    return n.kind == Node::Kind::kPredicate &&
           (n.predicate.field == Field::kLastActive || n.predicate.field == Field::kCreated ||
            n.predicate.field == Field::kCount);
  }

  std::optional<uint32_t> Named(const std::string& value) const {
    if (value.empty()) return std::nullopt;
    return s_.names.Find(value);
  }

  // `field:value` with op kNe means "not that value" among the universe.
  static Bitmap Negate(const Predicate& p, Bitmap matched, const Bitmap& within) {
    return p.op == Op::kNe ? within - matched : matched;
  }

  // tag: held now (decayed score >= threshold); tag_score: the decayed score compared. Exactly
  // profiles::IsHeldAt: tagger::DecayedScore with the group's half-life (none for a row that
  // does not decay), tagger::IsHeld against the tag's threshold. Computing exp2 for every row of
  // a tag costs ~20 ns a row, so a row whose answer is clear is decided by a table first
  // (DecayBands); only the rows near the boundary take the exact formula.
  StatusOr<Bitmap> TagLeaf(const Predicate& p, const Bitmap& within) const {
    const auto named = s_.tag_by_name.find(p.name);
    if (named == s_.tag_by_name.end()) return Negate(p, Bitmap(), within);
    const TagColumn& column = s_.tags.at(named->second);
    const int64_t half_life = profiles::HalfLifeMs(column.detail.group, true);
    const bool held_only = p.field == Field::kTag;
    // tag: decayed >= threshold; tag_score: decayed `op` number.
    const Op op = held_only ? Op::kGe : p.op;
    const double operand = held_only ? column.detail.Threshold() : p.number;
    const DecayBands bands(half_life, operand, now_ms_, column.oldest_s);
    const std::vector<uint32_t> ids = Ids(column.rows);
    std::vector<uint32_t> out;
    out.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      const uint32_t time_s = column.times_s[i];
      const double score = column.scores[i];
      bool met = false;
      const DecayBands::Side side =
          time_s == TagColumn::kExactTime ? DecayBands::Side::kNear : bands.Classify(score, time_s);
      if (side == DecayBands::Side::kNear) {
        int64_t updated_at_ms = int64_t{time_s} * 1000;
        int64_t row_half_life = half_life;
        if (time_s == TagColumn::kExactTime) {
          const TagColumn::ExactTime& exact = column.exact.at(ids[i]);
          updated_at_ms = exact.updated_at_ms;
          row_half_life = profiles::HalfLifeMs(column.detail.group, exact.decays);
        }
        const double decayed = tagger::DecayedScore(score, updated_at_ms, now_ms_, row_half_life);
        met = held_only ? tagger::IsHeld(decayed, operand) : Compare(decayed, op, operand);
      } else {
        const bool above = side == DecayBands::Side::kAbove;
        switch (op) {
          case Op::kGe:
          case Op::kGt: met = above; break;
          case Op::kLt:
          case Op::kLe: met = !above; break;
          case Op::kEq: met = false; break;  // clearly above or below: never equal
          case Op::kNe: met = true; break;
        }
      }
      if (met) out.push_back(ids[i]);
    }
    Bitmap matched = FromSorted(out) & within;
    return held_only ? Negate(p, std::move(matched), within) : matched;
  }

  StatusOr<Bitmap> AttrLeaf(const Predicate& p, const Bitmap& within) const {
    if (p.op != Op::kEq && p.op != Op::kNe) return Invalid(p, "attr compares with = or !=");
    const std::optional<uint32_t> key = Named(p.name);
    if (!key.has_value() || !s_.attrs.contains(*key)) return Bitmap();
    const internal::AttrColumn& column = s_.attrs.at(*key);
    const Bitmap equal = Lookup(column.by_value, Named(p.value)) & within;
    if (p.op == Op::kEq) return equal;
    // != : customers with the attribute and another value (one without it is not compared).
    Bitmap with_key;
    for (const auto& [value, bitmap] : column.by_value) with_key |= bitmap;
    return (with_key & within) - equal;
  }

  // last_active / created: the age (now - the time) compared with window_ms. A customer without
  // an interaction is as old as the customer (as the at_risk sweep counts it).
  StatusOr<Bitmap> AgeLeaf(const Predicate& p, const Bitmap& within) const {
    const bool created = p.field == Field::kCreated;
    std::vector<uint32_t> out;
    for (const uint32_t id : Ids(within)) {
      int64_t at = created ? 0 : s_.last_interaction_ms.Get(id);
      if (at == 0) at = s_.created_ms.Get(id);
      if (Compare<int64_t>(now_ms_ - at, p.op, p.window_ms)) out.push_back(id);
    }
    return FromSorted(out);
  }

  // count(kind, window) op n: interactions of the kind with now - window <= at <= now, a slice of
  // the kind's log, counted per customer in a dense array (saturating at kMaxCount), then the
  // customers of `within` compared.
  StatusOr<Bitmap> CountLeaf(const Predicate& p, const Bitmap& within) const {
    if (p.window_ms <= 0 || p.window_ms > options_.count_horizon_ms) {
      return Invalid(p, "count window must be within 1 ms.." +
                            std::to_string(options_.count_horizon_ms / 86400000) + "d");
    }
    if (!(p.number >= 0 && p.number < kMaxCount)) {
      return Invalid(p, "count must be compared with 0.." + std::to_string(kMaxCount - 1));
    }
    std::vector<uint16_t> counts;
    const std::optional<uint32_t> kind = Named(p.name);
    if (kind.has_value() && !s_.alive.isEmpty()) {
      const auto log = s_.kinds.find(*kind);
      if (log != s_.kinds.end()) {
        const std::vector<int64_t>& times = log->second.times;
        const auto from = std::lower_bound(times.begin(), times.end(), now_ms_ - p.window_ms);
        const auto to = std::upper_bound(from, times.end(), now_ms_);
        counts.assign(size_t{s_.alive.maximum()} + 1, 0);
        for (auto i = static_cast<size_t>(from - times.begin());
             i < static_cast<size_t>(to - times.begin()); ++i) {
          const uint32_t id = log->second.customers[i];
          if (id < counts.size() && counts[id] < kMaxCount) ++counts[id];
        }
      }
    }
    std::vector<uint32_t> out;
    for (const uint32_t id : Ids(within)) {
      const double n = id < counts.size() ? counts[id] : 0;
      if (Compare(n, p.op, p.number)) out.push_back(id);
    }
    return FromSorted(out);
  }

  // A count at kMaxCount stands for that many or more: every comparison with a smaller number
  // gives the same answer as the true count would.
  static constexpr uint16_t kMaxCount = 65535;

  const State& s_;
  const SegmentIndexOptions& options_;
  const int64_t now_ms_;
};

// The customers a query ranges over: the index's, with a connected relation unless the query
// names relation: itself.
Bitmap Universe(const State& s, const Query& query) {
  if (query.relation_filter == Query::RelationFilter::kConnected) return s.alive & s.connected;
  return s.alive;
}

void CollectLeaves(const Node& node, std::vector<const Predicate*>& out) {
  if (node.kind == Node::Kind::kPredicate) {
    out.push_back(&node.predicate);
    return;
  }
  for (const Node& child : node.children) CollectLeaves(child, out);
}

}  // namespace

StatusOr<Evaluation> SegmentIndex::Evaluate(const Query& query, int64_t now_ms, int64_t after,
                                            size_t limit) const {
  const auto started = clock_.SteadyNow();
  Evaluation result;
  {
    std::shared_lock lock(mu_);
    const Evaluator evaluator(*state_, options_, now_ms);
    SCRM_ASSIGN_OR_RETURN(const Bitmap matched,
                          evaluator.Eval(query.root, Universe(*state_, query), 0));
    result.count = matched.cardinality();
    if (limit > 0 && after < int64_t{std::numeric_limits<uint32_t>::max()}) {
      Bitmap::const_iterator it = matched.begin();
      it.equalorlarger(static_cast<uint32_t>(std::max<int64_t>(after + 1, 0)));
      for (; it != matched.end(); ++it) {
        if (result.page.size() == limit) {
          result.next_after = result.page.back();
          break;
        }
        result.page.push_back(*it);
      }
    }
  }
  result.eval_us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_.SteadyNow() - started).count();
  return result;
}

StatusOr<Explanation> SegmentIndex::Explain(const Query& query, int64_t customer_id,
                                            int64_t now_ms) const {
  std::shared_lock lock(mu_);
  const State& s = *state_;
  if (customer_id <= 0 || customer_id > int64_t{std::numeric_limits<uint32_t>::max()} ||
      !s.alive.contains(static_cast<uint32_t>(customer_id))) {
    return core::NotFoundError("customer " + std::to_string(customer_id) +
                               " is not in the segment index");
  }
  const auto id = static_cast<uint32_t>(customer_id);
  Bitmap one;
  one.add(id);
  const Evaluator evaluator(s, options_, now_ms);
  Explanation out;
  std::vector<const Predicate*> leaves;
  CollectLeaves(query.root, leaves);
  for (const Predicate* p : leaves) {
    SCRM_ASSIGN_OR_RETURN(const Bitmap met, evaluator.Leaf(*p, one));
    out.clauses.push_back(ClauseOutcome{p->pos, p->len, met.contains(id)});
  }
  if (query.relation_filter == Query::RelationFilter::kConnected) {
    out.clauses.push_back(ClauseOutcome{0, 0, s.connected.contains(id)});
  }
  SCRM_ASSIGN_OR_RETURN(const Bitmap matched,
                        evaluator.Eval(query.root, Universe(s, query) & one, 0));
  out.matches = matched.contains(id);
  return out;
}

}  // namespace scrm::segments
