#include "src/storage/interaction_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "src/core/random.h"
#include "src/model/interaction.h"
#include "src/model/interaction_json.h"
#include "src/storage/cursor_store.h"
#include "src/storage/database.h"
#include "src/storage/migrations.h"
#include "tests/storage/storage_test_helpers.h"
#include "tests/support/test_support.h"

namespace scrm::storage {
namespace {

using core::StatusCode;
using model::Interaction;
using model::InteractionKind;
using scrm::testing::TempDir;
using testing::InboxOptions;
using testing::kNowMs;
using testing::OpenFileOrDie;
using testing::OpenMigratedOrDie;

// Test-only SQL: fabricating rows and schema states the store itself never produces.
constexpr char kInsertCollidingRow[] =
    "INSERT INTO interactions (id, account_id, platform, kind, dedupe_key, dedupe_hash, "
    "dedupe_seq, msg_id, openid, unionid, external_userid, userid, chat_id, to_user, "
    "occurred_at_ms, received_at_ms, payload_json, raw_format, raw_body) VALUES "
    "(?, 'acct', 'oa', 'message.text', 'some other key', ?, 0, '', '', '', '', '', '', '', ?, 0, "
    "'null', 'xml', '')";
constexpr char kCorruptPayload[] = "UPDATE interactions SET payload_json = '{' WHERE id = ?";
constexpr char kCreateMigrationsTableV1[] =
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at_ms INTEGER NOT NULL)";
constexpr char kRecordMigrationInteractionStore[] =
    "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, 0)";
constexpr char kInsertApiKeyV1[] =
    "INSERT INTO api_keys (name, role, prefix, secret_sha256, created_at_ms) "
    "VALUES ('ops', 'admin', 'scrm_1', 'h', 0)";
constexpr char kCountApiKeys[] = "SELECT COUNT(*) FROM api_keys";

constexpr int64_t kBaseIdInteractionStore = kNowMs
                                            << 16;  // what IdGenerator would hand out at kNowMs

DatabaseOptions InteractionStoreFileOptions(const TempDir& dir) {
  DatabaseOptions options;
  options.path = dir.File("scrmd.db");
  return options;
}

// Members are initialised in declaration order: dir, then db, then store. The inbox file.
struct InteractionStoreFixture {
  TempDir dir;
  std::unique_ptr<Database> db = OpenMigratedOrDie(InboxOptions(dir));
  InteractionStore store{*db};
};

// An OA text message from `openid` with MsgId `msg_id`, received at kNowMs + n.
Interaction MakeText(int64_t n, const std::string& account = "acct",
                     const std::string& openid = "oUser1") {
  Interaction it;
  it.id = kBaseIdInteractionStore + n;
  it.platform = model::Platform::kOfficialAccount;
  it.account_id = account;
  it.kind = InteractionKind::kMessageText;
  it.msg_id = std::to_string(23456789012345678LL + n);
  it.dedupe_key = "msg\x1f" + openid + "\x1f" + it.msg_id;
  it.openid = openid;
  it.to_user = "gh_123";
  it.occurred_at_ms = kNowMs - 1000;
  it.received_at_ms = kNowMs + n;
  it.payload = model::TextPayload{"hello " + std::to_string(n)};
  it.raw_body = "<xml><Content>hello</Content></xml>";
  return it;
}

std::vector<InsertOutcome> InsertOrDie(InteractionStore& store, std::vector<Interaction> items) {
  auto outcomes = store.InsertBatch(items);
  INFO(outcomes.status().ToString());
  REQUIRE(outcomes.ok());
  REQUIRE(outcomes->size() == items.size());
  return outcomes.value();
}

std::vector<Interaction> ReadAllOrDie(InteractionStore& store) {
  auto all = store.ReadAfter(0, 1000);
  INFO(all.status().ToString());
  REQUIRE(all.ok());
  return all.value();
}

std::vector<int64_t> IdsOf(const std::vector<Interaction>& items) {
  std::vector<int64_t> ids;
  for (const auto& it : items) ids.push_back(it.id);
  return ids;
}

// A row under id kBaseIdInteractionStore with another key but the same 64-bit hash and CreateTime
// as `real`, as a real collision would leave.
void InsertCollidingRow(Database& db, const Interaction& real) {
  REQUIRE(db.WithWriter([&](SQLite::Database& conn) {
              SQLite::Statement insert(conn, kInsertCollidingRow);
              insert.bind(1, kBaseIdInteractionStore);
              insert.bind(2, static_cast<int64_t>(DedupeHash(real.account_id, real.dedupe_key)));
              insert.bind(3, real.occurred_at_ms);
              insert.exec();
              return core::OkStatus();
            }).ok());
}

int64_t CountOrDie(InteractionStore& store) {
  auto count = store.Count();
  REQUIRE(count.ok());
  return count.value();
}

// The stored dedupe hash is on disk (interactions.dedupe_hash, interaction_keys): pinned to values
// computed independently from its definition (FNV-1a over the length-prefixed account and key,
// then splitmix64's finalizer).
TEST_CASE("DedupeHash gives the stored hash for known keys", "[unit]") {
  CHECK(DedupeHash("acct", "msg:1") == 0xf82091bb1682cebcULL);
  CHECK(DedupeHash("shop", "wx:oDEMO:1767225600:subscribe") == 0x9009a2178d8eeb92ULL);
  CHECK(DedupeHash("", "") == 0x68752350ae1d483fULL);
}

TEST_CASE("InteractionStore InsertBatch stores every field when the interactions are new", "[db]") {
  InteractionStoreFixture f;
  Interaction text = MakeText(1);
  text.unionid = "union-1";
  text.raw_format = "json";

  Interaction chat;
  chat.id = kBaseIdInteractionStore + 2;
  chat.platform = model::Platform::kWecom;
  chat.account_id = "corp";
  chat.kind = InteractionKind::kChatUpdate;
  chat.dedupe_key =
      "chat\x1fupdate\x1fwrOg\x1f"
      "1403610513";
  chat.external_userid = "wmExt";
  chat.userid = "zhangsan";
  chat.chat_id = "wrOg";
  chat.occurred_at_ms = 1403610513000;
  chat.received_at_ms = kNowMs + 2;
  model::ChatChangePayload chat_payload;
  chat_payload.change_type = "update";
  chat_payload.update_detail = "add_member";
  chat_payload.join_scene = 1;
  chat_payload.mem_change_cnt = 2;
  chat_payload.mem_change_list = {"wmOgQh", "zhangsan"};
  chat_payload.last_mem_ver = "9c3f";
  chat_payload.cur_mem_ver = "7121";
  chat.payload = chat_payload;

  Interaction location = MakeText(3);
  location.kind = InteractionKind::kMessageLocation;
  location.payload = model::LocationPayload{23.134521, 113.358803, 0, 20, "位置信息"};

  Interaction unsubscribe = MakeText(4);
  unsubscribe.kind = InteractionKind::kUnsubscribe;
  unsubscribe.payload = std::monostate{};

  Interaction send_job = MakeText(5);
  send_job.kind = InteractionKind::kMassSendFinish;
  send_job.payload = model::SendJobPayload{"1000001625", "err(30003)", 10, 2, 7, 1};

  const auto outcomes = InsertOrDie(f.store, {text, chat, location, unsubscribe, send_job});
  for (size_t i = 0; i < outcomes.size(); ++i) {
    CHECK_FALSE(outcomes[i].duplicate);
  }
  CHECK(outcomes[0].id == text.id);
  CHECK(outcomes[1].id == chat.id);

  const auto stored = ReadAllOrDie(f.store);
  REQUIRE(stored.size() == 5);
  const Interaction& t = stored[0];
  CHECK(t.id == text.id);
  CHECK(t.platform == model::Platform::kOfficialAccount);
  CHECK(t.account_id == "acct");
  CHECK(t.kind == InteractionKind::kMessageText);
  CHECK(t.dedupe_key == text.dedupe_key);
  CHECK(t.msg_id == "23456789012345679");
  CHECK(t.openid == "oUser1");
  CHECK(t.unionid == "union-1");
  CHECK(t.to_user == "gh_123");
  CHECK(t.occurred_at_ms == kNowMs - 1000);
  CHECK(t.received_at_ms == kNowMs + 1);
  REQUIRE(std::holds_alternative<model::TextPayload>(t.payload));
  CHECK(std::get<model::TextPayload>(t.payload).content == "hello 1");
  CHECK(t.raw_format == "json");
  CHECK(t.raw_body == text.raw_body);

  const Interaction& c = stored[1];
  CHECK(c.platform == model::Platform::kWecom);
  CHECK(c.kind == InteractionKind::kChatUpdate);
  CHECK(c.external_userid == "wmExt");
  CHECK(c.userid == "zhangsan");
  CHECK(c.chat_id == "wrOg");
  REQUIRE(std::holds_alternative<model::ChatChangePayload>(c.payload));
  const auto& cp = std::get<model::ChatChangePayload>(c.payload);
  CHECK(cp.update_detail == "add_member");
  CHECK(cp.join_scene == 1);
  CHECK(cp.mem_change_list == std::vector<std::string>{"wmOgQh", "zhangsan"});
  CHECK(cp.cur_mem_ver == "7121");

  REQUIRE(std::holds_alternative<model::LocationPayload>(stored[2].payload));
  const auto& lp = std::get<model::LocationPayload>(stored[2].payload);
  CHECK(lp.latitude == Approx(23.134521));
  CHECK(lp.scale == 20);
  CHECK(lp.label == "位置信息");
  CHECK(std::holds_alternative<std::monostate>(stored[3].payload));
  REQUIRE(std::holds_alternative<model::SendJobPayload>(stored[4].payload));
  CHECK(std::get<model::SendJobPayload>(stored[4].payload).sent_count == 7);
}

TEST_CASE("InteractionStore InsertBatch reports the existing id when the key is already stored",
          "[db]") {
  InteractionStoreFixture f;
  const Interaction first = MakeText(1);
  InsertOrDie(f.store, {first});
  Interaction retry = first;  // the platform's re-delivery, stored under a new id
  retry.id = kBaseIdInteractionStore + 50;
  const auto outcomes = InsertOrDie(f.store, {retry, MakeText(2)});
  CHECK(outcomes[0].duplicate);
  CHECK(outcomes[0].id == first.id);
  CHECK_FALSE(outcomes[1].duplicate);
  CHECK(CountOrDie(f.store) == 2);
}

TEST_CASE("InteractionStore InsertBatch flags the second copy when a key repeats in one batch",
          "[db]") {
  InteractionStoreFixture f;
  const Interaction first = MakeText(1);
  Interaction copy = first;
  copy.id = kBaseIdInteractionStore + 2;
  const auto outcomes = InsertOrDie(f.store, {first, copy, MakeText(3)});
  CHECK_FALSE(outcomes[0].duplicate);
  CHECK(outcomes[1].duplicate);
  CHECK(outcomes[1].id == first.id);
  CHECK_FALSE(outcomes[2].duplicate);
  CHECK(IdsOf(ReadAllOrDie(f.store)) ==
        std::vector<int64_t>{kBaseIdInteractionStore + 1, kBaseIdInteractionStore + 3});
}

TEST_CASE("InteractionStore InsertBatch keeps equal keys apart when the accounts differ", "[db]") {
  InteractionStoreFixture f;
  Interaction a = MakeText(1, "acct-a");
  Interaction b = MakeText(1, "acct-b");
  b.id = kBaseIdInteractionStore + 2;
  REQUIRE(a.dedupe_key == b.dedupe_key);
  const auto outcomes = InsertOrDie(f.store, {a, b});
  CHECK_FALSE(outcomes[0].duplicate);
  CHECK_FALSE(outcomes[1].duplicate);
  CHECK(CountOrDie(f.store) == 2);
}

TEST_CASE("InteractionStore InsertBatch keeps both copies when occurred_at_ms differs", "[db]") {
  InteractionStoreFixture f;
  Interaction a = MakeText(1);
  Interaction b = a;
  b.id = kBaseIdInteractionStore + 2;
  b.occurred_at_ms = a.occurred_at_ms + 1000;  // not a re-delivery: its payload differs
  const auto outcomes = InsertOrDie(f.store, {a, b});
  CHECK_FALSE(outcomes[0].duplicate);
  CHECK_FALSE(outcomes[1].duplicate);
  CHECK(CountOrDie(f.store) == 2);
}

TEST_CASE("InteractionStore InsertBatch stores a genuine event when its hash collides", "[db]") {
  InteractionStoreFixture f;
  const Interaction real = MakeText(1);
  InsertCollidingRow(*f.db, real);

  const auto first = InsertOrDie(f.store, {real});
  CHECK_FALSE(first[0].duplicate);
  CHECK(first[0].id == real.id);
  Interaction retry = real;
  retry.id = kBaseIdInteractionStore + 9;
  const auto second = InsertOrDie(f.store, {retry});
  CHECK(second[0].duplicate);
  CHECK(second[0].id == real.id);
  CHECK(CountOrDie(f.store) == 2);
}

int64_t InboxScalar(Database& db, const char* sql) {
  return std::stoll(testing::WriterScalar(db, sql));
}

constexpr char kCountKeys[] = "SELECT COUNT(*) FROM interaction_keys";
constexpr char kIndexedUpto[] = "SELECT value FROM inbox_meta WHERE name = 'keys_indexed_upto'";

TEST_CASE("InteractionStore IndexKeys moves the pending keys to the key index", "[db]") {
  InteractionStoreFixture f;
  InsertOrDie(f.store, {MakeText(1), MakeText(2)});
  CHECK(f.store.PendingKeys() == 2);
  CHECK(InboxScalar(*f.db, kCountKeys) == 0);

  REQUIRE(f.store.IndexKeys().ok());
  CHECK(f.store.PendingKeys() == 0);
  CHECK(InboxScalar(*f.db, kCountKeys) == 2);
  CHECK(InboxScalar(*f.db, kIndexedUpto) == kBaseIdInteractionStore + 2);

  // A re-delivery of an indexed row is found in the key index; a new row is pending again.
  Interaction retry = MakeText(1);
  retry.id = kBaseIdInteractionStore + 10;
  const auto outcomes = InsertOrDie(f.store, {retry, MakeText(3)});
  CHECK(outcomes[0].duplicate);
  CHECK(outcomes[0].id == kBaseIdInteractionStore + 1);
  CHECK_FALSE(outcomes[1].duplicate);
  CHECK(f.store.PendingKeys() == 1);
  CHECK(IdsOf(ReadAllOrDie(f.store)) == std::vector<int64_t>{kBaseIdInteractionStore + 1,
                                                             kBaseIdInteractionStore + 2,
                                                             kBaseIdInteractionStore + 3});
}

TEST_CASE("InteractionStore InsertBatch finds a duplicate that another store wrote", "[db]") {
  InteractionStoreFixture f;
  InsertOrDie(f.store, {MakeText(1)});  // pending in f.store's memory only

  // A second store on the file: a restart after a crash, or another writer.
  InteractionStore other(*f.db);
  Interaction retry = MakeText(1);
  retry.id = kBaseIdInteractionStore + 5;
  const auto first = InsertOrDie(other, {retry, MakeText(6)});
  CHECK(first[0].duplicate);
  CHECK(first[0].id == kBaseIdInteractionStore + 1);
  CHECK_FALSE(first[1].duplicate);

  // Back to the first store: it was not there when MakeText(6) was stored.
  Interaction retry6 = MakeText(6);
  retry6.id = kBaseIdInteractionStore + 7;
  const auto second = InsertOrDie(f.store, {retry6});
  CHECK(second[0].duplicate);
  CHECK(second[0].id == kBaseIdInteractionStore + 6);
  CHECK(CountOrDie(f.store) == 2);
}

TEST_CASE("InteractionStore InsertBatch forgets the keys of a batch that rolled back", "[db]") {
  InteractionStoreFixture f;
  InsertOrDie(f.store, {MakeText(1)});
  Interaction reused_id = MakeText(3);
  reused_id.id =
      kBaseIdInteractionStore + 1;  // taken: the batch fails after MakeText(2) was inserted
  REQUIRE(f.store.InsertBatch(std::vector<Interaction>{MakeText(2), reused_id}).status().code() ==
          StatusCode::kInternal);
  const auto outcomes = InsertOrDie(f.store, {MakeText(2)});
  CHECK_FALSE(outcomes[0].duplicate);
  CHECK(IdsOf(ReadAllOrDie(f.store)) ==
        std::vector<int64_t>{kBaseIdInteractionStore + 1, kBaseIdInteractionStore + 2});
}

TEST_CASE(
    "InteractionStore InsertBatch stores a genuine event when its hash collides with an "
    "indexed key",
    "[db]") {
  InteractionStoreFixture f;
  const Interaction real = MakeText(1);
  InsertCollidingRow(*f.db, real);
  REQUIRE(f.store.IndexKeys().ok());
  REQUIRE(InboxScalar(*f.db, kCountKeys) == 1);

  const auto first = InsertOrDie(f.store, {real});
  CHECK_FALSE(first[0].duplicate);
  CHECK(InboxScalar(*f.db,
                    "SELECT dedupe_seq FROM interactions WHERE dedupe_key <> "
                    "'some other key'") == 1);
  REQUIRE(f.store.IndexKeys().ok());
  Interaction retry = real;
  retry.id = kBaseIdInteractionStore + 9;
  const auto second = InsertOrDie(f.store, {retry});
  CHECK(second[0].duplicate);
  CHECK(second[0].id == real.id);
  CHECK(CountOrDie(f.store) == 2);
  CHECK(InboxScalar(*f.db, kCountKeys) == 2);
}

TEST_CASE("InteractionStore InsertBatch indexes the keys itself when too many are pending",
          "[db]") {
  InteractionStoreFixture f;
  constexpr int64_t kRows = InteractionStore::kMaxPendingKeys + 5000;
  std::vector<Interaction> batch;
  for (int64_t n = 1; n <= kRows; ++n) {
    batch.push_back(MakeText(n, "acct", "oUser" + std::to_string(n % 7)));
    if (batch.size() == 5000 || n == kRows) {
      InsertOrDie(f.store, batch);
      batch.clear();
      CHECK(f.store.PendingKeys() <= InteractionStore::kMaxPendingKeys);
    }
  }
  const int64_t indexed = InboxScalar(*f.db, kCountKeys);
  CHECK(indexed > 0);
  CHECK(indexed + static_cast<int64_t>(f.store.PendingKeys()) == kRows);
  // Re-deliveries of an indexed and of a pending row are both found.
  Interaction early = MakeText(1, "acct", "oUser1");
  early.id = kBaseIdInteractionStore + kRows + 1;
  Interaction late = MakeText(kRows, "acct", "oUser" + std::to_string(kRows % 7));
  late.id = kBaseIdInteractionStore + kRows + 2;
  const auto outcomes = InsertOrDie(f.store, {early, late});
  CHECK(outcomes[0].duplicate);
  CHECK(outcomes[1].duplicate);
  CHECK(CountOrDie(f.store) == kRows);
}

TEST_CASE("InteractionStore InsertBatch returns InvalidArgument when an item is incomplete",
          "[db]") {
  InteractionStoreFixture f;
  Interaction bad = MakeText(2);
  SECTION("no id") { bad.id = 0; }
  SECTION("no account") { bad.account_id.clear(); }
  SECTION("no dedupe key") { bad.dedupe_key.clear(); }
  CHECK(f.store.InsertBatch(std::vector<Interaction>{MakeText(1), bad}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(CountOrDie(f.store) == 0);
}

TEST_CASE("InteractionStore InsertBatch with encodings stores what the plain InsertBatch stores",
          "[db]") {
  InteractionStoreFixture f;
  const std::vector<Interaction> items{MakeText(1), MakeText(2)};
  const std::vector<InsertEncoding> encodings{EncodeForInsert(items[0]), EncodeForInsert(items[1])};
  CHECK(encodings[0].dedupe_hash == DedupeHash("acct", items[0].dedupe_key));
  CHECK(encodings[0].payload_json == model::PayloadToJson(items[0].payload).dump());
  auto outcomes = f.store.InsertBatch(items, encodings);
  REQUIRE(outcomes.ok());
  CHECK_FALSE((*outcomes)[0].duplicate);
  CHECK_FALSE((*outcomes)[1].duplicate);
  const std::vector<Interaction> stored = ReadAllOrDie(f.store);
  REQUIRE(stored.size() == 2);
  CHECK(model::PayloadToJson(stored[1].payload) == model::PayloadToJson(items[1].payload));
  // A re-delivery found through the pre-computed hash is a duplicate, as with the plain call.
  Interaction retry = items[0];
  retry.id = kBaseIdInteractionStore + 9;
  auto again = f.store.InsertBatch(std::vector<Interaction>{retry},
                                   std::vector<InsertEncoding>{EncodeForInsert(retry)});
  REQUIRE(again.ok());
  CHECK((*again)[0].duplicate);
  CHECK((*again)[0].id == items[0].id);
}

TEST_CASE("InteractionStore InsertBatch returns InvalidArgument when the encodings do not match",
          "[db]") {
  InteractionStoreFixture f;
  const std::vector<Interaction> items{MakeText(1), MakeText(2)};
  const std::vector<InsertEncoding> one{EncodeForInsert(items[0])};
  CHECK(f.store.InsertBatch(items, one).status().code() == StatusCode::kInvalidArgument);
  CHECK(CountOrDie(f.store) == 0);
}

TEST_CASE("InteractionStore InsertBatch rolls the whole batch back when one insert fails", "[db]") {
  InteractionStoreFixture f;
  InsertOrDie(f.store, {MakeText(1)});
  Interaction reused_id = MakeText(3);
  reused_id.id = kBaseIdInteractionStore + 1;  // taken: the writer never does this
  const auto result = f.store.InsertBatch(std::vector<Interaction>{MakeText(2), reused_id});
  CHECK(result.status().code() == StatusCode::kInternal);
  CHECK(IdsOf(ReadAllOrDie(f.store)) == std::vector<int64_t>{kBaseIdInteractionStore + 1});
}

TEST_CASE("InteractionStore InsertBatch stores the next batch when the previous one failed",
          "[db]") {
  InteractionStoreFixture f;
  InsertOrDie(f.store, {MakeText(1)});
  Interaction reused_id = MakeText(3);
  reused_id.id = kBaseIdInteractionStore + 1;  // taken: fails inside the (cached) insert statement
  REQUIRE(f.store.InsertBatch(std::vector<Interaction>{reused_id}).status().code() ==
          StatusCode::kInternal);
  const auto outcomes = InsertOrDie(f.store, {MakeText(2), MakeText(3)});
  CHECK_FALSE(outcomes[0].duplicate);
  CHECK_FALSE(outcomes[1].duplicate);
  CHECK(IdsOf(ReadAllOrDie(f.store)) == std::vector<int64_t>{kBaseIdInteractionStore + 1,
                                                             kBaseIdInteractionStore + 2,
                                                             kBaseIdInteractionStore + 3});
}

TEST_CASE("InteractionStore InsertBatch returns FailedPrecondition when the database is closed",
          "[db]") {
  InteractionStoreFixture f;
  REQUIRE(f.db->Close().ok());
  CHECK(f.store.InsertBatch(std::vector<Interaction>{MakeText(1)}).status().code() ==
        StatusCode::kFailedPrecondition);
}

TEST_CASE("InteractionStore List filters by account and kind when asked", "[db]") {
  InteractionStoreFixture f;
  Interaction a_text = MakeText(1, "a");
  Interaction b_text = MakeText(2, "b");
  Interaction a_sub = MakeText(3, "a");
  a_sub.kind = InteractionKind::kSubscribe;
  a_sub.payload = model::QrScenePayload{"123", "TICKET"};
  Interaction b_sub = MakeText(4, "b");
  b_sub.kind = InteractionKind::kSubscribe;
  InsertOrDie(f.store, {a_text, b_text, a_sub, b_sub});

  InteractionFilter filter;
  std::vector<int64_t> expected;
  SECTION("no filter") {
    expected = {kBaseIdInteractionStore + 1, kBaseIdInteractionStore + 2,
                kBaseIdInteractionStore + 3, kBaseIdInteractionStore + 4};
  }
  SECTION("account") {
    filter.account_id = "a";
    expected = {kBaseIdInteractionStore + 1, kBaseIdInteractionStore + 3};
  }
  SECTION("kind") {
    filter.kind = InteractionKind::kSubscribe;
    expected = {kBaseIdInteractionStore + 3, kBaseIdInteractionStore + 4};
  }
  SECTION("account and kind") {
    filter.account_id = "b";
    filter.kind = InteractionKind::kMessageText;
    expected = {kBaseIdInteractionStore + 2};
  }
  SECTION("account with nothing stored") {
    filter.account_id = "c";
    expected = {};
  }
  auto listed = f.store.List(filter);
  REQUIRE(listed.ok());
  CHECK(IdsOf(*listed) == expected);
}

TEST_CASE("InteractionStore List pages by id when given the last id seen", "[db]") {
  InteractionStoreFixture f;
  std::vector<Interaction> items;
  for (int64_t n = 1; n <= 7; ++n) items.push_back(MakeText(n));
  InsertOrDie(f.store, items);

  InteractionFilter filter;
  filter.limit = 3;
  std::vector<std::vector<int64_t>> pages;
  for (;;) {
    auto page = f.store.List(filter);
    REQUIRE(page.ok());
    if (page->empty()) break;
    pages.push_back(IdsOf(*page));
    filter.after_id = page->back().id;
  }
  CHECK(pages ==
        std::vector<std::vector<int64_t>>{
            {kBaseIdInteractionStore + 1, kBaseIdInteractionStore + 2, kBaseIdInteractionStore + 3},
            {kBaseIdInteractionStore + 4, kBaseIdInteractionStore + 5, kBaseIdInteractionStore + 6},
            {kBaseIdInteractionStore + 7}});
}

TEST_CASE("InteractionStore List returns InvalidArgument when the limit is out of range", "[db]") {
  InteractionStoreFixture f;
  InteractionFilter filter;
  SECTION("zero") { filter.limit = 0; }
  SECTION("too large") { filter.limit = InteractionStore::kMaxListLimit + 1; }
  CHECK(f.store.List(filter).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("InteractionStore ReadAfter returns rows after the id in order when asked", "[db]") {
  InteractionStoreFixture f;
  InsertOrDie(f.store, {MakeText(1), MakeText(2), MakeText(3), MakeText(4)});
  auto read = f.store.ReadAfter(kBaseIdInteractionStore + 1, 2);
  REQUIRE(read.ok());
  CHECK(IdsOf(*read) ==
        std::vector<int64_t>{kBaseIdInteractionStore + 2, kBaseIdInteractionStore + 3});
  CHECK(f.store.ReadAfter(0, 0).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE(
    "InteractionStore ReadAfter leaves raw_body empty and reads the rest when told to skip it",
    "[db]") {
  InteractionStoreFixture f;
  InsertOrDie(f.store, {MakeText(1), MakeText(2)});
  auto with_body = f.store.ReadAfter(0, 10);
  auto without_body = f.store.ReadAfter(0, 10, RawBody::kSkip);
  REQUIRE(with_body.ok());
  REQUIRE(without_body.ok());
  REQUIRE(with_body->size() == 2);
  REQUIRE(without_body->size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const model::Interaction& full = (*with_body)[i];
    const model::Interaction& lean = (*without_body)[i];
    CHECK_FALSE(full.raw_body.empty());
    CHECK(lean.raw_body.empty());
    CHECK(lean.id == full.id);
    CHECK(lean.kind == full.kind);
    CHECK(lean.dedupe_key == full.dedupe_key);
    CHECK(lean.openid == full.openid);
    CHECK(lean.occurred_at_ms == full.occurred_at_ms);
    CHECK(lean.raw_format == full.raw_format);
    CHECK(model::PayloadToJson(lean.payload) == model::PayloadToJson(full.payload));
  }
}

TEST_CASE("InteractionStore ReadAfter returns Internal when a stored payload does not parse",
          "[db]") {
  InteractionStoreFixture f;
  InsertOrDie(f.store, {MakeText(1)});
  REQUIRE(f.db->WithWriter([](SQLite::Database& conn) {
                SQLite::Statement update(conn, kCorruptPayload);
                update.bind(1, kBaseIdInteractionStore + 1);
                update.exec();
                return core::OkStatus();
              })
              .ok());
  const auto read = f.store.ReadAfter(0, 10);
  CHECK(read.status().code() == StatusCode::kInternal);
  CHECK(read.status().message().find(std::to_string(kBaseIdInteractionStore + 1)) !=
        std::string::npos);
}

TEST_CASE("InteractionStore ReadRange returns rows received in the half-open range", "[db]") {
  InteractionStoreFixture f;
  std::vector<Interaction> items;
  for (int64_t n = 1; n <= 6; ++n) items.push_back(MakeText(n));  // received at kNowMs + n
  InsertOrDie(f.store, items);

  auto range = f.store.ReadRange(kNowMs + 2, kNowMs + 5, 0, 100);
  REQUIRE(range.ok());
  CHECK(IdsOf(*range) == std::vector<int64_t>{kBaseIdInteractionStore + 2,
                                              kBaseIdInteractionStore + 3,
                                              kBaseIdInteractionStore + 4});

  auto paged = f.store.ReadRange(kNowMs + 2, kNowMs + 5, kBaseIdInteractionStore + 2, 1);
  REQUIRE(paged.ok());
  CHECK(IdsOf(*paged) == std::vector<int64_t>{kBaseIdInteractionStore + 3});

  CHECK(f.store.ReadRange(kNowMs + 5, kNowMs + 2, 0, 10).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("InteractionStore ReadRange finds rows by the time of their ids within the slack",
          "[db]") {
  InteractionStoreFixture f;
  // Committed a minute after it was received (inside the slack), and one committed an hour
  // later (outside it: ReadRange documents that it is not found).
  Interaction late = MakeText(1);
  late.id = core::IdGenerator::FirstIdAt(kNowMs + 60 * 1000);
  late.received_at_ms = kNowMs;
  Interaction very_late = MakeText(2);
  very_late.id = core::IdGenerator::FirstIdAt(kNowMs + 3600 * 1000);
  very_late.received_at_ms = kNowMs;
  InsertOrDie(f.store, {late, very_late});

  auto range = f.store.ReadRange(kNowMs, kNowMs + 1, 0, 100);
  REQUIRE(range.ok());
  CHECK(IdsOf(*range) == std::vector<int64_t>{late.id});
  // Ranges at the ends of the representable times neither overflow nor miss what they hold.
  auto all = f.store.ReadRange(0, INT64_MAX, 0, 100);
  REQUIRE(all.ok());
  CHECK(IdsOf(*all) == std::vector<int64_t>{late.id, very_late.id});
  auto none = f.store.ReadRange(INT64_MIN, 0, 0, 100);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("CursorStore cursors start at 0 and keep the last value set", "[db]") {
  TempDir dir;
  std::unique_ptr<Database> db = OpenMigratedOrDie(InteractionStoreFileOptions(dir));
  CursorStore cursors(*db);
  auto initial = cursors.GetCursor("worker");
  REQUIRE(initial.ok());
  CHECK(initial.value() == 0);
  REQUIRE(cursors.SetCursor("worker", 42).ok());
  REQUIRE(cursors.SetCursor("worker", 43).ok());
  REQUIRE(cursors.SetCursor("other", 7).ok());
  CHECK(cursors.GetCursor("worker").value() == 43);
  CHECK(cursors.GetCursor("other").value() == 7);
  CHECK(cursors.SetCursor("", 1).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("InteractionStore Count and MaxId describe the stored rows", "[db]") {
  InteractionStoreFixture f;
  CHECK(CountOrDie(f.store) == 0);
  CHECK(f.store.MaxId().value() == 0);
  InsertOrDie(f.store, {MakeText(1), MakeText(5), MakeText(1)});
  CHECK(CountOrDie(f.store) == 2);
  CHECK(f.store.MaxId().value() == kBaseIdInteractionStore + 5);
}

TEST_CASE("InteractionStore SummarizeAfter counts the rows after an id and finds the last",
          "[db]") {
  InteractionStoreFixture f;
  auto none = f.store.SummarizeAfter(0);
  REQUIRE(none.ok());
  CHECK(none->count == 0);
  CHECK(none->last_id == 0);
  InsertOrDie(f.store, {MakeText(1), MakeText(2), MakeText(5)});
  auto all = f.store.SummarizeAfter(0);
  REQUIRE(all.ok());
  CHECK(all->count == 3);
  CHECK(all->last_id == kBaseIdInteractionStore + 5);
  auto after_first = f.store.SummarizeAfter(kBaseIdInteractionStore + 1);
  REQUIRE(after_first.ok());
  CHECK(after_first->count == 2);
  CHECK(after_first->last_id == kBaseIdInteractionStore + 5);
  auto past_end = f.store.SummarizeAfter(kBaseIdInteractionStore + 5);
  REQUIRE(past_end.ok());
  CHECK(past_end->count == 0);
  CHECK(past_end->last_id == kBaseIdInteractionStore + 5);  // the id asked about
}

TEST_CASE("Database Migrate brings a version 1 store to the split layout when it is opened",
          "[db]") {
  TempDir dir;
  {
    // A database as the previous release left it: migration 1 applied, one api key stored.
    auto v1 = OpenFileOrDie(dir);
    REQUIRE(v1->WithWriter([](SQLite::Database& conn) {
                conn.exec(kCreateMigrationsTableV1);
                conn.exec(AllMigrations()[0].sql);
                SQLite::Statement record(conn, kRecordMigrationInteractionStore);
                record.bind(1, AllMigrations()[0].version);
                record.bind(2, AllMigrations()[0].name);
                record.exec();
                conn.exec(kInsertApiKeyV1);
                return core::OkStatus();
              }).ok());
  }
  auto inbox = OpenMigratedOrDie(InboxOptions(dir));
  auto db = OpenFileOrDie(dir);
  auto applied = db->Migrate(kNowMs, {inbox.get()});
  REQUIRE(applied.ok());
  CHECK(applied.value() == db->LatestVersion() - 1);
  CHECK(db->CheckReady().ok());
  CHECK(testing::ReaderScalar(*db, kCountApiKeys) == "1");
  // The interactions table came (migration 2) and went (migration 8): the inbox file has it.
  CHECK(testing::ReaderScalar(
            *db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'interactions'") == "0");
  InteractionStore store(*inbox);
  InsertOrDie(store, {MakeText(1)});
  CHECK(CountOrDie(store) == 1);
}

}  // namespace
}  // namespace scrm::storage
