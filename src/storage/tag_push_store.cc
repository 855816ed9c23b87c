#include "src/storage/tag_push_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <utility>

#include "src/storage/sql_util.h"
#include "src/storage/sqlite_errors.h"

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

constexpr char kSelectPushes[] =
    "SELECT customer_id, account_id, target, tag_id, platform_tag_id, pushed_at_ms FROM "
    "tag_pushes WHERE customer_id = ? AND account_id = ? ORDER BY target, tag_id";
constexpr char kUpsertPush[] =
    "INSERT INTO tag_pushes (customer_id, account_id, target, tag_id, platform_tag_id, "
    "pushed_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, account_id, target, "
    "tag_id) DO UPDATE SET platform_tag_id = excluded.platform_tag_id, "
    "pushed_at_ms = excluded.pushed_at_ms";
constexpr char kDeletePush[] =
    "DELETE FROM tag_pushes WHERE customer_id = ? AND account_id = ? AND target = ? AND "
    "tag_id = ?";
// Pushed tags after a key, with the customer's stored score on the tag (NULL when the row is
// gone) and the tag's decay and mapping now, for the decay sweep.
constexpr char kSelectPushedTagStates[] =
    "SELECT p.customer_id, p.account_id, p.target, p.tag_id, p.platform_tag_id, ct.score, "
    "ct.updated_at_ms, ct.source, g.half_life_days, COALESCE(t.threshold, g.threshold), "
    "t.wecom_tag_id, t.oa_tag_id, ct.decays FROM tag_pushes p JOIN tags t ON t.id = p.tag_id "
    "JOIN tag_groups g ON g.id = t.group_id "
    "LEFT JOIN customer_tags ct ON ct.customer_id = p.customer_id AND ct.tag_id = p.tag_id "
    "WHERE (p.customer_id, p.account_id, p.target, p.tag_id) > (?, ?, ?, ?) "
    "ORDER BY p.customer_id, p.account_id, p.target, p.tag_id LIMIT ?";

}  // namespace

StatusOr<std::vector<TagPush>> TagPushStore::List(int64_t customer_id,
                                                  std::string_view account_id) {
  std::vector<TagPush> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectPushes);
    query.bind(1, customer_id);
    query.bind(2, std::string(account_id));
    while (query.executeStep()) {
      TagPush push;
      push.customer_id = query.getColumn(0).getInt64();
      push.account_id = query.getColumn(1).getString();
      push.target = query.getColumn(2).getString();
      push.tag_id = query.getColumn(3).getInt64();
      push.platform_tag_id = query.getColumn(4).getString();
      push.pushed_at_ms = query.getColumn(5).getInt64();
      out.push_back(std::move(push));
    }
    return core::OkStatus();
  }));
  return out;
}

Status TagPushStore::Record(int64_t customer_id, std::string_view account_id,
                            std::string_view target, std::span<const TagPush> added,
                            std::span<const int64_t> removed_tag_ids) {
  if (added.empty() && removed_tag_ids.empty()) return core::OkStatus();
  return db_.InTransaction([&](WriteTxn& txn) {
    return Record(txn, customer_id, account_id, target, added, removed_tag_ids);
  });
}

Status TagPushStore::Record(WriteTxn& txn, int64_t customer_id, std::string_view account_id,
                            std::string_view target, std::span<const TagPush> added,
                            std::span<const int64_t> removed_tag_ids) {
  for (const TagPush& push : added) {
    if (push.customer_id != customer_id || push.account_id != account_id || push.target != target) {
      return core::InvalidArgumentError("a recorded tag push names another target");
    }
  }
  return Guarded([&]() -> Status {
    for (const TagPush& push : added) {
      SQLite::Statement& upsert = txn.statements().Prepared(kUpsertPush);
      Done done(upsert);
      upsert.bind(1, push.customer_id);
      upsert.bind(2, push.account_id);
      upsert.bind(3, push.target);
      upsert.bind(4, push.tag_id);
      upsert.bind(5, push.platform_tag_id);
      upsert.bind(6, push.pushed_at_ms);
      upsert.exec();
    }
    for (const int64_t tag_id : removed_tag_ids) {
      SQLite::Statement& erase = txn.statements().Prepared(kDeletePush);
      Done done(erase);
      erase.bind(1, customer_id);
      BindText(erase, 2, account_id);
      BindText(erase, 3, target);
      erase.bind(4, tag_id);
      erase.exec();
    }
    return core::OkStatus();
  });
}

StatusOr<std::vector<PushedTagState>> TagPushStore::ListPushedTagStates(const PushedTagKey& after,
                                                                        size_t limit) {
  SCRM_RETURN_IF_ERROR(ValidateLimit(limit));
  std::vector<PushedTagState> out;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement q(db, kSelectPushedTagStates);
    q.bind(1, after.customer_id);
    q.bind(2, after.account_id);
    q.bind(3, after.target);
    q.bind(4, after.tag_id);
    q.bind(5, static_cast<int64_t>(limit));
    while (q.executeStep()) {
      PushedTagState state;
      state.key.customer_id = q.getColumn(0).getInt64();
      state.key.account_id = q.getColumn(1).getString();
      state.key.target = q.getColumn(2).getString();
      state.key.tag_id = q.getColumn(3).getInt64();
      state.platform_tag_id = q.getColumn(4).getString();
      if (!q.getColumn(5).isNull()) {
        model::CustomerTag row;
        row.customer_id = state.key.customer_id;
        row.tag_id = state.key.tag_id;
        row.score = q.getColumn(5).getDouble();
        row.updated_at_ms = q.getColumn(6).getInt64();
        const std::optional<model::TagSource> source =
            model::ParseTagSource(q.getColumn(7).getString());
        if (!source.has_value()) {
          return core::InternalError("customer tag (" + std::to_string(row.customer_id) + ", " +
                                     std::to_string(row.tag_id) + ") has unknown source");
        }
        row.source = *source;
        row.decays = q.getColumn(12).getInt() != 0;
        state.row = row;
      }
      state.half_life_days = q.getColumn(8).getInt();
      state.threshold = q.getColumn(9).getDouble();
      state.wecom_tag_id = q.getColumn(10).getString();
      state.oa_tag_id = q.getColumn(11).getInt64();
      out.push_back(std::move(state));
    }
    return core::OkStatus();
  }));
  return out;
}

}  // namespace scrm::storage
