// ProfileTxn and its SQL over eleven table groups. Over 800 lines until issue 13 ("Core seams")
// splits it into one repository per table group over a shared WriteTxn. Nothing new goes into
// this file before that split.
#include "src/storage/profile_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <utility>

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// SQL. Portable where it can be (ON CONFLICT: SQLite >= 3.24 and PostgreSQL); a duplicate is an
// expected outcome, reported from "no row changed". The statements the ingest worker runs for
// every interaction take the new row id from sqlite3_last_insert_rowid, not from RETURNING:
// SQLite collects RETURNING rows in an ephemeral table, and opening one per statement was
// about a third of the worker's instructions (callgrind on bench/profile_bench). Rare
// statements keep RETURNING where it reads better (an upsert's id, for one).

#define SCRM_CUSTOMER_COLUMNS                                                           \
  "id, stage, stage_reason, stage_staff, owner_userid, attributes_json, "               \
  "first_interaction_at_ms, last_interaction_at_ms, interaction_count, message_count, " \
  "event_count, order_count, paid_order_count, created_at_ms, updated_at_ms, merged_into"
#define SCRM_CUSTOMER_COLUMNS_OF_C                                                       \
  "c.id, c.stage, c.stage_reason, c.stage_staff, c.owner_userid, c.attributes_json, "    \
  "c.first_interaction_at_ms, c.last_interaction_at_ms, c.interaction_count, "           \
  "c.message_count, c.event_count, c.order_count, c.paid_order_count, c.created_at_ms, " \
  "c.updated_at_ms, c.merged_into"
#define SCRM_IDENTITY_COLUMNS "id, customer_id, platform, account_id, kind, value, created_at_ms"
#define SCRM_TAG_DETAIL_COLUMNS                                                        \
  "t.id, t.group_id, t.name, t.threshold, t.wecom_tag_id, t.oa_tag_id, g.id, g.name, " \
  "g.half_life_days, g.threshold, g.wecom_group_id"
#define SCRM_TAG_GROUP_COLUMNS "id, name, half_life_days, threshold, wecom_group_id"
#define SCRM_CUSTOMER_TAG_COLUMNS                                         \
  "customer_id, tag_id, score, updated_at_ms, source, evidence_rule_id, " \
  "evidence_rule_version, evidence_interaction_id, decays"
#define SCRM_TIMELINE_COLUMNS "id, customer_id, interaction_id, kind, at_ms, summary"
#define SCRM_TASK_COLUMNS                                                                    \
  "id, customer_id, owner_userid, title, due_at_ms, source_interaction_id, source_rule_id, " \
  "status, created_at_ms"
#define SCRM_FOLLOWER_COLUMNS \
  "id, customer_id, account_id, userid, state, added_at_ms, removed_at_ms, is_owner"
#define SCRM_MERGE_COLUMNS "id, survivor_id, merged_id, at_ms, reason, undone_at_ms"

// customers
constexpr char kInsertCustomer[] =
    "INSERT INTO customers (stage, stage_reason, stage_staff, owner_userid, attributes_json, "
    "first_interaction_at_ms, last_interaction_at_ms, interaction_count, message_count, "
    "event_count, order_count, paid_order_count, created_at_ms, updated_at_ms, merged_into) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kSelectCustomer[] = "SELECT " SCRM_CUSTOMER_COLUMNS " FROM customers WHERE id = ?";
constexpr char kUpdateCustomer[] =
    "UPDATE customers SET stage = ?, stage_reason = ?, stage_staff = ?, owner_userid = ?, "
    "attributes_json = ?, first_interaction_at_ms = ?, last_interaction_at_ms = ?, "
    "interaction_count = ?, message_count = ?, event_count = ?, order_count = ?, "
    "paid_order_count = ?, created_at_ms = ?, updated_at_ms = ?, merged_into = ? WHERE id = ?";
// ListCustomers: every filter is "(? IS NULL OR ...)", so one statement serves every
// combination; ids ascend (rowid order).
constexpr char kSelectCustomersPage[] =
    "SELECT " SCRM_CUSTOMER_COLUMNS
    " FROM customers c WHERE c.merged_into IS NULL AND c.id > ?1"
    " AND (?2 IS NULL OR c.stage = ?2) AND (?3 IS NULL OR c.owner_userid = ?3)"
    " AND (?4 IS NULL OR c.updated_at_ms > ?4)"
    " AND (?5 IS NULL OR EXISTS (SELECT 1 FROM identities i WHERE i.value = ?5"
    " AND i.customer_id = c.id) OR c.attributes_json LIKE ?6 ESCAPE '\\')"
    " ORDER BY c.id LIMIT ?7";
// With a tag: walks customer_tags_tag (tag_id, customer_id) instead of every customer. The
// score and its time follow the customer's columns (for CustomerFilter::tag_score_filter).
constexpr char kSelectCustomersByTagPage[] =
    "SELECT " SCRM_CUSTOMER_COLUMNS_OF_C
    ", ct.score, ct.updated_at_ms, ct.decays FROM customer_tags ct"
    " JOIN customers c ON c.id = ct.customer_id"
    " WHERE ct.tag_id = ?8 AND ct.customer_id > ?1 AND c.merged_into IS NULL"
    " AND (?2 IS NULL OR c.stage = ?2) AND (?3 IS NULL OR c.owner_userid = ?3)"
    " AND (?4 IS NULL OR c.updated_at_ms > ?4)"
    " AND (?5 IS NULL OR EXISTS (SELECT 1 FROM identities i WHERE i.value = ?5"
    " AND i.customer_id = c.id) OR c.attributes_json LIKE ?6 ESCAPE '\\')"
    " ORDER BY ct.customer_id LIMIT ?7";

// identities
constexpr char kSelectCustomerByIdentity[] =
    "SELECT " SCRM_CUSTOMER_COLUMNS_OF_C
    " FROM identities i JOIN customers c ON c.id = i.customer_id"
    " WHERE i.value = ? AND i.kind = ? AND i.account_id = ? AND i.platform = ?";
constexpr char kSelectIdentityByKey[] =
    "SELECT " SCRM_IDENTITY_COLUMNS
    " FROM identities WHERE value = ? AND kind = ? AND account_id = ? AND platform = ?";
constexpr char kInsertIdentity[] =
    "INSERT INTO identities (customer_id, platform, account_id, kind, value, created_at_ms) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
constexpr char kSelectIdentitiesOfCustomer[] =
    "SELECT " SCRM_IDENTITY_COLUMNS " FROM identities WHERE customer_id = ? ORDER BY id";
constexpr char kSelectIdentityIdsOfCustomer[] =
    "SELECT id FROM identities WHERE customer_id = ? ORDER BY id";
constexpr char kMoveIdentity[] = "UPDATE identities SET customer_id = ? WHERE id = ?";

// tag groups and tags
constexpr char kSelectTagByNames[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE g.name = ? AND t.name = ?";
constexpr char kSelectTagById[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.id = ?";
constexpr char kSelectTagByWecomId[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.wecom_tag_id = ?";
constexpr char kSelectAllTags[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id ORDER BY g.id, t.id";
constexpr char kSelectTagsPage[] =
    "SELECT " SCRM_TAG_DETAIL_COLUMNS
    " FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE (?1 IS NULL OR g.name = ?1) AND "
    "t.id > ?2 ORDER BY t.id LIMIT ?3";
// Pushed tags (tag_pushes, migration 7) after a key, with the customer's stored score on the tag
// (NULL when the row is gone) and the tag's decay and mapping now, for the decay sweep.
constexpr char kSelectPushedTagStates[] =
    "SELECT p.customer_id, p.account_id, p.target, p.tag_id, p.platform_tag_id, ct.score, "
    "ct.updated_at_ms, ct.source, g.half_life_days, COALESCE(t.threshold, g.threshold), "
    "t.wecom_tag_id, t.oa_tag_id, ct.decays FROM tag_pushes p JOIN tags t ON t.id = p.tag_id "
    "JOIN tag_groups g ON g.id = t.group_id "
    "LEFT JOIN customer_tags ct ON ct.customer_id = p.customer_id AND ct.tag_id = p.tag_id "
    "WHERE (p.customer_id, p.account_id, p.target, p.tag_id) > (?, ?, ?, ?) "
    "ORDER BY p.customer_id, p.account_id, p.target, p.tag_id LIMIT ?";
constexpr char kSelectAllTagGroups[] =
    "SELECT " SCRM_TAG_GROUP_COLUMNS " FROM tag_groups ORDER BY id";
constexpr char kSelectTagGroupByName[] =
    "SELECT " SCRM_TAG_GROUP_COLUMNS " FROM tag_groups WHERE name = ?";
constexpr char kInsertTagGroup[] =
    "INSERT INTO tag_groups (name, half_life_days, threshold, wecom_group_id) VALUES (?, ?, ?, ?) "
    "RETURNING id";
constexpr char kInsertTag[] =
    "INSERT INTO tags (group_id, name, threshold, wecom_tag_id, oa_tag_id) VALUES (?, ?, ?, ?, ?) "
    "RETURNING id";
constexpr char kUpdateTag[] =
    "UPDATE tags SET name = ?, threshold = ?, wecom_tag_id = ?, oa_tag_id = ? WHERE id = ?";
constexpr char kUpdateTagGroup[] =
    "UPDATE tag_groups SET name = ?, half_life_days = ?, threshold = ?, wecom_group_id = ? "
    "WHERE id = ?";
constexpr char kClearWecomTag[] = "UPDATE tags SET wecom_tag_id = '' WHERE wecom_tag_id = ?";
constexpr char kClearWecomTagsOfGroup[] =
    "UPDATE tags SET wecom_tag_id = '' WHERE wecom_tag_id <> '' AND group_id IN "
    "(SELECT id FROM tag_groups WHERE wecom_group_id = ?)";
constexpr char kClearWecomGroup[] =
    "UPDATE tag_groups SET wecom_group_id = '' WHERE wecom_group_id = ?";

// customer tags
constexpr char kSelectCustomerTag[] =
    "SELECT " SCRM_CUSTOMER_TAG_COLUMNS " FROM customer_tags WHERE customer_id = ? AND tag_id = ?";
constexpr char kUpsertCustomerTag[] =
    "INSERT INTO customer_tags (" SCRM_CUSTOMER_TAG_COLUMNS
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, tag_id) DO UPDATE SET "
    "score = excluded.score, updated_at_ms = excluded.updated_at_ms, source = excluded.source, "
    "decays = excluded.decays, "
    "evidence_rule_id = excluded.evidence_rule_id, "
    "evidence_rule_version = excluded.evidence_rule_version, "
    "evidence_interaction_id = excluded.evidence_interaction_id";
constexpr char kDeleteCustomerTag[] =
    "DELETE FROM customer_tags WHERE customer_id = ? AND tag_id = ?";
constexpr char kSelectCustomerTags[] =
    "SELECT " SCRM_CUSTOMER_TAG_COLUMNS " FROM customer_tags WHERE customer_id = ? ORDER BY tag_id";
constexpr char kSelectCustomerTagDetails[] =
    "SELECT ct.customer_id, ct.tag_id, ct.score, ct.updated_at_ms, ct.source, "
    "ct.evidence_rule_id, ct.evidence_rule_version, "
    "ct.evidence_interaction_id, ct.decays, " SCRM_TAG_DETAIL_COLUMNS
    " FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id JOIN tag_groups g ON g.id = t.group_id"
    " WHERE ct.customer_id = ? ORDER BY ct.tag_id";
constexpr char kSelectLocalTagHolders[] =
    "SELECT " SCRM_CUSTOMER_TAG_COLUMNS
    " FROM customer_tags WHERE tag_id = ? AND source <> 'platform' ORDER BY customer_id";
constexpr char kMoveCustomerTag[] =
    "UPDATE customer_tags SET customer_id = ? WHERE customer_id = ? AND tag_id = ?";

// timeline
constexpr char kInsertTimeline[] =
    "INSERT INTO timeline (customer_id, interaction_id, kind, at_ms, summary) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
constexpr char kCountTimelineWindow[] =
    "SELECT COUNT(*) FROM timeline WHERE customer_id = ? AND kind = ? AND interaction_id >= ? "
    "AND interaction_id <= ? AND at_ms >= ? AND at_ms <= ?";
constexpr char kSelectTimelinePage[] = "SELECT " SCRM_TIMELINE_COLUMNS
                                       " FROM timeline WHERE customer_id = ? AND id > ? "
                                       "ORDER BY id LIMIT ?";
constexpr char kSelectMovableTimelineIds[] =
    "SELECT m.id FROM timeline m WHERE m.customer_id = ?1 AND NOT EXISTS (SELECT 1 FROM "
    "timeline s WHERE s.customer_id = ?2 AND s.kind = m.kind AND "
    "s.interaction_id = m.interaction_id) ORDER BY m.id";
constexpr char kMoveTimelineEntry[] = "UPDATE timeline SET customer_id = ? WHERE id = ?";

// tasks
constexpr char kInsertTask[] =
    "INSERT INTO tasks (customer_id, owner_userid, title, due_at_ms, source_interaction_id, "
    "source_rule_id, status, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING";
constexpr char kSelectTask[] = "SELECT " SCRM_TASK_COLUMNS " FROM tasks WHERE id = ?";
constexpr char kSelectTasksOfCustomer[] =
    "SELECT " SCRM_TASK_COLUMNS " FROM tasks WHERE customer_id = ? ORDER BY id";
constexpr char kSelectTaskIdsOfCustomer[] =
    "SELECT id FROM tasks WHERE customer_id = ? ORDER BY id";
constexpr char kSelectTasksOfOwner[] =
    "SELECT " SCRM_TASK_COLUMNS
    " FROM tasks WHERE owner_userid = ?1 AND (?2 IS NULL OR status = ?2) AND id > ?3 "
    "ORDER BY id LIMIT ?4";
constexpr char kUpdateTaskStatus[] = "UPDATE tasks SET status = ? WHERE id = ?";
constexpr char kMoveTask[] = "UPDATE tasks SET customer_id = ? WHERE id = ?";

// followers
constexpr char kSelectFollowersOfCustomer[] =
    "SELECT " SCRM_FOLLOWER_COLUMNS " FROM followers WHERE customer_id = ? ORDER BY id";
constexpr char kUpsertFollower[] =
    "INSERT INTO followers (customer_id, account_id, userid, state, added_at_ms, removed_at_ms, "
    "is_owner) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, account_id, userid) "
    "DO UPDATE SET state = excluded.state, added_at_ms = excluded.added_at_ms, "
    "removed_at_ms = excluded.removed_at_ms, is_owner = excluded.is_owner RETURNING id";
constexpr char kSelectMovableFollowerIds[] =
    "SELECT m.id FROM followers m WHERE m.customer_id = ?1 AND NOT EXISTS (SELECT 1 FROM "
    "followers s WHERE s.customer_id = ?2 AND s.account_id = m.account_id AND "
    "s.userid = m.userid) ORDER BY m.id";
constexpr char kMoveFollower[] = "UPDATE followers SET customer_id = ? WHERE id = ?";

// applied effects
constexpr char kInsertEffect[] =
    "INSERT INTO applied_effects (interaction_id, effect_key) VALUES (?, ?) "
    "ON CONFLICT DO NOTHING";

// merges
constexpr char kInsertMerge[] =
    "INSERT INTO merges (survivor_id, merged_id, at_ms, reason, undone_at_ms, undo_json) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id";
constexpr char kSelectMerge[] = "SELECT " SCRM_MERGE_COLUMNS ", undo_json FROM merges WHERE id = ?";
constexpr char kSelectMergesOfCustomer[] =
    "SELECT " SCRM_MERGE_COLUMNS
    " FROM merges WHERE survivor_id = ?1 UNION SELECT " SCRM_MERGE_COLUMNS
    " FROM merges WHERE merged_id = ?1 ORDER BY 1";
constexpr char kMarkMergeUndone[] =
    "UPDATE merges SET undone_at_ms = ? WHERE id = ? AND undone_at_ms IS NULL";
constexpr char kInsertMergeExclusion[] =
    "INSERT INTO merge_exclusions (customer_a, customer_b) VALUES (?, ?) ON CONFLICT DO NOTHING";
constexpr char kSelectMergeExclusion[] =
    "SELECT COUNT(*) FROM merge_exclusions WHERE customer_a = ? AND customer_b = ?";

// The writer connection's page cache. SQLite's default (2 MiB) holds a fraction of the
// customer-keyed b-trees the ingest worker touches on every interaction, so most page reads
// became pread() calls: ~1.6x slower on bench/profile_bench. 64 MiB is a cap (pages are
// allocated as used), the OS page cache holds the rest. Set once per connection (it lasts as
// long as the connection); belongs with DatabaseOptions once storage grows per-connection tuning.
// Only the main file's writer has it: the inbox writer (its own file and connection) keeps
// SQLite's default, because each of its commits walks a structure that grows with its
// connection's page cache (most likely pcache1's hash table, truncated at the end of each
// transaction), which cost the inbox writer ~20 % of its time at 64 MiB (docs/performance.md
// "Durable ingest").
constexpr char kPragmaWriterCacheSize[] = "PRAGMA cache_size=-65536";

// ingest cursor (the table of migration 2, written here inside the profile transaction)
constexpr char kUpsertCursor[] =
    "INSERT INTO ingest_cursors (processor, last_id) VALUES (?, ?) "
    "ON CONFLICT (processor) DO UPDATE SET last_id = excluded.last_id";

#undef SCRM_CUSTOMER_COLUMNS
#undef SCRM_CUSTOMER_COLUMNS_OF_C
#undef SCRM_IDENTITY_COLUMNS
#undef SCRM_TAG_DETAIL_COLUMNS
#undef SCRM_TAG_GROUP_COLUMNS
#undef SCRM_CUSTOMER_TAG_COLUMNS
#undef SCRM_TIMELINE_COLUMNS
#undef SCRM_TASK_COLUMNS
#undef SCRM_FOLLOWER_COLUMNS
#undef SCRM_MERGE_COLUMNS

// ---------------------------------------------------------------------------------------------
// Errors: the same mapping as Database::WithWriter, applied per call so that no SQLiteCpp
// exception reaches the domain code between two calls of one transaction.

Status FromSqliteException(const SQLite::Exception& e) {
  const std::string message = std::string("sqlite: ") + e.what();
  const int code = e.getErrorCode() < 0 ? -1 : (e.getErrorCode() & 0xff);
  switch (code) {
    case SQLITE_CONSTRAINT:
      switch (e.getExtendedErrorCode()) {
        case SQLITE_CONSTRAINT_CHECK:
        case SQLITE_CONSTRAINT_NOTNULL: return core::InvalidArgumentError(message);
        case SQLITE_CONSTRAINT_FOREIGNKEY: return core::FailedPreconditionError(message);
        default: return core::AlreadyExistsError(message);
      }
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return core::UnavailableError(message);
    default: return core::InternalError(message);
  }
}

template <typename Fn>
auto Guarded(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const SQLite::Exception& e) {
    return FromSqliteException(e);
  } catch (const json::exception& e) {
    return core::InternalError(std::string("profile store: bad stored JSON: ") + e.what());
  } catch (const std::exception& e) {
    return core::InternalError(std::string("profile store: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Statements, prepared once per session (a transaction, or one read) and reused.

class Session {
 public:
  explicit Session(SQLite::Database& db) : db_(db) {}

  // The statement for `sql` (a constant of this file), ready to bind: every use is scoped by a
  // Done, which resets it, and binds every parameter (NULL explicitly), so neither a reset nor
  // clearing the bindings is needed here (each is a library call on the hot path).
  SQLite::Statement& operator()(const char* sql) {
    std::unique_ptr<SQLite::Statement>& slot = cache_[sql];
    if (slot == nullptr) slot = std::make_unique<SQLite::Statement>(db_, sql);
    return *slot;
  }

 private:
  SQLite::Database& db_;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> cache_;
};

// Resets a statement when the scope ends (also when a step threw), so no read cursor outlives
// its use and the next user finds it ready. tryReset: a statement whose last step failed
// reports that failure again on reset, which is not news here.
class Done {
 public:
  explicit Done(SQLite::Statement& statement) : statement_(statement) {}
  ~Done() { statement_.tryReset(); }
  Done(const Done&) = delete;
  Done& operator=(const Done&) = delete;

 private:
  SQLite::Statement& statement_;
};

// ---------------------------------------------------------------------------------------------
// Binding and reading rows

void BindText(SQLite::Statement& st, int index, std::string_view text) {
  st.bind(index, std::string(text));
}

void BindOptionalText(SQLite::Statement& st, int index, const std::optional<std::string>& text) {
  if (text.has_value()) {
    st.bind(index, *text);
  } else {
    st.bind(index);
  }
}

void BindOptionalInt(SQLite::Statement& st, int index, const std::optional<int64_t>& value) {
  if (value.has_value()) {
    st.bind(index, *value);
  } else {
    st.bind(index);
  }
}

void BindOptionalDouble(SQLite::Statement& st, int index, const std::optional<double>& value) {
  if (value.has_value()) {
    st.bind(index, *value);
  } else {
    st.bind(index);
  }
}

std::optional<int64_t> OptionalInt(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getInt64();
}

constexpr char kEmptyAttributes[] = "{}";

std::string AttributesToJson(const std::map<std::string, std::string>& attributes) {
  if (attributes.empty()) return kEmptyAttributes;  // most customers: skip the JSON library
  json object = json::object();
  for (const auto& [key, value] : attributes) object[key] = value;
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

StatusOr<std::map<std::string, std::string>> AttributesFromJson(const std::string& text,
                                                                int64_t customer_id) {
  if (text == kEmptyAttributes) return std::map<std::string, std::string>();
  const json object = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return core::InternalError("customer " + std::to_string(customer_id) +
                               " has unreadable attributes_json");
  }
  std::map<std::string, std::string> attributes;
  for (const auto& item : object.items()) {
    if (!item.value().is_string()) {
      return core::InternalError("customer " + std::to_string(customer_id) +
                                 " has a non-string attribute");
    }
    attributes.emplace(item.key(), item.value().get<std::string>());
  }
  return attributes;
}

// Binds every column but id of kInsertCustomer / kUpdateCustomer (1..15).
void BindCustomer(SQLite::Statement& st, const model::Customer& c) {
  BindText(st, 1, model::LifecycleStageName(c.stage));
  st.bind(2, c.stage_reason);
  st.bind(3, c.stage_staff);
  st.bind(4, c.owner_userid);
  st.bind(5, AttributesToJson(c.attributes));
  st.bind(6, c.first_interaction_at_ms);
  st.bind(7, c.last_interaction_at_ms);
  st.bind(8, c.counters.interactions);
  st.bind(9, c.counters.messages);
  st.bind(10, c.counters.events);
  st.bind(11, c.counters.orders);
  st.bind(12, c.counters.paid_orders);
  st.bind(13, c.created_at_ms);
  st.bind(14, c.updated_at_ms);
  BindOptionalInt(st, 15, c.merged_into);
}

// Columns ReadCustomer reads (SCRM_CUSTOMER_COLUMNS); a query's own columns follow them.
constexpr int kCustomerColumnCount = 16;

StatusOr<model::Customer> ReadCustomer(const SQLite::Statement& row) {
  model::Customer c;
  c.id = row.getColumn(0).getInt64();
  const std::string stage = row.getColumn(1).getString();
  const std::optional<model::LifecycleStage> parsed = model::ParseLifecycleStage(stage);
  if (!parsed.has_value()) {
    return core::InternalError("customer " + std::to_string(c.id) + " has unknown stage");
  }
  c.stage = *parsed;
  c.stage_reason = row.getColumn(2).getString();
  c.stage_staff = row.getColumn(3).getString();
  c.owner_userid = row.getColumn(4).getString();
  SCRM_ASSIGN_OR_RETURN(c.attributes, AttributesFromJson(row.getColumn(5).getString(), c.id));
  c.first_interaction_at_ms = row.getColumn(6).getInt64();
  c.last_interaction_at_ms = row.getColumn(7).getInt64();
  c.counters.interactions = row.getColumn(8).getInt64();
  c.counters.messages = row.getColumn(9).getInt64();
  c.counters.events = row.getColumn(10).getInt64();
  c.counters.orders = row.getColumn(11).getInt64();
  c.counters.paid_orders = row.getColumn(12).getInt64();
  c.created_at_ms = row.getColumn(13).getInt64();
  c.updated_at_ms = row.getColumn(14).getInt64();
  c.merged_into = OptionalInt(row.getColumn(15));
  return c;
}

StatusOr<model::Identity> ReadIdentity(const SQLite::Statement& row) {
  model::Identity identity;
  identity.id = row.getColumn(0).getInt64();
  identity.customer_id = row.getColumn(1).getInt64();
  identity.platform = row.getColumn(2).getString();
  identity.account_id = row.getColumn(3).getString();
  const std::optional<model::IdentityKind> kind =
      model::ParseIdentityKind(row.getColumn(4).getString());
  if (!kind.has_value()) {
    return core::InternalError("identity " + std::to_string(identity.id) + " has unknown kind");
  }
  identity.kind = *kind;
  identity.value = row.getColumn(5).getString();
  identity.created_at_ms = row.getColumn(6).getInt64();
  return identity;
}

// Columns first..first+10 of SCRM_TAG_DETAIL_COLUMNS.
model::TagDetail ReadTagDetail(const SQLite::Statement& row, int first) {
  model::TagDetail detail;
  detail.tag.id = row.getColumn(first).getInt64();
  detail.tag.group_id = row.getColumn(first + 1).getInt64();
  detail.tag.name = row.getColumn(first + 2).getString();
  if (!row.getColumn(first + 3).isNull())
    detail.tag.threshold = row.getColumn(first + 3).getDouble();
  detail.tag.wecom_tag_id = row.getColumn(first + 4).getString();
  detail.tag.oa_tag_id = row.getColumn(first + 5).getInt64();
  detail.group.id = row.getColumn(first + 6).getInt64();
  detail.group.name = row.getColumn(first + 7).getString();
  detail.group.half_life_days = row.getColumn(first + 8).getInt();
  detail.group.threshold = row.getColumn(first + 9).getDouble();
  detail.group.wecom_group_id = row.getColumn(first + 10).getString();
  return detail;
}

model::TagGroup ReadTagGroup(const SQLite::Statement& row) {
  model::TagGroup group;
  group.id = row.getColumn(0).getInt64();
  group.name = row.getColumn(1).getString();
  group.half_life_days = row.getColumn(2).getInt();
  group.threshold = row.getColumn(3).getDouble();
  group.wecom_group_id = row.getColumn(4).getString();
  return group;
}

void BindCustomerTag(SQLite::Statement& st, const model::CustomerTag& tag) {
  st.bind(1, tag.customer_id);
  st.bind(2, tag.tag_id);
  st.bind(3, tag.score);
  st.bind(4, tag.updated_at_ms);
  BindText(st, 5, model::TagSourceName(tag.source));
  st.bind(6, tag.evidence_rule_id);
  st.bind(7, tag.evidence_rule_version);
  st.bind(8, tag.evidence_interaction_id);
  st.bind(9, tag.decays ? 1 : 0);
}

StatusOr<model::CustomerTag> ReadCustomerTag(const SQLite::Statement& row) {
  model::CustomerTag tag;
  tag.customer_id = row.getColumn(0).getInt64();
  tag.tag_id = row.getColumn(1).getInt64();
  tag.score = row.getColumn(2).getDouble();
  tag.updated_at_ms = row.getColumn(3).getInt64();
  const std::optional<model::TagSource> source =
      model::ParseTagSource(row.getColumn(4).getString());
  if (!source.has_value()) {
    return core::InternalError("customer tag (" + std::to_string(tag.customer_id) + ", " +
                               std::to_string(tag.tag_id) + ") has unknown source");
  }
  tag.source = *source;
  tag.evidence_rule_id = row.getColumn(5).getInt64();
  tag.evidence_rule_version = row.getColumn(6).getInt();
  tag.evidence_interaction_id = row.getColumn(7).getInt64();
  tag.decays = row.getColumn(8).getInt() != 0;
  return tag;
}

model::TimelineEntry ReadTimeline(const SQLite::Statement& row) {
  model::TimelineEntry entry;
  entry.id = row.getColumn(0).getInt64();
  entry.customer_id = row.getColumn(1).getInt64();
  entry.interaction_id = row.getColumn(2).getInt64();
  entry.kind = row.getColumn(3).getString();
  entry.at_ms = row.getColumn(4).getInt64();
  entry.summary = row.getColumn(5).getString();
  return entry;
}

StatusOr<model::FollowUpTask> ReadTask(const SQLite::Statement& row) {
  model::FollowUpTask task;
  task.id = row.getColumn(0).getInt64();
  task.customer_id = row.getColumn(1).getInt64();
  task.owner_userid = row.getColumn(2).getString();
  task.title = row.getColumn(3).getString();
  task.due_at_ms = row.getColumn(4).getInt64();
  task.source_interaction_id = OptionalInt(row.getColumn(5)).value_or(0);
  task.source_rule_id = row.getColumn(6).getInt64();
  const std::optional<model::TaskStatus> status =
      model::ParseTaskStatus(row.getColumn(7).getString());
  if (!status.has_value()) {
    return core::InternalError("task " + std::to_string(task.id) + " has unknown status");
  }
  task.status = *status;
  task.created_at_ms = row.getColumn(8).getInt64();
  return task;
}

StatusOr<model::Follower> ReadFollower(const SQLite::Statement& row) {
  model::Follower follower;
  follower.id = row.getColumn(0).getInt64();
  follower.customer_id = row.getColumn(1).getInt64();
  follower.account_id = row.getColumn(2).getString();
  follower.userid = row.getColumn(3).getString();
  const std::optional<model::FollowerState> state =
      model::ParseFollowerState(row.getColumn(4).getString());
  if (!state.has_value()) {
    return core::InternalError("follower " + std::to_string(follower.id) + " has unknown state");
  }
  follower.state = *state;
  follower.added_at_ms = row.getColumn(5).getInt64();
  follower.removed_at_ms = row.getColumn(6).getInt64();
  follower.is_owner = row.getColumn(7).getInt() != 0;
  return follower;
}

model::MergeRecord ReadMerge(const SQLite::Statement& row) {
  model::MergeRecord record;
  record.id = row.getColumn(0).getInt64();
  record.survivor_id = row.getColumn(1).getInt64();
  record.merged_id = row.getColumn(2).getInt64();
  record.at_ms = row.getColumn(3).getInt64();
  record.reason = row.getColumn(4).getString();
  record.undone_at_ms = OptionalInt(row.getColumn(5));
  return record;
}

// ---------------------------------------------------------------------------------------------
// The undo state of a merge, as JSON in merges.undo_json. Doubles round-trip exactly through
// nlohmann (shortest representation), so a restored score equals the stored one bit for bit.

json CustomerToJson(const model::Customer& c) {
  json attributes = json::object();
  for (const auto& [key, value] : c.attributes) attributes[key] = value;
  return json{{"id", c.id},
              {"stage", std::string(model::LifecycleStageName(c.stage))},
              {"stage_reason", c.stage_reason},
              {"stage_staff", c.stage_staff},
              {"owner_userid", c.owner_userid},
              {"attributes", attributes},
              {"first_interaction_at_ms", c.first_interaction_at_ms},
              {"last_interaction_at_ms", c.last_interaction_at_ms},
              {"interactions", c.counters.interactions},
              {"messages", c.counters.messages},
              {"events", c.counters.events},
              {"orders", c.counters.orders},
              {"paid_orders", c.counters.paid_orders},
              {"created_at_ms", c.created_at_ms},
              {"updated_at_ms", c.updated_at_ms},
              {"merged_into", c.merged_into.has_value() ? json(*c.merged_into) : json()}};
}

model::Customer CustomerFromJson(const json& j) {
  model::Customer c;
  c.id = j.at("id").get<int64_t>();
  c.stage = model::ParseLifecycleStage(j.at("stage").get<std::string>())
                .value_or(model::LifecycleStage::kNew);
  c.stage_reason = j.at("stage_reason").get<std::string>();
  c.stage_staff = j.at("stage_staff").get<std::string>();
  c.owner_userid = j.at("owner_userid").get<std::string>();
  for (const auto& item : j.at("attributes").items()) {
    c.attributes.emplace(item.key(), item.value().get<std::string>());
  }
  c.first_interaction_at_ms = j.at("first_interaction_at_ms").get<int64_t>();
  c.last_interaction_at_ms = j.at("last_interaction_at_ms").get<int64_t>();
  c.counters.interactions = j.at("interactions").get<int64_t>();
  c.counters.messages = j.at("messages").get<int64_t>();
  c.counters.events = j.at("events").get<int64_t>();
  c.counters.orders = j.at("orders").get<int64_t>();
  c.counters.paid_orders = j.at("paid_orders").get<int64_t>();
  c.created_at_ms = j.at("created_at_ms").get<int64_t>();
  c.updated_at_ms = j.at("updated_at_ms").get<int64_t>();
  if (!j.at("merged_into").is_null()) c.merged_into = j.at("merged_into").get<int64_t>();
  return c;
}

json CustomerTagsToJson(const std::vector<model::CustomerTag>& tags) {
  json array = json::array();
  for (const model::CustomerTag& t : tags) {
    array.push_back(json{{"customer_id", t.customer_id},
                         {"tag_id", t.tag_id},
                         {"score", t.score},
                         {"updated_at_ms", t.updated_at_ms},
                         {"source", std::string(model::TagSourceName(t.source))},
                         {"evidence_rule_id", t.evidence_rule_id},
                         {"evidence_rule_version", t.evidence_rule_version},
                         {"evidence_interaction_id", t.evidence_interaction_id}});
  }
  return array;
}

std::vector<model::CustomerTag> CustomerTagsFromJson(const json& array) {
  std::vector<model::CustomerTag> tags;
  for (const json& j : array) {
    model::CustomerTag t;
    t.customer_id = j.at("customer_id").get<int64_t>();
    t.tag_id = j.at("tag_id").get<int64_t>();
    t.score = j.at("score").get<double>();
    t.updated_at_ms = j.at("updated_at_ms").get<int64_t>();
    t.source =
        model::ParseTagSource(j.at("source").get<std::string>()).value_or(model::TagSource::kRule);
    t.evidence_rule_id = j.at("evidence_rule_id").get<int64_t>();
    t.evidence_rule_version = j.at("evidence_rule_version").get<int>();
    t.evidence_interaction_id = j.at("evidence_interaction_id").get<int64_t>();
    tags.push_back(t);
  }
  return tags;
}

std::string UndoStateToJson(const model::MergeUndoState& undo) {
  const json j{{"survivor_before", CustomerToJson(undo.survivor_before)},
               {"survivor_after", CustomerToJson(undo.survivor_after)},
               {"merged_before", CustomerToJson(undo.merged_before)},
               {"survivor_tags_before", CustomerTagsToJson(undo.survivor_tags_before)},
               {"survivor_tags_after", CustomerTagsToJson(undo.survivor_tags_after)},
               {"merged_tags", CustomerTagsToJson(undo.merged_tags)},
               {"identity_ids", undo.identity_ids},
               {"timeline_ids", undo.timeline_ids},
               {"task_ids", undo.task_ids},
               {"follower_ids", undo.follower_ids}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Throws json::exception on a malformed document (turned into Internal by Guarded).
model::MergeUndoState UndoStateFromJson(const std::string& text) {
  const json j = json::parse(text);
  model::MergeUndoState undo;
  undo.survivor_before = CustomerFromJson(j.at("survivor_before"));
  undo.survivor_after = CustomerFromJson(j.at("survivor_after"));
  undo.merged_before = CustomerFromJson(j.at("merged_before"));
  undo.survivor_tags_before = CustomerTagsFromJson(j.at("survivor_tags_before"));
  undo.survivor_tags_after = CustomerTagsFromJson(j.at("survivor_tags_after"));
  undo.merged_tags = CustomerTagsFromJson(j.at("merged_tags"));
  undo.identity_ids = j.at("identity_ids").get<std::vector<int64_t>>();
  undo.timeline_ids = j.at("timeline_ids").get<std::vector<int64_t>>();
  undo.task_ids = j.at("task_ids").get<std::vector<int64_t>>();
  undo.follower_ids = j.at("follower_ids").get<std::vector<int64_t>>();
  return undo;
}

// ---------------------------------------------------------------------------------------------
// Queries shared by ProfileTxn and the read side.

StatusOr<std::optional<model::Customer>> QueryCustomer(Session& s, int64_t id) {
  SQLite::Statement& q = s(kSelectCustomer);
  Done done(q);
  q.bind(1, id);
  if (!q.executeStep()) return std::optional<model::Customer>();
  SCRM_ASSIGN_OR_RETURN(model::Customer c, ReadCustomer(q));
  return std::optional<model::Customer>(std::move(c));
}

StatusOr<model::Customer> QueryCustomerOrNotFound(Session& s, int64_t id) {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::Customer> c, QueryCustomer(s, id));
  if (!c.has_value()) return core::NotFoundError("customer " + std::to_string(id) + " not found");
  return std::move(*c);
}

StatusOr<std::optional<model::Identity>> QueryIdentity(Session& s, std::string_view platform,
                                                       std::string_view account_id,
                                                       model::IdentityKind kind,
                                                       std::string_view value) {
  SQLite::Statement& q = s(kSelectIdentityByKey);
  Done done(q);
  BindText(q, 1, value);
  BindText(q, 2, model::IdentityKindName(kind));
  BindText(q, 3, account_id);
  BindText(q, 4, platform);
  if (!q.executeStep()) return std::optional<model::Identity>();
  SCRM_ASSIGN_OR_RETURN(model::Identity identity, ReadIdentity(q));
  return std::optional<model::Identity>(std::move(identity));
}

StatusOr<std::vector<model::Identity>> QueryIdentities(Session& s, int64_t customer_id) {
  SQLite::Statement& q = s(kSelectIdentitiesOfCustomer);
  Done done(q);
  q.bind(1, customer_id);
  std::vector<model::Identity> out;
  while (q.executeStep()) {
    SCRM_ASSIGN_OR_RETURN(model::Identity identity, ReadIdentity(q));
    out.push_back(std::move(identity));
  }
  return out;
}

// One tag by a statement over SCRM_TAG_DETAIL_COLUMNS whose parameters are bound by `bind`.
template <typename Bind>
std::optional<model::TagDetail> QueryTag(Session& s, const char* sql, Bind&& bind) {
  SQLite::Statement& q = s(sql);
  Done done(q);
  bind(q);
  if (!q.executeStep()) return std::nullopt;
  return ReadTagDetail(q, 0);
}

std::optional<model::TagDetail> QueryTagByNames(Session& s, std::string_view group,
                                                std::string_view name) {
  return QueryTag(s, kSelectTagByNames, [&](SQLite::Statement& q) {
    BindText(q, 1, group);
    BindText(q, 2, name);
  });
}

std::optional<model::TagDetail> QueryTagById(Session& s, int64_t tag_id) {
  return QueryTag(s, kSelectTagById, [&](SQLite::Statement& q) { q.bind(1, tag_id); });
}

StatusOr<std::vector<model::CustomerTagDetail>> QueryCustomerTagDetails(Session& s,
                                                                        int64_t customer_id) {
  SQLite::Statement& q = s(kSelectCustomerTagDetails);
  Done done(q);
  q.bind(1, customer_id);
  std::vector<model::CustomerTagDetail> out;
  while (q.executeStep()) {
    model::CustomerTagDetail detail;
    SCRM_ASSIGN_OR_RETURN(detail.value, ReadCustomerTag(q));
    detail.tag = ReadTagDetail(q, 9);
    out.push_back(std::move(detail));
  }
  return out;
}

StatusOr<std::vector<model::CustomerTag>> QueryCustomerTags(Session& s, int64_t customer_id) {
  SQLite::Statement& q = s(kSelectCustomerTags);
  Done done(q);
  q.bind(1, customer_id);
  std::vector<model::CustomerTag> out;
  while (q.executeStep()) {
    SCRM_ASSIGN_OR_RETURN(model::CustomerTag tag, ReadCustomerTag(q));
    out.push_back(tag);
  }
  return out;
}

StatusOr<std::vector<model::Follower>> QueryFollowers(Session& s, int64_t customer_id) {
  SQLite::Statement& q = s(kSelectFollowersOfCustomer);
  Done done(q);
  q.bind(1, customer_id);
  std::vector<model::Follower> out;
  while (q.executeStep()) {
    SCRM_ASSIGN_OR_RETURN(model::Follower follower, ReadFollower(q));
    out.push_back(std::move(follower));
  }
  return out;
}

StatusOr<std::vector<model::FollowUpTask>> QueryTasks(Session& s, int64_t customer_id) {
  SQLite::Statement& q = s(kSelectTasksOfCustomer);
  Done done(q);
  q.bind(1, customer_id);
  std::vector<model::FollowUpTask> out;
  while (q.executeStep()) {
    SCRM_ASSIGN_OR_RETURN(model::FollowUpTask task, ReadTask(q));
    out.push_back(std::move(task));
  }
  return out;
}

std::vector<model::MergeRecord> QueryMerges(Session& s, int64_t customer_id) {
  SQLite::Statement& q = s(kSelectMergesOfCustomer);
  Done done(q);
  q.bind(1, customer_id);
  std::vector<model::MergeRecord> out;
  while (q.executeStep()) out.push_back(ReadMerge(q));
  return out;
}

StatusOr<StoredMerge> QueryMerge(Session& s, int64_t merge_id) {
  SQLite::Statement& q = s(kSelectMerge);
  Done done(q);
  q.bind(1, merge_id);
  if (!q.executeStep()) {
    return core::NotFoundError("merge " + std::to_string(merge_id) + " not found");
  }
  StoredMerge merge;
  merge.record = ReadMerge(q);
  merge.undo = UndoStateFromJson(q.getColumn(6).getString());
  return merge;
}

StatusOr<model::CustomerProfile> QueryProfile(Session& s, int64_t customer_id) {
  model::CustomerProfile profile;
  SCRM_ASSIGN_OR_RETURN(profile.customer, QueryCustomerOrNotFound(s, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.identities, QueryIdentities(s, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.tags, QueryCustomerTagDetails(s, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.followers, QueryFollowers(s, customer_id));
  SCRM_ASSIGN_OR_RETURN(profile.tasks, QueryTasks(s, customer_id));
  profile.merges = QueryMerges(s, customer_id);
  return profile;
}

// Ids from a query with one parameter (?1), or two (?1, ?2) when bind_second.
std::vector<int64_t> QueryIds(Session& s, const char* sql, int64_t first, int64_t second = 0,
                              bool bind_second = false) {
  SQLite::Statement& q = s(sql);
  Done done(q);
  q.bind(1, first);
  if (bind_second) q.bind(2, second);
  std::vector<int64_t> ids;
  while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
  return ids;
}

void MoveByIds(Session& s, const char* sql, std::span<const int64_t> ids, int64_t to) {
  for (int64_t id : ids) {
    SQLite::Statement& update = s(sql);
    Done done(update);
    update.bind(1, to);
    update.bind(2, id);
    update.exec();
  }
}

Status ValidateLimit(size_t limit) {
  if (limit == 0 || limit > ProfileStore::kMaxListLimit) {
    return core::InvalidArgumentError("limit must be between 1 and " +
                                      std::to_string(ProfileStore::kMaxListLimit));
  }
  return core::OkStatus();
}

// "%text%" for LIKE, with the wildcards of the text escaped.
std::string LikePattern(std::string_view text) {
  std::string pattern = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  pattern.push_back('%');
  return pattern;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ProfileTxn

struct ProfileTxn::Impl {
  Impl(const Database& owner, SQLite::Database& db) : database(owner), conn(db), session(db) {}
  const Database& database;
  SQLite::Database& conn;
  Session session;
  // GetOrCreateTag results of this transaction, by "group\x1fname".
  std::unordered_map<std::string, model::TagDetail> tags;
};

ProfileTxn::ProfileTxn(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProfileTxn::~ProfileTxn() = default;

bool ProfileTxn::OthersWaiting() const { return impl_->database.WriterWanted(); }

StatusOr<int64_t> ProfileTxn::CreateCustomer(const model::Customer& customer) {
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& insert = impl_->session(kInsertCustomer);
    Done done(insert);
    BindCustomer(insert, customer);
    if (insert.exec() == 0) return core::InternalError("customer insert changed no row");
    return impl_->conn.getLastInsertRowid();
  });
}

StatusOr<model::Customer> ProfileTxn::GetCustomer(int64_t customer_id) {
  return Guarded([&] { return QueryCustomerOrNotFound(impl_->session, customer_id); });
}

Status ProfileTxn::UpdateCustomer(const model::Customer& customer) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = impl_->session(kUpdateCustomer);
    Done done(update);
    BindCustomer(update, customer);
    update.bind(16, customer.id);
    if (update.exec() == 0) {
      return core::NotFoundError("customer " + std::to_string(customer.id) + " not found");
    }
    return core::OkStatus();
  });
}

StatusOr<std::optional<model::Customer>> ProfileTxn::FindCustomerByIdentity(
    std::string_view platform, std::string_view account_id, model::IdentityKind kind,
    std::string_view value) {
  return Guarded([&]() -> StatusOr<std::optional<model::Customer>> {
    SQLite::Statement& q = impl_->session(kSelectCustomerByIdentity);
    Done done(q);
    BindText(q, 1, value);
    BindText(q, 2, model::IdentityKindName(kind));
    BindText(q, 3, account_id);
    BindText(q, 4, platform);
    if (!q.executeStep()) return std::optional<model::Customer>();
    SCRM_ASSIGN_OR_RETURN(model::Customer customer, ReadCustomer(q));
    return std::optional<model::Customer>(std::move(customer));
  });
}

StatusOr<std::optional<model::Identity>> ProfileTxn::FindIdentity(std::string_view platform,
                                                                  std::string_view account_id,
                                                                  model::IdentityKind kind,
                                                                  std::string_view value) {
  return Guarded([&] { return QueryIdentity(impl_->session, platform, account_id, kind, value); });
}

StatusOr<model::Identity> ProfileTxn::AddIdentity(const model::Identity& identity) {
  return Guarded([&]() -> StatusOr<model::Identity> {
    SQLite::Statement& insert = impl_->session(kInsertIdentity);
    Done done(insert);
    insert.bind(1, identity.customer_id);
    insert.bind(2, identity.platform);
    insert.bind(3, identity.account_id);
    BindText(insert, 4, model::IdentityKindName(identity.kind));
    insert.bind(5, identity.value);
    insert.bind(6, identity.created_at_ms);
    if (insert.exec() == 0) {
      return core::AlreadyExistsError("identity " +
                                      std::string(model::IdentityKindName(identity.kind)) +
                                      " already belongs to a customer");
    }
    model::Identity stored = identity;
    stored.id = impl_->conn.getLastInsertRowid();
    return stored;
  });
}

StatusOr<std::vector<model::Identity>> ProfileTxn::ListIdentities(int64_t customer_id) {
  return Guarded([&] { return QueryIdentities(impl_->session, customer_id); });
}

StatusOr<model::TagDetail> ProfileTxn::GetOrCreateTag(std::string_view group_name,
                                                      std::string_view name,
                                                      const model::TagGroup& defaults) {
  std::string key;
  key.reserve(group_name.size() + name.size() + 1);
  key.append(group_name).push_back('\x1f');
  key.append(name);
  if (auto it = impl_->tags.find(key); it != impl_->tags.end()) return it->second;
  return Guarded([&]() -> StatusOr<model::TagDetail> {
    Session& s = impl_->session;
    std::optional<model::TagDetail> found = QueryTagByNames(s, group_name, name);
    if (!found.has_value()) {
      model::TagDetail created;
      SCRM_ASSIGN_OR_RETURN(created.group, GetOrCreateTagGroup(group_name, defaults));
      created.tag.group_id = created.group.id;
      created.tag.name = std::string(name);
      SQLite::Statement& insert = s(kInsertTag);
      Done done(insert);
      insert.bind(1, created.tag.group_id);
      insert.bind(2, created.tag.name);
      insert.bind(3);
      insert.bind(4, created.tag.wecom_tag_id);
      insert.bind(5, created.tag.oa_tag_id);
      if (!insert.executeStep()) return core::InternalError("tag insert returned no id");
      created.tag.id = insert.getColumn(0).getInt64();
      found = std::move(created);
    }
    impl_->tags.emplace(key, *found);
    return *found;
  });
}

StatusOr<std::optional<model::TagDetail>> ProfileTxn::FindTag(std::string_view group_name,
                                                              std::string_view name) {
  return Guarded([&]() -> StatusOr<std::optional<model::TagDetail>> {
    return QueryTagByNames(impl_->session, group_name, name);
  });
}

StatusOr<model::TagDetail> ProfileTxn::GetTag(int64_t tag_id) {
  return Guarded([&]() -> StatusOr<model::TagDetail> {
    std::optional<model::TagDetail> tag = QueryTagById(impl_->session, tag_id);
    if (!tag.has_value())
      return core::NotFoundError("tag " + std::to_string(tag_id) + " not found");
    return std::move(*tag);
  });
}

StatusOr<std::optional<model::TagDetail>> ProfileTxn::FindTagByWecomId(
    std::string_view wecom_tag_id) {
  if (wecom_tag_id.empty()) return std::optional<model::TagDetail>();
  return Guarded([&]() -> StatusOr<std::optional<model::TagDetail>> {
    return QueryTag(impl_->session, kSelectTagByWecomId,
                    [&](SQLite::Statement& q) { BindText(q, 1, wecom_tag_id); });
  });
}

StatusOr<std::optional<model::TagGroup>> ProfileTxn::FindTagGroup(std::string_view name) {
  return Guarded([&]() -> StatusOr<std::optional<model::TagGroup>> {
    SQLite::Statement& q = impl_->session(kSelectTagGroupByName);
    Done done(q);
    BindText(q, 1, name);
    if (!q.executeStep()) return std::optional<model::TagGroup>();
    return std::optional<model::TagGroup>(ReadTagGroup(q));
  });
}

StatusOr<model::TagGroup> ProfileTxn::GetOrCreateTagGroup(std::string_view name,
                                                          const model::TagGroup& defaults) {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::TagGroup> found, FindTagGroup(name));
  if (found.has_value()) return std::move(*found);
  return Guarded([&]() -> StatusOr<model::TagGroup> {
    model::TagGroup group = defaults;
    group.name = std::string(name);
    SQLite::Statement& insert = impl_->session(kInsertTagGroup);
    Done done(insert);
    insert.bind(1, group.name);
    insert.bind(2, group.half_life_days);
    insert.bind(3, group.threshold);
    insert.bind(4, group.wecom_group_id);
    if (!insert.executeStep()) return core::InternalError("tag group insert returned no id");
    group.id = insert.getColumn(0).getInt64();
    return group;
  });
}

Status ProfileTxn::UpdateTag(const model::Tag& tag) {
  impl_->tags.clear();  // a renamed or re-mapped tag must not be served from the cache
  return Guarded([&]() -> Status {
    SQLite::Statement& update = impl_->session(kUpdateTag);
    Done done(update);
    update.bind(1, tag.name);
    BindOptionalDouble(update, 2, tag.threshold);
    update.bind(3, tag.wecom_tag_id);
    update.bind(4, tag.oa_tag_id);
    update.bind(5, tag.id);
    if (update.exec() == 0)
      return core::NotFoundError("tag " + std::to_string(tag.id) + " not found");
    return core::OkStatus();
  });
}

Status ProfileTxn::UpdateTagGroup(const model::TagGroup& group) {
  impl_->tags.clear();
  return Guarded([&]() -> Status {
    SQLite::Statement& update = impl_->session(kUpdateTagGroup);
    Done done(update);
    update.bind(1, group.name);
    update.bind(2, group.half_life_days);
    update.bind(3, group.threshold);
    update.bind(4, group.wecom_group_id);
    update.bind(5, group.id);
    if (update.exec() == 0) {
      return core::NotFoundError("tag group " + std::to_string(group.id) + " not found");
    }
    return core::OkStatus();
  });
}

StatusOr<int64_t> ProfileTxn::ClearWecomTagMapping(std::string_view wecom_tag_id) {
  if (wecom_tag_id.empty()) return int64_t{0};
  impl_->tags.clear();
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& update = impl_->session(kClearWecomTag);
    Done done(update);
    BindText(update, 1, wecom_tag_id);
    return int64_t{update.exec()};
  });
}

StatusOr<int64_t> ProfileTxn::ClearWecomGroupMapping(std::string_view wecom_group_id) {
  if (wecom_group_id.empty()) return int64_t{0};
  impl_->tags.clear();
  return Guarded([&]() -> StatusOr<int64_t> {
    int64_t changed = 0;
    {
      SQLite::Statement& update = impl_->session(kClearWecomTagsOfGroup);
      Done done(update);
      BindText(update, 1, wecom_group_id);
      changed += update.exec();
    }
    SQLite::Statement& update = impl_->session(kClearWecomGroup);
    Done done(update);
    BindText(update, 1, wecom_group_id);
    changed += update.exec();
    return changed;
  });
}

StatusOr<std::optional<model::CustomerTag>> ProfileTxn::GetCustomerTag(int64_t customer_id,
                                                                       int64_t tag_id) {
  return Guarded([&]() -> StatusOr<std::optional<model::CustomerTag>> {
    SQLite::Statement& q = impl_->session(kSelectCustomerTag);
    Done done(q);
    q.bind(1, customer_id);
    q.bind(2, tag_id);
    if (!q.executeStep()) return std::optional<model::CustomerTag>();
    SCRM_ASSIGN_OR_RETURN(model::CustomerTag tag, ReadCustomerTag(q));
    return std::optional<model::CustomerTag>(tag);
  });
}

Status ProfileTxn::PutCustomerTag(const model::CustomerTag& tag) {
  return Guarded([&]() -> Status {
    SQLite::Statement& upsert = impl_->session(kUpsertCustomerTag);
    Done done(upsert);
    BindCustomerTag(upsert, tag);
    upsert.exec();
    return core::OkStatus();
  });
}

StatusOr<bool> ProfileTxn::DeleteCustomerTag(int64_t customer_id, int64_t tag_id) {
  return Guarded([&]() -> StatusOr<bool> {
    SQLite::Statement& del = impl_->session(kDeleteCustomerTag);
    Done done(del);
    del.bind(1, customer_id);
    del.bind(2, tag_id);
    return del.exec() > 0;
  });
}

StatusOr<std::vector<model::CustomerTag>> ProfileTxn::ListCustomerTags(int64_t customer_id) {
  return Guarded([&] { return QueryCustomerTags(impl_->session, customer_id); });
}

StatusOr<std::vector<model::CustomerTag>> ProfileTxn::ListLocalTagHolders(int64_t tag_id) {
  return Guarded([&]() -> StatusOr<std::vector<model::CustomerTag>> {
    SQLite::Statement& q = impl_->session(kSelectLocalTagHolders);
    Done done(q);
    q.bind(1, tag_id);
    std::vector<model::CustomerTag> out;
    while (q.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::CustomerTag tag, ReadCustomerTag(q));
      out.push_back(tag);
    }
    return out;
  });
}

Status ProfileTxn::MoveCustomerTag(int64_t from_customer, int64_t to_customer, int64_t tag_id) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = impl_->session(kMoveCustomerTag);
    Done done(update);
    update.bind(1, to_customer);
    update.bind(2, from_customer);
    update.bind(3, tag_id);
    if (update.exec() == 0) {
      return core::NotFoundError("customer " + std::to_string(from_customer) + " has no tag " +
                                 std::to_string(tag_id));
    }
    return core::OkStatus();
  });
}

StatusOr<std::optional<int64_t>> ProfileTxn::AddTimeline(const model::TimelineEntry& entry) {
  return Guarded([&]() -> StatusOr<std::optional<int64_t>> {
    SQLite::Statement& insert = impl_->session(kInsertTimeline);
    Done done(insert);
    insert.bind(1, entry.customer_id);
    insert.bind(2, entry.interaction_id);
    insert.bind(3, entry.kind);
    insert.bind(4, entry.at_ms);
    insert.bind(5, entry.summary);
    if (insert.exec() == 0) return std::optional<int64_t>();
    return std::optional<int64_t>(impl_->conn.getLastInsertRowid());
  });
}

StatusOr<int64_t> ProfileTxn::CountTimeline(int64_t customer_id, std::string_view kind,
                                            int64_t from_ms, int64_t to_ms,
                                            int64_t min_interaction_id,
                                            int64_t max_interaction_id) {
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& q = impl_->session(kCountTimelineWindow);
    Done done(q);
    q.bind(1, customer_id);
    BindText(q, 2, kind);
    q.bind(3, min_interaction_id);
    q.bind(4, max_interaction_id);
    q.bind(5, from_ms);
    q.bind(6, to_ms);
    if (!q.executeStep()) return int64_t{0};
    return q.getColumn(0).getInt64();
  });
}

StatusOr<std::optional<int64_t>> ProfileTxn::AddTask(const model::FollowUpTask& task) {
  return Guarded([&]() -> StatusOr<std::optional<int64_t>> {
    SQLite::Statement& insert = impl_->session(kInsertTask);
    Done done(insert);
    insert.bind(1, task.customer_id);
    insert.bind(2, task.owner_userid);
    insert.bind(3, task.title);
    insert.bind(4, task.due_at_ms);
    // NULL for hand-made tasks: NULLs are distinct in a unique index, so they never conflict.
    BindOptionalInt(insert, 5,
                    task.source_interaction_id != 0
                        ? std::optional<int64_t>(task.source_interaction_id)
                        : std::nullopt);
    insert.bind(6, task.source_rule_id);
    BindText(insert, 7, model::TaskStatusName(task.status));
    insert.bind(8, task.created_at_ms);
    if (insert.exec() == 0) return std::optional<int64_t>();
    return std::optional<int64_t>(impl_->conn.getLastInsertRowid());
  });
}

StatusOr<model::FollowUpTask> ProfileTxn::GetTask(int64_t task_id) {
  return Guarded([&]() -> StatusOr<model::FollowUpTask> {
    SQLite::Statement& q = impl_->session(kSelectTask);
    Done done(q);
    q.bind(1, task_id);
    if (!q.executeStep())
      return core::NotFoundError("task " + std::to_string(task_id) + " not found");
    return ReadTask(q);
  });
}

Status ProfileTxn::UpdateTaskStatus(int64_t task_id, model::TaskStatus status) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = impl_->session(kUpdateTaskStatus);
    Done done(update);
    BindText(update, 1, model::TaskStatusName(status));
    update.bind(2, task_id);
    if (update.exec() == 0)
      return core::NotFoundError("task " + std::to_string(task_id) + " not found");
    return core::OkStatus();
  });
}

StatusOr<std::vector<model::Follower>> ProfileTxn::ListFollowers(int64_t customer_id) {
  return Guarded([&] { return QueryFollowers(impl_->session, customer_id); });
}

StatusOr<int64_t> ProfileTxn::PutFollower(const model::Follower& follower) {
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& upsert = impl_->session(kUpsertFollower);
    Done done(upsert);
    upsert.bind(1, follower.customer_id);
    upsert.bind(2, follower.account_id);
    upsert.bind(3, follower.userid);
    BindText(upsert, 4, model::FollowerStateName(follower.state));
    upsert.bind(5, follower.added_at_ms);
    upsert.bind(6, follower.removed_at_ms);
    upsert.bind(7, follower.is_owner ? 1 : 0);
    if (!upsert.executeStep()) return core::InternalError("follower upsert returned no id");
    return upsert.getColumn(0).getInt64();
  });
}

StatusOr<bool> ProfileTxn::RecordEffectOnce(int64_t interaction_id, std::string_view effect_key) {
  return Guarded([&]() -> StatusOr<bool> {
    SQLite::Statement& insert = impl_->session(kInsertEffect);
    Done done(insert);
    insert.bind(1, interaction_id);
    BindText(insert, 2, effect_key);
    return insert.exec() != 0;
  });
}

StatusOr<std::vector<int64_t>> ProfileTxn::MoveIdentities(int64_t from, int64_t to) {
  return Guarded([&]() -> StatusOr<std::vector<int64_t>> {
    std::vector<int64_t> ids = QueryIds(impl_->session, kSelectIdentityIdsOfCustomer, from);
    MoveByIds(impl_->session, kMoveIdentity, ids, to);
    return ids;
  });
}

StatusOr<std::vector<int64_t>> ProfileTxn::MoveTasks(int64_t from, int64_t to) {
  return Guarded([&]() -> StatusOr<std::vector<int64_t>> {
    std::vector<int64_t> ids = QueryIds(impl_->session, kSelectTaskIdsOfCustomer, from);
    MoveByIds(impl_->session, kMoveTask, ids, to);
    return ids;
  });
}

StatusOr<std::vector<int64_t>> ProfileTxn::MoveTimeline(int64_t from, int64_t to) {
  return Guarded([&]() -> StatusOr<std::vector<int64_t>> {
    std::vector<int64_t> ids =
        QueryIds(impl_->session, kSelectMovableTimelineIds, from, to, /*bind_second=*/true);
    MoveByIds(impl_->session, kMoveTimelineEntry, ids, to);
    return ids;
  });
}

StatusOr<std::vector<int64_t>> ProfileTxn::MoveFollowers(int64_t from, int64_t to) {
  return Guarded([&]() -> StatusOr<std::vector<int64_t>> {
    std::vector<int64_t> ids =
        QueryIds(impl_->session, kSelectMovableFollowerIds, from, to, /*bind_second=*/true);
    MoveByIds(impl_->session, kMoveFollower, ids, to);
    return ids;
  });
}

Status ProfileTxn::MoveIdentitiesById(std::span<const int64_t> ids, int64_t to) {
  return Guarded([&]() -> Status {
    MoveByIds(impl_->session, kMoveIdentity, ids, to);
    return core::OkStatus();
  });
}

Status ProfileTxn::MoveTasksById(std::span<const int64_t> ids, int64_t to) {
  return Guarded([&]() -> Status {
    MoveByIds(impl_->session, kMoveTask, ids, to);
    return core::OkStatus();
  });
}

Status ProfileTxn::MoveTimelineById(std::span<const int64_t> ids, int64_t to) {
  return Guarded([&]() -> Status {
    MoveByIds(impl_->session, kMoveTimelineEntry, ids, to);
    return core::OkStatus();
  });
}

Status ProfileTxn::MoveFollowersById(std::span<const int64_t> ids, int64_t to) {
  return Guarded([&]() -> Status {
    MoveByIds(impl_->session, kMoveFollower, ids, to);
    return core::OkStatus();
  });
}

StatusOr<int64_t> ProfileTxn::InsertMerge(const model::MergeRecord& record,
                                          const model::MergeUndoState& undo) {
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& insert = impl_->session(kInsertMerge);
    Done done(insert);
    insert.bind(1, record.survivor_id);
    insert.bind(2, record.merged_id);
    insert.bind(3, record.at_ms);
    insert.bind(4, record.reason);
    BindOptionalInt(insert, 5, record.undone_at_ms);
    insert.bind(6, UndoStateToJson(undo));
    if (!insert.executeStep()) return core::InternalError("merge insert returned no id");
    return insert.getColumn(0).getInt64();
  });
}

StatusOr<StoredMerge> ProfileTxn::GetMerge(int64_t merge_id) {
  return Guarded([&] { return QueryMerge(impl_->session, merge_id); });
}

StatusOr<std::vector<model::MergeRecord>> ProfileTxn::ListMerges(int64_t customer_id) {
  return Guarded([&]() -> StatusOr<std::vector<model::MergeRecord>> {
    return QueryMerges(impl_->session, customer_id);
  });
}

Status ProfileTxn::MarkMergeUndone(int64_t merge_id, int64_t at_ms) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = impl_->session(kMarkMergeUndone);
    Done done(update);
    update.bind(1, at_ms);
    update.bind(2, merge_id);
    if (update.exec() > 0) return core::OkStatus();
    SCRM_RETURN_IF_ERROR(QueryMerge(impl_->session, merge_id));  // NotFound when missing
    return core::FailedPreconditionError("merge " + std::to_string(merge_id) +
                                         " is already undone");
  });
}

Status ProfileTxn::AddMergeExclusion(int64_t customer_a, int64_t customer_b) {
  return Guarded([&]() -> Status {
    SQLite::Statement& insert = impl_->session(kInsertMergeExclusion);
    Done done(insert);
    insert.bind(1, std::min(customer_a, customer_b));
    insert.bind(2, std::max(customer_a, customer_b));
    insert.exec();
    return core::OkStatus();
  });
}

StatusOr<bool> ProfileTxn::IsMergeExcluded(int64_t customer_a, int64_t customer_b) {
  return Guarded([&]() -> StatusOr<bool> {
    SQLite::Statement& q = impl_->session(kSelectMergeExclusion);
    Done done(q);
    q.bind(1, std::min(customer_a, customer_b));
    q.bind(2, std::max(customer_a, customer_b));
    return q.executeStep() && q.getColumn(0).getInt64() > 0;
  });
}

Status ProfileTxn::SetCursor(std::string_view name, int64_t last_id) {
  if (name.empty()) return core::InvalidArgumentError("cursor name is empty");
  return Guarded([&]() -> Status {
    SQLite::Statement& upsert = impl_->session(kUpsertCursor);
    Done done(upsert);
    BindText(upsert, 1, name);
    upsert.bind(2, last_id);
    upsert.exec();
    return core::OkStatus();
  });
}

StatusOr<bool> ProfileTxn::EnqueueJob(const OutboxJob& job, int64_t now_ms) {
  return Guarded([&] { return OutboxStore::EnqueueOn(impl_->conn, job, now_ms); });
}

StatusOr<bool> ProfileTxn::EnqueueCoalescedJob(const OutboxJob& job, int64_t now_ms) {
  return Guarded([&] { return OutboxStore::EnqueueCoalescedOn(impl_->conn, job, now_ms); });
}

StatusOr<model::CustomerProfile> ProfileTxn::GetProfile(int64_t customer_id) {
  return Guarded([&] { return QueryProfile(impl_->session, customer_id); });
}

// ---------------------------------------------------------------------------------------------
// ProfileStore

Status ProfileStore::RunInTransaction(const std::function<Status(ProfileTxn&)>& fn) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    if (!writer_cache_set_) {
      db.exec(kPragmaWriterCacheSize);
      writer_cache_set_ = true;
    }
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    {
      ProfileTxn txn(std::make_unique<ProfileTxn::Impl>(db_, db));
      SCRM_RETURN_IF_ERROR(fn(txn));  // the Transaction's destructor rolls back
    }                                 // statements finalized before COMMIT
    transaction.commit();
    return core::OkStatus();
  });
}

StatusOr<model::CustomerProfile> ProfileStore::GetProfile(int64_t customer_id) {
  StatusOr<model::CustomerProfile> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    Session s(db);
    result = Guarded([&] { return QueryProfile(s, customer_id); });
    return core::OkStatus();
  }));
  return result;
}

StatusOr<std::vector<model::TimelineEntry>> ProfileStore::ListTimeline(int64_t customer_id,
                                                                       int64_t after_id,
                                                                       size_t limit) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(limit));
  std::vector<model::TimelineEntry> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectTimelinePage);
    q.bind(1, customer_id);
    q.bind(2, after_id);
    q.bind(3, static_cast<int64_t>(limit));
    while (q.executeStep()) out.push_back(ReadTimeline(q));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<model::Customer>> ProfileStore::ListCustomers(const CustomerFilter& filter) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(filter.limit));
  std::vector<model::Customer> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    const bool by_tag = filter.tag_id.has_value();
    SQLite::Statement q(db, by_tag ? kSelectCustomersByTagPage : kSelectCustomersPage);
    const bool filtered = by_tag && filter.tag_score_filter != nullptr;
    int64_t after_id = filter.after_id;
    // Without a score filter one query fills the page. With one, rows it refuses are skipped
    // and the query runs again after the last row seen, until the page is full or the rows end.
    for (;;) {
      q.reset();
      q.bind(1, after_id);
      if (filter.stage.has_value()) {
        BindText(q, 2, model::LifecycleStageName(*filter.stage));
      } else {
        q.bind(2);
      }
      BindOptionalText(q, 3, filter.owner_userid);
      BindOptionalInt(q, 4, filter.updated_after_ms);
      BindOptionalText(q, 5, filter.query);
      if (filter.query.has_value()) {
        q.bind(6, LikePattern(*filter.query));
      } else {
        q.bind(6);
      }
      q.bind(7, static_cast<int64_t>(filter.limit));
      if (by_tag) q.bind(8, *filter.tag_id);
      size_t rows = 0;
      while (q.executeStep()) {
        ++rows;
        SCRM_ASSIGN_OR_RETURN(model::Customer c, ReadCustomer(q));
        after_id = c.id;
        if (filtered &&
            !filter.tag_score_filter(q.getColumn(kCustomerColumnCount).getDouble(),
                                     q.getColumn(kCustomerColumnCount + 1).getInt64(),
                                     q.getColumn(kCustomerColumnCount + 2).getInt() != 0)) {
          continue;
        }
        out.push_back(std::move(c));
        if (out.size() == filter.limit) break;
      }
      if (!filtered || out.size() == filter.limit || rows < filter.limit) break;
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::optional<model::Identity>> ProfileStore::FindIdentity(std::string_view platform,
                                                                    std::string_view account_id,
                                                                    model::IdentityKind kind,
                                                                    std::string_view value) {
  StatusOr<std::optional<model::Identity>> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    Session s(db);
    result = QueryIdentity(s, platform, account_id, kind, value);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<std::optional<model::TagDetail>> ProfileStore::FindTag(std::string_view group_name,
                                                                std::string_view name) {
  std::optional<model::TagDetail> result;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    Session s(db);
    result = QueryTagByNames(s, group_name, name);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<std::optional<model::TagDetail>> ProfileStore::GetTag(int64_t tag_id) {
  std::optional<model::TagDetail> result;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    Session s(db);
    result = QueryTagById(s, tag_id);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<std::vector<model::TagDetail>> ProfileStore::ListTags() {
  std::vector<model::TagDetail> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectAllTags);
    while (q.executeStep()) out.push_back(ReadTagDetail(q, 0));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<model::TagDetail>> ProfileStore::ListTags(const TagFilter& filter) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(filter.limit));
  std::vector<model::TagDetail> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectTagsPage);
    BindOptionalText(q, 1, filter.group);
    q.bind(2, filter.after_id);
    q.bind(3, static_cast<int64_t>(filter.limit));
    while (q.executeStep()) out.push_back(ReadTagDetail(q, 0));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<PushedTagState>> ProfileStore::ListPushedTagStates(const PushedTagKey& after,
                                                                        size_t limit) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(limit));
  std::vector<PushedTagState> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectPushedTagStates);
    q.bind(1, after.customer_id);
    q.bind(2, after.account_id);
    q.bind(3, after.target);
    q.bind(4, after.tag_id);
    q.bind(5, static_cast<int64_t>(limit));
    while (q.executeStep()) {
      PushedTagState state;
      state.key.customer_id = q.getColumn(0).getInt64();
      state.key.account_id = q.getColumn(1).getString();
      state.key.target = q.getColumn(2).getString();
      state.key.tag_id = q.getColumn(3).getInt64();
      state.platform_tag_id = q.getColumn(4).getString();
      if (!q.getColumn(5).isNull()) {
        model::CustomerTag row;
        row.customer_id = state.key.customer_id;
        row.tag_id = state.key.tag_id;
        row.score = q.getColumn(5).getDouble();
        row.updated_at_ms = q.getColumn(6).getInt64();
        const std::optional<model::TagSource> source =
            model::ParseTagSource(q.getColumn(7).getString());
        if (!source.has_value()) {
          return core::InternalError("customer tag (" + std::to_string(row.customer_id) + ", " +
                                     std::to_string(row.tag_id) + ") has unknown source");
        }
        row.source = *source;
        row.decays = q.getColumn(12).getInt() != 0;
        state.row = row;
      }
      state.half_life_days = q.getColumn(8).getInt();
      state.threshold = q.getColumn(9).getDouble();
      state.wecom_tag_id = q.getColumn(10).getString();
      state.oa_tag_id = q.getColumn(11).getInt64();
      out.push_back(std::move(state));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<model::TagGroup>> ProfileStore::ListTagGroups() {
  std::vector<model::TagGroup> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectAllTagGroups);
    while (q.executeStep()) out.push_back(ReadTagGroup(q));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<model::FollowUpTask>> ProfileStore::ListTasks(const TaskFilter& filter) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(filter.limit));
  std::vector<model::FollowUpTask> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectTasksOfOwner);
    q.bind(1, filter.owner_userid);
    if (filter.status.has_value()) {
      BindText(q, 2, model::TaskStatusName(*filter.status));
    } else {
      q.bind(2);
    }
    q.bind(3, filter.after_id);
    q.bind(4, static_cast<int64_t>(filter.limit));
    while (q.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::FollowUpTask task, ReadTask(q));
      out.push_back(std::move(task));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<StoredMerge> ProfileStore::GetMerge(int64_t merge_id) {
  StatusOr<StoredMerge> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    Session s(db);
    result = Guarded([&] { return QueryMerge(s, merge_id); });
    return core::OkStatus();
  }));
  return result;
}

}  // namespace scrm::storage
