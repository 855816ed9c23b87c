// Process-level tests: the real scrmd binary, a real SQLite file, HTTP on loopback.
#include <SQLiteCpp/SQLiteCpp.h>
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "src/model/interaction.h"
#include "src/storage/cursor_store.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "src/storage/migrations.h"
#include "tests/integration/scrmd_fixture.h"
#include "tests/storage/storage_test_helpers.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The process tests' config: no accounts, a 1 KiB body limit (413 tests), `extra` merged.
std::string WriteConfig(const TempDir& dir, json extra = json::object()) {
  json cfg = {{"http", {{"max_body_bytes", 1024}}}};
  cfg.merge_patch(extra);
  return WriteScrmdConfig(dir, cfg);
}

httplib::Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

TEST_CASE("scrmd --version prints the version when asked", "[integration]") {
  auto r = Run({ScrmdBinary(), "--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("scrmd ", 0) == 0);
}

TEST_CASE("scrmd serve exits non-zero with one line naming the key when the config is bad",
          "[integration]") {
  TempDir dir;
  const std::string config = dir.File("bad.json");
  WriteFile(config, R"({"listen":"127.0.0.1:0","http":{"threads":"many"}})");
  auto r = Run({ScrmdBinary(), "serve", "--config", config});
  CHECK(r.exit_code != 0);
  CHECK(r.out.empty());
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find("http.threads") != std::string::npos);
}

TEST_CASE("scrmd serve names an unknown key when the config has a typo", "[integration]") {
  TempDir dir;
  const std::string config = dir.File("typo.json");
  WriteFile(config, R"({"lisen":"127.0.0.1:0"})");
  auto r = Run({ScrmdBinary(), "serve", "--config", config});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("lisen") != std::string::npos);
}

TEST_CASE("scrmd keys create prints the key alone and list and revoke manage it", "[integration]") {
  TempDir dir;
  const std::string config = WriteConfig(dir);
  auto created = Run({ScrmdBinary(), "keys", "create", "--config", config, "--role", "sales",
                      "--name", "crm-sync"});
  REQUIRE(created.exit_code == 0);
  CHECK(std::regex_match(created.out, std::regex("scrm_[0-9a-f]{40}\n")));

  auto listed = Run({ScrmdBinary(), "keys", "list", "--config", config, "--json"});
  REQUIRE(listed.exit_code == 0);
  const json row = json::parse(listed.out.substr(0, listed.out.find('\n')));
  CHECK(row["name"] == "crm-sync");
  CHECK(row["role"] == "sales");
  CHECK(row["revoked"] == false);
  // The secret never appears in a listing, only its display prefix.
  CHECK(listed.out.find(created.out.substr(0, 45)) == std::string::npos);

  auto revoked = Run({ScrmdBinary(), "keys", "revoke", "--config", config, "--name", "crm-sync"});
  CHECK(revoked.exit_code == 0);
  listed = Run({ScrmdBinary(), "keys", "list", "--config", config, "--json"});
  CHECK(json::parse(listed.out.substr(0, listed.out.find('\n')))["revoked"] == true);

  auto again = Run({ScrmdBinary(), "keys", "revoke", "--config", config, "--name", "crm-sync"});
  CHECK(again.exit_code != 0);
}

TEST_CASE("scrmd keys create rejects an unknown role", "[integration]") {
  TempDir dir;
  auto r = Run({ScrmdBinary(), "keys", "create", "--config", WriteConfig(dir), "--role", "boss",
                "--name", "x"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("--role") != std::string::npos);
}

TEST_CASE("scrmd migrate applies the schema once when run twice", "[integration]") {
  TempDir dir;
  const std::string config = WriteConfig(dir);
  auto first = Run({ScrmdBinary(), "migrate", "--config", config});
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("applied 0 ") == std::string::npos);
  auto second = Run({ScrmdBinary(), "migrate", "--config", config});
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.find("applied 0 migration(s)") != std::string::npos);
}

// A main file as the release before the split left it (migrations 1..7, the inbox in it) with
// `count` interactions and the worker's cursor at the second.
std::vector<int64_t> WriteStoreBeforeSplit(const std::string& path, int count) {
  auto db = storage::Database::Open({path});
  REQUIRE(db.ok());
  REQUIRE((*db)
              ->WithWriter([](SQLite::Database& conn) {
                conn.exec(
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
                    "NULL, applied_at_ms INTEGER NOT NULL)");
                for (const storage::Migration& migration : storage::AllMigrations()) {
                  if (migration.version > 7) break;
                  conn.exec(migration.sql);
                  if (migration.edits_schema_text) {  // as Migrate does
                    const int64_t version = conn.execAndGet("PRAGMA schema_version").getInt64();
                    conn.exec("PRAGMA schema_version=" + std::to_string(version + 1));
                  }
                  SQLite::Statement record(conn, "INSERT INTO schema_migrations VALUES (?, ?, 0)");
                  record.bind(1, migration.version);
                  record.bind(2, migration.name);
                  record.exec();
                }
                return core::OkStatus();
              })
              .ok());
  std::vector<model::Interaction> items;
  std::vector<int64_t> ids;
  for (int n = 1; n <= count; ++n) {
    model::Interaction it;
    it.id = (int64_t{1767225600000} << 16) + n;
    it.platform = model::Platform::kWecom;
    it.account_id = "corp1";
    it.kind = model::InteractionKind::kMessageText;
    it.msg_id = std::to_string(n);
    it.dedupe_key = "msg\x1f" + it.msg_id;
    it.userid = "zhangsan";
    it.occurred_at_ms = 1767225600000 + n;
    it.received_at_ms = 1767225600000 + n;
    it.payload = model::TextPayload{"old " + std::to_string(n)};
    it.raw_body = "<xml/>";
    items.push_back(it);
    ids.push_back(it.id);
  }
  storage::testing::InsertRowsAsBeforeSplit(**db, items);
  REQUIRE(storage::CursorStore(**db).SetCursor("worker", ids.at(1)).ok());
  REQUIRE((*db)->Close().ok());
  return ids;
}

TEST_CASE("scrmd migrate moves the interactions of a store from before the split to the inbox",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteConfig(dir);
  const std::string main_path = dir.File("var") + "/scrmd.db";
  std::filesystem::create_directories(dir.File("var"));
  const std::vector<int64_t> ids = WriteStoreBeforeSplit(main_path, 3);

  auto migrated = Run({ScrmdBinary(), "migrate", "--config", config});
  INFO(migrated.err);
  REQUIRE(migrated.exit_code == 0);
  // The move (migration 8) and every main migration after it; the store had 1..7.
  CHECK(migrated.out.find("applied " + std::to_string(storage::AllMigrations().size() - 7) +
                          " migration(s)") != std::string::npos);
  CHECK(migrated.out.find("applied 1 inbox migration(s)") != std::string::npos);

  storage::DatabaseOptions inbox_options;
  inbox_options.path = dir.File("var") + "/scrmd-inbox.db";
  inbox_options.schema = storage::Schema::kInbox;
  auto inbox = storage::Database::Open(inbox_options);
  REQUIRE(inbox.ok());
  CHECK((*inbox)->CheckReady().ok());
  auto moved = storage::InteractionStore(**inbox).ReadAfter(0, 10);
  REQUIRE(moved.ok());
  REQUIRE(moved->size() == ids.size());
  for (size_t i = 0; i < ids.size(); ++i) CHECK(moved->at(i).id == ids[i]);
  CHECK(moved->at(2).dedupe_key ==
        "msg\x1f"
        "3");
  CHECK((*inbox)->Close().ok());
  auto main = storage::Database::Open({main_path});
  REQUIRE(main.ok());
  CHECK((*main)->CheckReady().ok());
  CHECK(storage::CursorStore(**main).GetCursor("worker").value() == ids.at(1));
  CHECK((*main)
            ->WithReader([](SQLite::Database& conn) {
              CHECK(
                  conn.execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name = 'interactions'")
                      .getInt() == 0);
              return core::OkStatus();
            })
            .ok());
  CHECK((*main)->Close().ok());
}

TEST_CASE("scrmd serve warns at start when the inbox file does not go with the main file",
          "[integration]") {
  TempDir dir;
  std::filesystem::create_directories(dir.File("var"));
  WriteStoreBeforeSplit(dir.File("var") + "/scrmd.db", 3);  // the cursor at the second row
  {
    // The inbox file that belongs with it (made by the upgrade): no warning.
    ScrmdServer server(WriteConfig(dir));
    server.Stop();
    CHECK(server.process.Stderr().find("past the newest interaction") == std::string::npos);
  }
  // Another inbox file (storage.inbox_path changed): it starts, and says what looks wrong.
  const std::string elsewhere = dir.File("elsewhere-inbox.db");
  ScrmdServer server(WriteConfig(dir, {{"storage", {{"inbox_path", elsewhere}}}}));
  auto ready = server.Client().Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  server.Stop();
  const std::string err = server.process.Stderr();
  CHECK(err.find("past the newest interaction in " + elsewhere) != std::string::npos);
}

TEST_CASE("scrmd serve answers health, readiness and metrics when started", "[integration]") {
  TempDir dir;
  ScrmdServer server(WriteConfig(dir));
  auto client = server.Client();
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto ready = client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->body.find("scrmd_build_info{version=\"") != std::string::npos);
  CHECK(metrics->body.find("scrmd_http_requests_total{route=\"/healthz\"") != std::string::npos);
  CHECK(metrics->body.find("scrmd_http_request_duration_seconds_bucket") != std::string::npos);
}

TEST_CASE("scrmd API answers 401 without a key, 403 for a role without the right",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteConfig(dir);
  const std::string admin = CreateKey(config, "admin", "ops");
  const std::string readonly = CreateKey(config, "readonly", "dashboard");
  ScrmdServer server(config);
  auto client = server.Client();

  auto none = client.Get("/api/v1/me");
  REQUIRE(none);
  CHECK(none->status == 401);
  const json err = json::parse(none->body);
  CHECK(err["error"]["code"] == "unauthenticated");
  CHECK(err["error"]["request_id"] == none->get_header_value("X-Request-Id"));

  auto unknown = client.Get("/api/v1/me", Bearer("scrm_0000000000000000000000000000000000000000"));
  REQUIRE(unknown);
  CHECK(unknown->status == 401);

  auto me = client.Get("/api/v1/me", Bearer(readonly));
  REQUIRE(me);
  CHECK(me->status == 200);
  CHECK(json::parse(me->body)["role"] == "readonly");

  auto forbidden = client.Get("/api/v1/keys", Bearer(readonly));
  REQUIRE(forbidden);
  CHECK(forbidden->status == 403);
  CHECK(json::parse(forbidden->body)["error"]["code"] == "permission_denied");

  auto allowed = client.Get("/api/v1/keys", Bearer(admin));
  REQUIRE(allowed);
  CHECK(allowed->status == 200);
  CHECK(json::parse(allowed->body)["keys"].size() == 2);
}

TEST_CASE("scrmd answers 413 with a JSON error when the body is one byte over the limit",
          "[integration]") {
  TempDir dir;
  ScrmdServer server(WriteConfig(dir));  // max_body_bytes = 1024
  auto client = server.Client();
  auto over = client.Post("/api/v1/me", std::string(1025, 'x'), "text/plain");
  REQUIRE(over);
  CHECK(over->status == 413);
  const json err = json::parse(over->body);
  CHECK(err["error"]["code"] == "payload_too_large");
  CHECK_FALSE(err["error"]["request_id"].get<std::string>().empty());
  auto after = server.Client().Get("/healthz");
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("scrmd shuts down on SIGTERM leaving a consistent database", "[integration]") {
  TempDir dir;
  const std::string config = WriteConfig(dir);
  const std::string admin = CreateKey(config, "admin", "ops");
  ScrmdServer server(config);
  {
    auto client = server.Client();
    for (int i = 0; i < 20; ++i) {
      auto r = client.Get("/api/v1/me", Bearer(admin));
      REQUIRE(r);
      CHECK(r->status == 200);
    }
  }
  server.process.Signal(SIGTERM);
  const auto code = server.process.Wait(20s);
  INFO(server.process.Stderr());
  REQUIRE(code.has_value());
  CHECK(*code == 0);

  const std::string db_path = dir.File("var") + "/scrmd.db";
  const std::string wal = db_path + "-wal";
  // Close() checkpointed the WAL: the main file holds everything.
  CHECK((!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0));
  auto db = storage::Database::Open({db_path});
  REQUIRE(db.ok());
  CHECK((*db)->CheckReady().ok());
  CHECK((*db)->Close().ok());
  // The inbox file next to it (storage.inbox_path's default), checkpointed and migrated too.
  const std::string inbox_path = dir.File("var") + "/scrmd-inbox.db";
  const std::string inbox_wal = inbox_path + "-wal";
  REQUIRE(std::filesystem::exists(inbox_path));
  CHECK((!std::filesystem::exists(inbox_wal) || std::filesystem::file_size(inbox_wal) == 0));
  storage::DatabaseOptions inbox_options;
  inbox_options.path = inbox_path;
  inbox_options.schema = storage::Schema::kInbox;
  auto inbox = storage::Database::Open(inbox_options);
  REQUIRE(inbox.ok());
  CHECK((*inbox)->CheckReady().ok());
  CHECK((*inbox)->Close().ok());
  auto listed = Run({ScrmdBinary(), "keys", "list", "--config", config, "--json"});
  CHECK(listed.out.find("\"ops\"") != std::string::npos);
}

}  // namespace
}  // namespace scrm::testing
