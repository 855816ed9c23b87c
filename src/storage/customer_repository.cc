#include "src/storage/customer_repository.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <utility>

#include "src/storage/profile_rows.h"
#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

// The statements the ingest worker runs for every interaction take the new row id from
// sqlite3_last_insert_rowid, not from RETURNING: SQLite collects RETURNING rows in an ephemeral
// table, and opening one per statement was about a third of the worker's instructions
// (callgrind on bench/profile_bench).
constexpr char kInsertCustomer[] =
    "INSERT INTO customers (stage, stage_reason, stage_staff, owner_userid, attributes_json, "
    "first_interaction_at_ms, last_interaction_at_ms, interaction_count, message_count, "
    "event_count, order_count, paid_order_count, created_at_ms, updated_at_ms, merged_into, "
    "channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr char kSelectCustomer[] = "SELECT " SCRM_CUSTOMER_COLUMNS " FROM customers WHERE id = ?";
constexpr char kUpdateCustomer[] =
    "UPDATE customers SET stage = ?, stage_reason = ?, stage_staff = ?, owner_userid = ?, "
    "attributes_json = ?, first_interaction_at_ms = ?, last_interaction_at_ms = ?, "
    "interaction_count = ?, message_count = ?, event_count = ?, order_count = ?, "
    "paid_order_count = ?, created_at_ms = ?, updated_at_ms = ?, merged_into = ?, channel = ? "
    "WHERE id = ?";
// List: every filter is "(? IS NULL OR ...)", so one statement serves every combination; ids
// ascend (rowid order).
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
// MarkInactive: the last id of the page, so that the range (after, last] is what one call looks
// at; then rule L7 (tagger::StageAfterInactivity) on it: active stages only, at_risk and lost
// stay. The stage is tested with OR, not IN (see migration 6).
constexpr char kSelectPageEnd[] =
    "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?)";
// The customers kMarkInactive moves (same conditions), read first in the same transaction.
constexpr char kSelectInactive[] =
    "SELECT id, stage FROM customers WHERE id > ?2 AND id <= ?3 AND merged_into IS NULL AND "
    "(stage = 'new' OR stage = 'engaged' OR stage = 'customer' OR stage = 'repeat') AND "
    "(CASE WHEN last_interaction_at_ms > 0 THEN last_interaction_at_ms ELSE created_at_ms END) "
    "<= ?4 ORDER BY id";
constexpr char kMarkInactive[] =
    "UPDATE customers SET stage = 'at_risk', stage_reason = 'inactive', stage_staff = '', "
    "updated_at_ms = ?1 WHERE id > ?2 AND id <= ?3 AND merged_into IS NULL AND "
    "(stage = 'new' OR stage = 'engaged' OR stage = 'customer' OR stage = 'repeat') AND "
    "(CASE WHEN last_interaction_at_ms > 0 THEN last_interaction_at_ms ELSE created_at_ms END) "
    "<= ?4";

// Binds every column but id of kInsertCustomer / kUpdateCustomer (1..16).
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
  st.bind(16, c.channel);
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

StatusOr<int64_t> CustomerRepository::Create(WriteTxn& txn, const model::Customer& customer) {
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertCustomer);
    Done done(insert);
    BindCustomer(insert, customer);
    if (insert.exec() == 0) return core::InternalError("customer insert changed no row");
    return txn.LastInsertRowid();
  });
}

StatusOr<model::Customer> CustomerRepository::Get(Session& session, int64_t customer_id) {
  return Guarded([&]() -> StatusOr<model::Customer> {
    SQLite::Statement& q = session.statements().Prepared(kSelectCustomer);
    Done done(q);
    q.bind(1, customer_id);
    if (!q.executeStep()) {
      return core::NotFoundError("customer " + std::to_string(customer_id) + " not found");
    }
    return ReadCustomer(q);
  });
}

Status CustomerRepository::Update(WriteTxn& txn, const model::Customer& customer) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = txn.statements().Prepared(kUpdateCustomer);
    Done done(update);
    BindCustomer(update, customer);
    update.bind(17, customer.id);
    if (update.exec() == 0) {
      return core::NotFoundError("customer " + std::to_string(customer.id) + " not found");
    }
    return core::OkStatus();
  });
}

StatusOr<InactivePage> CustomerRepository::MarkInactive(WriteTxn& txn, int64_t after_id,
                                                        size_t page, int64_t cutoff_ms,
                                                        int64_t now_ms) {
  if (page < 1 || page > kMaxInactivePage) {
    return core::InvalidArgumentError("page must be within 1.." + std::to_string(kMaxInactivePage));
  }
  return Guarded([&]() -> StatusOr<InactivePage> {
    InactivePage result;
    int64_t count = 0;
    int64_t last_id = 0;
    {
      SQLite::Statement& end = txn.statements().Prepared(kSelectPageEnd);
      Done done(end);
      end.bind(1, after_id);
      end.bind(2, static_cast<int64_t>(page));
      end.executeStep();
      count = end.getColumn(1).getInt64();
      last_id = end.getColumn(0).getInt64();
    }
    if (count == 0) {
      result.next_after_id = after_id;
      result.done = true;
      return result;
    }
    {
      SQLite::Statement& moved = txn.statements().Prepared(kSelectInactive);
      Done done(moved);
      moved.bind(2, after_id);
      moved.bind(3, last_id);
      moved.bind(4, cutoff_ms);
      while (moved.executeStep()) {
        const std::optional<model::LifecycleStage> stage =
            model::ParseLifecycleStage(moved.getColumn(1).getString());
        if (!stage.has_value()) return core::InternalError("a customer has an unknown stage");
        result.moved.emplace_back(moved.getColumn(0).getInt64(), *stage);
      }
    }
    SQLite::Statement& mark = txn.statements().Prepared(kMarkInactive);
    Done done(mark);
    mark.bind(1, now_ms);
    mark.bind(2, after_id);
    mark.bind(3, last_id);
    mark.bind(4, cutoff_ms);
    result.marked = mark.exec();
    result.next_after_id = last_id;
    result.done = count < static_cast<int64_t>(page);
    return result;
  });
}

StatusOr<std::vector<model::Customer>> CustomerRepository::List(const CustomerFilter& filter) {
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

}  // namespace scrm::storage
