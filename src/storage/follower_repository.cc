#include "src/storage/follower_repository.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <optional>
#include <string>
#include <utility>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr char kSelectFollowersOfCustomer[] =
    "SELECT id, customer_id, account_id, userid, state, added_at_ms, removed_at_ms, is_owner "
    "FROM followers WHERE customer_id = ? ORDER BY id";
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

}  // namespace

StatusOr<std::vector<model::Follower>> FollowerRepository::List(Session& session,
                                                                int64_t customer_id) {
  return Guarded([&]() -> StatusOr<std::vector<model::Follower>> {
    SQLite::Statement& q = session.statements().Prepared(kSelectFollowersOfCustomer);
    Done done(q);
    q.bind(1, customer_id);
    std::vector<model::Follower> out;
    while (q.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::Follower follower, ReadFollower(q));
      out.push_back(std::move(follower));
    }
    return out;
  });
}

StatusOr<int64_t> FollowerRepository::Put(WriteTxn& txn, const model::Follower& follower) {
  return Guarded([&]() -> StatusOr<int64_t> {
    SQLite::Statement& upsert = txn.statements().Prepared(kUpsertFollower);
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

StatusOr<std::vector<int64_t>> FollowerRepository::MoveAll(WriteTxn& txn, int64_t from,
                                                           int64_t to) {
  return MoveAllRows(txn, kSelectMovableFollowerIds, kMoveFollower, from, to,
                     /*select_binds_to=*/true);
}

Status FollowerRepository::MoveById(WriteTxn& txn, std::span<const int64_t> ids, int64_t to) {
  return MoveRowsById(txn, kMoveFollower, ids, to);
}

}  // namespace scrm::storage
