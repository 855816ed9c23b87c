#include "src/storage/api_key_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <utility>

namespace scrm::storage {
namespace {

using core::Status;
using core::StatusOr;

// Portable SQL (ON CONFLICT ... DO NOTHING and RETURNING exist in SQLite >= 3.35 and
// PostgreSQL). A duplicate is an expected outcome, so Insert reports it from "no row returned"
// rather than from a constraint exception.
constexpr char kInsertApiKey[] =
    "INSERT INTO api_keys (name, role, prefix, secret_sha256, created_at_ms, revoked_at_ms, "
    "last_used_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id";
constexpr char kCountApiKeysBySecretHash[] =
    "SELECT COUNT(*) FROM api_keys WHERE secret_sha256 = ?";
constexpr char kSelectActiveApiKeyBySecretHash[] =
    "SELECT id, name, role, prefix, secret_sha256, created_at_ms, revoked_at_ms, "
    "last_used_at_ms FROM api_keys WHERE secret_sha256 = ? AND revoked_at_ms IS NULL";
constexpr char kSelectAllApiKeys[] =
    "SELECT id, name, role, prefix, secret_sha256, created_at_ms, revoked_at_ms, "
    "last_used_at_ms FROM api_keys ORDER BY id";
constexpr char kRevokeApiKeyById[] =
    "UPDATE api_keys SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL";
constexpr char kRevokeApiKeyByName[] =
    "UPDATE api_keys SET revoked_at_ms = ? WHERE name = ? AND revoked_at_ms IS NULL";
constexpr char kTouchApiKeyLastUsed[] = "UPDATE api_keys SET last_used_at_ms = ? WHERE id = ?";

constexpr size_t kSha256HexLength = 64;

bool IsLowerHexSha256(const std::string& text) {
  if (text.size() != kSha256HexLength) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void BindOptional(SQLite::Statement& statement, int index, const std::optional<int64_t>& value) {
  if (value.has_value()) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);  // NULL
  }
}

std::optional<int64_t> OptionalInt64(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getInt64();
}

// Reads the current row of a query over the column list of kSelectAllApiKeys.
StatusOr<model::ApiKey> ReadApiKey(const SQLite::Statement& row) {
  model::ApiKey key;
  key.id = row.getColumn(0).getInt64();
  key.name = row.getColumn(1).getString();
  const std::string role_name = row.getColumn(2).getString();
  const std::optional<model::Role> role = model::ParseRole(role_name);
  if (!role.has_value()) {
    return core::InternalError("api key " + std::to_string(key.id) + " has unknown role \"" +
                               role_name + "\"");
  }
  key.role = *role;
  key.prefix = row.getColumn(3).getString();
  key.secret_sha256 = row.getColumn(4).getString();
  key.created_at_ms = row.getColumn(5).getInt64();
  key.revoked_at_ms = OptionalInt64(row.getColumn(6));
  key.last_used_at_ms = OptionalInt64(row.getColumn(7));
  return key;
}

}  // namespace

StatusOr<model::ApiKey> ApiKeyStore::Insert(const model::ApiKey& key) {
  if (key.name.empty()) return core::InvalidArgumentError("api key name is empty");
  if (!IsLowerHexSha256(key.secret_sha256)) {
    return core::InvalidArgumentError("api key secret_sha256 must be 64 lower-case hex characters");
  }
  model::ApiKey stored = key;
  SCRM_RETURN_IF_ERROR(db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement insert(db, kInsertApiKey);
    insert.bind(1, key.name);
    insert.bind(2, std::string(model::RoleName(key.role)));
    insert.bind(3, key.prefix);
    insert.bind(4, key.secret_sha256);
    insert.bind(5, key.created_at_ms);
    BindOptional(insert, 6, key.revoked_at_ms);
    BindOptional(insert, 7, key.last_used_at_ms);
    if (insert.executeStep()) {
      stored.id = insert.getColumn(0).getInt64();
      return core::OkStatus();
    }
    // Nothing inserted: say which uniqueness rule the key broke (never echo the hash).
    SQLite::Statement count(db, kCountApiKeysBySecretHash);
    count.bind(1, key.secret_sha256);
    if (count.executeStep() && count.getColumn(0).getInt64() > 0) {
      return core::AlreadyExistsError("an api key with this secret already exists");
    }
    return core::AlreadyExistsError("an active api key named \"" + key.name + "\" already exists");
  }));
  return stored;
}

StatusOr<model::ApiKey> ApiKeyStore::FindActiveBySecretHash(const std::string& secret_sha256) {
  std::optional<StatusOr<model::ApiKey>> found;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectActiveApiKeyBySecretHash);
    query.bind(1, secret_sha256);
    if (query.executeStep()) found = ReadApiKey(query);
    return core::OkStatus();
  }));
  if (!found.has_value()) return core::NotFoundError("no active api key with this secret");
  return std::move(*found);
}

StatusOr<std::vector<model::ApiKey>> ApiKeyStore::List() {
  std::vector<model::ApiKey> keys;
  SCRM_RETURN_IF_ERROR(db_.WithReader([&](SQLite::Database& db) -> Status {
    SQLite::Statement query(db, kSelectAllApiKeys);
    while (query.executeStep()) {
      SCRM_ASSIGN_OR_RETURN(model::ApiKey key, ReadApiKey(query));
      keys.push_back(std::move(key));
    }
    return core::OkStatus();
  }));
  return keys;
}

Status ApiKeyStore::Revoke(int64_t id, int64_t now_ms) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement update(db, kRevokeApiKeyById);
    update.bind(1, now_ms);
    update.bind(2, id);
    if (update.exec() == 0) {
      return core::NotFoundError("no active api key with id " + std::to_string(id));
    }
    return core::OkStatus();
  });
}

Status ApiKeyStore::RevokeByName(const std::string& name, int64_t now_ms) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement update(db, kRevokeApiKeyByName);
    update.bind(1, now_ms);
    update.bind(2, name);
    if (update.exec() == 0) {
      return core::NotFoundError("no active api key named \"" + name + "\"");
    }
    return core::OkStatus();
  });
}

Status ApiKeyStore::TouchLastUsed(int64_t id, int64_t now_ms) {
  return db_.WithWriter([&](SQLite::Database& db) -> Status {
    SQLite::Statement update(db, kTouchApiKeyLastUsed);
    update.bind(1, now_ms);
    update.bind(2, id);
    if (update.exec() == 0) return core::NotFoundError("no api key with id " + std::to_string(id));
    return core::OkStatus();
  });
}

}  // namespace scrm::storage
