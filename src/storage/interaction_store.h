// InteractionStore: the durable inbox (table interactions in the inbox file, deduplicated by the
// database). The ingest cursors are in the main file (cursor_store.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/core/status.h"
#include "src/model/interaction.h"
#include "src/storage/database.h"

namespace scrm::storage {

// What InsertBatch did with one interaction.
struct InsertOutcome {
  bool duplicate = false;  // another row (earlier, or earlier in the same batch) has its key
  int64_t id = 0;          // the new row's id, or the id of the row it duplicates
};

// The columns an insert derives from an interaction: its dedupe hash and its payload as JSON.
struct InsertEncoding {
  uint64_t dedupe_hash = 0;  // DedupeHash(account_id, dedupe_key)
  std::string payload_json;
};
InsertEncoding EncodeForInsert(const model::Interaction& interaction);

// What SummarizeAfter found after an id.
struct RowsAfter {
  int64_t count = 0;    // rows with a larger id
  int64_t last_id = 0;  // the largest of them; the id asked about when there are none
};

// The first row after an id as stored, without decoding its payload (PeekAfter).
struct RowHead {
  int64_t id = 0;
  std::string account_id;
};

// List() filter. Results are ascending by id: page by passing the last id seen as after_id.
struct InteractionFilter {
  std::optional<std::string> account_id;       // exact match when set
  std::optional<model::InteractionKind> kind;  // exact match when set
  int64_t after_id = 0;                        // only ids > after_id
  size_t limit = 100;                          // 1..kMaxListLimit
};

// How duplicates are found, as printed by bench/inbox_bench: a 64-bit hash of (account_id,
// dedupe_key); (occurred_at_ms, dedupe_hash, dedupe_seq) is unique, in interaction_keys for the
// rows up to keys_indexed_upto and in the store's memory for the newer ones (inbox_keys.h). The
// full key is compared on a hash hit and a genuine collision is stored under the next
// dedupe_seq, so it is never dropped. occurred_at_ms (the platform's CreateTime) is part of the
// identity, which holds because a re-delivery repeats the payload.
inline constexpr std::string_view kDedupeScheme =
    "hash64 unique(occurred_at_ms,dedupe_hash,dedupe_seq): indexed in sorted batches, newest in "
    "memory";

// The stored 64-bit dedupe hash of (account_id, dedupe_key): FNV-1a over a length-prefixed
// encoding, then a splitmix64 finaliser. It is on disk: changing it needs a migration that
// rewrites dedupe_hash. Exposed for tests that need to fabricate a collision.
uint64_t DedupeHash(std::string_view account_id, std::string_view dedupe_key);

// Thread-safe (all access through Database). Does not own the Database, which is the inbox one
// (Schema::kInbox, its own file, writer and lock; docs/architecture.md "Storage"). Every call may
// also fail with the codes of Database::WithWriter/WithReader (FailedPrecondition after Close,
// Unavailable when busy, Internal otherwise). A stored row this binary cannot read back (an
// unknown platform or kind, payload_json that does not parse) is Internal naming its id.
// Whether a read fills Interaction::raw_body.
enum class RawBody { kRead, kSkip };

// How far an interaction's id (its commit time) may be from its received_at_ms for ReadRange to
// find it: a commit waits milliseconds, a platform gives up on its request after 5 s.
inline constexpr int64_t kReceivedToIdSlackMs = 10 * 60 * 1000;

class InteractionStore {
 public:
  static constexpr size_t kMaxListLimit = 1000;
  // The inbox writer indexes the pending keys (IndexKeys) once this many are pending.
  static constexpr size_t kIndexKeysEvery = 16384;
  // InsertBatch indexes them itself, in its transaction, once more than this many are pending
  // (a caller that never calls IndexKeys): bounds the memory they take.
  static constexpr size_t kMaxPendingKeys = 65536;

  explicit InteractionStore(Database& db) : db_(db) {}
  InteractionStore(const InteractionStore&) = delete;
  InteractionStore& operator=(const InteractionStore&) = delete;

  // Inserts every interaction in ONE transaction and returns one outcome per item, in order.
  // Assigns nothing: ids come in the structs (the inbox writer assigns them, strictly
  // increasing). An interaction whose (account_id, dedupe_key, occurred_at_ms) is already
  // stored, or appears earlier in the batch, is not stored again: its outcome is {duplicate,
  // existing id}. occurred_at_ms must therefore come from the payload (CreateTime), never from a
  // clock, or re-deliveries would be stored twice (they would be kept, not lost).
  // InvalidArgument (nothing written) when an item has id <= 0, an empty account_id or an
  // empty dedupe_key. Any storage error rolls the whole batch back.
  core::StatusOr<std::vector<InsertOutcome>> InsertBatch(
      std::span<const model::Interaction> interactions);
  // The same with each item's encoding already computed: encodings[i] must be
  // EncodeForInsert(interactions[i]) (InvalidArgument when the spans' sizes differ). The inbox
  // writer encodes on the submitting threads, so its transaction holds the writer lock only for
  // the inserts.
  core::StatusOr<std::vector<InsertOutcome>> InsertBatch(
      std::span<const model::Interaction> interactions, std::span<const InsertEncoding> encodings);

  // Interactions matching the filter with id > after_id, ascending by id, at most limit.
  // InvalidArgument when limit is 0 or above kMaxListLimit.
  core::StatusOr<std::vector<model::Interaction>> List(const InteractionFilter& filter);
  // The worker's read: id > after_id ascending, at most limit (1..100000, else
  // InvalidArgument). With RawBody::kSkip every raw_body is left empty (cheaper, for readers
  // that never use it).
  core::StatusOr<std::vector<model::Interaction>> ReadAfter(int64_t after_id, size_t limit,
                                                            RawBody raw_body = RawBody::kRead);
  // How many interactions have id > after_id, and the largest such id, without reading them
  // (the ingest worker's pass when it has no processors).
  core::StatusOr<RowsAfter> SummarizeAfter(int64_t after_id);
  // The id and account of the first row with id > after_id, read without decoding the row;
  // nullopt when there is none. The ingest worker names a row that ReadAfter cannot decode.
  core::StatusOr<std::optional<RowHead>> PeekAfter(int64_t after_id);
  // Interactions with from_ms <= received_at_ms < to_ms and id > after_id, ascending by id, at
  // most limit (1..100000). InvalidArgument when from_ms > to_ms or the limit is out of range.
  // Served by the ids of the range's time (ids are time-ordered) widened by kReceivedToIdSlackMs
  // on both sides: cost grows with the rows stored in that time, so callers page through large
  // ranges. A row committed more than kReceivedToIdSlackMs after it was received (or with a
  // clock stepped back by more than that in between) is not found.
  core::StatusOr<std::vector<model::Interaction>> ReadRange(int64_t from_ms, int64_t to_ms,
                                                            int64_t after_id, size_t limit);

  // Number of stored interactions.
  core::StatusOr<int64_t> Count();
  // Highest stored id, 0 when empty (the inbox writer never assigns an id at or below it).
  core::StatusOr<int64_t> MaxId();

  // Dedupe keys of stored rows that are held in memory, not yet in interaction_keys (an
  // estimate from the last write; any thread).
  size_t PendingKeys() const { return pending_count_.load(std::memory_order_relaxed); }
  // Writes the pending keys to interaction_keys in one sorted transaction and forgets them.
  // Errors of Database::WithWriter (nothing changes; they stay pending).
  core::Status IndexKeys();

 private:
  // A stored row whose key is not in interaction_keys yet.
  struct PendingKey {
    int64_t id = 0;
    int64_t seq = 0;
    std::string account_id;
    std::string dedupe_key;
  };
  struct TimeAndHash {
    int64_t occurred_at_ms = 0;
    uint64_t hash = 0;
    bool operator==(const TimeAndHash&) const = default;
  };
  struct TimeAndHashHasher {
    size_t operator()(const TimeAndHash& k) const {
      return static_cast<size_t>(k.hash ^
                                 (static_cast<uint64_t>(k.occurred_at_ms) * 0x9e3779b97f4a7c15ULL));
    }
  };

  // The rest runs under the writer lock, inside a transaction on the writer connection.
  // Makes pending_ hold the keys of exactly the rows above keys_indexed_upto: reloads them from
  // the rows unless what this store saw last is still what the file holds.
  void SyncPending(SQLite::Database& conn);
  // The keys of every row above the mark go to interaction_keys; pending_ is emptied and the
  // known state is the file's.
  void IndexPending(SQLite::Database& conn);
  core::StatusOr<InsertOutcome> InsertOne(SQLite::Statement& insert, SQLite::Statement& by_key,
                                          const model::Interaction& it,
                                          const InsertEncoding& encoding);

  Database& db_;
  std::unordered_multimap<TimeAndHash, PendingKey, TimeAndHashHasher> pending_;
  bool pending_known_ = false;  // false: reload before use (start, failed transaction)
  int64_t known_max_id_ = 0;    // MAX(id) and the mark as of this store's last commit
  int64_t known_indexed_upto_ = 0;
  std::atomic<size_t> pending_count_{0};
};

}  // namespace scrm::storage
