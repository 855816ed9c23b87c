#include "src/storage/tag_push_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <utility>

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
  for (const TagPush& push : added) {
    if (push.customer_id != customer_id || push.account_id != account_id || push.target != target) {
      return core::InvalidArgumentError("a recorded tag push names another target");
    }
  }
  if (added.empty() && removed_tag_ids.empty()) return core::OkStatus();
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Transaction txn(db);
    SQLite::Statement upsert(db, kUpsertPush);
    for (const TagPush& push : added) {
      upsert.bind(1, push.customer_id);
      upsert.bind(2, push.account_id);
      upsert.bind(3, push.target);
      upsert.bind(4, push.tag_id);
      upsert.bind(5, push.platform_tag_id);
      upsert.bind(6, push.pushed_at_ms);
      upsert.exec();
      upsert.reset();
    }
    SQLite::Statement erase(db, kDeletePush);
    for (const int64_t tag_id : removed_tag_ids) {
      erase.bind(1, customer_id);
      erase.bind(2, std::string(account_id));
      erase.bind(3, std::string(target));
      erase.bind(4, tag_id);
      erase.exec();
      erase.reset();
    }
    txn.commit();
    return core::OkStatus();
  });
}

}  // namespace scrm::storage
