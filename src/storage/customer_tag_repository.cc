#include "src/storage/customer_tag_repository.h"

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

#define SCRM_CUSTOMER_TAG_COLUMNS                                         \
  "customer_id, tag_id, score, updated_at_ms, source, evidence_rule_id, " \
  "evidence_rule_version, evidence_interaction_id, decays"

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

#undef SCRM_CUSTOMER_TAG_COLUMNS

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

// The rows of a query over SCRM_CUSTOMER_TAG_COLUMNS with one parameter.
StatusOr<std::vector<model::CustomerTag>> QueryRows(Session& session, const char* sql,
                                                    int64_t param) {
  return Guarded([&]() -> StatusOr<std::vector<model::CustomerTag>> {
    SQLite::Statement& q = session.statements().Prepared(sql);
    Done done(q);
    q.bind(1, param);
    std::vector<model::CustomerTag> out;
    while (q.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::CustomerTag tag, ReadCustomerTag(q));
      out.push_back(tag);
    }
    return out;
  });
}

}  // namespace

StatusOr<std::optional<model::CustomerTag>> CustomerTagRepository::Get(Session& session,
                                                                       int64_t customer_id,
                                                                       int64_t tag_id) {
  return Guarded([&]() -> StatusOr<std::optional<model::CustomerTag>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectCustomerTag);
    Done done(q);
    q.bind(1, customer_id);
    q.bind(2, tag_id);
    if (!q.executeStep()) return std::optional<model::CustomerTag>();
    SCRM_ASSIGN_OR_RETURN(model::CustomerTag tag, ReadCustomerTag(q));
    return std::optional<model::CustomerTag>(tag);
  });
}

Status CustomerTagRepository::Put(WriteTxn& txn, const model::CustomerTag& tag) {
  return Guarded([&]() -> Status {
    SQLite::Statement& upsert = txn.statements().Prepared(kUpsertCustomerTag);
    Done done(upsert);
    BindCustomerTag(upsert, tag);
    upsert.exec();
    return core::OkStatus();
  });
}

StatusOr<bool> CustomerTagRepository::Delete(WriteTxn& txn, int64_t customer_id, int64_t tag_id) {
  return Guarded([&]() -> StatusOr<bool> {
    SQLite::Statement& del = txn.statements().Prepared(kDeleteCustomerTag);
    Done done(del);
    del.bind(1, customer_id);
    del.bind(2, tag_id);
    return del.exec() > 0;
  });
}

StatusOr<std::vector<model::CustomerTag>> CustomerTagRepository::List(Session& session,
                                                                      int64_t customer_id) {
  return QueryRows(session, kSelectCustomerTags, customer_id);
}

StatusOr<std::vector<model::CustomerTagDetail>> CustomerTagRepository::ListDetails(
    Session& session, int64_t customer_id) {
  return Guarded([&]() -> StatusOr<std::vector<model::CustomerTagDetail>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectCustomerTagDetails);
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
  });
}

StatusOr<std::vector<model::CustomerTag>> CustomerTagRepository::ListLocalHolders(Session& session,
                                                                                  int64_t tag_id) {
  return QueryRows(session, kSelectLocalTagHolders, tag_id);
}

Status CustomerTagRepository::Move(WriteTxn& txn, int64_t from_customer, int64_t to_customer,
                                   int64_t tag_id) {
  return Guarded([&]() -> Status {
    SQLite::Statement& update = txn.statements().Prepared(kMoveCustomerTag);
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

}  // namespace scrm::storage
