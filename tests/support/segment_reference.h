// The reference semantics of the segment language (docs/segments.md) for tests: a plain,
// obviously-correct brute force over one customer's facts, and an evaluator over a map of them
// that stands in for the bitmap index where a test needs a segments::SegmentEvaluator.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "campaigns/segments/query.h"
#include "campaigns/segments/segment_evaluator.h"
#include "src/model/customer.h"
#include "src/model/tag_rule.h"

namespace scrm::segments::testing {

struct FollowerFact {
  std::string account_id;
  std::string userid;  // "" for an OA subscription
  model::FollowerState state = model::FollowerState::kActive;
};

struct TagFact {
  double score = 0;      // decayed to the now the facts are evaluated at
  double threshold = 1;  // held when score >= threshold
};

struct InteractionFact {
  std::string kind;  // model::KindName
  int64_t at_ms = 0;
};

// What the language can ask about one (unmerged) customer.
struct CustomerFacts {
  int64_t id = 0;
  model::LifecycleStage stage = model::LifecycleStage::kNew;
  std::string owner;                // owner_userid
  std::set<std::string> platforms;  // platforms of its identities ("wecom", "oa")
  std::set<std::string> accounts;   // accounts of its identities and relations
  std::vector<FollowerFact> followers;
  std::string channel;  // the QR scene / contact-way state it came through
  std::map<std::string, std::string> attributes;
  int64_t created_at_ms = 0;
  int64_t last_active_ms = 0;           // the last interaction; 0: never active
  std::map<std::string, TagFact> tags;  // "group/name"
  std::vector<InteractionFact> interactions;
};

// Whether the customer meets one predicate at now_ms. kSegment is never met (expand first).
bool ReferenceMeets(const Predicate& predicate, const CustomerFacts& facts, int64_t now_ms);
// Whether the customer matches the expanded query, the default relation filter included.
bool ReferenceMatches(const Query& query, const CustomerFacts& facts, int64_t now_ms);

// A SegmentEvaluator over facts given by the test (ReferenceMatches per customer). Not
// thread-safe for Put / Remove; the const methods are safe together.
class ReferenceEvaluator final : public SegmentEvaluator {
 public:
  void Put(CustomerFacts facts) { customers_[facts.id] = std::move(facts); }
  void Remove(int64_t id) { customers_.erase(id); }

  core::StatusOr<Evaluation> Evaluate(const Query& query, int64_t now_ms, int64_t after,
                                      size_t limit) const override;
  // Leaves in tree order, then the implicit relation:connected (pos = len = 0) when the query
  // has the default relation filter.
  core::StatusOr<Explanation> Explain(const Query& query, int64_t customer_id,
                                      int64_t now_ms) const override;

 private:
  std::map<int64_t, CustomerFacts> customers_;
};

}  // namespace scrm::segments::testing
