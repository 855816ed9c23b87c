#include "campaigns/segments/segment_index_sink.h"

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>

#include "src/storage/segment_source.h"
#include "src/storage/write_txn.h"

namespace scrm::segments {
namespace {

using core::Status;
using core::StatusOr;

// The timeline the build and a reload read: the count horizon, plus a day for interactions whose
// platform time runs ahead of ours.
constexpr int64_t kDayMs = int64_t{86400} * 1000;

int64_t TimelineSince(const SegmentIndexOptions& options, int64_t now_ms) {
  return now_ms - options.count_horizon_ms - kDayMs;
}

// The delta of a frequent change (nullopt: the reloads, handled apart, and TagMapped, which the
// index does not keep).
struct DeltaOf {
  const profiles::ProfileChange& change;

  std::optional<IndexDelta> operator()(const profiles::CustomerCreated& x) const {
    return delta::Created{change.customer_id, change.at_ms, std::string(x.platform),
                          std::string(x.account_id)};
  }
  std::optional<IndexDelta> operator()(const profiles::TagScoreChanged& x) const {
    delta::TagRow row;
    row.customer_id = change.customer_id;
    row.tag = *x.tag;
    if (x.after != nullptr) {
      row.row = storage::IndexTagRow{change.customer_id, x.tag->tag.id, x.after->score,
                                     x.after->updated_at_ms, x.after->decays};
    }
    return row;
  }
  std::optional<IndexDelta> operator()(const profiles::StageChanged& x) const {
    return delta::Stage{change.customer_id, x.from, x.to};
  }
  std::optional<IndexDelta> operator()(const profiles::FollowerAdded& x) const {
    return delta::Relation{change.customer_id, std::string(x.platform), std::string(x.account_id),
                           std::string(x.userid), true};
  }
  std::optional<IndexDelta> operator()(const profiles::FollowerRemoved& x) const {
    return delta::Relation{change.customer_id, std::string(x.platform), std::string(x.account_id),
                           std::string(x.userid), false};
  }
  std::optional<IndexDelta> operator()(const profiles::AttributeChanged& x) const {
    return delta::Attribute{change.customer_id, std::string(x.key), std::string(x.value)};
  }
  std::optional<IndexDelta> operator()(const profiles::InteractionApplied& x) const {
    return delta::Interaction{change.customer_id, std::string(x.kind), x.occurred_at_ms};
  }
  std::optional<IndexDelta> operator()(const profiles::OwnerChanged& x) const {
    return delta::Owner{change.customer_id, std::string(x.from), std::string(x.to)};
  }
  std::optional<IndexDelta> operator()(const profiles::ChannelAttributed& x) const {
    return delta::Channel{change.customer_id, std::string(x.channel)};
  }
  std::optional<IndexDelta> operator()(const profiles::IdentityAdded&) const { return {}; }
  std::optional<IndexDelta> operator()(const profiles::CustomersMerged&) const { return {}; }
  std::optional<IndexDelta> operator()(const profiles::MergeUndone&) const { return {}; }
  std::optional<IndexDelta> operator()(const profiles::TagMapped&) const { return {}; }
  std::optional<IndexDelta> operator()(const profiles::TagGroupConfigured& x) const {
    return delta::Group{0, *x.group};
  }
};

void SetGauges(const SegmentIndexMetrics& metrics, const SegmentIndex& index) {
  if (metrics.customers != nullptr) {
    metrics.customers->Set({}, static_cast<double>(index.customers()));
  }
  if (metrics.bytes != nullptr) metrics.bytes->Set({}, static_cast<double>(index.MemoryBytes()));
}

}  // namespace

SegmentIndexMetrics SegmentIndexMetrics::Register(core::MetricsRegistry& registry) {
  SegmentIndexMetrics m;
  m.customers = &registry.Gauge("scrmd_segment_index_customers",
                                "Customers in the segment index (merged ones excluded).", {});
  m.build_seconds = &registry.Gauge("scrmd_segment_index_build_seconds",
                                    "Time the segment index took to build at start.", {});
  m.bytes = &registry.Gauge("scrmd_segment_index_bytes",
                            "Memory the segment index holds (estimate), after the build.", {});
  m.updates = &registry.Counter("scrmd_segment_index_updates_total",
                                "Committed transactions applied to the segment index.", {});
  return m;
}

StatusOr<std::unique_ptr<SegmentIndex>> BuildSegmentIndex(storage::Database& db,
                                                          const core::Clock& clock,
                                                          const SegmentIndexOptions& options,
                                                          const SegmentIndexMetrics& metrics,
                                                          spdlog::logger& log) {
  using Reader = storage::SegmentSourceReader;
  const auto started = clock.SteadyNow();
  const int64_t now_ms = clock.NowUnixMillis();
  auto index = std::make_unique<SegmentIndex>(clock, options);
  const auto read_all = [&](storage::Session& session) -> Status {
    SCRM_RETURN_IF_ERROR(Reader::TagDetails(session, [&](const model::TagDetail& tag) {
      index->BuildTag(tag);
      return core::OkStatus();
    }));
    const auto customer = [&](const model::Customer& c) { return index->BuildCustomer(c); };
    SCRM_RETURN_IF_ERROR(Reader::Customers(session, std::nullopt, customer));
    const auto tag_row = [&](const storage::IndexTagRow& row) { return index->BuildTagRow(row); };
    SCRM_RETURN_IF_ERROR(Reader::TagRows(session, std::nullopt, tag_row));
    const auto follower = [&](const storage::IndexFollowerRow& row) {
      return index->BuildFollower(row);
    };
    SCRM_RETURN_IF_ERROR(Reader::Followers(session, std::nullopt, follower));
    const auto identity = [&](const storage::IndexIdentityRow& row) {
      return index->BuildIdentity(row);
    };
    SCRM_RETURN_IF_ERROR(Reader::Identities(session, std::nullopt, identity));
    const auto entry = [&](const storage::IndexTimelineRow& row) {
      return index->BuildTimeline(row);
    };
    return Reader::Timeline(session, std::nullopt, TimelineSince(options, now_ms), entry);
  };
  SCRM_RETURN_IF_ERROR(db.WithSession(read_all));
  index->FinishBuild();
  const double seconds = std::chrono::duration<double>(clock.SteadyNow() - started).count();
  if (metrics.build_seconds != nullptr) metrics.build_seconds->Set({}, seconds);
  SetGauges(metrics, *index);
  log.info("segment index: {} customers built in {:.2f} s, {:.1f} MiB", index->customers(), seconds,
           static_cast<double>(index->MemoryBytes()) / (1024.0 * 1024.0));
  return index;
}

StatusOr<CustomerFacts> LoadCustomerFacts(storage::Session& session, int64_t customer_id,
                                          int64_t since_ms) {
  using Reader = storage::SegmentSourceReader;
  CustomerFacts facts;
  const auto customer = [&](const model::Customer& c) {
    facts.customer = c;
    return core::OkStatus();
  };
  SCRM_RETURN_IF_ERROR(Reader::Customers(session, customer_id, customer));
  if (!facts.customer.has_value()) return facts;  // merged into another: it leaves the index
  std::set<int64_t> tag_ids;
  const auto tag_row = [&](const storage::IndexTagRow& row) {
    facts.tags.push_back(row);
    tag_ids.insert(row.tag_id);
    return core::OkStatus();
  };
  SCRM_RETURN_IF_ERROR(Reader::TagRows(session, customer_id, tag_row));
  if (!tag_ids.empty()) {
    const auto detail = [&](const model::TagDetail& tag) {
      if (tag_ids.contains(tag.tag.id)) facts.tag_details.push_back(tag);
      return core::OkStatus();
    };
    SCRM_RETURN_IF_ERROR(Reader::TagDetails(session, detail));
  }
  const auto follower = [&](const storage::IndexFollowerRow& row) {
    facts.followers.push_back(row);
    return core::OkStatus();
  };
  SCRM_RETURN_IF_ERROR(Reader::Followers(session, customer_id, follower));
  const auto identity = [&](const storage::IndexIdentityRow& row) {
    facts.identities.push_back(row);
    return core::OkStatus();
  };
  SCRM_RETURN_IF_ERROR(Reader::Identities(session, customer_id, identity));
  const auto entry = [&](const storage::IndexTimelineRow& row) {
    facts.timeline.push_back(row);
    return core::OkStatus();
  };
  SCRM_RETURN_IF_ERROR(Reader::Timeline(session, customer_id, since_ms, entry));
  return facts;
}

SegmentIndexSink::SegmentIndexSink(SegmentIndex& index, SegmentIndexOptions options,
                                   SegmentIndexMetrics metrics, std::shared_ptr<spdlog::logger> log)
    : index_(index), options_(options), metrics_(metrics), log_(std::move(log)) {}

Status SegmentIndexSink::Reload(storage::WriteTxn& txn, int64_t customer_id, int64_t now_ms) {
  SCRM_ASSIGN_OR_RETURN(CustomerFacts facts,
                        LoadCustomerFacts(txn, customer_id, TimelineSince(options_, now_ms)));
  delta::Reload reload;
  reload.customer_id = customer_id;
  reload.facts = std::make_shared<const CustomerFacts>(std::move(facts));
  std::lock_guard lock(mu_);
  pending_.emplace_back(std::move(reload));
  return core::OkStatus();
}

Status SegmentIndexSink::OnChange(storage::WriteTxn& txn, const profiles::ProfileChange& change) {
  {
    std::lock_guard lock(mu_);
    if (txn.serial() != serial_ || !registered_) {
      // A new transaction: what an earlier one left here was rolled back (its callback never ran).
      pending_.clear();
      serial_ = txn.serial();
      registered_ = true;
      const uint64_t serial = serial_;
      txn.AfterCommit([this, serial] { ApplyCommitted(serial); });
    }
  }
  const int64_t id = change.customer_id;
  if (const auto* merged = std::get_if<profiles::CustomersMerged>(&change.what)) {
    SCRM_RETURN_IF_ERROR(Reload(txn, merged->merged_id, change.at_ms));
    return Reload(txn, id, change.at_ms);
  }
  if (const auto* undone = std::get_if<profiles::MergeUndone>(&change.what)) {
    SCRM_RETURN_IF_ERROR(Reload(txn, undone->merged_id, change.at_ms));
    return Reload(txn, id, change.at_ms);
  }
  if (std::holds_alternative<profiles::IdentityAdded>(change.what)) {
    return Reload(txn, id, change.at_ms);
  }
  std::optional<IndexDelta> d = std::visit(DeltaOf{change}, change.what);
  if (!d.has_value()) return core::OkStatus();
  std::lock_guard lock(mu_);
  pending_.push_back(std::move(*d));
  return core::OkStatus();
}

void SegmentIndexSink::ApplyCommitted(uint64_t serial) {
  std::vector<IndexDelta> batch;
  {
    std::lock_guard lock(mu_);
    if (serial != serial_) return;  // cannot happen: transactions are serial on the writer
    batch.swap(pending_);
    pending_.swap(spare_);  // empty, with the capacity of an earlier batch
    registered_ = false;
  }
  const Status status = index_.Apply(batch);
  batch.clear();
  {
    std::lock_guard lock(mu_);
    if (batch.capacity() > spare_.capacity()) spare_.swap(batch);
  }
  if (!status.ok()) {
    // Committed data the index cannot hold (an id beyond 32 bits): queries miss it until the
    // next start rebuilds (and fails loudly there).
    log_->error("segment index: a committed change was not applied: {}", status.ToString());
    return;
  }
  if (metrics_.updates != nullptr) metrics_.updates->Inc({});
  if (metrics_.customers != nullptr) {
    metrics_.customers->Set({}, static_cast<double>(index_.customers()));
  }
}

}  // namespace scrm::segments
