// IdentityRepository: the identities table (main migration 3) — the platform ids (openid,
// external_userid, unionid, phone, ERP number) that resolve to one customer each.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/database.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Thread-safety and errors as CustomerRepository.
class IdentityRepository {
 public:
  explicit IdentityRepository(Database& db) : db_(db) {}

  // The customer the identity resolves to (one statement: the ingest worker's first read).
  core::StatusOr<std::optional<model::Customer>> FindCustomer(Session& session,
                                                              std::string_view platform,
                                                              std::string_view account_id,
                                                              model::IdentityKind kind,
                                                              std::string_view value);
  core::StatusOr<std::optional<model::Identity>> Find(Session& session, std::string_view platform,
                                                      std::string_view account_id,
                                                      model::IdentityKind kind,
                                                      std::string_view value);
  // The same on a read connection.
  core::StatusOr<std::optional<model::Identity>> Find(std::string_view platform,
                                                      std::string_view account_id,
                                                      model::IdentityKind kind,
                                                      std::string_view value);
  // Stores identity (created_at_ms as given, id assigned); the stored row. AlreadyExists when
  // (platform, account_id, kind, value) belongs to a customer already.
  core::StatusOr<model::Identity> Add(WriteTxn& txn, const model::Identity& identity);
  // The customer's identities, by id.
  core::StatusOr<std::vector<model::Identity>> List(Session& session, int64_t customer_id);
  // Moves every identity of `from` to `to` (a merge); the ids moved, ascending.
  core::StatusOr<std::vector<int64_t>> MoveAll(WriteTxn& txn, int64_t from, int64_t to);
  // Moves the identities with these ids to `to` (undoing a merge).
  core::Status MoveById(WriteTxn& txn, std::span<const int64_t> ids, int64_t to);

 private:
  Database& db_;
};

}  // namespace scrm::storage
