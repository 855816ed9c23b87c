#include "src/storage/api_key_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <string>

#include "src/model/api_key.h"
#include "src/storage/database.h"
#include "tests/storage/storage_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::storage {
namespace {

using core::StatusCode;
using model::Role;
using scrm::testing::TempDir;
using testing::FakeSha256;
using testing::kNowMs;
using testing::MakeKey;
using testing::OpenMigratedOrDie;

// A migrated file database in a TempDir with a store over it.
DatabaseOptions FileOptions(const TempDir& dir) {
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  return options;
}

// Members are initialised in declaration order: dir, then db, then store.
struct Fixture {
  TempDir dir;
  std::unique_ptr<Database> db = OpenMigratedOrDie(FileOptions(dir));
  ApiKeyStore store{*db};
};

model::ApiKey InsertOrDie(ApiKeyStore& store, const model::ApiKey& key) {
  auto inserted = store.Insert(key);
  INFO(inserted.status().ToString());
  REQUIRE(inserted.ok());
  return inserted.value();
}

TEST_CASE("ApiKeyStore Insert fills in the id when the key is new", "[db]") {
  Fixture f;
  auto key = MakeKey("ops", 1, Role::kAdmin);
  key.id = 999;  // ignored: the row assigns the id
  const model::ApiKey first = InsertOrDie(f.store, key);
  const model::ApiKey second = InsertOrDie(f.store, MakeKey("crm", 2));
  CHECK(first.id > 0);
  CHECK(first.id != 999);
  CHECK(second.id > first.id);
  CHECK(first.name == "ops");
  CHECK(first.role == Role::kAdmin);
}

TEST_CASE("ApiKeyStore Insert returns InvalidArgument when the name or hash is malformed", "[db]") {
  Fixture f;
  auto key = MakeKey("ops", 1);
  SECTION("empty name") { key.name.clear(); }
  SECTION("raw secret instead of a hash") { key.secret_sha256 = "scrm_live_secret"; }
  SECTION("upper-case hash") { key.secret_sha256 = std::string(64, 'A'); }
  CHECK(f.store.Insert(key).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("ApiKeyStore FindActiveBySecretHash returns every field when the key is active", "[db]") {
  Fixture f;
  auto key = MakeKey("ops", 1, Role::kMarketing);
  key.last_used_at_ms = kNowMs + 5;
  const model::ApiKey inserted = InsertOrDie(f.store, key);
  auto found = f.store.FindActiveBySecretHash(FakeSha256(1));
  REQUIRE(found.ok());
  CHECK(found->id == inserted.id);
  CHECK(found->name == "ops");
  CHECK(found->role == Role::kMarketing);
  CHECK(found->prefix == "scrm_1");
  CHECK(found->secret_sha256 == FakeSha256(1));
  CHECK(found->created_at_ms == kNowMs);
  CHECK_FALSE(found->revoked_at_ms.has_value());
  CHECK(found->last_used_at_ms == kNowMs + 5);
}

TEST_CASE("ApiKeyStore keeps the role when each role is read back", "[db]") {
  const Role role = GENERATE(Role::kAdmin, Role::kMarketing, Role::kSales, Role::kReadonly);
  Fixture f;
  InsertOrDie(f.store, MakeKey("k", 1, role));
  auto found = f.store.FindActiveBySecretHash(FakeSha256(1));
  REQUIRE(found.ok());
  CHECK(found->role == role);
}

TEST_CASE("ApiKeyStore FindActiveBySecretHash returns NotFound when the hash is unknown", "[db]") {
  Fixture f;
  InsertOrDie(f.store, MakeKey("ops", 1));
  CHECK(f.store.FindActiveBySecretHash(FakeSha256(2)).status().code() == StatusCode::kNotFound);
}

TEST_CASE("ApiKeyStore FindActiveBySecretHash returns NotFound when the key is revoked", "[db]") {
  Fixture f;
  const model::ApiKey key = InsertOrDie(f.store, MakeKey("ops", 1));
  REQUIRE(f.store.Revoke(key.id, kNowMs + 1).ok());
  CHECK(f.store.FindActiveBySecretHash(FakeSha256(1)).status().code() == StatusCode::kNotFound);
}

TEST_CASE("ApiKeyStore List returns nothing when there are no keys", "[db]") {
  Fixture f;
  auto keys = f.store.List();
  REQUIRE(keys.ok());
  CHECK(keys->empty());
}

TEST_CASE("ApiKeyStore List returns every key by id when some are revoked", "[db]") {
  Fixture f;
  const model::ApiKey a = InsertOrDie(f.store, MakeKey("a", 1));
  const model::ApiKey b = InsertOrDie(f.store, MakeKey("b", 2));
  const model::ApiKey c = InsertOrDie(f.store, MakeKey("c", 3));
  REQUIRE(f.store.Revoke(b.id, kNowMs + 7).ok());
  auto keys = f.store.List();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 3);
  CHECK(keys->at(0).id == a.id);
  CHECK(keys->at(1).id == b.id);
  CHECK(keys->at(2).id == c.id);
  CHECK_FALSE(keys->at(0).revoked_at_ms.has_value());
  CHECK(keys->at(1).revoked_at_ms == kNowMs + 7);
  CHECK_FALSE(keys->at(2).revoked_at_ms.has_value());
}

TEST_CASE("ApiKeyStore Insert returns AlreadyExists when the secret hash is taken", "[db]") {
  Fixture f;
  const model::ApiKey first = InsertOrDie(f.store, MakeKey("ops", 1));
  SECTION("by an active key") {}
  SECTION("by a revoked key") { REQUIRE(f.store.Revoke(first.id, kNowMs).ok()); }
  auto duplicate = f.store.Insert(MakeKey("other", 1));
  CHECK(duplicate.status().code() == StatusCode::kAlreadyExists);
  CHECK_THAT(duplicate.status().message(), Catch::Contains("secret"));
  CHECK_THAT(duplicate.status().message(), !Catch::Contains(FakeSha256(1)));
  CHECK(f.store.List()->size() == 1);
}

TEST_CASE("ApiKeyStore Insert returns AlreadyExists when an active key has the name", "[db]") {
  Fixture f;
  InsertOrDie(f.store, MakeKey("ops", 1));
  auto duplicate = f.store.Insert(MakeKey("ops", 2));
  CHECK(duplicate.status().code() == StatusCode::kAlreadyExists);
  CHECK_THAT(duplicate.status().message(), Catch::Contains("ops"));
}

TEST_CASE("ApiKeyStore Insert accepts a name when the key that had it is revoked", "[db]") {
  Fixture f;
  const model::ApiKey old_key = InsertOrDie(f.store, MakeKey("ops", 1));
  REQUIRE(f.store.Revoke(old_key.id, kNowMs).ok());
  const model::ApiKey new_key = InsertOrDie(f.store, MakeKey("ops", 2));
  CHECK(new_key.id != old_key.id);
  auto found = f.store.FindActiveBySecretHash(FakeSha256(2));
  REQUIRE(found.ok());
  CHECK(found->id == new_key.id);
}

TEST_CASE("ApiKeyStore Revoke records the time when the key is active", "[db]") {
  Fixture f;
  const model::ApiKey key = InsertOrDie(f.store, MakeKey("ops", 1));
  REQUIRE(f.store.Revoke(key.id, kNowMs + 42).ok());
  auto keys = f.store.List();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 1);
  CHECK(keys->front().revoked_at_ms == kNowMs + 42);
}

TEST_CASE("ApiKeyStore Revoke returns NotFound when the id is unknown", "[db]") {
  Fixture f;
  CHECK(f.store.Revoke(12345, kNowMs).code() == StatusCode::kNotFound);
}

TEST_CASE("ApiKeyStore Revoke returns NotFound when the key is already revoked", "[db]") {
  Fixture f;
  const model::ApiKey key = InsertOrDie(f.store, MakeKey("ops", 1));
  REQUIRE(f.store.Revoke(key.id, kNowMs + 1).ok());
  CHECK(f.store.Revoke(key.id, kNowMs + 2).code() == StatusCode::kNotFound);
  CHECK(f.store.List()->front().revoked_at_ms == kNowMs + 1);  // first revoke time kept
}

TEST_CASE("ApiKeyStore RevokeByName revokes only the active key when the name matches", "[db]") {
  Fixture f;
  const model::ApiKey old_key = InsertOrDie(f.store, MakeKey("ops", 1));
  REQUIRE(f.store.Revoke(old_key.id, kNowMs + 1).ok());
  const model::ApiKey new_key = InsertOrDie(f.store, MakeKey("ops", 2));
  const model::ApiKey other = InsertOrDie(f.store, MakeKey("crm", 3));
  REQUIRE(f.store.RevokeByName("ops", kNowMs + 9).ok());
  auto keys = f.store.List();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 3);
  CHECK(keys->at(0).revoked_at_ms == kNowMs + 1);  // the old one is untouched
  CHECK(keys->at(1).id == new_key.id);
  CHECK(keys->at(1).revoked_at_ms == kNowMs + 9);
  CHECK(keys->at(2).id == other.id);
  CHECK_FALSE(keys->at(2).revoked_at_ms.has_value());
}

TEST_CASE("ApiKeyStore RevokeByName returns NotFound when no active key has the name", "[db]") {
  Fixture f;
  SECTION("unknown name") {}
  SECTION("already revoked") {
    InsertOrDie(f.store, MakeKey("ops", 1));
    REQUIRE(f.store.RevokeByName("ops", kNowMs).ok());
  }
  CHECK(f.store.RevokeByName("ops", kNowMs + 1).code() == StatusCode::kNotFound);
}

TEST_CASE("ApiKeyStore RevokeByName treats the name as a value when it contains SQL", "[db]") {
  Fixture f;
  InsertOrDie(f.store, MakeKey("ops", 1));
  CHECK(f.store.RevokeByName("x' OR '1'='1", kNowMs).code() == StatusCode::kNotFound);
  CHECK(f.store.FindActiveBySecretHash(FakeSha256(1)).ok());
}

TEST_CASE("ApiKeyStore TouchLastUsed records the time when the key exists", "[db]") {
  Fixture f;
  const model::ApiKey key = InsertOrDie(f.store, MakeKey("ops", 1));
  REQUIRE(f.store.TouchLastUsed(key.id, kNowMs + 100).ok());
  auto found = f.store.FindActiveBySecretHash(FakeSha256(1));
  REQUIRE(found.ok());
  CHECK(found->last_used_at_ms == kNowMs + 100);
}

TEST_CASE("ApiKeyStore TouchLastUsed returns NotFound when the id is unknown", "[db]") {
  Fixture f;
  CHECK(f.store.TouchLastUsed(777, kNowMs).code() == StatusCode::kNotFound);
}

TEST_CASE("ApiKeyStore reads return Internal when a stored role is unknown", "[db]") {
  Fixture f;
  InsertOrDie(f.store, MakeKey("ops", 1));
  // Simulates a row written by another tool: bypass the CHECK constraint for this connection.
  REQUIRE(f.db->WithWriter([](SQLite::Database& conn) {
                conn.exec("PRAGMA ignore_check_constraints = ON");
                conn.exec("UPDATE api_keys SET role = 'root'");
                conn.exec("PRAGMA ignore_check_constraints = OFF");
                return core::OkStatus();
              })
              .ok());
  CHECK(f.store.List().status().code() == StatusCode::kInternal);
  CHECK(f.store.FindActiveBySecretHash(FakeSha256(1)).status().code() == StatusCode::kInternal);
}

TEST_CASE("ApiKeyStore calls return Internal when the schema is not migrated", "[db]") {
  TempDir dir;
  auto db = testing::OpenFileOrDie(dir);
  ApiKeyStore store(*db);
  CHECK(store.Insert(MakeKey("ops", 1)).status().code() == StatusCode::kInternal);
  CHECK(store.List().status().code() == StatusCode::kInternal);
  CHECK(store.Revoke(1, kNowMs).code() == StatusCode::kInternal);
}

TEST_CASE("ApiKeyStore works end to end when the database is :memory:", "[db]") {
  DatabaseOptions options;
  options.path = ":memory:";
  auto db = OpenMigratedOrDie(options);
  ApiKeyStore store(*db);
  const model::ApiKey key = InsertOrDie(store, MakeKey("ops", 1, Role::kSales));
  CHECK(store.Insert(MakeKey("ops", 2)).status().code() == StatusCode::kAlreadyExists);
  REQUIRE(store.TouchLastUsed(key.id, kNowMs + 1).ok());
  auto found = store.FindActiveBySecretHash(FakeSha256(1));
  REQUIRE(found.ok());
  CHECK(found->role == Role::kSales);
  REQUIRE(store.RevokeByName("ops", kNowMs + 2).ok());
  CHECK(store.FindActiveBySecretHash(FakeSha256(1)).status().code() == StatusCode::kNotFound);
  CHECK(store.List()->size() == 1);
}

}  // namespace
}  // namespace scrm::storage
