// What scrmd believes of a callback, and what it leaves for others to read, end to end with the
// real process: a plain-mode OA body's identity claims and its replays, authentic payloads of an
// unusual shape, the modes of the files it creates, and `scrmd keys` beside a running serve.
#include <fcntl.h>
#include <httplib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "sim/callback_builder.h"
#include "tests/integration/scrmd_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

int64_t TrustNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The demo accounts plus "plain", an Official Account in plaintext mode (no EncodingAESKey).
json AccountsWithPlainOa() {
  json accounts = DemoAccounts();
  accounts.push_back({{"id", "plain"},
                      {"platform", "oa"},
                      {"app_id", "wx0000000000plain"},
                      {"token", kToken},
                      {"encrypt_mode", "plain"}});
  return accounts;
}

httplib::Result Post(int port, const std::string& path_and_query, const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  return client.Post(path_and_query.c_str(), body, "text/xml");
}

std::string OaTextWithUnionId(const std::string& openid, const std::string& unionid,
                              uint64_t msg_id) {
  return "<xml><ToUserName><![CDATA[gh_plain]]></ToUserName><FromUserName><![CDATA[" + openid +
         "]]></FromUserName><CreateTime>" + std::to_string(TrustNow()) +
         "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content>"
         "<MsgId>" +
         std::to_string(msg_id) + "</MsgId><UnionId><![CDATA[" + unionid + "]]></UnionId></xml>";
}

bool HasIdentity(const json& view, const std::string& kind, const std::string& value) {
  for (const auto& identity : view["identities"]) {
    if (identity["kind"] == kind && identity["value"] == value) return true;
  }
  return false;
}

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<unsigned>(st.st_mode) & 0777U;
}

TEST_CASE(
    "scrmd merges nothing when a plain-mode OA body claims a victim's unionid, and refuses "
    "its timestamp and nonce with another body",
    "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"accounts", AccountsWithPlainOa()}});
  const std::string key = CreateKey(config, "admin", "admin");
  ScrmdServer server(config);
  ApiClient api(server.port, key);

  // The victim: a WeCom customer whose unionid enrichment (here: an operator) has linked.
  auto wecom = sim::CallbackBuilder::Create(kToken, kAesKey, kCorpId, 21);
  REQUIRE(wecom.ok());
  const auto add = wecom->WecomPost(
      "/callbacks/wecom/acme",
      sim::CallbackBuilder::WecomContactAddXml(kCorpId, "zhangsan", "wmVICTIM", "", TrustNow()),
      TrustNow());
  auto r = Post(server.port, add.path_and_query, add.body);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const std::string victim_path =
      "/api/v1/customers/by-identity?platform=wecom&account=acme"
      "&external_id=wmVICTIM";
  const int64_t victim = ApiId(api.WaitFor(victim_path, [](const json&) { return true; })["id"]);
  auto [link_status, link] = api.Post("/api/v1/customers/" + std::to_string(victim) + "/identities",
                                      {{"kind", "unionid"}, {"value", "uVICTIM"}});
  REQUIRE(link_status == 200);

  // The attacker saw one plain-mode callback URL (the signature covers only token, timestamp
  // and nonce) and posts a body of their own naming the victim's unionid.
  auto plain = sim::CallbackBuilder::Create(kToken, kAesKey, "wx0000000000plain", 22);
  REQUIRE(plain.ok());
  const std::string forged = OaTextWithUnionId("oATTACKER", "uVICTIM", 6200000000000000001ULL);
  const auto observed = plain->OaPlainPost("/callbacks/oa/plain", forged, "oATTACKER", TrustNow());
  r = Post(server.port, observed.path_and_query, observed.body);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "success");

  const json attacker =
      api.WaitFor("/api/v1/customers/by-identity?platform=oa&account=plain&external_id=oATTACKER",
                  [](const json&) { return true; });
  CHECK(ApiId(attacker["id"]) != victim);
  CHECK(attacker["merged_into"].is_null());
  CHECK_FALSE(HasIdentity(attacker, "unionid", "uVICTIM"));
  CHECK(attacker["identities"].size() == 1);
  const json victim_view = api.Get("/api/v1/customers/" + std::to_string(victim)).second;
  CHECK(victim_view["merged_into"].is_null());
  CHECK(victim_view["merges"].empty());
  CHECK(HasIdentity(victim_view, "unionid", "uVICTIM"));
  CHECK_FALSE(HasIdentity(victim_view, "openid", "oATTACKER"));
  auto [by_union_status, by_union] = api.Get("/api/v1/customers?q=uVICTIM");
  REQUIRE(by_union_status == 200);
  REQUIRE(by_union["items"].size() == 1);
  CHECK(ApiId(by_union["items"][0]["id"]) == victim);

  // The same (timestamp, nonce) with another body: refused, nothing stored.
  const std::string second = OaTextWithUnionId("oOTHER", "uVICTIM", 6200000000000000002ULL);
  r = Post(server.port, observed.path_and_query, second);
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(json::parse(r->body)["error"]["code"] == "unauthenticated");
  // The same bytes again (what a platform retry looks like): acknowledged, stored once.
  r = Post(server.port, observed.path_and_query, observed.body);
  REQUIRE(r);
  CHECK(r->status == 200);
  auto [list_status, list] = api.Get("/api/v1/interactions?account=plain&limit=100");
  REQUIRE(list_status == 200);
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["openid"] == "oATTACKER");
  CHECK(list["items"][0]["unionid"] == "");
  auto metrics = api.client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("scrmd_callback_rejections_total{platform=\"oa\",account=\"plain\","
                           "reason=\"replayed\"} 1") != std::string::npos);
  server.Stop();
}

TEST_CASE(
    "scrmd stores an authentic callback of an unusual shape once, marked malformed, and "
    "keeps ingesting",
    "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}});
  const std::string key = CreateKey(config, "admin", "admin");
  ScrmdServer server(config);
  ApiClient api(server.port, key);
  auto wecom = sim::CallbackBuilder::Create(kToken, kAesKey, kCorpId, 23);
  REQUIRE(wecom.ok());
  // Signed and encrypted by the platform, but no CreateTime and a MsgId that is not a number.
  const std::string odd =
      "<xml><ToUserName><![CDATA[" + std::string(kCorpId) +
      "]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName><MsgType><![CDATA[text]]>"
      "</MsgType><Content><![CDATA[hi]]></Content><MsgId>12ab</MsgId></xml>";
  const auto req = wecom->WecomPost("/callbacks/wecom/acme", odd, TrustNow());
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto r = Post(server.port, req.path_and_query, req.body);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  // A forged copy is still refused.
  auto r = Post(server.port,
                std::regex_replace(req.path_and_query, std::regex("msg_signature=[0-9a-f]{4}"),
                                   "msg_signature=0000"),
                req.body);
  REQUIRE(r);
  CHECK(r->status == 401);

  auto [status, list] = api.Get("/api/v1/interactions?kind=malformed&limit=100");
  REQUIRE(status == 200);
  REQUIRE(list["items"].size() == 1);
  const json& item = list["items"][0];
  CHECK(item["kind"] == "malformed");
  CHECK(item["account"] == "acme");
  CHECK(item["payload"]["malformed"].get<std::string>().find("CreateTime") != std::string::npos);
  CHECK(item["userid"] == "");

  // The worker goes past it: a contact added afterwards becomes a customer.
  const auto add = wecom->WecomPost(
      "/callbacks/wecom/acme",
      sim::CallbackBuilder::WecomContactAddXml(kCorpId, "zhangsan", "wmAFTER", "", TrustNow()),
      TrustNow());
  r = Post(server.port, add.path_and_query, add.body);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  api.WaitFor("/api/v1/customers/by-identity?platform=wecom&account=acme&external_id=wmAFTER",
              [](const json&) { return true; });
  auto metrics = api.client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("scrmd_callbacks_malformed_total{platform=\"wecom\",account=\"acme\"} "
                           "1") != std::string::npos);
  server.Stop();
}

TEST_CASE("scrmd creates its files 0600 and its directories 0700", "[integration]") {
  TempDir dir;
  const std::string data = dir.File("var/nested");
  const std::string config =
      WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}, {"data_dir", data}});
  const std::string key = CreateKey(config, "admin", "admin");
  ScrmdServer server(config);
  auto wecom = sim::CallbackBuilder::Create(kToken, kAesKey, kCorpId, 24);
  REQUIRE(wecom.ok());
  const auto add = wecom->WecomPost(
      "/callbacks/wecom/acme",
      sim::CallbackBuilder::WecomContactAddXml(kCorpId, "zhangsan", "wmMODE", "", TrustNow()),
      TrustNow());
  auto r = Post(server.port, add.path_and_query, add.body);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  // While serve runs the WAL and shared-memory files exist too.
  CHECK(ModeOf(dir.File("var")) == 0700);
  CHECK(ModeOf(data) == 0700);
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(data)) {
    files.push_back(entry.path().string());
  }
  CHECK(files.size() >= 5);  // scrmd.db, scrmd-inbox.db, their -wal / -shm, scrmd.db.lock
  for (const std::string& file : files) {
    INFO(file);
    CHECK(ModeOf(file) == 0600);
  }
  server.Stop();
}

TEST_CASE("scrmd keys refuses to migrate a store whose lock a serve holds", "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}});
  // What `scrmd serve` holds for its lifetime, on a store whose schema is not there yet.
  std::filesystem::create_directories(dir.File("var"));
  const std::string lock_path = dir.File("var/scrmd.db.lock");
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  auto refused = Run(
      {ScrmdBinary(), "keys", "create", "--config", config, "--role", "admin", "--name", "early"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK(refused.err.find("migrating beside a running serve is refused") != std::string::npos);
  CHECK(refused.err.find("scrmd migrate") != std::string::npos);
  ::close(fd);  // serve gone: the same command migrates and creates the key
  auto created = Run(
      {ScrmdBinary(), "keys", "create", "--config", config, "--role", "admin", "--name", "early"});
  INFO(created.err);
  CHECK(created.exit_code == 0);
  CHECK(created.out.size() > 6);
}

TEST_CASE("scrmd keys create, list and revoke never make a running serve answer 503",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}});
  const std::string key = CreateKey(config, "admin", "admin");
  ScrmdServer server(config);
  auto wecom = sim::CallbackBuilder::Create(kToken, kAesKey, kCorpId, 25);
  REQUIRE(wecom.ok());

  std::atomic<bool> stop{false};
  std::atomic<int> callbacks{0};
  std::atomic<int> readyz{0};
  std::atomic<int> failures{0};
  std::string first_failure;  // written by the traffic thread only, read after join
  std::thread traffic([&] {
    httplib::Client client("127.0.0.1", server.port);
    client.set_read_timeout(10, 0);
    uint64_t msg_id = 6300000000000000000ULL;
    while (!stop.load()) {
      const auto req = wecom->WecomPost(
          "/callbacks/wecom/acme",
          sim::CallbackBuilder::WecomTextXml(kCorpId, "lisi", "ping", ++msg_id, TrustNow()),
          TrustNow());
      auto posted = client.Post(req.path_and_query.c_str(), req.body, "text/xml");
      auto ready = client.Get("/readyz");
      const bool ok = posted && posted->status == 200 && ready && ready->status == 200;
      if (!ok && failures.fetch_add(1) == 0) {
        first_failure = "callback " + (posted ? std::to_string(posted->status) : "no answer") +
                        ", readyz " + (ready ? std::to_string(ready->status) : "no answer");
      }
      if (posted && posted->status == 200) callbacks.fetch_add(1);
      if (ready && ready->status == 200) readyz.fetch_add(1);
    }
  });
  // Five rounds: 15 CLI processes beside the load (61 s under ASan with ten, near the 120 s limit
  // of a test on a busy CI machine).
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = "cli-" + std::to_string(round);
    auto created = Run({ScrmdBinary(), "keys", "create", "--config", config, "--role", "readonly",
                        "--name", name});
    INFO(created.err);
    CHECK(created.exit_code == 0);
    auto listed = Run({ScrmdBinary(), "keys", "list", "--config", config, "--json"});
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.find("\"" + name + "\"") != std::string::npos);
    auto revoked = Run({ScrmdBinary(), "keys", "revoke", "--config", config, "--name", name});
    CHECK(revoked.exit_code == 0);
  }
  // The traffic overlapped the commands: wait until it has run a while longer.
  const int seen = callbacks.load();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (callbacks.load() < seen + 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  stop.store(true);
  traffic.join();
  INFO(first_failure);
  CHECK(failures.load() == 0);
  CHECK(callbacks.load() > 0);
  CHECK(readyz.load() > 0);
  ApiClient api(server.port, key);
  auto [status, keys] = api.Get("/api/v1/keys");
  REQUIRE(status == 200);
  CHECK(keys["keys"].size() == kRounds + 1);  // admin + the revoked ones
  server.Stop();
}

}  // namespace
}  // namespace scrm::testing
