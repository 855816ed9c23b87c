#include "src/storage/merge_repository.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;
using nlohmann::json;

#define SCRM_MERGE_COLUMNS "id, survivor_id, merged_id, at_ms, reason, undone_at_ms"

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

#undef SCRM_MERGE_COLUMNS

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
              {"channel", c.channel},
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
  c.channel = j.value("channel", std::string());  // undo states from before migration 11 lack it
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

StatusOr<StoredMerge> QueryMerge(StatementCache& s, int64_t merge_id) {
  SQLite::Statement& q = s.Prepared(kSelectMerge);
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

}  // namespace

StatusOr<int64_t> MergeRepository::Insert(WriteTxn& txn, const model::MergeRecord& record,
                                          const model::MergeUndoState& undo) {
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertMerge);
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

StatusOr<StoredMerge> MergeRepository::Get(Session& session, int64_t merge_id) {
  return Guarded([&] { return QueryMerge(session.statements(), merge_id); });
}

StatusOr<StoredMerge> MergeRepository::Get(int64_t merge_id) {
  StatusOr<StoredMerge> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db_.WithSession([&](Session& session) -> Status {
    result = Get(session, merge_id);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<std::vector<model::MergeRecord>> MergeRepository::ListOfCustomer(Session& session,
                                                                          int64_t customer_id) {
  return Guarded([&]() -> StatusOr<std::vector<model::MergeRecord>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectMergesOfCustomer);
    Done done(q);
    q.bind(1, customer_id);
    std::vector<model::MergeRecord> out;
    while (q.executeStep()) out.push_back(ReadMerge(q));
    return out;
  });
}

Status MergeRepository::MarkUndone(WriteTxn& txn, int64_t merge_id, int64_t at_ms) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = txn.statements().Prepared(kMarkMergeUndone);
    Done done(update);
    update.bind(1, at_ms);
    update.bind(2, merge_id);
    if (update.exec() > 0) return core::OkStatus();
    SCRM_RETURN_IF_ERROR(QueryMerge(txn.statements(), merge_id));  // NotFound when missing
    return core::FailedPreconditionError("merge " + std::to_string(merge_id) +
                                         " is already undone");
  });
}

Status MergeRepository::AddExclusion(WriteTxn& txn, int64_t customer_a, int64_t customer_b) {
  return Guarded([&]() -> Status {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertMergeExclusion);
    Done done(insert);
    insert.bind(1, std::min(customer_a, customer_b));
    insert.bind(2, std::max(customer_a, customer_b));
    insert.exec();
    return core::OkStatus();
  });
}

StatusOr<bool> MergeRepository::IsExcluded(Session& session, int64_t customer_a,
                                           int64_t customer_b) {
  return Guarded([&]() -> StatusOr<bool> {
    SQLite::Statement& q = session.statements().Prepared(kSelectMergeExclusion);
    Done done(q);
    q.bind(1, std::min(customer_a, customer_b));
    q.bind(2, std::max(customer_a, customer_b));
    return q.executeStep() && q.getColumn(0).getInt64() > 0;
  });
}

}  // namespace scrm::storage
