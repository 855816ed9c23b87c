// Migrations: the numbered, append-only schema changes that Database::Migrate applies, one list
// per database file (the main file and the inbox file). Internal to src/storage.
#pragma once

#include <span>

#include "src/core/status.h"
#include "src/storage/database.h"  // Schema, MigrationContext; forward-declares SQLite::Database

namespace scrm::storage {

// One schema change. `sql` may hold several statements; it runs in one transaction.
struct Migration {
  int version = 0;
  const char* name = "";
  const char* sql = "";
  // The sql edits sqlite_schema through writable_schema: Migrate increments schema_version
  // afterwards, in the same transaction, so every other connection re-reads the schema.
  bool edits_schema_text = false;
  // Runs in the migration's transaction before `sql`, on the same connection; an error rolls the
  // migration back. For a step SQL alone cannot do (moving rows to the other file).
  core::Status (*before)(SQLite::Database& conn, const MigrationContext& context) = nullptr;
};

// Every migration of the main file, ascending, numbered 1..N without gaps. Append-only: a
// migration that has shipped is never edited, renumbered or removed; a change is a new entry at
// the end. The returned span refers to static storage.
std::span<const Migration> AllMigrations();
// The same for the inbox file (Schema::kInbox), numbered on its own from 1.
std::span<const Migration> InboxMigrations();
// The list of `schema`.
std::span<const Migration> MigrationsOf(Schema schema);

}  // namespace scrm::storage
