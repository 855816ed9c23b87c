// SegmentIndex: its state and how deltas, builds and reloads change it (evaluation:
// segment_index_eval.cc).
#include "campaigns/segments/segment_index.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <string>
#include <utility>

#include "campaigns/segments/segment_index_state.h"

namespace scrm::segments {
namespace internal {

uint32_t Interner::Intern(std::string_view name) {
  if (name.empty()) return 0;
  const auto [it, inserted] = ids_.try_emplace(std::string(name), next_);
  if (inserted) ++next_;
  return it->second;
}

std::optional<uint32_t> Interner::Find(std::string_view name) const {
  if (name.empty()) return 0u;
  const auto it = ids_.find(std::string(name));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

size_t Interner::Bytes() const {
  size_t bytes = ids_.bucket_count() * sizeof(void*);
  for (const auto& [name, id] : ids_) bytes += sizeof(name) + sizeof(id) + 16 + name.capacity();
  return bytes;
}

}  // namespace internal

namespace {

using core::Status;
using internal::Bitmap;
using internal::State;
using internal::TagColumn;

constexpr int64_t kMsPerSecond = 1000;

// Customer ids are SQLite rowids; the bitmaps hold 32 bits.
bool ValidId(int64_t id) { return id > 0 && id <= std::numeric_limits<uint32_t>::max(); }

// The customer a delta names: 0 (none) for a group's.
bool ValidDelta(const IndexDelta& d) {
  return std::holds_alternative<delta::Group>(d) ||
         ValidId(std::visit([](const auto& x) { return x.customer_id; }, d));
}

Status InvalidId(int64_t id) {
  return core::InvalidArgumentError("segment index: customer id " + std::to_string(id) +
                                    " is not a positive 32-bit id");
}

uint64_t FollowerKey(uint32_t account, uint32_t userid) {
  return (uint64_t{account} << 32) | userid;
}

// The mutations, on a State the caller holds exclusively.
class Mutator {
 public:
  Mutator(State& s, const SegmentIndexOptions& options) : s_(s), options_(options) {}

  void Tag(const model::TagDetail& detail) {
    TagColumn& column = s_.tags[detail.tag.id];
    if (column.detail == detail) return;  // known as it is (nearly every tag change)
    const std::string name = detail.group.name + "/" + detail.tag.name;
    if (column.detail.tag.id != 0) {
      const std::string old = column.detail.group.name + "/" + column.detail.tag.name;
      if (old != name) s_.tag_by_name.erase(old);
    }
    column.detail = detail;
    s_.tag_by_name[name] = detail.tag.id;
  }

  void Customer(const model::Customer& c) {
    const auto id = static_cast<uint32_t>(c.id);
    // A customer new to the index (a build, a creation, or a reload after Remove).
    s_.alive.add(id);
    s_.created_ms.Set(id, c.created_at_ms);
    s_.last_interaction_ms.Set(id, c.last_interaction_at_ms);
    s_.stages[static_cast<size_t>(c.stage)].add(id);
    SetOwner(id, "", c.owner_userid);
    AddChannel(id, c.channel);
    for (const auto& [key, value] : c.attributes) SetAttribute(id, key, value);
  }

  void Created(const delta::Created& d) {
    model::Customer c;
    c.id = d.customer_id;
    c.created_at_ms = d.created_at_ms;
    Customer(c);
    Identity(static_cast<uint32_t>(d.customer_id), d.platform, d.account_id);
  }

  // The stage, owner and channel are kept in their bitmaps only (no per-customer column: 9 bytes
  // a customer): a change names what it replaces, a reload first takes the customer out of all.
  void SetStage(uint32_t id, model::LifecycleStage from, model::LifecycleStage to) {
    Bitmap& before = s_.stages[static_cast<size_t>(from)];
    if (before.contains(id)) {
      before.remove(id);
    } else {
      for (Bitmap& b : s_.stages) b.remove(id);  // not where the change says: take it out of all
    }
    s_.stages[static_cast<size_t>(to)].add(id);
  }

  void SetOwner(uint32_t id, std::string_view from, std::string_view to) {
    if (const std::optional<uint32_t> before = s_.names.Find(from); before.value_or(0) != 0) {
      const auto it = s_.owner_of.find(*before);
      if (it != s_.owner_of.end()) it->second.remove(id);
    }
    if (const uint32_t after = s_.names.Intern(to); after != 0) s_.owner_of[after].add(id);
  }

  // First touch only: the customer had none (a merge that hands one over reloads).
  void AddChannel(uint32_t id, std::string_view channel) {
    if (const uint32_t v = s_.names.Intern(channel); v != 0) s_.channel_of[v].add(id);
  }

  void SetAttribute(uint32_t id, std::string_view key, std::string_view value) {
    internal::AttrColumn& column = s_.attrs[s_.names.Intern(key)];
    const auto was = column.value_of.find(id);
    if (was != column.value_of.end()) {
      column.by_value[was->second].remove(id);
      column.value_of.erase(was);
    }
    if (value.empty()) return;
    const uint32_t v = s_.names.Intern(value);
    column.value_of[id] = v;
    column.by_value[v].add(id);
  }

  void Identity(uint32_t id, std::string_view platform, std::string_view account) {
    s_.platform[s_.names.Intern(platform)].add(id);
    if (!account.empty()) s_.account[s_.names.Intern(account)].add(id);
  }

  // A relation's state as the build reads it, or its change (FollowerAdded / Removed: these come
  // only when the relation moves between connected and ended).
  void Relation(uint32_t id, std::string_view platform, std::string_view account,
                std::string_view userid, bool connected, bool is_change) {
    const uint32_t account_id = s_.names.Intern(account);
    s_.account[account_id].add(id);
    s_.related.add(id);
    uint16_t count = s_.connected_relations.Get(id);
    if (connected) {
      ++count;
    } else if (is_change && count > 0) {
      --count;
    }
    s_.connected_relations.Set(id, count);
    if (count > 0) {
      s_.connected.add(id);
    } else {
      s_.connected.remove(id);
    }
    if (platform != "wecom" || userid.empty()) return;
    const uint32_t user = s_.names.Intern(userid);
    const uint64_t key = FollowerKey(account_id, user);
    auto [it, inserted] = s_.follower.try_emplace(key);
    if (inserted) s_.follower_keys[user].push_back(key);
    if (connected) {
      it->second.add(id);
    } else {
      it->second.remove(id);
    }
  }

  // Sets (or with no row removes) the customer's row of the tag.
  void TagRow(uint32_t id, int64_t tag_id, const storage::IndexTagRow* row) {
    TagColumn& column = s_.tags[tag_id];
    const bool present = column.rows.contains(id);
    if (row == nullptr) {
      if (!present) return;
      const auto pos = static_cast<ptrdiff_t>(column.rows.rank(id) - 1);
      column.scores.erase(column.scores.begin() + pos);
      column.times_s.erase(column.times_s.begin() + pos);
      column.exact.erase(id);
      column.rows.remove(id);
      return;
    }
    if (!present) {
      column.rows.add(id);
      const auto pos = static_cast<ptrdiff_t>(column.rows.rank(id) - 1);
      column.scores.insert(column.scores.begin() + pos, 0.0);
      column.times_s.insert(column.times_s.begin() + pos, 0u);
    }
    const auto pos = static_cast<size_t>(column.rows.rank(id) - 1);
    column.scores[pos] = row->score;
    const int64_t t = row->updated_at_ms;
    if (row->decays && t >= 0 && t % kMsPerSecond == 0 &&
        t / kMsPerSecond < int64_t{TagColumn::kExactTime}) {
      column.times_s[pos] = static_cast<uint32_t>(t / kMsPerSecond);
      column.oldest_s = std::min(column.oldest_s, column.times_s[pos]);
      if (!column.exact.empty()) column.exact.erase(id);
    } else {
      column.times_s[pos] = TagColumn::kExactTime;
      column.exact[id] = TagColumn::ExactTime{t, row->decays};
    }
  }

  // Appends during the build: customer_tags is read in (customer_id, tag_id) order, so each
  // tag's rows come in customer order and go at the end of its columns.
  void AppendTagRow(const storage::IndexTagRow& row) {
    const auto id = static_cast<uint32_t>(row.customer_id);
    TagColumn& column = s_.tags[row.tag_id];
    const int64_t t = row.updated_at_ms;
    if (column.rows.isEmpty() || column.rows.maximum() < id) {
      if (row.decays && t >= 0 && t % kMsPerSecond == 0 &&
          t / kMsPerSecond < int64_t{TagColumn::kExactTime}) {
        column.rows.add(id);
        column.scores.push_back(row.score);
        const auto time_s = static_cast<uint32_t>(t / kMsPerSecond);
        column.times_s.push_back(time_s);
        column.oldest_s = std::min(column.oldest_s, time_s);
        return;
      }
    }
    TagRow(id, row.tag_id, &row);  // out of order, or an exact time: the general path
  }

  // An interaction of the kind; `in_order`: keep the log sorted now (the build sorts at the end).
  void Interaction(uint32_t id, std::string_view kind, int64_t at_ms, bool in_order) {
    internal::KindLog& log = s_.kinds[s_.names.Intern(kind)];
    if (!in_order) {
      log.times.push_back(at_ms);
      log.customers.push_back(id);
      return;
    }
    const auto at = std::upper_bound(log.times.begin(), log.times.end(), at_ms);
    const auto pos = at - log.times.begin();
    log.times.insert(at, at_ms);
    log.customers.insert(log.customers.begin() + pos, id);
    Prune(log);
  }

  // Drops what no window can reach any more: older than the horizon (and a day for platform
  // clocks ahead of ours) before the newest; in steps of a day, so that it is rare.
  void Prune(internal::KindLog& log) const {
    const int64_t cutoff = log.times.back() - options_.count_horizon_ms - kSlackMs;
    if (log.times.front() >= cutoff - kSlackMs) return;
    const auto end = std::lower_bound(log.times.begin(), log.times.end(), cutoff);
    const auto n = end - log.times.begin();
    log.times.erase(log.times.begin(), end);
    log.customers.erase(log.customers.begin(), log.customers.begin() + n);
  }

  // Takes the customer out of every bitmap and column.
  void Remove(uint32_t id) {
    s_.alive.remove(id);
    for (Bitmap& b : s_.stages) b.remove(id);
    for (auto& [key, bitmap] : s_.owner_of) bitmap.remove(id);
    for (auto& [key, bitmap] : s_.channel_of) bitmap.remove(id);
    s_.created_ms.Set(id, 0);
    s_.last_interaction_ms.Set(id, 0);
    s_.connected_relations.Set(id, 0);
    s_.connected.remove(id);
    s_.related.remove(id);
    for (auto& [key, bitmap] : s_.platform) bitmap.remove(id);
    for (auto& [key, bitmap] : s_.account) bitmap.remove(id);
    for (auto& [key, bitmap] : s_.follower) bitmap.remove(id);
    for (auto& [key, column] : s_.attrs) {
      const auto was = column.value_of.find(id);
      if (was == column.value_of.end()) continue;
      column.by_value[was->second].remove(id);
      column.value_of.erase(was);
    }
    for (auto& [tag_id, column] : s_.tags) {
      if (column.rows.contains(id)) TagRow(id, tag_id, nullptr);
    }
    for (auto& [kind, log] : s_.kinds) {
      size_t kept = 0;
      for (size_t i = 0; i < log.times.size(); ++i) {
        if (log.customers[i] == id) continue;
        log.times[kept] = log.times[i];
        log.customers[kept] = log.customers[i];
        ++kept;
      }
      log.times.resize(kept);
      log.customers.resize(kept);
    }
  }

  void Reload(const delta::Reload& d) {
    const auto id = static_cast<uint32_t>(d.customer_id);
    Remove(id);
    if (d.facts == nullptr || !d.facts->customer.has_value()) return;  // merged, or gone
    const CustomerFacts& facts = *d.facts;
    Customer(*facts.customer);
    for (const model::TagDetail& tag : facts.tag_details) Tag(tag);
    for (const storage::IndexTagRow& row : facts.tags) TagRow(id, row.tag_id, &row);
    for (const storage::IndexFollowerRow& f : facts.followers) {
      Relation(id, f.userid.empty() ? "oa" : "wecom", f.account_id, f.userid,
               model::IsConnected(f.state), false);
    }
    for (const storage::IndexIdentityRow& i : facts.identities) {
      Identity(id, i.platform, i.account_id);
    }
    for (const storage::IndexTimelineRow& t : facts.timeline) {
      Interaction(id, t.kind, t.at_ms, true);
    }
  }

  // One delta; customers not in the index (merged) are left alone, except by their reload.
  void Apply(const IndexDelta& d) {
    if (const auto* created = std::get_if<delta::Created>(&d)) return Created(*created);
    if (const auto* reload = std::get_if<delta::Reload>(&d)) return Reload(*reload);
    if (const auto* group = std::get_if<delta::Group>(&d)) {
      for (auto& [tag_id, column] : s_.tags) {
        if (column.detail.group.id == group->group.id) column.detail.group = group->group;
      }
      return;
    }
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          const auto id = static_cast<uint32_t>(x.customer_id);
          if (!s_.alive.contains(id)) return;
          if constexpr (std::is_same_v<T, delta::TagRow>) {
            Tag(x.tag);
            TagRow(id, x.tag.tag.id, x.row.has_value() ? &*x.row : nullptr);
          } else if constexpr (std::is_same_v<T, delta::Stage>) {
            SetStage(id, x.from, x.to);
          } else if constexpr (std::is_same_v<T, delta::Relation>) {
            Relation(id, x.platform, x.account_id, x.userid, x.connected, true);
          } else if constexpr (std::is_same_v<T, delta::Attribute>) {
            SetAttribute(id, x.key, x.value);
          } else if constexpr (std::is_same_v<T, delta::Interaction>) {
            s_.last_interaction_ms.Set(id, std::max(s_.last_interaction_ms.Get(id), x.at_ms));
            Interaction(id, x.kind, x.at_ms, true);
          } else if constexpr (std::is_same_v<T, delta::Owner>) {
            SetOwner(id, x.from, x.to);
          } else if constexpr (std::is_same_v<T, delta::Channel>) {
            AddChannel(id, x.channel);
          } else {
            static_assert(std::is_same_v<T, delta::Group> || std::is_same_v<T, delta::Created> ||
                          std::is_same_v<T, delta::Reload>);
          }
        },
        d);
  }

 private:
  static constexpr int64_t kSlackMs = int64_t{86400} * 1000;
  State& s_;
  const SegmentIndexOptions& options_;
};

int64_t CustomerOf(const IndexDelta& d) {
  return std::visit([](const auto& x) { return x.customer_id; }, d);
}

size_t BitmapBytes(const Bitmap& b) { return b.getSizeInBytes(false) + sizeof(Bitmap); }

template <typename Map>
size_t BitmapMapBytes(const Map& map) {
  size_t bytes = map.bucket_count() * sizeof(void*);
  for (const auto& [key, bitmap] : map) bytes += BitmapBytes(bitmap) + sizeof(key) + 16;
  return bytes;
}

}  // namespace

SegmentIndex::SegmentIndex(const core::Clock& clock, SegmentIndexOptions options)
    : clock_(clock), options_(options), state_(std::make_unique<internal::State>()) {}

SegmentIndex::~SegmentIndex() = default;

uint64_t SegmentIndex::customers() const {
  std::shared_lock lock(mu_);
  return state_->alive.cardinality();
}

uint64_t SegmentIndex::updates() const {
  std::shared_lock lock(mu_);
  return state_->updates;
}

size_t SegmentIndex::MemoryBytes() const {
  std::shared_lock lock(mu_);
  const State& s = *state_;
  size_t bytes = sizeof(State) + BitmapBytes(s.alive) + BitmapBytes(s.connected) +
                 BitmapBytes(s.related) + s.created_ms.Bytes() + s.last_interaction_ms.Bytes() +
                 s.connected_relations.Bytes() + s.names.Bytes();
  for (const Bitmap& b : s.stages) bytes += BitmapBytes(b);
  bytes += BitmapMapBytes(s.platform) + BitmapMapBytes(s.account) + BitmapMapBytes(s.owner_of) +
           BitmapMapBytes(s.channel_of) + BitmapMapBytes(s.follower);
  for (const auto& [key, column] : s.attrs) {
    bytes += BitmapMapBytes(column.by_value) + column.value_of.size() * 32;
  }
  for (const auto& [id, column] : s.tags) {
    bytes += sizeof(column) + BitmapBytes(column.rows) + column.scores.capacity() * sizeof(double) +
             column.times_s.capacity() * sizeof(uint32_t) + column.exact.size() * 40 +
             column.detail.tag.name.capacity() + column.detail.group.name.capacity();
  }
  for (const auto& [kind, log] : s.kinds) {
    bytes += sizeof(log) + log.times.capacity() * sizeof(int64_t) +
             log.customers.capacity() * sizeof(uint32_t);
  }
  return bytes;
}

core::Status SegmentIndex::Apply(std::span<const IndexDelta> deltas) {
  for (const IndexDelta& d : deltas) {
    if (!ValidDelta(d)) return InvalidId(CustomerOf(d));
  }
  std::unique_lock lock(mu_);
  Mutator m(*state_, options_);
  for (const IndexDelta& d : deltas) m.Apply(d);
  ++state_->updates;
  return core::OkStatus();
}

void SegmentIndex::BuildTag(const model::TagDetail& tag) { Mutator(*state_, options_).Tag(tag); }

core::Status SegmentIndex::BuildCustomer(const model::Customer& customer) {
  if (!ValidId(customer.id)) return InvalidId(customer.id);
  if (customer.merged_into.has_value()) return core::OkStatus();
  Mutator(*state_, options_).Customer(customer);
  return core::OkStatus();
}

core::Status SegmentIndex::BuildTagRow(const storage::IndexTagRow& row) {
  if (!ValidId(row.customer_id)) return InvalidId(row.customer_id);
  if (!state_->alive.contains(static_cast<uint32_t>(row.customer_id))) return core::OkStatus();
  Mutator(*state_, options_).AppendTagRow(row);
  return core::OkStatus();
}

core::Status SegmentIndex::BuildFollower(const storage::IndexFollowerRow& row) {
  if (!ValidId(row.customer_id)) return InvalidId(row.customer_id);
  const auto id = static_cast<uint32_t>(row.customer_id);
  if (!state_->alive.contains(id)) return core::OkStatus();
  Mutator(*state_, options_)
      .Relation(id, row.userid.empty() ? "oa" : "wecom", row.account_id, row.userid,
                model::IsConnected(row.state), false);
  return core::OkStatus();
}

core::Status SegmentIndex::BuildIdentity(const storage::IndexIdentityRow& row) {
  if (!ValidId(row.customer_id)) return InvalidId(row.customer_id);
  const auto id = static_cast<uint32_t>(row.customer_id);
  if (!state_->alive.contains(id)) return core::OkStatus();
  Mutator(*state_, options_).Identity(id, row.platform, row.account_id);
  return core::OkStatus();
}

core::Status SegmentIndex::BuildTimeline(const storage::IndexTimelineRow& row) {
  if (!ValidId(row.customer_id)) return InvalidId(row.customer_id);
  const auto id = static_cast<uint32_t>(row.customer_id);
  if (!state_->alive.contains(id)) return core::OkStatus();
  Mutator(*state_, options_).Interaction(id, row.kind, row.at_ms, false);
  return core::OkStatus();
}

void SegmentIndex::FinishBuild() {
  State& s = *state_;
  for (auto& [kind, log] : s.kinds) {
    std::vector<std::pair<int64_t, uint32_t>> entries(log.times.size());
    for (size_t i = 0; i < entries.size(); ++i) entries[i] = {log.times[i], log.customers[i]};
    std::sort(entries.begin(), entries.end());
    for (size_t i = 0; i < entries.size(); ++i) {
      log.times[i] = entries[i].first;
      log.customers[i] = entries[i].second;
    }
    log.times.shrink_to_fit();
    log.customers.shrink_to_fit();
  }
  for (auto& [id, column] : s.tags) {
    column.scores.shrink_to_fit();
    column.times_s.shrink_to_fit();
    column.rows.runOptimize();
    column.rows.shrinkToFit();
  }
  for (Bitmap* b : {&s.alive, &s.connected, &s.related}) {
    b->runOptimize();
    b->shrinkToFit();
  }
}

}  // namespace scrm::segments
