// Ids are strings (docs/api.md): interaction ids are (ms << 16) | seq, above 2^53, and a
// JavaScript client rounds JSON numbers that large. Against the real scrmd process: every id a
// response carries is a string, survives paging (next_after), fetching by it and the references
// other rows make to it (timeline, tag evidence, task source), and goes back in as a string.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sim/callback_builder.h"
#include "tests/integration/scrmd_fixture.h"
#include "tests/support/api_ids.h"
#include "tests/support/test_support.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int64_t kTwoTo53 = int64_t{1} << 53;

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string OaEventXml(const std::string& openid, const std::string& event, int64_t at) {
  return "<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[" + openid +
         "]]></FromUserName><CreateTime>" + std::to_string(at) +
         "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[" + event +
         "]]></Event></xml>";
}

// GETs and POSTs with one key; every body is checked for an id sent as a JSON number.
struct IdClient {
  IdClient(int port, const std::string& key) : client("127.0.0.1", port), bearer("Bearer " + key) {
    client.set_read_timeout(10, 0);
  }
  json Get(const std::string& path) {
    auto r = client.Get(path.c_str(), {{"Authorization", bearer}});
    REQUIRE(r);
    INFO(path << " -> " << r->body);
    REQUIRE(r->status == 200);
    CheckNoNumericId(r->body);
    return json::parse(r->body);
  }
  json Post(const std::string& path, const json& body) {
    auto r =
        client.Post(path.c_str(), {{"Authorization", bearer}}, body.dump(), "application/json");
    REQUIRE(r);
    INFO(path << " -> " << r->body);
    REQUIRE(r->status == 200);
    CheckNoNumericId(r->body);
    return json::parse(r->body);
  }
  // No member named id, *_id, next_after, merged_into or up_to_id has a number as its value.
  static void CheckNoNumericId(const std::string& body) {
    static const std::regex numeric_id(R"re("(id|\w+_id|next_after|merged_into)"\s*:\s*-?[0-9])re");
    std::smatch m;
    INFO(body);
    CHECK_FALSE(std::regex_search(body, m, numeric_id));
  }
  httplib::Client client;
  std::string bearer;
};

TEST_CASE("scrmd sends every id above 2^53 as a string that pages, fetches and round-trips",
          "[integration]") {
  TempDir dir;
  const std::string config =
      WriteScrmdConfig(dir, {{"accounts", DemoAccounts()},
                             {"tag_rules_file", SourcePath("config/tag_rules.example.json")}});
  ScrmdServer server(config);
  IdClient admin(server.port, CreateKey(config, "admin", "admin"));
  auto oa = sim::CallbackBuilder::Create(kToken, kAesKey, kAppId, 21);
  REQUIRE(oa.ok());
  auto send = [&](const std::string& xml) {
    const sim::SimRequest req = oa->OaSafePost("/callbacks/oa/shop", xml, "oIDS1", NowS());
    httplib::Client client("127.0.0.1", server.port);
    client.set_read_timeout(10, 0);
    auto r = client.Post(req.path_and_query.c_str(), req.body, "text/xml");
    REQUIRE(r);
    REQUIRE(r->status == 200);
  };
  // Many interactions within the same milliseconds: ids that differ in the low bits only, the
  // ones a double collapses.
  constexpr int kTexts = 40;
  send(OaEventXml("oIDS1", "subscribe", NowS()));
  for (int i = 0; i < kTexts; ++i) {
    send(sim::CallbackBuilder::OaTextXml("gh_shop", "oIDS1", "产品A 第" + std::to_string(i) + "条",
                                         7100000000000000000ULL + static_cast<uint64_t>(i),
                                         NowS()));
  }
  send(OaEventXml("oIDS1", "unsubscribe", NowS()));
  constexpr size_t kInteractions = kTexts + 2;

  // The ingest worker runs behind the acks: wait for the lost-customer task of the unsubscribe.
  json view;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto r = admin.client.Get(
        "/api/v1/customers/by-identity?platform=oa&account=shop"
        "&external_id=oIDS1",
        {{"Authorization", admin.bearer}});
    REQUIRE(r);
    if (r->status == 200) {
      view = json::parse(r->body);
      if (!view["tasks"].empty()) break;
    }
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
  IdClient::CheckNoNumericId(view.dump());

  // Every interaction, paged 7 at a time with next_after sent back as it came.
  std::vector<int64_t> ids;
  std::set<std::string> id_texts;
  std::string after = "0";
  for (int guard = 0; guard < 100; ++guard) {
    const json page = admin.Get("/api/v1/interactions?limit=7&after=" + after);
    for (const auto& item : page["items"]) {
      const int64_t id = ApiId(item["id"]);
      CHECK(id > kTwoTo53);
      if (!ids.empty()) CHECK(id > ids.back());  // no row fetched twice
      ids.push_back(id);
      id_texts.insert(item["id"].get<std::string>());
    }
    if (page["next_after"].is_null()) break;
    after = page["next_after"].get<std::string>();
    CHECK(ApiId(page["next_after"]) == ids.back());
  }
  CHECK(ids.size() == kInteractions);
  CHECK(id_texts.size() == kInteractions);  // distinct, as a JavaScript client sees them too

  // Fetching by an id: the page after its predecessor starts with it.
  for (const size_t i : {size_t{1}, ids.size() / 2, ids.size() - 1}) {
    const json one = admin.Get("/api/v1/interactions?limit=1&after=" + std::to_string(ids[i] - 1));
    REQUIRE(one["items"].size() == 1);
    CHECK(one["items"][0]["id"] == IdStr(ids[i]));
  }

  // The customer by its id string, and the references to interactions its rows make.
  const int64_t customer_id = ApiId(view["id"]);
  const json customer = admin.Get("/api/v1/customers/" + view["id"].get<std::string>());
  CHECK(customer["id"] == view["id"]);
  REQUIRE(customer["tasks"].size() == 1);
  const json& task = customer["tasks"][0];
  CHECK(ApiId(task["customer_id"]) == customer_id);
  CHECK(ApiId(task["source_interaction_id"]) == ids.back());  // the unsubscribe
  bool evidence_found = false;
  for (const auto& tag : customer["tags"]) {
    if (tag["evidence"].is_object() && ApiId(tag["evidence"]["interaction_id"]) != 0) {
      CHECK(id_texts.count(tag["evidence"]["interaction_id"].get<std::string>()) == 1);
      evidence_found = true;
    }
  }
  CHECK(evidence_found);

  std::set<std::string> referenced;
  after = "0";
  for (int guard = 0; guard < 100; ++guard) {
    const json page = admin.Get("/api/v1/customers/" + std::to_string(customer_id) +
                                "/timeline?limit=5&after=" + after);
    CHECK(ApiId(page["customer_id"]) == customer_id);
    for (const auto& entry : page["items"]) {
      ApiId(entry["id"]);
      if (ApiId(entry["interaction_id"]) != 0) {
        CHECK(ApiId(entry["interaction_id"]) > kTwoTo53);
        referenced.insert(entry["interaction_id"].get<std::string>());
      }
    }
    if (page["next_after"].is_null()) break;
    after = page["next_after"].get<std::string>();
  }
  CHECK(referenced == id_texts);  // every interaction of the customer, each once

  // The task listing and its PATCH by the id string.
  const json tasks = admin.Get("/api/v1/tasks?owner=");
  REQUIRE(tasks["items"].size() == 1);
  CHECK(tasks["items"][0]["id"] == task["id"]);
  CHECK(tasks["items"][0]["source_interaction_id"] == task["source_interaction_id"]);

  // Replay answers the id it reached as a string too.
  const json replayed =
      admin.Post("/api/v1/interactions/replay",
                 json{{"from_ms", 0}, {"to_ms", (NowS() + 60) * 1000}, {"account", "shop"}});
  CHECK(ApiId(replayed["up_to_id"]) > kTwoTo53);

  // Keys and tags: small ids, strings all the same.
  const json me = admin.Get("/api/v1/me");
  CHECK(ApiId(me["id"]) > 0);
  const json tags = admin.Get("/api/v1/tags");
  REQUIRE_FALSE(tags["items"].empty());
  for (const auto& tag : tags["items"]) {
    ApiId(tag["id"]);
    ApiId(tag["group_id"]);
    ApiId(tag["oa_tag_id"]);
  }
  server.Stop();
}

}  // namespace
}  // namespace scrm::testing
