#include "src/storage/task_repository.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <utility>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

#define SCRM_TASK_COLUMNS                                                                    \
  "id, customer_id, owner_userid, title, due_at_ms, source_interaction_id, source_rule_id, " \
  "status, created_at_ms"

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

#undef SCRM_TASK_COLUMNS

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

}  // namespace

StatusOr<std::optional<int64_t>> TaskRepository::Add(WriteTxn& txn,
                                                     const model::FollowUpTask& task) {
  return Guarded([&]() -> StatusOr<std::optional<int64_t>> {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertTask);
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
    return std::optional<int64_t>(txn.LastInsertRowid());
  });
}

StatusOr<model::FollowUpTask> TaskRepository::Get(Session& session, int64_t task_id) {
  return Guarded([&]() -> StatusOr<model::FollowUpTask> {
    SQLite::Statement& q = session.statements().Prepared(kSelectTask);
    Done done(q);
    q.bind(1, task_id);
    if (!q.executeStep())
      return core::NotFoundError("task " + std::to_string(task_id) + " not found");
    return ReadTask(q);
  });
}

Status TaskRepository::UpdateStatus(WriteTxn& txn, int64_t task_id, model::TaskStatus status) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = txn.statements().Prepared(kUpdateTaskStatus);
    Done done(update);
    BindText(update, 1, model::TaskStatusName(status));
    update.bind(2, task_id);
    if (update.exec() == 0)
      return core::NotFoundError("task " + std::to_string(task_id) + " not found");
    return core::OkStatus();
  });
}

StatusOr<std::vector<model::FollowUpTask>> TaskRepository::ListOfCustomer(Session& session,
                                                                          int64_t customer_id) {
  return Guarded([&]() -> StatusOr<std::vector<model::FollowUpTask>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectTasksOfCustomer);
    Done done(q);
    q.bind(1, customer_id);
    std::vector<model::FollowUpTask> out;
    while (q.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::FollowUpTask task, ReadTask(q));
      out.push_back(std::move(task));
    }
    return out;
  });
}

StatusOr<std::vector<model::FollowUpTask>> TaskRepository::List(const TaskFilter& filter) {
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

StatusOr<std::vector<int64_t>> TaskRepository::MoveAll(WriteTxn& txn, int64_t from, int64_t to) {
  return MoveAllRows(txn, kSelectTaskIdsOfCustomer, kMoveTask, from, to, /*select_binds_to=*/false);
}

Status TaskRepository::MoveById(WriteTxn& txn, std::span<const int64_t> ids, int64_t to) {
  return MoveRowsById(txn, kMoveTask, ids, to);
}

}  // namespace scrm::storage
