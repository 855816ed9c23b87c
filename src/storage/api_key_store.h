// ApiKeyStore: the api_keys table. Keys are stored as SHA-256 hashes only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/model/api_key.h"
#include "src/storage/database.h"

namespace scrm::storage {

// Thread-safe (all access through Database). Does not own the Database. Every call may also
// fail with the codes of Database::WithWriter/WithReader (FailedPrecondition after Close,
// Unavailable when busy, Internal otherwise); a stored role that model::ParseRole does not know
// is Internal.
class ApiKeyStore {
 public:
  explicit ApiKeyStore(Database& db) : db_(db) {}

  // Inserts key (its id is filled in from the row). AlreadyExists when the hash or the name is
  // already taken by a key that is not revoked.
  // key.id is ignored (the database assigns it). The hash is unique over revoked keys too, so a
  // revoked secret can never become valid again. InvalidArgument when the name is empty or
  // secret_sha256 is not 64 lower-case hex characters (a guard against storing a raw secret).
  core::StatusOr<model::ApiKey> Insert(const model::ApiKey& key);
  // The non-revoked key with this secret hash; NotFound otherwise.
  core::StatusOr<model::ApiKey> FindActiveBySecretHash(const std::string& secret_sha256);
  // Every key, revoked ones included, by id ascending.
  core::StatusOr<std::vector<model::ApiKey>> List();
  // Marks the key revoked (by numeric id or by name). NotFound if no active key matches.
  core::Status Revoke(int64_t id, int64_t now_ms);
  core::Status RevokeByName(const std::string& name, int64_t now_ms);
  // Best-effort bookkeeping of the last use (called from the API auth path). NotFound when no
  // key has this id.
  core::Status TouchLastUsed(int64_t id, int64_t now_ms);

 private:
  Database& db_;
};

}  // namespace scrm::storage
