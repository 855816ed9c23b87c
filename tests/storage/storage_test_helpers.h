// Helpers shared by the storage tests: opening a database in a TempDir and reading PRAGMAs.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/model/api_key.h"
#include "src/model/interaction.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "tests/support/test_support.h"

namespace scrm::storage::testing {

inline constexpr int64_t kNowMs = 1767225600000;  // 2026-01-01T00:00:00Z

// Opens (REQUIREs success) a database at path with the given options filled in.
inline std::unique_ptr<Database> OpenOrDie(DatabaseOptions options) {
  auto db = Database::Open(options);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  return std::move(db).value();
}

inline std::unique_ptr<Database> OpenFileOrDie(const scrm::testing::TempDir& dir,
                                               const std::string& name = "scrmd.db") {
  DatabaseOptions options;
  options.path = dir.File(name);
  return OpenOrDie(options);
}

inline std::unique_ptr<Database> OpenMigratedOrDie(DatabaseOptions options) {
  auto db = OpenOrDie(std::move(options));
  auto applied = db->Migrate(kNowMs);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  return db;
}

// Options of the inbox file `name` in dir (Schema::kInbox).
inline DatabaseOptions InboxOptions(const scrm::testing::TempDir& dir,
                                    const std::string& name = "scrmd-inbox.db") {
  DatabaseOptions options;
  options.path = dir.File(name);
  options.schema = Schema::kInbox;
  return options;
}

// The first column of the first row of a PRAGMA or query, as text, read on the writer.
inline std::string WriterScalar(Database& db, const char* sql) {
  std::string value;
  const core::Status status = db.WithWriter([&](SQLite::Database& conn) -> core::Status {
    value = conn.execAndGet(sql).getString();
    return core::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
  return value;
}

// Same on a read connection.
inline std::string ReaderScalar(Database& db, const char* sql) {
  std::string value;
  const core::Status status = db.WithReader([&](SQLite::Database& conn) -> core::Status {
    value = conn.execAndGet(sql).getString();
    return core::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
  return value;
}

// A well-formed (64 lower-case hex) hash that differs for each seed.
inline std::string FakeSha256(int seed) {
  std::string hex = std::to_string(seed);
  return std::string(64 - hex.size(), 'a') + hex;
}

inline model::ApiKey MakeKey(const std::string& name, int seed,
                             model::Role role = model::Role::kReadonly) {
  model::ApiKey key;
  key.name = name;
  key.role = role;
  key.prefix = "scrm_" + std::to_string(seed);
  key.secret_sha256 = FakeSha256(seed);
  key.created_at_ms = kNowMs;
  return key;
}

// Inserts rows into the interactions table of a main file from before the split, as that
// release's InteractionStore did (the unique dedupe index of main migration 2 is on the table;
// the rows' keys must not collide, dedupe_seq is 0).
inline void InsertRowsAsBeforeSplit(Database& db, const std::vector<model::Interaction>& rows) {
  const core::Status status = db.WithWriter([&](SQLite::Database& conn) -> core::Status {
    SQLite::Transaction transaction(conn);
    SQLite::Statement insert(
        conn,
        "INSERT INTO interactions (id, account_id, platform, kind, dedupe_key, dedupe_hash, "
        "dedupe_seq, msg_id, openid, unionid, external_userid, userid, chat_id, to_user, "
        "occurred_at_ms, received_at_ms, payload_json, raw_format, raw_body) "
        "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const model::Interaction& it : rows) {
      const InsertEncoding encoding = EncodeForInsert(it);
      insert.reset();
      insert.bind(1, it.id);
      insert.bind(2, it.account_id);
      insert.bind(3, std::string(model::PlatformName(it.platform)));
      insert.bind(4, std::string(model::KindName(it.kind)));
      insert.bind(5, it.dedupe_key);
      insert.bind(6, static_cast<int64_t>(encoding.dedupe_hash));
      insert.bind(7, it.msg_id);
      insert.bind(8, it.openid);
      insert.bind(9, it.unionid);
      insert.bind(10, it.external_userid);
      insert.bind(11, it.userid);
      insert.bind(12, it.chat_id);
      insert.bind(13, it.to_user);
      insert.bind(14, it.occurred_at_ms);
      insert.bind(15, it.received_at_ms);
      insert.bind(16, encoding.payload_json);
      insert.bind(17, it.raw_format);
      insert.bind(18, it.raw_body);
      insert.exec();
    }
    transaction.commit();
    return core::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
}

}  // namespace scrm::storage::testing
