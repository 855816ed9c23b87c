#include "src/storage/interaction_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "src/core/hash_mix.h"
#include "src/core/random.h"
#include "src/model/interaction_json.h"
#include "src/storage/inbox_keys.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

// One statement per new row, with the dedupe_seq the store found free. ON CONFLICT DO NOTHING
// (SQLite >= 3.24, PostgreSQL) reports a taken id as "no row changed" (the inbox writer assigns
// ids above MAX(id), so that is a bug, reported as Internal). The id is ours (bound), so no
// RETURNING: SQLite would collect its row in an ephemeral table, opened and dropped for every
// insert. OR FAIL instead of the default ABORT for the other constraints (NOT NULL): it spares a
// statement journal per row (SQLite copies every page the statement touches, ~12 KiB of
// allocations per row, measured), and it changes nothing here: the statement writes one row, and
// SQLite checks every constraint before it writes anything, so a failing statement has nothing to
// keep; the error then rolls the whole batch's transaction back.
// https://sqlite.org/lang_conflict.html
constexpr char kInsertInteraction[] =
    "INSERT OR FAIL INTO interactions (id, account_id, platform, kind, dedupe_key, dedupe_hash, "
    "dedupe_seq, msg_id, openid, unionid, external_userid, userid, chat_id, to_user, "
    "occurred_at_ms, received_at_ms, payload_json, raw_format, raw_body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING";
// Every indexed key sharing the time and hash: the true duplicate, if any, and genuine
// collisions. The row is read only on such a hit (rare); a key whose row is gone still holds its
// dedupe_seq.
constexpr char kSelectIndexedByHash[] =
    "SELECT k.dedupe_seq, k.id, i.account_id, i.dedupe_key FROM interaction_keys AS k "
    "LEFT JOIN interactions AS i ON i.id = k.id "
    "WHERE k.occurred_at_ms = ? AND k.dedupe_hash = ?";
// The keys of the rows above the mark, to hold in memory.
constexpr char kSelectKeysAbove[] =
    "SELECT id, occurred_at_ms, dedupe_hash, dedupe_seq, account_id, dedupe_key "
    "FROM interactions WHERE id > ? ORDER BY id LIMIT ?";

// The column list ReadInteraction expects, in order.
#define SCRM_INTERACTION_COLUMNS                                                           \
  "id, account_id, platform, kind, dedupe_key, msg_id, openid, unionid, external_userid, " \
  "userid, chat_id, to_user, occurred_at_ms, received_at_ms, payload_json, raw_format, "   \
  "raw_body"
// The same columns with an empty raw_body, for readers that never look at it (the profile
// pipeline): the body is most of a row's bytes, and copying it was ~5 % of the worker's CPU.
#define SCRM_INTERACTION_COLUMNS_WITHOUT_BODY                                              \
  "id, account_id, platform, kind, dedupe_key, msg_id, openid, unionid, external_userid, " \
  "userid, chat_id, to_user, occurred_at_ms, received_at_ms, payload_json, raw_format, "   \
  "'' AS raw_body"

constexpr char kSelectAfter[] =
    "SELECT " SCRM_INTERACTION_COLUMNS " FROM interactions WHERE id > ? ORDER BY id LIMIT ?";
constexpr char kSelectAfterWithoutBody[] = "SELECT " SCRM_INTERACTION_COLUMNS_WITHOUT_BODY
                                           " FROM interactions WHERE id > ? ORDER BY id LIMIT ?";
constexpr char kSelectAfterByAccount[] =
    "SELECT " SCRM_INTERACTION_COLUMNS
    " FROM interactions WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?";
constexpr char kSelectAfterByKind[] =
    "SELECT " SCRM_INTERACTION_COLUMNS
    " FROM interactions WHERE kind = ? AND id > ? ORDER BY id LIMIT ?";
constexpr char kSelectAfterByAccountAndKind[] =
    "SELECT " SCRM_INTERACTION_COLUMNS
    " FROM interactions WHERE account_id = ? AND kind = ? AND id > ? ORDER BY id LIMIT ?";
// A range of ids (the table's own b-tree), then the exact test on received_at_ms: there is no
// index on received_at_ms (one page more rewritten by every inbox commit), and ids are
// time-ordered (ReceivedRangeIds).
constexpr char kSelectReceivedRange[] =
    "SELECT " SCRM_INTERACTION_COLUMNS
    " FROM interactions WHERE id > ? AND id >= ? AND id < ? AND received_at_ms >= ? AND "
    "received_at_ms < ? ORDER BY id LIMIT ?";

#undef SCRM_INTERACTION_COLUMNS
#undef SCRM_INTERACTION_COLUMNS_WITHOUT_BODY

// Cap of ReadAfter/ReadRange: a chunk is held in memory at once.
constexpr size_t kMaxReadLimit = 100000;

constexpr char kSummarizeAfter[] =
    "SELECT COUNT(*), COALESCE(MAX(id), ?) FROM interactions WHERE id > ?";
constexpr char kPeekAfter[] =
    "SELECT id, account_id FROM interactions WHERE id > ? ORDER BY id LIMIT 1";
constexpr char kCountInteractions[] = "SELECT COUNT(*) FROM interactions";
constexpr char kSelectMaxInteractionId[] = "SELECT COALESCE(MAX(id), 0) FROM interactions";

// FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/) and the splitmix64 finaliser, which
// spreads FNV's weak low bits (keys often differ only in their last digits).
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

void FnvBytes(uint64_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
}

void FnvLength(uint64_t& h, size_t length) {
  for (int shift = 0; shift < 64; shift += 8) {
    h ^= (static_cast<uint64_t>(length) >> shift) & 0xffU;
    h *= kFnvPrime;
  }
}

Status ValidateForInsert(const model::Interaction& interaction, size_t index) {
  const auto where = [index] { return "interaction " + std::to_string(index) + " of the batch "; };
  if (interaction.id <= 0) return core::InvalidArgumentError(where() + "has no id");
  if (interaction.account_id.empty()) {
    return core::InvalidArgumentError(where() + "has an empty account_id");
  }
  if (interaction.dedupe_key.empty()) {
    return core::InvalidArgumentError(where() + "has an empty dedupe_key");
  }
  return core::OkStatus();
}

// Binds every column of kInsertInteraction except dedupe_seq (7). The strings must outlive
// the execution (bindNoCopy): payload_json is owned by the caller for that reason.
void BindInsert(SQLite::Statement& insert, const model::Interaction& it, uint64_t hash,
                const std::string& payload_json) {
  insert.bind(1, it.id);
  insert.bindNoCopy(2, it.account_id);
  insert.bind(3, std::string(model::PlatformName(it.platform)));
  insert.bind(4, std::string(model::KindName(it.kind)));
  insert.bindNoCopy(5, it.dedupe_key);
  // Stored as the signed two's-complement image of the hash (SQLite INTEGER is signed).
  insert.bind(6, static_cast<int64_t>(hash));
  insert.bindNoCopy(8, it.msg_id);
  insert.bindNoCopy(9, it.openid);
  insert.bindNoCopy(10, it.unionid);
  insert.bindNoCopy(11, it.external_userid);
  insert.bindNoCopy(12, it.userid);
  insert.bindNoCopy(13, it.chat_id);
  insert.bindNoCopy(14, it.to_user);
  insert.bind(15, it.occurred_at_ms);
  insert.bind(16, it.received_at_ms);
  insert.bindNoCopy(17, payload_json);
  insert.bindNoCopy(18, it.raw_format);
  insert.bindNoCopy(19, it.raw_body);
}

// Reads the current row of a query over SCRM_INTERACTION_COLUMNS.
StatusOr<model::Interaction> ReadInteraction(const SQLite::Statement& row) {
  model::Interaction it;
  it.id = row.getColumn(0).getInt64();
  const auto where = [&it] { return "interaction " + std::to_string(it.id); };
  it.account_id = row.getColumn(1).getString();
  const std::string platform = row.getColumn(2).getString();
  const std::optional<model::Platform> parsed_platform = model::ParsePlatform(platform);
  if (!parsed_platform.has_value()) {
    return core::InternalError(where() + " has unknown platform \"" + platform + "\"");
  }
  it.platform = *parsed_platform;
  const std::string kind = row.getColumn(3).getString();
  const std::optional<model::InteractionKind> parsed_kind = model::ParseKind(kind);
  if (!parsed_kind.has_value()) {
    return core::InternalError(where() + " has unknown kind \"" + kind + "\"");
  }
  it.kind = *parsed_kind;
  it.dedupe_key = row.getColumn(4).getString();
  it.msg_id = row.getColumn(5).getString();
  it.openid = row.getColumn(6).getString();
  it.unionid = row.getColumn(7).getString();
  it.external_userid = row.getColumn(8).getString();
  it.userid = row.getColumn(9).getString();
  it.chat_id = row.getColumn(10).getString();
  it.to_user = row.getColumn(11).getString();
  it.occurred_at_ms = row.getColumn(12).getInt64();
  it.received_at_ms = row.getColumn(13).getInt64();
  const nlohmann::json payload =
      nlohmann::json::parse(row.getColumn(14).getString(), nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) return core::InternalError(where() + " has unparsable payload_json");
  StatusOr<model::Payload> parsed_payload = model::PayloadFromJson(it.kind, payload);
  if (!parsed_payload.ok()) {
    return core::InternalError(where() +
                               " has an unreadable payload: " + parsed_payload.status().message());
  }
  it.payload = std::move(parsed_payload).value();
  it.raw_format = row.getColumn(15).getString();
  it.raw_body = row.getColumn(16).getString();
  return it;
}

Status ValidateLimit(size_t limit, size_t max) {
  if (limit == 0 || limit > max) {
    return core::InvalidArgumentError("limit must be between 1 and " + std::to_string(max));
  }
  return core::OkStatus();
}

// The ids a row received in [from_ms, to_ms) can have: [first, end). The inbox writer assigns
// the id when it commits, from the same clock that stamped received_at_ms a moment before
// (core::IdGenerator: an id's time is never behind its clock), so an id's time is received_at_ms
// plus the wait for the commit. kReceivedToIdSlackMs on both sides covers that wait and a clock
// stepped back between the two readings, with room to spare.
std::pair<int64_t, int64_t> ReceivedRangeIds(int64_t from_ms, int64_t to_ms) {
  constexpr int64_t kMaxMillis = INT64_MAX >> 16;  // core::IdGenerator::UnixMillisOf(INT64_MAX)
  const int64_t first_ms = std::clamp<int64_t>(from_ms, 0, kMaxMillis);
  const int64_t end_ms = std::clamp<int64_t>(to_ms, 0, kMaxMillis);
  const int64_t first =
      core::IdGenerator::FirstIdAt(std::max<int64_t>(0, first_ms - kReceivedToIdSlackMs));
  const int64_t end = end_ms > kMaxMillis - kReceivedToIdSlackMs
                          ? INT64_MAX
                          : core::IdGenerator::FirstIdAt(end_ms + kReceivedToIdSlackMs);
  return {first, end};
}

// SQLite binds 64-bit signed integers; limits are validated far below that.
int64_t AsSqlLimit(size_t limit) { return static_cast<int64_t>(limit); }

// Runs a prepared, bound query and reads every row.
StatusOr<std::vector<model::Interaction>> ReadAll(SQLite::Statement& query, size_t limit) {
  std::vector<model::Interaction> out;
  // Room for a worker chunk up front (no moves while the vector grows), never more than that.
  out.reserve(std::min<size_t>(limit, 4096));
  while (query.executeStep()) {
    SCRM_ASSIGN_OR_RETURN(model::Interaction it, ReadInteraction(query));
    out.push_back(std::move(it));
  }
  return out;
}

}  // namespace

uint64_t DedupeHash(std::string_view account_id, std::string_view dedupe_key) {
  uint64_t h = kFnvOffset;
  FnvLength(h, account_id.size());
  FnvBytes(h, account_id);
  FnvLength(h, dedupe_key.size());
  FnvBytes(h, dedupe_key);
  return core::Mix64(h);
}

InsertEncoding EncodeForInsert(const model::Interaction& interaction) {
  return InsertEncoding{DedupeHash(interaction.account_id, interaction.dedupe_key),
                        model::PayloadToJson(interaction.payload)
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

StatusOr<std::vector<InsertOutcome>> InteractionStore::InsertBatch(
    std::span<const model::Interaction> interactions) {
  std::vector<InsertEncoding> encodings;
  encodings.reserve(interactions.size());
  for (const model::Interaction& interaction : interactions) {
    encodings.push_back(EncodeForInsert(interaction));
  }
  return InsertBatch(interactions, encodings);
}

StatusOr<std::vector<InsertOutcome>> InteractionStore::InsertBatch(
    std::span<const model::Interaction> interactions, std::span<const InsertEncoding> encodings) {
  if (encodings.size() != interactions.size()) {
    return core::InvalidArgumentError("InsertBatch: " + std::to_string(interactions.size()) +
                                      " interactions but " + std::to_string(encodings.size()) +
                                      " encodings");
  }
  for (size_t i = 0; i < interactions.size(); ++i) {
    SCRM_RETURN_IF_ERROR(ValidateForInsert(interactions[i], i));
  }
  std::vector<InsertOutcome> outcomes;
  if (interactions.empty()) return outcomes;
  outcomes.reserve(interactions.size());
  SCRM_RETURN_IF_ERROR(
      db_.WithWriterStatements([&](SQLite::Database& db, StatementCache& statements) -> Status {
        SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
        SyncPending(db);
        // From here until the commit, pending_ runs ahead of the file: a rollback (an error
        // returned or thrown) leaves it to be reloaded.
        pending_known_ = false;
        SQLite::Statement& insert = statements.Get(kInsertInteraction);
        SQLite::Statement& by_key = statements.Get(kSelectIndexedByHash);
        int64_t max_id = known_max_id_;
        for (size_t i = 0; i < interactions.size(); ++i) {
          SCRM_ASSIGN_OR_RETURN(InsertOutcome outcome,
                                InsertOne(insert, by_key, interactions[i], encodings[i]));
          if (!outcome.duplicate) max_id = std::max(max_id, outcome.id);
          outcomes.push_back(outcome);
        }
        if (pending_.size() > kMaxPendingKeys) IndexPending(db);
        transaction.commit();
        known_max_id_ = max_id;
        pending_known_ = true;
        pending_count_.store(pending_.size(), std::memory_order_relaxed);
        return core::OkStatus();
      }));
  return outcomes;
}

Status InteractionStore::IndexKeys() {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Whatever pending_ held, every row is indexed now: nothing to load first.
    pending_known_ = false;
    IndexPending(db);
    transaction.commit();
    pending_known_ = true;
    pending_count_.store(0, std::memory_order_relaxed);
    return core::OkStatus();
  });
}

void InteractionStore::SyncPending(SQLite::Database& conn) {
  const InboxKeyState state = ReadInboxKeyState(conn);
  if (pending_known_ && state.max_id == known_max_id_ &&
      state.indexed_upto == known_indexed_upto_) {
    return;
  }
  pending_.clear();
  known_max_id_ = state.max_id;
  known_indexed_upto_ = state.indexed_upto;
  if (state.max_id > state.indexed_upto) {
    SQLite::Statement keys(conn, kSelectKeysAbove);
    keys.bind(1, state.indexed_upto);
    keys.bind(2, static_cast<int64_t>(kMaxPendingKeys) + 1);
    while (keys.executeStep()) {
      PendingKey key{keys.getColumn(0).getInt64(), keys.getColumn(3).getInt64(),
                     keys.getColumn(4).getString(), keys.getColumn(5).getString()};
      pending_.emplace(TimeAndHash{keys.getColumn(1).getInt64(),
                                   static_cast<uint64_t>(keys.getColumn(2).getInt64())},
                       std::move(key));
    }
    // More than the store holds (an upgrade copied many rows, or a writer that never indexed):
    // index them all now instead.
    if (pending_.size() > kMaxPendingKeys) IndexPending(conn);
  }
  pending_known_ = true;
}

void InteractionStore::IndexPending(SQLite::Database& conn) {
  const InboxKeyState state = IndexInboxKeys(conn);
  pending_.clear();
  known_max_id_ = state.max_id;
  known_indexed_upto_ = state.indexed_upto;
}

StatusOr<InsertOutcome> InteractionStore::InsertOne(SQLite::Statement& insert,
                                                    SQLite::Statement& by_key,
                                                    const model::Interaction& it,
                                                    const InsertEncoding& encoding) {
  const uint64_t hash = encoding.dedupe_hash;
  const TimeAndHash key{it.occurred_at_ms, hash};
  // A hash hit with the same key is a duplicate; with a different key a collision, stored under
  // the next free dedupe_seq so that a genuine event is never dropped.
  int64_t max_seq = -1;
  const auto [first, last] = pending_.equal_range(key);
  for (auto e = first; e != last; ++e) {
    if (e->second.account_id == it.account_id && e->second.dedupe_key == it.dedupe_key) {
      return InsertOutcome{true, e->second.id};
    }
    max_seq = std::max(max_seq, e->second.seq);
  }
  by_key.reset();
  by_key.bind(1, it.occurred_at_ms);
  by_key.bind(2, static_cast<int64_t>(hash));
  while (by_key.executeStep()) {
    const int64_t seq = by_key.getColumn(0).getInt64();
    if (!by_key.getColumn(2).isNull() && by_key.getColumn(2).getString() == it.account_id &&
        by_key.getColumn(3).getString() == it.dedupe_key) {
      const int64_t existing = by_key.getColumn(1).getInt64();
      by_key.reset();
      return InsertOutcome{true, existing};
    }
    max_seq = std::max(max_seq, seq);
  }
  by_key.reset();

  const int64_t seq = max_seq + 1;
  insert.reset();
  BindInsert(insert, it, hash, encoding.payload_json);
  insert.bind(7, seq);
  const int changed = insert.exec();
  insert.reset();
  if (changed == 0) {
    return core::InternalError("interaction id " + std::to_string(it.id) + " is already taken");
  }
  pending_.emplace(key, PendingKey{it.id, seq, it.account_id, it.dedupe_key});
  return InsertOutcome{false, it.id};
}

StatusOr<std::vector<model::Interaction>> InteractionStore::List(const InteractionFilter& filter) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(filter.limit, kMaxListLimit));
  StatusOr<std::vector<model::Interaction>> result = core::InternalError("list did not run");
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    const char* sql = kSelectAfter;
    if (filter.account_id.has_value() && filter.kind.has_value()) {
      sql = kSelectAfterByAccountAndKind;
    } else if (filter.account_id.has_value()) {
      sql = kSelectAfterByAccount;
    } else if (filter.kind.has_value()) {
      sql = kSelectAfterByKind;
    }
    SQLite::Statement query(db, sql);
    int index = 1;
    if (filter.account_id.has_value()) query.bind(index++, *filter.account_id);
    if (filter.kind.has_value()) query.bind(index++, std::string(model::KindName(*filter.kind)));
    query.bind(index++, filter.after_id);
    query.bind(index, AsSqlLimit(filter.limit));
    result = ReadAll(query, filter.limit);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<std::vector<model::Interaction>> InteractionStore::ReadAfter(int64_t after_id,
                                                                      size_t limit,
                                                                      RawBody raw_body) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(limit, kMaxReadLimit));
  StatusOr<std::vector<model::Interaction>> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db,
                            raw_body == RawBody::kRead ? kSelectAfter : kSelectAfterWithoutBody);
    query.bind(1, after_id);
    query.bind(2, AsSqlLimit(limit));
    result = ReadAll(query, limit);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<RowsAfter> InteractionStore::SummarizeAfter(int64_t after_id) {
  RowsAfter rows;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSummarizeAfter);
    query.bind(1, after_id);
    query.bind(2, after_id);
    if (query.executeStep()) {
      rows.count = query.getColumn(0).getInt64();
      rows.last_id = query.getColumn(1).getInt64();
    }
    return core::OkStatus();
  }));
  return rows;
}

StatusOr<std::optional<RowHead>> InteractionStore::PeekAfter(int64_t after_id) {
  std::optional<RowHead> head;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kPeekAfter);
    query.bind(1, after_id);
    if (query.executeStep()) {
      head = RowHead{query.getColumn(0).getInt64(), query.getColumn(1).getString()};
    }
    return core::OkStatus();
  }));
  return head;
}

StatusOr<std::vector<model::Interaction>> InteractionStore::ReadRange(int64_t from_ms,
                                                                      int64_t to_ms,
                                                                      int64_t after_id,
                                                                      size_t limit) {
  if (from_ms > to_ms) return core::InvalidArgumentError("range start is after its end");
  SCRM_RETURN_IF_ERROR(ValidateLimit(limit, kMaxReadLimit));
  StatusOr<std::vector<model::Interaction>> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    const auto [first_id, end_id] = ReceivedRangeIds(from_ms, to_ms);
    SQLite::Statement query(db, kSelectReceivedRange);
    query.bind(1, after_id);
    query.bind(2, first_id);
    query.bind(3, end_id);
    query.bind(4, from_ms);
    query.bind(5, to_ms);
    query.bind(6, AsSqlLimit(limit));
    result = ReadAll(query, limit);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<int64_t> InteractionStore::Count() {
  int64_t count = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    count = db.execAndGet(kCountInteractions).getInt64();
    return core::OkStatus();
  }));
  return count;
}

StatusOr<int64_t> InteractionStore::MaxId() {
  int64_t max_id = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    max_id = db.execAndGet(kSelectMaxInteractionId).getInt64();
    return core::OkStatus();
  }));
  return max_id;
}

}  // namespace scrm::storage
