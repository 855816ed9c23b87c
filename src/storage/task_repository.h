// TaskRepository: the tasks table (main migration 3) — follow-up tasks (跟进任务, 流失提醒) for a
// customer's owner, raised by rules, by the lifecycle or by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/database.h"
#include "src/storage/list_limit.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Tasks of one owner, by id.
struct TaskFilter {
  std::string owner_userid;
  std::optional<model::TaskStatus> status;
  int64_t after_id = 0;
  size_t limit = 50;  // 1..kMaxListLimit
};

// Thread-safety and errors as CustomerRepository.
class TaskRepository {
 public:
  explicit TaskRepository(Database& db) : db_(db) {}

  // Adds the task; its id, or nullopt when a task with the same (source_interaction_id,
  // source_rule_id, title) exists (source_interaction_id 0 never conflicts).
  core::StatusOr<std::optional<int64_t>> Add(WriteTxn& txn, const model::FollowUpTask& task);
  core::StatusOr<model::FollowUpTask> Get(Session& session, int64_t task_id);           // NotFound
  core::Status UpdateStatus(WriteTxn& txn, int64_t task_id, model::TaskStatus status);  // NotFound
  // The customer's tasks, by id.
  core::StatusOr<std::vector<model::FollowUpTask>> ListOfCustomer(Session& session,
                                                                  int64_t customer_id);
  // On a read connection (TaskFilter). InvalidArgument for a limit out of range.
  core::StatusOr<std::vector<model::FollowUpTask>> List(const TaskFilter& filter);
  // Moves every task of `from` to `to` (a merge); the ids moved, ascending.
  core::StatusOr<std::vector<int64_t>> MoveAll(WriteTxn& txn, int64_t from, int64_t to);
  // Moves the tasks with these ids to `to` (undoing a merge).
  core::Status MoveById(WriteTxn& txn, std::span<const int64_t> ids, int64_t to);

 private:
  Database& db_;
};

}  // namespace scrm::storage
