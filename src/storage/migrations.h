// Migrations: the numbered, append-only schema changes that Database::Migrate applies.
// Internal to src/storage.
#pragma once

#include <span>

namespace scrm::storage {

// One schema change. `sql` may hold several statements; it runs in one transaction.
struct Migration {
  int version = 0;
  const char* name = "";
  const char* sql = "";
  // The sql edits sqlite_schema through writable_schema: Migrate increments schema_version
  // afterwards, in the same transaction, so every other connection re-reads the schema.
  bool edits_schema_text = false;
};

// Every migration, ascending, numbered 1..N without gaps. Append-only: a migration that has
// shipped is never edited, renumbered or removed; a change is a new entry at the end.
// The returned span refers to static storage.
std::span<const Migration> AllMigrations();

}  // namespace scrm::storage
