// ProfileStore: the repositories of the customer-profile tables, bundled for the profile service
// (src/profiles), over one main Database: customers, identities, the tag library, customer tags,
// timeline, tasks, followers, merges, applied effects, and the outbox, tag pushes and ingest
// cursors that profile changes write with them. Writes run in a WriteTxn of the Database
// (db.InTransaction), through which every repository takes part in the same transaction; the
// ingest worker applies a chunk of interactions and advances its cursor in ONE transaction that
// way while the domain code never sees SQLite. GetProfile is the read that spans the tables.
#pragma once

#include <cstddef>
#include <cstdint>

#include "src/core/status.h"
#include "src/model/customer.h"
#include "src/storage/cursor_store.h"
#include "src/storage/customer_repository.h"
#include "src/storage/customer_tag_repository.h"
#include "src/storage/database.h"
#include "src/storage/effect_repository.h"
#include "src/storage/follower_repository.h"
#include "src/storage/identity_repository.h"
#include "src/storage/list_limit.h"
#include "src/storage/merge_repository.h"
#include "src/storage/outbox_store.h"
#include "src/storage/tag_push_store.h"
#include "src/storage/tag_repository.h"
#include "src/storage/task_repository.h"
#include "src/storage/timeline_repository.h"
#include "src/storage/write_txn.h"

namespace scrm::storage {

// Thread-safe as its repositories are. Does not own the Database, which must outlive it. The
// repositories are public members: callers name the one they write through
// (store.customers.Update(txn, customer)).
class ProfileStore {
 public:
  static constexpr size_t kMaxListLimit = storage::kMaxListLimit;

  explicit ProfileStore(Database& database);
  ProfileStore(const ProfileStore&) = delete;
  ProfileStore& operator=(const ProfileStore&) = delete;

  // The customer with its identities, tags (with definitions), followers, tasks and merges.
  // NotFound for an unknown customer. On the session's connection, or on a read connection.
  core::StatusOr<model::CustomerProfile> GetProfile(Session& session, int64_t customer_id);
  core::StatusOr<model::CustomerProfile> GetProfile(int64_t customer_id);

  Database& db;
  CustomerRepository customers;
  IdentityRepository identities;
  TagRepository tags;
  CustomerTagRepository customer_tags;
  TimelineRepository timeline;
  TaskRepository tasks;
  FollowerRepository followers;
  MergeRepository merges;
  AppliedEffectRepository effects;
  OutboxStore outbox;
  TagPushStore tag_pushes;
  CursorStore cursors;
};

}  // namespace scrm::storage
