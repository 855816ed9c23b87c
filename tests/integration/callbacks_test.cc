// Callback ingestion end to end: the real scrmd process, real protocol bytes from the simulator,
// a real SQLite file. What the platform got a 200 for must be stored exactly once.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "sim/callback_builder.h"
#include "tests/integration/scrmd_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

sim::CallbackBuilder Builder(const std::string& receive_id, uint64_t seed) {
  auto b = sim::CallbackBuilder::Create(kToken, kAesKey, receive_id, seed);
  REQUIRE(b.ok());
  return std::move(b).value();
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every stored interaction, through the admin API (paged).
std::vector<json> AllInteractions(const ScrmdServer& server, const std::string& key) {
  std::vector<json> out;
  int64_t after = 0;
  auto client = server.Client();
  for (;;) {
    auto r = client.Get("/api/v1/interactions?limit=1000&after=" + std::to_string(after),
                        {{"Authorization", "Bearer " + key}});
    REQUIRE(r);
    REQUIRE(r->status == 200);
    const json body = json::parse(r->body);
    for (const auto& item : body["items"]) out.push_back(item);
    if (body["next_after"].is_null()) break;
    after = ApiId(body["next_after"]);
  }
  return out;
}

TEST_CASE("scrmd stores a callback once and answers 200 four times when the platform retries",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}});
  const std::string key = CreateKey(config, "admin", "test");
  ScrmdServer server(config);
  auto builder = Builder(kCorpId, 1);
  const auto req = builder.WecomPost(
      "/callbacks/wecom/acme",
      sim::CallbackBuilder::WecomContactAddXml(kCorpId, "zhangsan", "wmEXT001", "活动A", Now()),
      Now());
  auto client = server.Client();
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto r = client.Post(req.path_and_query, req.body, "text/xml");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.empty());  // WeCom: an empty body acknowledges (PROTOCOL §2)
  }
  const auto items = AllInteractions(server, key);
  REQUIRE(items.size() == 1);
  CHECK(items[0]["kind"] == "contact.add");
  CHECK(items[0]["external_userid"] == "wmEXT001");
  CHECK(items[0]["userid"] == "zhangsan");
  CHECK(items[0]["payload"]["state"] == "活动A");
  CHECK(items[0]["raw_body"].get<std::string>().find("add_external_contact") != std::string::npos);

  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find(
            R"(scrmd_callbacks_total{platform="wecom",account="acme",outcome="stored"} 1)") !=
        std::string::npos);
  CHECK(metrics->body.find(
            R"(scrmd_callbacks_total{platform="wecom",account="acme",outcome="duplicate"} 3)") !=
        std::string::npos);
}

TEST_CASE("scrmd answers the WeCom URL check with the decrypted echostr", "[integration]") {
  TempDir dir;
  ScrmdServer server(WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}}));
  auto builder = Builder(kCorpId, 2);
  const auto req = builder.WecomVerify("/callbacks/wecom/acme", "1616140317555161061", Now());
  auto r = server.Client().Get(req.path_and_query);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "1616140317555161061");
}

TEST_CASE("scrmd refuses forged, stale and unknown-account callbacks and stores nothing",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}});
  const std::string key = CreateKey(config, "admin", "test");
  ScrmdServer server(config);
  auto client = server.Client();
  auto builder = Builder(kCorpId, 3);
  const std::string xml =
      sim::CallbackBuilder::WecomTextXml(kCorpId, "lisi", "你好", 7000000000000000001ULL, Now());

  auto good = builder.WecomPost("/callbacks/wecom/acme", xml, Now());
  auto forged = good;
  forged.path_and_query = std::regex_replace(
      good.path_and_query, std::regex("msg_signature=[0-9a-f]"), "msg_signature=0");
  if (forged.path_and_query == good.path_and_query) {
    forged.path_and_query =
        std::regex_replace(good.path_and_query, std::regex("msg_signature=0"), "msg_signature=1");
  }
  auto r = client.Post(forged.path_and_query, forged.body, "text/xml");
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(json::parse(r->body)["error"]["code"] == "unauthenticated");

  auto stale = builder.WecomPost("/callbacks/wecom/acme", xml, Now() - 3600);
  r = client.Post(stale.path_and_query, stale.body, "text/xml");
  REQUIRE(r);
  CHECK(r->status == 401);

  auto other_corp = Builder("wwsomeoneelse", 4).WecomPost("/callbacks/wecom/acme", xml, Now());
  r = client.Post(other_corp.path_and_query, other_corp.body, "text/xml");
  REQUIRE(r);
  CHECK(r->status == 401);

  r = client.Post("/callbacks/wecom/acme?msg_signature=x&timestamp=1&nonce=1", "<xml><Encr",
                  "text/xml");
  REQUIRE(r);
  CHECK(r->status == 400);

  auto unknown = builder.WecomPost("/callbacks/wecom/nobody", xml, Now());
  r = client.Post(unknown.path_and_query, unknown.body, "text/xml");
  REQUIRE(r);
  CHECK(r->status == 404);

  CHECK(AllInteractions(server, key).empty());
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  for (const char* reason : {"bad_signature", "stale_timestamp", "wrong_receive_id"}) {
    INFO(reason);
    CHECK(metrics->body.find(std::string("scrmd_callback_rejections_total{platform=\"wecom\","
                                         "account=\"acme\",reason=\"") +
                             reason + "\"} 1") != std::string::npos);
  }
}

TEST_CASE("scrmd stores an Official Account safe-mode message and answers success",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}});
  const std::string key = CreateKey(config, "admin", "test");
  ScrmdServer server(config);
  auto builder = Builder(kAppId, 5);
  const auto req =
      builder.OaSafePost("/callbacks/oa/shop",
                         sim::CallbackBuilder::OaTextXml("gh_shop", "oUSER1", "想了解会员卡",
                                                         18446744073709551615ULL, Now()),
                         "oUSER1", Now());
  auto r = server.Client().Post(req.path_and_query, req.body, "text/xml");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "success");
  const auto items = AllInteractions(server, key);
  REQUIRE(items.size() == 1);
  CHECK(items[0]["openid"] == "oUSER1");
  CHECK(items[0]["msg_id"] == "18446744073709551615");
  CHECK(items[0]["payload"]["content"] == "想了解会员卡");
}

TEST_CASE("scrmd keeps every acknowledged callback exactly once when killed with SIGKILL",
          "[integration]") {
  TempDir dir;
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts()}});
  const std::string key = CreateKey(config, "admin", "test");
  std::random_device rd;
  const unsigned seed = rd();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  const auto kill_after = std::chrono::milliseconds(150 + rng() % 600);

  std::mutex mu;
  std::map<uint64_t, sim::SimRequest> acked;  // msg id -> the request that got a 200
  {
    ScrmdServer server(config);
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t) {
      senders.emplace_back([&, t] {
        auto builder = Builder(kCorpId, 100 + static_cast<uint64_t>(t));
        auto client = server.Client();
        client.set_keep_alive(true);
        for (uint64_t i = 0; !stop && i < 100000; ++i) {
          const uint64_t msg_id =
              8'000'000'000'000'000'000ULL + static_cast<uint64_t>(t) * 1'000'000ULL + i;
          auto req = builder.WecomPost(
              "/callbacks/wecom/acme",
              sim::CallbackBuilder::WecomTextXml(kCorpId, "u" + std::to_string(t),
                                                 "消息 " + std::to_string(i), msg_id, Now()),
              Now());
          auto r = client.Post(req.path_and_query, req.body, "text/xml");
          if (!r) break;  // the server died under us: this one was never acked
          if (r->status == 200) {
            std::lock_guard lock(mu);
            acked.emplace(msg_id, std::move(req));
          }
        }
      });
    }
    std::this_thread::sleep_for(kill_after);
    server.process.Signal(SIGKILL);
    REQUIRE(server.process.Wait(10s).has_value());
    stop = true;
    for (auto& s : senders) s.join();
  }
  INFO("acked before the kill: " << acked.size());
  REQUIRE(!acked.empty());

  ScrmdServer restarted(config);
  // The platform retries some of what it had acked: still once.
  {
    auto client = restarted.Client();
    int retried = 0;
    for (const auto& [msg_id, req] : acked) {
      if (++retried > 50) break;
      auto r = client.Post(req.path_and_query, req.body, "text/xml");
      REQUIRE(r);
      CHECK(r->status == 200);
    }
  }
  std::map<std::string, int> stored;
  for (const auto& item : AllInteractions(restarted, key))
    ++stored[item["msg_id"].get<std::string>()];
  size_t missing = 0;
  size_t doubled = 0;
  for (const auto& [msg_id, req] : acked) {
    const auto it = stored.find(std::to_string(msg_id));
    if (it == stored.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++doubled;
    }
  }
  CHECK(missing == 0);
  CHECK(doubled == 0);
  for (const auto& [msg_id, count] : stored) CHECK(count == 1);
}

}  // namespace
}  // namespace scrm::testing
