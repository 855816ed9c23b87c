// Internal to campaigns/segments: the data of a SegmentIndex (segment_index.h), shared by its
// mutation (segment_index.cc) and its evaluation (segment_index_eval.cc). Guarded by the
// index's lock; nothing here locks.
#pragma once

#include <roaring/roaring.hh>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "campaigns/segments/segment_index.h"
#include "src/model/customer.h"

namespace scrm::segments::internal {

using Bitmap = ::Roaring;  // CRoaring 0.2 (Debian 12): the C++ wrapper is not namespaced

// A per-customer column in chunks of 65,536 ids (like the bitmaps' containers), so that memory
// follows the ids in use, not the largest id.
template <typename T>
class Column {
 public:
  T Get(uint32_t id) const {
    const size_t chunk = id >> kBits;
    if (chunk >= chunks_.size() || chunks_[chunk] == nullptr) return T{};
    return chunks_[chunk][id & kMask];
  }
  void Set(uint32_t id, T value) {
    const size_t chunk = id >> kBits;
    if (chunk >= chunks_.size()) chunks_.resize(chunk + 1);
    if (chunks_[chunk] == nullptr) chunks_[chunk] = std::make_unique<T[]>(size_t{1} << kBits);
    chunks_[chunk][id & kMask] = value;
  }
  size_t Bytes() const {
    size_t bytes = chunks_.capacity() * sizeof(chunks_[0]);
    for (const auto& c : chunks_) bytes += c == nullptr ? 0 : sizeof(T) << kBits;
    return bytes;
  }

 private:
  static constexpr uint32_t kBits = 16;
  static constexpr uint32_t kMask = (1u << kBits) - 1;
  std::vector<std::unique_ptr<T[]>> chunks_;
};

// Strings (accounts, userids, owners, channels, attribute keys and values, interaction kinds)
// as small ids; 0 is "".
class Interner {
 public:
  uint32_t Intern(std::string_view name);
  std::optional<uint32_t> Find(std::string_view name) const;
  size_t Bytes() const;

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  uint32_t next_ = 1;
};

// The rows of one tag: customers with a score (a bitmap) and, in the bitmap's order, the score
// and its time in whole seconds. A row whose time is not a whole second, or whose score does not
// decay, keeps its exact time in `exact` (interactions carry the platform's CreateTime in
// seconds, so rule rows rarely need it).
struct TagColumn {
  static constexpr uint32_t kExactTime = 0xFFFFFFFFu;
  struct ExactTime {
    int64_t updated_at_ms = 0;
    bool decays = true;
  };
  model::TagDetail detail;
  Bitmap rows;
  std::vector<double> scores;
  std::vector<uint32_t> times_s;
  std::unordered_map<uint32_t, ExactTime> exact;
  uint32_t oldest_s = kExactTime;  // the oldest time in times_s (not lowered back on removal)
};

// count(kind, window): the interactions of one kind as a log ordered by time (customers in a
// parallel column). A window is a contiguous slice of it.
struct KindLog {
  std::vector<int64_t> times;
  std::vector<uint32_t> customers;
};

// One attribute key: each customer's value and the customers of each value.
struct AttrColumn {
  std::unordered_map<uint32_t, uint32_t> value_of;
  std::unordered_map<uint32_t, Bitmap> by_value;
};

inline constexpr size_t kStageCount = 6;  // model::LifecycleStage's values

struct State {
  Bitmap alive;  // customers in the index
  Column<int64_t> created_ms;
  Column<int64_t> last_interaction_ms;  // 0 = none yet
  Column<uint16_t> connected_relations;
  std::array<Bitmap, kStageCount> stages;  // by model::LifecycleStage
  Interner names;
  std::unordered_map<uint32_t, Bitmap> platform;
  std::unordered_map<uint32_t, Bitmap> account;     // an identity or a relation in the account
  std::unordered_map<uint32_t, Bitmap> owner_of;    // by interned owner_userid
  std::unordered_map<uint32_t, Bitmap> channel_of;  // by interned channel
  // Connected WeCom relations by (account << 32 | userid); follower:<userid> is the union of
  // the keys of that userid.
  std::unordered_map<uint64_t, Bitmap> follower;
  std::unordered_map<uint32_t, std::vector<uint64_t>> follower_keys;
  Bitmap connected;  // at least one connected relation
  Bitmap related;    // at least one relation, connected or ended
  std::unordered_map<uint32_t, AttrColumn> attrs;
  std::unordered_map<int64_t, TagColumn> tags;
  std::unordered_map<std::string, int64_t> tag_by_name;  // "group/name"
  std::unordered_map<uint32_t, KindLog> kinds;           // by interned kind
  uint64_t updates = 0;
};

}  // namespace scrm::segments::internal
