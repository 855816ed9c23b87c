#include "src/storage/delivery_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <utility>

#include "src/storage/list_limit.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

// The customer guard makes a second freeze idempotent per person, not only per channel key.
constexpr char kInsertDelivery[] =
    "INSERT INTO campaign_deliveries (campaign_id, customer_id, channel_key, sender, state, "
    "skip_reason, batch_id, link_code, idempotency_key, last_errcode, last_error, created_at_ms, "
    "updated_at_ms) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 "
    "WHERE NOT EXISTS (SELECT 1 FROM campaign_deliveries WHERE customer_id = ?2 AND "
    "campaign_id = ?1) ON CONFLICT (idempotency_key) DO NOTHING";
constexpr char kSelectDeliveries[] =
    "SELECT id, campaign_id, customer_id, channel_key, sender, state, skip_reason, batch_id, "
    "link_code, idempotency_key, last_errcode, last_error, created_at_ms, updated_at_ms "
    "FROM campaign_deliveries WHERE campaign_id = ? AND id > ? ORDER BY id LIMIT ?";
constexpr char kSelectDeliveriesInState[] =
    "SELECT id, campaign_id, customer_id, channel_key, sender, state, skip_reason, batch_id, "
    "link_code, idempotency_key, last_errcode, last_error, created_at_ms, updated_at_ms "
    "FROM campaign_deliveries WHERE campaign_id = ? AND state = ? AND id > ? ORDER BY id LIMIT ?";
constexpr char kCountDeliveries[] =
    "SELECT state, skip_reason, sender, COUNT(*) FROM campaign_deliveries WHERE campaign_id = ? "
    "GROUP BY state, skip_reason, sender ORDER BY state, skip_reason, sender";
constexpr char kTotalDeliveries[] =
    "SELECT COUNT(*) FROM campaign_deliveries WHERE campaign_id = ?";
// The ids come as one JSON array (json_each): a batch is one statement, values never in the SQL.
constexpr char kCountRecent[] =
    "SELECT customer_id, COUNT(*) FROM campaign_deliveries WHERE customer_id IN "
    "(SELECT value FROM json_each(?)) AND created_at_ms >= ? AND campaign_id <> ? AND state IN "
    "('planned', 'sending', 'sent', 'delivered', 'unknown') GROUP BY customer_id";
constexpr char kTemplateSentTo[] =
    "SELECT DISTINCT d.customer_id FROM campaign_deliveries d JOIN campaigns c ON "
    "c.id = d.campaign_id WHERE d.customer_id IN (SELECT value FROM json_each(?)) AND "
    "c.template_id = ? AND d.campaign_id <> ? AND d.state IN ('sending', 'sent', 'delivered', "
    "'unknown')";

StatusOr<model::Delivery> ReadDelivery(const SQLite::Statement& row) {
  model::Delivery d;
  d.id = row.getColumn(0).getInt64();
  d.campaign_id = row.getColumn(1).getInt64();
  d.customer_id = row.getColumn(2).getInt64();
  d.channel_key = row.getColumn(3).getString();
  d.sender = row.getColumn(4).getString();
  const std::string state = row.getColumn(5).getString();
  const auto parsed_state = model::ParseDeliveryState(state);
  const std::string reason = row.getColumn(6).getString();
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

StatusOr<std::string> IdsJson(std::span<const int64_t> ids) {
  if (ids.size() > kMaxFactBatch) {
    return core::InvalidArgumentError("at most " + std::to_string(kMaxFactBatch) +
                                      " customers per query");
  }
  return CustomerIdsJson(ids);
}

}  // namespace

std::string CustomerIdsJson(std::span<const int64_t> customer_ids) {
  std::string out = "[";
  for (size_t i = 0; i < customer_ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(customer_ids[i]);
  }
  out += ']';
  return out;
}

StatusOr<size_t> DeliveryStore::InsertChunk(std::span<const model::Delivery> rows) {
  size_t written = 0;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SQLite::Statement insert(db, kInsertDelivery);
    for (const model::Delivery& d : rows) {
      insert.bind(1, d.campaign_id);
      insert.bind(2, d.customer_id);
      insert.bind(3, d.channel_key);
      insert.bind(4, d.sender);
      insert.bind(5, std::string(model::DeliveryStateName(d.state)));
      insert.bind(6, std::string(model::SkipReasonName(d.skip_reason)));
      insert.bind(7, d.batch_id);
      insert.bind(8, d.link_code);
      insert.bind(9, d.idempotency_key);
      insert.bind(10, d.last_errcode);
      insert.bind(11, d.last_error);
      insert.bind(12, d.created_at_ms);
      insert.bind(13, d.updated_at_ms);
      written += static_cast<size_t>(insert.exec());
      insert.reset();
    }
    txn.commit();
    return core::OkStatus();
  }));
  return written;
}

StatusOr<std::vector<model::Delivery>> DeliveryStore::List(
    int64_t campaign_id, std::optional<model::DeliveryState> state, int64_t after, size_t limit) {
  if (limit == 0 || limit > kMaxListLimit) {
    return core::InvalidArgumentError("limit must be 1.." + std::to_string(kMaxListLimit));
  }
  std::vector<model::Delivery> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, state ? kSelectDeliveriesInState : kSelectDeliveries);
    int column = 1;
    query.bind(column++, campaign_id);
    if (state) query.bind(column++, std::string(model::DeliveryStateName(*state)));
    query.bind(column++, after);
    query.bind(column, static_cast<int64_t>(limit));
    while (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::Delivery d, ReadDelivery(query));
      out.push_back(std::move(d));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::vector<DeliveryCount>> DeliveryStore::Count(int64_t campaign_id) {
  std::vector<DeliveryCount> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kCountDeliveries);
    query.bind(1, campaign_id);
    while (query.executeStep()) {
      const std::string state = query.getColumn(0).getString();
      const std::string reason = query.getColumn(1).getString();
      const auto parsed_state = model::ParseDeliveryState(state);
      const auto parsed_reason = model::ParseSkipReason(reason);
      if (!parsed_state || !parsed_reason) {
        return core::InternalError("campaign " + std::to_string(campaign_id) +
                                   " has a delivery in state \"" + state + "\" reason \"" + reason +
                                   "\"");
      }
      DeliveryCount count;
      count.state = *parsed_state;
      count.skip_reason = *parsed_reason;
      count.sender = query.getColumn(2).getString();
      count.count = query.getColumn(3).getInt64();
      out.push_back(std::move(count));
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<int64_t> DeliveryStore::Total(int64_t campaign_id) {
  int64_t total = 0;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kTotalDeliveries);
    query.bind(1, campaign_id);
    if (query.executeStep()) total = query.getColumn(0).getInt64();
    return core::OkStatus();
  }));
  return total;
}

StatusOr<std::map<int64_t, int64_t>> DeliveryStore::CountRecent(
    std::span<const int64_t> customer_ids, int64_t since_ms, int64_t exclude_campaign_id) {
  SCRM_ASSIGN_OR_RETURN(std::string ids, IdsJson(customer_ids));
  std::map<int64_t, int64_t> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kCountRecent);
    query.bind(1, ids);
    query.bind(2, since_ms);
    query.bind(3, exclude_campaign_id);
    while (query.executeStep()) {
      out[query.getColumn(0).getInt64()] = query.getColumn(1).getInt64();
    }
    return core::OkStatus();
  }));
  return out;
}

StatusOr<std::set<int64_t>> DeliveryStore::TemplateSentTo(std::span<const int64_t> customer_ids,
                                                          int64_t template_id,
                                                          int64_t exclude_campaign_id) {
  SCRM_ASSIGN_OR_RETURN(std::string ids, IdsJson(customer_ids));
  std::set<int64_t> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kTemplateSentTo);
    query.bind(1, ids);
    query.bind(2, template_id);
    query.bind(3, exclude_campaign_id);
    while (query.executeStep()) out.insert(query.getColumn(0).getInt64());
    return core::OkStatus();
  }));
  return out;
}

}  // namespace scrm::storage
