#include "src/storage/send_batch_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <functional>
#include <string>
#include <utility>

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr size_t kMaxBatchList = 10000;

constexpr char kDeliveryColumns[] =
    "SELECT id, campaign_id, customer_id, channel_key, sender, state, skip_reason, batch_id, "
    "link_code, idempotency_key, last_errcode, last_error, created_at_ms, updated_at_ms "
    "FROM campaign_deliveries ";
constexpr char kBatchColumns[] =
    "SELECT id, campaign_id, account_id, sender, state, idempotency_key, platform_msg_id, "
    "attempts, last_errcode, last_error, created_at_ms, updated_at_ms FROM campaign_send_batches ";

constexpr char kUnbatchedWhere[] =
    "WHERE campaign_id = ? AND state = 'planned' AND batch_id = 0 ORDER BY id LIMIT ?";
constexpr char kBatchDeliveriesWhere[] = "WHERE batch_id = ? AND batch_id <> 0 ORDER BY id";
constexpr char kInsertBatch[] =
    "INSERT INTO campaign_send_batches (campaign_id, account_id, sender, state, idempotency_key, "
    "platform_msg_id, attempts, last_errcode, last_error, created_at_ms, updated_at_ms) VALUES "
    "(?, ?, ?, 'pending', ?, '', 0, 0, '', ?, ?) ON CONFLICT (idempotency_key) DO NOTHING";
constexpr char kAttachDelivery[] =
    "UPDATE campaign_deliveries SET batch_id = ?, updated_at_ms = ? WHERE id = ? AND "
    "campaign_id = ? AND state = 'planned' AND batch_id = 0";
constexpr char kDeleteBatch[] = "DELETE FROM campaign_send_batches WHERE id = ?";
constexpr char kBeginBatch[] =
    "UPDATE campaign_send_batches SET state = 'sending', attempts = attempts + 1, "
    "updated_at_ms = ? WHERE id = ? AND state = ?";
constexpr char kBeginDeliveries[] =
    "UPDATE campaign_deliveries SET state = 'sending', updated_at_ms = ? WHERE batch_id = ? AND "
    "batch_id <> 0 AND state = 'planned'";
constexpr char kFinishBatch[] =
    "UPDATE campaign_send_batches SET state = ?, platform_msg_id = ?, last_errcode = ?, "
    "last_error = ?, updated_at_ms = ? WHERE id = ? AND state = 'sending'";
constexpr char kFinishException[] =
    "UPDATE campaign_deliveries SET state = ?, last_errcode = ?, last_error = ?, "
    "updated_at_ms = ? WHERE id = ? AND batch_id = ? AND state = 'sending'";
constexpr char kFinishDeliveries[] =
    "UPDATE campaign_deliveries SET state = ?, last_errcode = ?, last_error = ?, "
    "updated_at_ms = ? WHERE batch_id = ? AND batch_id <> 0 AND state = 'sending'";
constexpr char kApplyOutcome[] =
    "UPDATE campaign_deliveries SET state = ?, last_errcode = ?, last_error = ?, "
    "updated_at_ms = ? WHERE id = ? AND state IN ('sending', 'sent', 'unknown') AND state <> ?";
constexpr char kReleaseBatch[] =
    "UPDATE campaign_send_batches SET state = 'pending', updated_at_ms = ? WHERE id = ? AND "
    "state = 'sending'";
constexpr char kReleaseDeliveries[] =
    "UPDATE campaign_deliveries SET state = 'planned', updated_at_ms = ? WHERE batch_id = ? AND "
    "batch_id <> 0 AND state = 'sending'";
constexpr char kBatchByIdWhere[] = "WHERE id = ?";
constexpr char kBatchesInStateWhere[] =
    "WHERE campaign_id = ? AND state = ? AND id > ? ORDER BY id LIMIT ?";
constexpr char kBatchByMessageWhere[] =
    "WHERE account_id = ? AND platform_msg_id = ? ORDER BY id LIMIT 1";
constexpr char kOpenWork[] =
    "SELECT (SELECT COUNT(*) FROM campaign_deliveries WHERE campaign_id = ?1 AND state IN "
    "('planned', 'sending')) + (SELECT COUNT(*) FROM campaign_send_batches WHERE campaign_id = ?1 "
    "AND state IN ('pending', 'sending'))";
constexpr char kCountFailures[] =
    "SELECT state, last_errcode, COUNT(*) FROM campaign_deliveries WHERE campaign_id = ? AND "
    "state IN ('failed', 'unknown') GROUP BY state, last_errcode ORDER BY state, last_errcode";
// A failed or unknown batch goes back to pending with its own key (an OA template's
// client_msg_id stays the delivery's); a failed delivery of a batch that succeeded leaves it.
constexpr char kRequeueBatches[] =
    "UPDATE campaign_send_batches SET state = 'pending', updated_at_ms = ?1 WHERE campaign_id = ?2 "
    "AND state IN ('failed', 'unknown')";
constexpr char kRequeueBatchDeliveries[] =
    "UPDATE campaign_deliveries SET state = 'planned', updated_at_ms = ?1 WHERE campaign_id = ?2 "
    "AND state IN ('failed', 'unknown') AND batch_id IN (SELECT id FROM campaign_send_batches "
    "WHERE campaign_id = ?2 AND state = 'pending')";
constexpr char kRequeueLoose[] =
    "UPDATE campaign_deliveries SET state = 'planned', batch_id = 0, updated_at_ms = ?1 WHERE "
    "campaign_id = ?2 AND state IN ('failed', 'unknown')";

StatusOr<model::Delivery> ReadDeliveryRow(const SQLite::Statement& row) {
  model::Delivery d;
  d.id = row.getColumn(0).getInt64();
  d.campaign_id = row.getColumn(1).getInt64();
  d.customer_id = row.getColumn(2).getInt64();
  d.channel_key = row.getColumn(3).getString();
  d.sender = row.getColumn(4).getString();
  const std::string state = row.getColumn(5).getString();
  const std::string reason = row.getColumn(6).getString();
  const auto parsed_state = model::ParseDeliveryState(state);
  const auto parsed_reason = model::ParseSkipReason(reason);
  if (!parsed_state || !parsed_reason) {
    return core::InternalError("delivery " + std::to_string(d.id) + " has state \"" + state +
                               "\" and skip reason \"" + reason + "\"");
  }
  d.state = *parsed_state;
  d.skip_reason = *parsed_reason;
  d.batch_id = row.getColumn(7).getInt64();
  d.link_code = row.getColumn(8).getString();
  d.idempotency_key = row.getColumn(9).getString();
  d.last_errcode = row.getColumn(10).getInt64();
  d.last_error = row.getColumn(11).getString();
  d.created_at_ms = row.getColumn(12).getInt64();
  d.updated_at_ms = row.getColumn(13).getInt64();
  return d;
}

StatusOr<model::SendBatch> ReadBatchRow(const SQLite::Statement& row) {
  model::SendBatch b;
  b.id = row.getColumn(0).getInt64();
  b.campaign_id = row.getColumn(1).getInt64();
  b.account_id = row.getColumn(2).getString();
  b.sender = row.getColumn(3).getString();
  const std::string state = row.getColumn(4).getString();
  const auto parsed = model::ParseBatchState(state);
  if (!parsed) {
    return core::InternalError("send batch " + std::to_string(b.id) + " has state \"" + state +
                               "\"");
  }
  b.state = *parsed;
  b.idempotency_key = row.getColumn(5).getString();
  b.platform_msg_id = row.getColumn(6).getString();
  b.attempts = row.getColumn(7).getInt64();
  b.last_errcode = row.getColumn(8).getInt64();
  b.last_error = row.getColumn(9).getString();
  b.created_at_ms = row.getColumn(10).getInt64();
  b.updated_at_ms = row.getColumn(11).getInt64();
  return b;
}

Status CheckLimit(size_t limit) {
  if (limit == 0 || limit > kMaxBatchList) {
    return core::InvalidArgumentError("limit must be 1.." + std::to_string(kMaxBatchList));
  }
  return core::OkStatus();
}

StatusOr<std::optional<model::SendBatch>> QueryBatch(
    SQLite::Database& db, const char* where, const std::function<void(SQLite::Statement&)>& bind) {
  SQLite::Statement query(db, std::string(kBatchColumns) + where);
  bind(query);
  if (!query.executeStep()) return std::optional<model::SendBatch>();
  SCRM_ASSIGN_OR_RETURN(model::SendBatch batch, ReadBatchRow(query));
  return std::optional<model::SendBatch>(std::move(batch));
}

std::string NotSendingError(int64_t batch_id, const std::optional<model::SendBatch>& batch) {
  return "send batch " + std::to_string(batch_id) + " is " +
         std::string(model::BatchStateName(batch->state));
}

// BeginSend's statements on an open transaction; nullopt + error message via status.
StatusOr<model::SendBatch> BeginIn(SQLite::Database& db, int64_t batch_id,
                                   model::BatchState expected, int64_t now_ms) {
  SQLite::Statement begin(db, kBeginBatch);
  begin.bind(1, now_ms);
  begin.bind(2, batch_id);
  begin.bind(3, std::string(model::BatchStateName(expected)));
  const int changed = begin.exec();
  SCRM_ASSIGN_OR_RETURN(auto out, QueryBatch(db, kBatchByIdWhere,
                                             [&](SQLite::Statement& q) { q.bind(1, batch_id); }));
  if (!out) return core::NotFoundError("send batch " + std::to_string(batch_id));
  if (changed == 0) return core::FailedPreconditionError(NotSendingError(batch_id, out));
  SQLite::Statement deliveries(db, kBeginDeliveries);
  deliveries.bind(1, now_ms);
  deliveries.bind(2, batch_id);
  deliveries.exec();
  return std::move(*out);
}

Status FinishIn(SQLite::Database& db, int64_t batch_id, const BatchOutcome& outcome,
                int64_t now_ms) {
  SQLite::Statement finish(db, kFinishBatch);
  finish.bind(1, std::string(model::BatchStateName(outcome.state)));
  finish.bind(2, outcome.platform_msg_id);
  finish.bind(3, outcome.errcode);
  finish.bind(4, outcome.error);
  finish.bind(5, now_ms);
  finish.bind(6, batch_id);
  if (finish.exec() == 0) {
    SCRM_ASSIGN_OR_RETURN(
        const auto batch,
        QueryBatch(db, kBatchByIdWhere, [&](SQLite::Statement& q) { q.bind(1, batch_id); }));
    if (!batch) return core::NotFoundError("send batch " + std::to_string(batch_id));
    return core::FailedPreconditionError(NotSendingError(batch_id, batch));
  }
  SQLite::Statement exception(db, kFinishException);
  for (const DeliveryOutcome& one : outcome.exceptions) {
    exception.bind(1, std::string(model::DeliveryStateName(one.state)));
    exception.bind(2, one.errcode);
    exception.bind(3, one.error);
    exception.bind(4, now_ms);
    exception.bind(5, one.delivery_id);
    exception.bind(6, batch_id);
    exception.exec();
    exception.reset();
  }
  SQLite::Statement rest(db, kFinishDeliveries);
  rest.bind(1, std::string(model::DeliveryStateName(outcome.deliveries)));
  rest.bind(2, outcome.errcode);
  rest.bind(3, outcome.error);
  rest.bind(4, now_ms);
  rest.bind(5, batch_id);
  rest.exec();
  return core::OkStatus();
}

Status ReleaseIn(SQLite::Database& db, int64_t batch_id, int64_t now_ms) {
  SQLite::Statement batch(db, kReleaseBatch);
  batch.bind(1, now_ms);
  batch.bind(2, batch_id);
  if (batch.exec() == 0) {
    return core::FailedPreconditionError("send batch " + std::to_string(batch_id) +
                                         " is not sending");
  }
  SQLite::Statement deliveries(db, kReleaseDeliveries);
  deliveries.bind(1, now_ms);
  deliveries.bind(2, batch_id);
  deliveries.exec();
  return core::OkStatus();
}

}  // namespace

StatusOr<std::vector<model::Delivery>> SendBatchStore::ListUnbatched(int64_t campaign_id,
                                                                     size_t limit) {
  SCRM_RETURN_IF_ERROR(CheckLimit(limit));
  std::vector<model::Delivery> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, std::string(kDeliveryColumns) + kUnbatchedWhere);
    query.bind(1, campaign_id);
    query.bind(2, static_cast<int64_t>(limit));
    while (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::Delivery d, ReadDeliveryRow(query));
      out.push_back(std::move(d));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<model::SendBatch> SendBatchStore::Create(const model::SendBatch& batch,
                                                  std::span<const int64_t> delivery_ids) {
  model::SendBatch stored = batch;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SQLite::Statement insert(db, kInsertBatch);
    insert.bind(1, batch.campaign_id);
    insert.bind(2, batch.account_id);
    insert.bind(3, batch.sender);
    insert.bind(4, batch.idempotency_key);
    insert.bind(5, batch.created_at_ms);
    insert.bind(6, batch.created_at_ms);
    if (insert.exec() == 0) {
      return core::AlreadyExistsError("a send batch with key \"" + batch.idempotency_key +
                                      "\" is stored");
    }
    stored.id = db.getLastInsertRowid();
    int attached = 0;
    SQLite::Statement attach(db, kAttachDelivery);
    for (int64_t id : delivery_ids) {
      attach.bind(1, stored.id);
      attach.bind(2, batch.created_at_ms);
      attach.bind(3, id);
      attach.bind(4, batch.campaign_id);
      attached += attach.exec();
      attach.reset();
    }
    if (attached == 0) {
      return core::FailedPreconditionError("none of the batch's deliveries is planned and free");
    }
    txn.commit();
    return core::OkStatus();
  }));
  stored.state = model::BatchState::kPending;
  stored.platform_msg_id.clear();
  stored.attempts = 0;
  stored.last_errcode = 0;
  stored.last_error.clear();
  stored.updated_at_ms = stored.created_at_ms;
  return stored;
}

StatusOr<std::vector<model::SendBatch>> SendBatchStore::CreateMany(
    std::span<const model::SendBatch> batches, std::span<const std::vector<int64_t>> delivery_ids) {
  if (batches.size() != delivery_ids.size()) {
    return core::InvalidArgumentError("one list of deliveries per batch");
  }
  std::vector<model::SendBatch> out;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SQLite::Statement insert(db, kInsertBatch);
    SQLite::Statement attach(db, kAttachDelivery);
    SQLite::Statement remove(db, kDeleteBatch);
    for (size_t i = 0; i < batches.size(); ++i) {
      const model::SendBatch& batch = batches[i];
      insert.bind(1, batch.campaign_id);
      insert.bind(2, batch.account_id);
      insert.bind(3, batch.sender);
      insert.bind(4, batch.idempotency_key);
      insert.bind(5, batch.created_at_ms);
      insert.bind(6, batch.created_at_ms);
      const int inserted = insert.exec();
      insert.reset();
      if (inserted == 0) continue;  // its key is stored: skipped
      model::SendBatch stored = batch;
      stored.id = db.getLastInsertRowid();
      int attached = 0;
      for (int64_t id : delivery_ids[i]) {
        attach.bind(1, stored.id);
        attach.bind(2, batch.created_at_ms);
        attach.bind(3, id);
        attach.bind(4, batch.campaign_id);
        attached += attach.exec();
        attach.reset();
      }
      if (attached == 0) {  // its deliveries are taken: the empty batch goes again
        remove.bind(1, stored.id);
        remove.exec();
        remove.reset();
        continue;
      }
      stored.state = model::BatchState::kPending;
      stored.platform_msg_id.clear();
      stored.attempts = 0;
      stored.last_errcode = 0;
      stored.last_error.clear();
      stored.updated_at_ms = stored.created_at_ms;
      out.push_back(std::move(stored));
    }
    txn.commit();
    return core::OkStatus();
  }));
  return out;
}

StatusOr<model::SendBatch> SendBatchStore::BeginSend(int64_t batch_id, model::BatchState expected,
                                                     int64_t now_ms) {
  std::optional<model::SendBatch> out;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SCRM_ASSIGN_OR_RETURN(out, BeginIn(db, batch_id, expected, now_ms));
    txn.commit();
    return core::OkStatus();
  }));
  return std::move(*out);
}

StatusOr<std::vector<model::SendBatch>> SendBatchStore::BeginSendMany(
    std::span<const int64_t> batch_ids, int64_t now_ms) {
  std::vector<model::SendBatch> out;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    for (int64_t id : batch_ids) {
      auto begun = BeginIn(db, id, model::BatchState::kPending, now_ms);
      if (begun.ok()) {
        out.push_back(std::move(begun).value());
      } else if (begun.status().code() != core::StatusCode::kFailedPrecondition) {
        return begun.status();
      }
    }
    txn.commit();
    return core::OkStatus();
  }));
  return out;
}

Status SendBatchStore::Finish(int64_t batch_id, const BatchOutcome& outcome, int64_t now_ms) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SCRM_RETURN_IF_ERROR(FinishIn(db, batch_id, outcome, now_ms));
    txn.commit();
    return core::OkStatus();
  });
}

Status SendBatchStore::Settle(std::span<const BatchEnd> ends, int64_t now_ms) {
  if (ends.empty()) return core::OkStatus();
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    for (const BatchEnd& end : ends) {
      if (end.release) {
        SCRM_RETURN_IF_ERROR(ReleaseIn(db, end.batch_id, now_ms));
      } else {
        SCRM_RETURN_IF_ERROR(FinishIn(db, end.batch_id, end.outcome, now_ms));
      }
    }
    txn.commit();
    return core::OkStatus();
  });
}

StatusOr<size_t> SendBatchStore::ApplyDeliveryOutcomes(std::span<const DeliveryOutcome> outcomes,
                                                       int64_t now_ms) {
  size_t changed = 0;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SQLite::Statement update(db, kApplyOutcome);
    for (const DeliveryOutcome& one : outcomes) {
      const std::string state(model::DeliveryStateName(one.state));
      update.bind(1, state);
      update.bind(2, one.errcode);
      update.bind(3, one.error);
      update.bind(4, now_ms);
      update.bind(5, one.delivery_id);
      update.bind(6, state);
      changed += static_cast<size_t>(update.exec());
      update.reset();
    }
    txn.commit();
    return core::OkStatus();
  }));
  return changed;
}

StatusOr<model::SendBatch> SendBatchStore::Get(int64_t batch_id) {
  std::optional<model::SendBatch> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SCRM_ASSIGN_OR_RETURN(
        out, QueryBatch(db, kBatchByIdWhere, [&](SQLite::Statement& q) { q.bind(1, batch_id); }));
    return core::OkStatus();
  }));
  if (!out) return core::NotFoundError("send batch " + std::to_string(batch_id));
  return std::move(*out);
}

StatusOr<std::vector<model::SendBatch>> SendBatchStore::List(int64_t campaign_id,
                                                             model::BatchState state, int64_t after,
                                                             size_t limit) {
  SCRM_RETURN_IF_ERROR(CheckLimit(limit));
  std::vector<model::SendBatch> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, std::string(kBatchColumns) + kBatchesInStateWhere);
    query.bind(1, campaign_id);
    query.bind(2, std::string(model::BatchStateName(state)));
    query.bind(3, after);
    query.bind(4, static_cast<int64_t>(limit));
    while (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::SendBatch b, ReadBatchRow(query));
      out.push_back(std::move(b));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::optional<model::SendBatch>> SendBatchStore::FindByMessageId(
    const std::string& account_id, const std::string& msg_id) {
  std::optional<model::SendBatch> out;
  if (msg_id.empty()) return out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SCRM_ASSIGN_OR_RETURN(out, QueryBatch(db, kBatchByMessageWhere, [&](SQLite::Statement& q) {
                            q.bind(1, account_id);
                            q.bind(2, msg_id);
                          }));
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<model::Delivery>> SendBatchStore::Deliveries(int64_t batch_id) {
  std::vector<model::Delivery> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, std::string(kDeliveryColumns) + kBatchDeliveriesWhere);
    query.bind(1, batch_id);
    while (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::Delivery d, ReadDeliveryRow(query));
      out.push_back(std::move(d));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<int64_t> SendBatchStore::OpenWork(int64_t campaign_id) {
  int64_t open = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kOpenWork);
    query.bind(1, campaign_id);
    if (query.executeStep()) open = query.getColumn(0).getInt64();
    return core::OkStatus();
  }));
  return open;
}

StatusOr<std::vector<FailureCount>> SendBatchStore::CountFailures(int64_t campaign_id) {
  std::vector<FailureCount> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kCountFailures);
    query.bind(1, campaign_id);
    while (query.executeStep()) {
      const std::string state = query.getColumn(0).getString();
      const auto parsed = model::ParseDeliveryState(state);
      if (!parsed) return core::InternalError("a delivery has state \"" + state + "\"");
      FailureCount count;
      count.state = *parsed;
      count.errcode = query.getColumn(1).getInt64();
      count.count = query.getColumn(2).getInt64();
      out.push_back(count);
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<size_t> SendBatchStore::Requeue(int64_t campaign_id, int64_t now_ms) {
  size_t changed = 0;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    for (const char* sql : {kRequeueBatches, kRequeueBatchDeliveries, kRequeueLoose}) {
      SQLite::Statement update(db, sql);
      update.bind(1, now_ms);
      update.bind(2, campaign_id);
      const int n = update.exec();
      if (sql != kRequeueBatches) changed += static_cast<size_t>(n);
    }
    txn.commit();
    return core::OkStatus();
  }));
  return changed;
}

Status SendBatchStore::Release(int64_t batch_id, int64_t now_ms) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SCRM_RETURN_IF_ERROR(ReleaseIn(db, batch_id, now_ms));
    txn.commit();
    return core::OkStatus();
  });
}

}  // namespace scrm::storage
