#include "src/storage/identity_repository.h"

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

#define SCRM_IDENTITY_COLUMNS "id, customer_id, platform, account_id, kind, value, created_at_ms"

constexpr char kSelectCustomerByIdentity[] =
    "SELECT " SCRM_CUSTOMER_COLUMNS_OF_C
    " FROM identities i JOIN customers c ON c.id = i.customer_id"
    " WHERE i.value = ? AND i.kind = ? AND i.account_id = ? AND i.platform = ?";
constexpr char kSelectIdentityByKey[] =
    "SELECT " SCRM_IDENTITY_COLUMNS
    " FROM identities WHERE value = ? AND kind = ? AND account_id = ? AND platform = ?";
// A duplicate is an expected outcome, reported from "no row changed" (ON CONFLICT: SQLite >=
// 3.24 and PostgreSQL).
constexpr char kInsertIdentity[] =
    "INSERT INTO identities (customer_id, platform, account_id, kind, value, created_at_ms) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
constexpr char kSelectIdentitiesOfCustomer[] =
    "SELECT " SCRM_IDENTITY_COLUMNS " FROM identities WHERE customer_id = ? ORDER BY id";
constexpr char kSelectIdentityIdsOfCustomer[] =
    "SELECT id FROM identities WHERE customer_id = ? ORDER BY id";
constexpr char kMoveIdentity[] = "UPDATE identities SET customer_id = ? WHERE id = ?";

#undef SCRM_IDENTITY_COLUMNS

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

// Binds the key of kSelectCustomerByIdentity / kSelectIdentityByKey (value, kind, account,
// platform: the order of the identities_key index's columns).
void BindKey(SQLite::Statement& q, std::string_view platform, std::string_view account_id,
             model::IdentityKind kind, std::string_view value) {
  BindText(q, 1, value);
  BindText(q, 2, model::IdentityKindName(kind));
  BindText(q, 3, account_id);
  BindText(q, 4, platform);
}

}  // namespace

StatusOr<std::optional<model::Customer>> IdentityRepository::FindCustomer(
    Session& session, std::string_view platform, std::string_view account_id,
    model::IdentityKind kind, std::string_view value) {
  return Guarded([&]() -> StatusOr<std::optional<model::Customer>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectCustomerByIdentity);
    Done done(q);
    BindKey(q, platform, account_id, kind, value);
    if (!q.executeStep()) return std::optional<model::Customer>();
    SCRM_ASSIGN_OR_RETURN(model::Customer customer, ReadCustomer(q));
    return std::optional<model::Customer>(std::move(customer));
  });
}

StatusOr<std::optional<model::Identity>> IdentityRepository::Find(Session& session,
                                                                  std::string_view platform,
                                                                  std::string_view account_id,
                                                                  model::IdentityKind kind,
                                                                  std::string_view value) {
  return Guarded([&]() -> StatusOr<std::optional<model::Identity>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectIdentityByKey);
    Done done(q);
    BindKey(q, platform, account_id, kind, value);
    if (!q.executeStep()) return std::optional<model::Identity>();
    SCRM_ASSIGN_OR_RETURN(model::Identity identity, ReadIdentity(q));
    return std::optional<model::Identity>(std::move(identity));
  });
}

StatusOr<std::optional<model::Identity>> IdentityRepository::Find(std::string_view platform,
                                                                  std::string_view account_id,
                                                                  model::IdentityKind kind,
                                                                  std::string_view value) {
  StatusOr<std::optional<model::Identity>> result = core::InternalError("read did not run");
  SCRM_RETURN_IF_ERROR(db_.WithSession([&](Session& session) -> Status {
    result = Find(session, platform, account_id, kind, value);
    return core::OkStatus();
  }));
  return result;
}

StatusOr<model::Identity> IdentityRepository::Add(WriteTxn& txn, const model::Identity& identity) {
  return Guarded([&]() -> StatusOr<model::Identity> {
    SQLite::Statement& insert = txn.statements().Prepared(kInsertIdentity);
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
    stored.id = txn.LastInsertRowid();
    return stored;
  });
}

StatusOr<std::vector<model::Identity>> IdentityRepository::List(Session& session,
                                                                int64_t customer_id) {
  return Guarded([&]() -> StatusOr<std::vector<model::Identity>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectIdentitiesOfCustomer);
    Done done(q);
    q.bind(1, customer_id);
    std::vector<model::Identity> out;
    while (q.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::Identity identity, ReadIdentity(q));
      out.push_back(std::move(identity));
    }
    return out;
  });
}

StatusOr<std::vector<int64_t>> IdentityRepository::MoveAll(WriteTxn& txn, int64_t from,
                                                           int64_t to) {
  return MoveAllRows(txn, kSelectIdentityIdsOfCustomer, kMoveIdentity, from, to,
                     /*select_binds_to=*/false);
}

Status IdentityRepository::MoveById(WriteTxn& txn, std::span<const int64_t> ids, int64_t to) {
  return MoveRowsById(txn, kMoveIdentity, ids, to);
}

}  // namespace scrm::storage
