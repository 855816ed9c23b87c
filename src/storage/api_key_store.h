// ApiKeyStore: the api_keys table. Keys are stored as SHA-256 hashes only.
#pragma once

#include <optional>
#include <vector>

#include "src/core/status.h"
#include "src/model/api_key.h"
#include "src/storage/database.h"

namespace scrm::storage {

// Thread-safe (all access through Database). Does not own the Database.
class ApiKeyStore {
 public:
  explicit ApiKeyStore(Database& db) : db_(db) {}

  // Inserts key (its id is filled in from the row). AlreadyExists when the hash or the name is
  // already taken by a key that is not revoked.
  core::StatusOr<model::ApiKey> Insert(const model::ApiKey& key);
  // The non-revoked key with this secret hash; NotFound otherwise.
  core::StatusOr<model::ApiKey> FindActiveBySecretHash(const std::string& secret_sha256);
  // Every key, revoked ones included, by id ascending.
  core::StatusOr<std::vector<model::ApiKey>> List();
  // Marks the key revoked (by numeric id or by name). NotFound if no active key matches.
  core::Status Revoke(int64_t id, int64_t now_ms);
  core::Status RevokeByName(const std::string& name, int64_t now_ms);
  // Best-effort bookkeeping of the last use (called from the API auth path).
  core::Status TouchLastUsed(int64_t id, int64_t now_ms);

 private:
  Database& db_;
};

}  // namespace scrm::storage
