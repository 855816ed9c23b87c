// The segment index: every customer's tags (with their scores), stage, identities, relations,
// owner, channel, attributes and activity in roaring bitmaps and per-customer columns, so that a
// segment query (query.h) is answered in memory. Built from the database at start
// (segment_index_build.h) and kept current by the change sink (segment_index_sink.h), which
// applies each committed transaction's changes as one IndexDelta batch; a query never sees half
// of a batch (docs/architecture.md "Segments").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "campaigns/segments/query.h"
#include "campaigns/segments/segment_evaluator.h"
#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/segment_source.h"

namespace scrm::segments {

namespace internal {
struct State;  // segment_index_state.h
}  // namespace internal

// Evaluation, ClauseOutcome and Explanation are the SegmentEvaluator seam's
// (segment_evaluator.h): the index is the evaluator scrmd serves segments with.

struct SegmentIndexOptions {
  // The longest count(kind, window) window: interactions older than this (before the newest of
  // the customer's kind) are dropped, and a longer window is InvalidArgument.
  int64_t count_horizon_ms = int64_t{90} * 86400 * 1000;
};

// Everything the database says about one customer (a reload after a merge, an undo or a new
// identity). customer is nullopt when the customer is not in the store or merged into another:
// it then leaves the index.
struct CustomerFacts {
  std::optional<model::Customer> customer;
  std::vector<storage::IndexTagRow> tags;
  std::vector<model::TagDetail> tag_details;  // the definitions of tags' tags
  std::vector<storage::IndexFollowerRow> followers;
  std::vector<storage::IndexIdentityRow> identities;
  std::vector<storage::IndexTimelineRow> timeline;
};

// The changes the index applies, one per profiles::ProfileChange it follows (owned copies).
namespace delta {
struct Created {  // CustomerCreated
  int64_t customer_id = 0;
  int64_t created_at_ms = 0;
  std::string platform;
  std::string account_id;
};
struct TagRow {  // TagScoreChanged: the row after (nullopt: removed)
  int64_t customer_id = 0;
  model::TagDetail tag;
  std::optional<storage::IndexTagRow> row;
};
struct Stage {  // StageChanged
  int64_t customer_id = 0;
  model::LifecycleStage from = model::LifecycleStage::kNew;
  model::LifecycleStage to = model::LifecycleStage::kNew;
};
struct Relation {  // FollowerAdded (connected) / FollowerRemoved
  int64_t customer_id = 0;
  std::string platform;
  std::string account_id;
  std::string userid;
  bool connected = false;
};
struct Attribute {  // AttributeChanged ("" = removed)
  int64_t customer_id = 0;
  std::string key;
  std::string value;
};
struct Interaction {  // InteractionApplied
  int64_t customer_id = 0;
  std::string kind;
  int64_t at_ms = 0;
};
struct Owner {  // OwnerChanged
  int64_t customer_id = 0;
  std::string from;
  std::string to;
};
struct Channel {  // ChannelAttributed
  int64_t customer_id = 0;
  std::string channel;
};
struct Group {  // TagGroupConfigured: its tags' held state follows the new values (customer_id 0)
  int64_t customer_id = 0;
  model::TagGroup group;
};
struct Reload {  // CustomersMerged / MergeUndone / IdentityAdded: the customer as stored now
  int64_t customer_id = 0;
  // Shared so that a delta stays small to copy and move (the frequent kinds are a few words);
  // nullptr is the same as facts without a customer. Only the sink that made it holds it.
  std::shared_ptr<const CustomerFacts> facts;
};
}  // namespace delta

using IndexDelta =
    std::variant<delta::Created, delta::TagRow, delta::Stage, delta::Relation, delta::Attribute,
                 delta::Interaction, delta::Owner, delta::Channel, delta::Group, delta::Reload>;

// Thread-safety: Evaluate / Explain / customers() / MemoryBytes() are safe from any thread
// concurrently with Apply, which takes the index's lock exclusively for a whole batch (queries
// take it shared): a query sees every delta of a committed transaction or none.
class SegmentIndex final : public SegmentEvaluator {
 public:
  // `clock` times the evaluations (Evaluation::eval_us, its steady time); it must outlive the
  // index.
  explicit SegmentIndex(const core::Clock& clock, SegmentIndexOptions options = {});
  ~SegmentIndex();
  SegmentIndex(const SegmentIndex&) = delete;
  SegmentIndex& operator=(const SegmentIndex&) = delete;

  // `query` must be expanded: no Field::kSegment predicate left (the segment service replaces a
  // segment:"name" reference with the saved query's tree); a kSegment left is InvalidArgument,
  // so are an unknown stage, a count window beyond the horizon and a malformed tree (an and / or
  // without two children, a not without exactly one). now_ms: the injected clock's now (decay,
  // last_active, created, count windows). `limit` 0 gives the count alone.
  // How the predicates read (query.h): tag holds when the decayed score reaches the threshold
  // now (profiles::IsHeldAt); tag_score compares the decayed score of the customers that have a
  // row of the tag; last_active compares now - the last interaction (the creation for a customer
  // without one, as the at_risk sweep counts it) with window_ms, created now - the creation;
  // count counts the interactions of the kind with now - window <= at <= now (window at most the
  // horizon); attr != matches the customers that have the attribute with another value; a `!=`
  // on stage / platform / account / owner / follower / channel is the complement among the
  // query's customers; the order predicates match nobody until the order bridge exists.
  core::StatusOr<Evaluation> Evaluate(const Query& query, int64_t now_ms, int64_t after,
                                      size_t limit) const override;
  // Every predicate leaf in tree order (including the implicit relation:connected when the query
  // has relation_filter kConnected, reported with pos = len = 0), and whether `customer_id`
  // meets it; plus whether the whole query matches. NotFound when the customer is not in the
  // index (unknown, or merged into another).
  core::StatusOr<Explanation> Explain(const Query& query, int64_t customer_id,
                                      int64_t now_ms) const override;
  uint64_t customers() const;  // customers in the index (not merged)
  // Bytes the index holds (bitmaps, columns, maps: an estimate of the heap it uses).
  size_t MemoryBytes() const;
  // Batches applied since the build.
  uint64_t updates() const;

  // Applies one committed transaction's deltas, in order, under the exclusive lock.
  // InvalidArgument (and nothing applied) when a customer id is not a positive 32-bit id.
  core::Status Apply(std::span<const IndexDelta> deltas);

  // The build (segment_index_build.h), before the index is shared: no lock taken.
  void BuildTag(const model::TagDetail& tag);
  core::Status BuildCustomer(const model::Customer& customer);
  core::Status BuildTagRow(const storage::IndexTagRow& row);
  core::Status BuildFollower(const storage::IndexFollowerRow& row);
  core::Status BuildIdentity(const storage::IndexIdentityRow& row);
  core::Status BuildTimeline(const storage::IndexTimelineRow& row);
  // Ends the build: sorts what was loaded unsorted and compacts the bitmaps.
  void FinishBuild();

 private:
  mutable std::shared_mutex mu_;
  const core::Clock& clock_;
  const SegmentIndexOptions options_;
  std::unique_ptr<internal::State> state_;  // guarded by mu_
};

}  // namespace scrm::segments
