#include "src/storage/timeline_repository.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr char kInsertTimeline[] =
    "INSERT INTO timeline (customer_id, interaction_id, kind, at_ms, summary) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
constexpr char kCountTimelineWindow[] =
    "SELECT COUNT(*) FROM timeline WHERE customer_id = ? AND kind = ? AND interaction_id >= ? "
    "AND interaction_id <= ? AND at_ms >= ? AND at_ms <= ?";
constexpr char kSelectTimelinePage[] =
    "SELECT id, customer_id, interaction_id, kind, at_ms, summary FROM timeline "
    "WHERE customer_id = ? AND id > ? ORDER BY id LIMIT ?";
constexpr char kSelectMovableTimelineIds[] =
    "SELECT m.id FROM timeline m WHERE m.customer_id = ?1 AND NOT EXISTS (SELECT 1 FROM "
    "timeline s WHERE s.customer_id = ?2 AND s.kind = m.kind AND "
    "s.interaction_id = m.interaction_id) ORDER BY m.id";
constexpr char kMoveTimelineEntry[] = "UPDATE timeline SET customer_id = ? WHERE id = ?";

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

}  // namespace

StatusOr<std::optional<int64_t>> TimelineRepository::Add(WriteTxn& txn,
                                                         const model::TimelineEntry& entry) {
  return Guarded([&]() -> StatusOr<std::optional<int64_t>> {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertTimeline);
    Done done(insert);
    insert.bind(1, entry.customer_id);
    insert.bind(2, entry.interaction_id);
    insert.bind(3, entry.kind);
    insert.bind(4, entry.at_ms);
    insert.bind(5, entry.summary);
    if (insert.exec() == 0) return std::optional<int64_t>();
    return std::optional<int64_t>(txn.LastInsertRowid());
  });
}

StatusOr<int64_t> TimelineRepository::Count(Session& session, int64_t customer_id,
                                            std::string_view kind, int64_t from_ms, int64_t to_ms,
                                            int64_t min_interaction_id,
                                            int64_t max_interaction_id) {
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& q = session.statements().Prepared(kCountTimelineWindow);
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

StatusOr<std::vector<model::TimelineEntry>> TimelineRepository::List(int64_t customer_id,
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

StatusOr<std::vector<int64_t>> TimelineRepository::MoveAll(WriteTxn& txn, int64_t from,
                                                           int64_t to) {
  return MoveAllRows(txn, kSelectMovableTimelineIds, kMoveTimelineEntry, from, to,
                     /*select_binds_to=*/true);
}

Status TimelineRepository::MoveById(WriteTxn& txn, std::span<const int64_t> ids, int64_t to) {
  return MoveRowsById(txn, kMoveTimelineEntry, ids, to);
}

}  // namespace scrm::storage
