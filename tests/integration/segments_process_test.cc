// The segment index against a brute force, end to end: a few thousand customers built through
// real callbacks (OA subscriptions through QR scenes, keyword messages, menu clicks and
// unsubscriptions; WeCom contact-way adds by several members and deletions by either side) at
// known times over the last 60 days, manual tags, unionid merges and undos; then many generated
// queries, each answered by POST /api/v1/segments/preview and by the reference semantics
// (tests/support/segment_reference) over the facts the API's own customer reads give, at the
// instant the preview says it evaluated at. Scores decay: a tag from a message 45 days old is
// no longer held, and both sides must agree.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "campaigns/segments/parser.h"
#include "sim/callback_builder.h"
#include "src/tagger/scoring.h"
#include "tests/integration/scrmd_fixture.h"
#include "tests/support/segment_reference.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using segments::testing::CustomerFacts;

constexpr int64_t kDayMs = 86'400'000;
constexpr int kOaCustomers = 1500;
constexpr int kWecomCustomers = 1000;
constexpr int kSenders = 6;

const std::vector<std::string> kStaff = {"zhangsan", "lisi", "wangwu", "zhaoliu"};
const std::vector<std::string> kScenes = {"channel_expo", "channel_web", "spring2026", ""};
const std::vector<std::string> kStates = {"channel_expo", "channel_fair", "autumn", ""};
const std::vector<std::string> kTexts = {"你好，产品A怎么卖？", "想了解一下产品B",
                                         "预算5万-10万",        "在吗",
                                         "我要投诉，太差了",    "Product A 还有货吗"};

// One callback to send: where, the plaintext, the OA openid (safe mode needs it) or "".
struct Planned {
  bool oa = false;
  std::string xml;
  std::string openid;
  int64_t at_s = 0;
};

std::string OaEventXml(const std::string& openid, const std::string& event,
                       const std::string& event_key, int64_t at_s) {
  std::string xml = "<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[" +
                    openid + "]]></FromUserName><CreateTime>" + std::to_string(at_s) +
                    "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[" + event +
                    "]]></Event>";
  if (!event_key.empty()) xml += "<EventKey><![CDATA[" + event_key + "]]></EventKey>";
  return xml + "</xml>";
}

std::string WecomChangeXml(const std::string& change, const std::string& userid,
                           const std::string& external_userid, int64_t at_s) {
  return std::string("<xml><ToUserName><![CDATA[") + kCorpId +
         "]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>" +
         std::to_string(at_s) +
         "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_"
         "contact]]></Event><ChangeType><![CDATA[" +
         change + "]]></ChangeType><UserID><![CDATA[" + userid +
         "]]></UserID><ExternalUserID><![CDATA[" + external_userid + "]]></ExternalUserID></xml>";
}

// The population, as callbacks in time order per customer (customers interleave freely: each
// customer's events go to one sender, in order).
std::vector<std::vector<Planned>> PlanCallbacks(std::mt19937_64& rng, int64_t now_s) {
  std::vector<std::vector<Planned>> per_sender(kSenders);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  uint64_t msg_id = 7'200'000'000'000'000'000ULL;
  for (int i = 0; i < kOaCustomers; ++i) {
    auto& out = per_sender[static_cast<size_t>(i % kSenders)];
    const std::string openid = "oSEG" + std::to_string(i);
    int64_t t = now_s - uniform(0, 60 * 86'400);
    const std::string& scene = kScenes[static_cast<size_t>(uniform(0, 3))];
    out.push_back({true,
                   OaEventXml(openid, "subscribe", scene.empty() ? "" : "qrscene_" + scene, t),
                   openid, t});
    const int64_t messages = uniform(0, 4);
    for (int64_t m = 0; m < messages; ++m) {
      t += uniform(60, std::max<int64_t>(61, (now_s - t) / 3));
      if (t > now_s) t = now_s;
      out.push_back(
          {true,
           sim::CallbackBuilder::OaTextXml("gh_shop", openid,
                                           kTexts[static_cast<size_t>(uniform(0, 5))], ++msg_id, t),
           openid, t});
    }
    if (uniform(0, 4) == 0) {
      t = std::min(now_s, t + uniform(1, 3600));
      out.push_back({true, OaEventXml(openid, "CLICK", "MENU_PRICE", t), openid, t});
    }
    if (uniform(0, 6) == 0) {
      t = std::min(now_s, t + uniform(1, 86'400));
      out.push_back({true, OaEventXml(openid, "unsubscribe", "", t), openid, t});
    }
  }
  for (int j = 0; j < kWecomCustomers; ++j) {
    auto& out = per_sender[static_cast<size_t>(j % kSenders)];
    const std::string external = "wmSEG" + std::to_string(j);
    int64_t t = now_s - uniform(0, 60 * 86'400);
    const std::string& first = kStaff[static_cast<size_t>(uniform(0, 3))];
    out.push_back({false,
                   sim::CallbackBuilder::WecomContactAddXml(
                       kCorpId, first, external, kStates[static_cast<size_t>(uniform(0, 3))], t),
                   "", t});
    std::string second;
    if (uniform(0, 2) == 0) {
      second = kStaff[static_cast<size_t>(uniform(0, 3))];
      t = std::min(now_s, t + uniform(60, 10 * 86'400));
      out.push_back({false,
                     sim::CallbackBuilder::WecomContactAddXml(kCorpId, second, external, "", t), "",
                     t});
    }
    const int64_t roll = uniform(0, 9);
    if (roll == 0 || roll == 1) {
      t = std::min(now_s, t + uniform(60, 86'400));
      out.push_back({false,
                     WecomChangeXml(roll == 0 ? "del_follow_user" : "del_external_contact", first,
                                    external, t),
                     "", t});
    }
  }
  return per_sender;
}

void SendAll(int port, const std::vector<std::vector<Planned>>& per_sender, int64_t now_s) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (size_t s = 0; s < per_sender.size(); ++s) {
    threads.emplace_back([&, s] {
      auto oa = sim::CallbackBuilder::Create(kToken, kAesKey, kAppId, 100 + s);
      auto wecom = sim::CallbackBuilder::Create(kToken, kAesKey, kCorpId, 200 + s);
      if (!oa.ok() || !wecom.ok()) {
        ++failures;
        return;
      }
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(30, 0);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      for (const Planned& p : per_sender[s]) {
        const sim::SimRequest req =
            p.oa ? oa->OaSafePost("/callbacks/oa/shop", p.xml, p.openid, now_s)
                 : wecom->WecomPost("/callbacks/wecom/acme", p.xml, now_s);
        auto r = client.Post(req.path_and_query.c_str(), req.body, "text/xml");
        if (!r || r->status != 200) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(failures.load() == 0);
}

// A value of scrmd's /metrics (0 when absent).
double Metric(int port, const std::string& name) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/metrics");
  REQUIRE(r);
  const std::string key = "\n" + name + " ";
  const size_t at = r->body.find(key);
  return at == std::string::npos ? 0 : std::strtod(r->body.c_str() + at + key.size(), nullptr);
}

// Waits until the ingest worker has applied every stored interaction.
void WaitForIngest(int port, double expected) {
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  while (Metric(port, "scrmd_ingest_processed_total") < expected ||
         Metric(port, "scrmd_ingest_lag_interactions") > 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
}

// Every live customer's facts, from GET /customers, /customers/{id} and its timeline. Tag scores
// are kept as stored (score, time, half-life) and decayed at the evaluation's instant.
struct StoredTag {
  double stored = 0;
  int64_t updated_at_ms = 0;
  int64_t half_life_ms = 0;
  double threshold = 1;
};
struct Fetched {
  CustomerFacts facts;
  std::map<std::string, StoredTag> tags;
};

std::vector<Fetched> FetchAll(ApiClient& api) {
  std::vector<Fetched> out;
  std::string after;
  for (;;) {
    auto [status, page] =
        api.Get("/api/v1/customers?limit=500" + (after.empty() ? "" : "&after=" + after));
    REQUIRE(status == 200);
    for (const json& item : page["items"]) {
      const std::string id = item["id"];
      auto [s, view] = api.Get("/api/v1/customers/" + id);
      REQUIRE(s == 200);
      Fetched f;
      CustomerFacts& c = f.facts;
      c.id = std::stoll(id);
      c.stage = *model::ParseLifecycleStage(view["stage"].get<std::string>());
      c.owner = view["owner_userid"];
      c.channel = view.value("channel", "");
      for (const auto& [k, v] : view["attributes"].items()) c.attributes[k] = v;
      c.created_at_ms = view["created_at_ms"];
      c.last_active_ms = view["last_interaction_at_ms"];
      for (const json& identity : view["identities"]) {
        const std::string platform = identity["platform"];
        if (platform == "wecom" || platform == "oa") {
          c.platforms.insert(platform);
          c.accounts.insert(identity["account_id"].get<std::string>());
        }
      }
      for (const json& follower : view["followers"]) {
        segments::testing::FollowerFact ff;
        ff.account_id = follower["account_id"];
        ff.userid = follower["userid"];
        ff.state = *model::ParseFollowerState(follower["state"].get<std::string>());
        c.accounts.insert(ff.account_id);
        c.followers.push_back(ff);
      }
      for (const json& tag : view["tags"]) {
        StoredTag t;
        t.stored = tag["stored_score"];
        t.updated_at_ms = tag["updated_at_ms"];
        t.half_life_ms =
            tag["decays"].get<bool>() ? tag["half_life_days"].get<int64_t>() * kDayMs : 0;
        t.threshold = tag["threshold"];
        f.tags[tag["group"].get<std::string>() + "/" + tag["name"].get<std::string>()] = t;
      }
      std::string t_after;
      for (;;) {
        auto [ts, timeline] = api.Get("/api/v1/customers/" + id + "/timeline?limit=500" +
                                      (t_after.empty() ? "" : "&after=" + t_after));
        REQUIRE(ts == 200);
        for (const json& entry : timeline["items"]) {
          c.interactions.push_back(
              {entry["kind"].get<std::string>(), entry["at_ms"].get<int64_t>()});
        }
        if (timeline["next_after"].is_null()) break;
        t_after = timeline["next_after"];
      }
      out.push_back(std::move(f));
    }
    if (page["next_after"].is_null()) break;
    after = page["next_after"];
  }
  return out;
}

// Sets every fetched customer's tag scores to their decayed value at now_ms.
void DecayTo(std::vector<Fetched>& all, int64_t now_ms) {
  for (Fetched& f : all) {
    for (const auto& [name, t] : f.tags) {
      segments::testing::TagFact& fact = f.facts.tags[name];
      fact.score = tagger::DecayedScore(t.stored, t.updated_at_ms, now_ms, t.half_life_ms);
      fact.threshold = t.threshold;
    }
  }
}

// The ids matching `query` at now_ms, > after, ascending.
std::vector<int64_t> Expected(std::vector<Fetched>& all, const segments::Query& query,
                              int64_t now_ms, int64_t after) {
  DecayTo(all, now_ms);
  std::vector<int64_t> ids;
  for (const Fetched& f : all) {
    if (f.facts.id > after && segments::testing::ReferenceMatches(query, f.facts, now_ms)) {
      ids.push_back(f.facts.id);
    }
  }
  return ids;
}

// A random query over the population's vocabulary, `depth` levels of and / or / not at most.
class QueryMaker {
 public:
  explicit QueryMaker(uint64_t seed) : rng_(seed) {}
  std::string Make(int depth) {
    const int roll = Pick(depth > 0 ? 10 : 6);
    if (roll < 6) return Leaf();
    if (roll < 8) return "(" + Make(depth - 1) + " and " + Make(depth - 1) + ")";
    if (roll < 9) return "(" + Make(depth - 1) + " or " + Make(depth - 1) + ")";
    return "not " + Make(depth - 1);
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <typename T>
  const T& One(const std::vector<T>& v) {
    return v[static_cast<size_t>(Pick(static_cast<int>(v.size())))];
  }
  std::string Leaf() {
    static const std::vector<std::string> tags = {
        "兴趣/产品A",      "兴趣/产品B", "意向/价格咨询", "预算/5万-10万",  "渠道/公众号渠道码",
        "渠道/企微联系我", "价值/重点",  "活跃度/活跃",   "意向/已说明预算"};
    static const std::vector<std::string> stages = {"new", "engaged", "at_risk", "lost",
                                                    "customer"};
    static const std::vector<std::string> ops = {"<", "<=", ">", ">="};
    static const std::vector<std::string> days = {"1d", "7d", "20d", "30d", "45d", "90d"};
    switch (Pick(14)) {
      case 0: return "tag:\"" + One(tags) + "\"";
      case 1:
        return "tag_score:\"" + One(tags) + "\" " + One(ops) + " " +
               One(std::vector<std::string>{"0.5", "1", "1.5", "2", "3"});
      case 2: return "stage:" + One(stages);
      case 3: return "platform:" + One(std::vector<std::string>{"wecom", "oa"});
      case 4: return "account:" + One(std::vector<std::string>{"acme", "shop"});
      case 5: return "owner:" + One(kStaff);
      case 6: return "follower:" + One(kStaff);
      case 7:
        return "attr:source_channel " + One(std::vector<std::string>{"=", "!="}) + " \"" +
               One(std::vector<std::string>{"oa_qr", "wecom_contact_way"}) + "\"";
      case 8:
        return "channel:\"" +
               One(std::vector<std::string>{"channel_expo", "channel_web", "channel_fair",
                                            "spring2026", "autumn"}) +
               "\"";
      case 9: return "last_active " + One(ops) + " " + One(days);
      case 10: return "created " + One(ops) + " " + One(days);
      case 11:
        return "count(message.text, " + One(std::vector<std::string>{"7d", "30d", "90d"}) +
               ") >= " + std::to_string(1 + Pick(3));
      case 12: return "relation:" + One(std::vector<std::string>{"any", "ended", "connected"});
      default: return "orders.count >= 1";
    }
  }
  std::mt19937_64 rng_;
};

// `n` generated queries: the count and the first page (200) of each preview equal the reference
// at the instant the preview was evaluated at, and every page of one query in eight; explain
// agrees for a few customers.
void CompareQueries(ApiClient& api, std::vector<Fetched>& fetched, uint64_t seed, int n) {
  QueryMaker maker(seed);
  size_t nonempty = 0;
  for (int q = 0; q < n; ++q) {
    const std::string text = maker.Make(3);
    INFO("query " << q << ": " << text);
    auto parsed = segments::Parse(text);
    REQUIRE(parsed.ok());
    int64_t after = 0;
    for (int page = 0;; ++page) {
      REQUIRE(page < 100);
      json body = {{"query", text}, {"limit", 200}};
      if (after != 0) body["after"] = std::to_string(after);
      auto [status, answer] = api.Post("/api/v1/segments/preview", body);
      INFO(answer.dump().substr(0, 300));
      REQUIRE(status == 200);
      const int64_t at_ms = answer["evaluated_at_ms"];
      const std::vector<int64_t> expected = Expected(fetched, *parsed, at_ms, after);
      if (page == 0) {
        CHECK(answer["count"].get<size_t>() == expected.size());
        if (!expected.empty()) ++nonempty;
      }
      std::vector<int64_t> got;
      for (const json& c : answer["customers"]) got.push_back(ApiId(c["id"]));
      const std::vector<int64_t> first(
          expected.begin(),
          expected.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(200, expected.size())));
      REQUIRE(got == first);
      if (answer["next_after"].is_null()) {
        CHECK(expected.size() <= 200);
        break;
      }
      // Every page of one query in eight; the first page and the count of the others.
      if (q % 8 != 0) break;
      after = ApiId(answer["next_after"]);
    }
  }
  // The generator is not degenerate: most queries select somebody.
  CHECK(nonempty > static_cast<size_t>(n) / 3);
  // Explain says the same as the reference for a few customers of a saved segment.
  const std::string text = "(tag:\"兴趣/产品A\" or stage:engaged) and not owner:lisi";
  auto [created_status, created] =
      api.Post("/api/v1/segments", {{"name", "check-" + std::to_string(seed)}, {"query", text}});
  REQUIRE(created_status == 201);
  const std::string segment_id = created["id"];
  auto parsed = segments::Parse(text);
  REQUIRE(parsed.ok());
  for (size_t i = 0; i < fetched.size(); i += fetched.size() / 25) {
    const Fetched& f = fetched[i];
    auto [status, answer] = api.Get("/api/v1/segments/" + segment_id +
                                    "/explain?customer=" + std::to_string(f.facts.id));
    REQUIRE(status == 200);
    std::vector<Fetched> one{f};
    const int64_t now_ms = answer["evaluated_at_ms"];
    CHECK(answer["matches"].get<bool>() == !Expected(one, *parsed, now_ms, 0).empty());
  }
}

TEST_CASE(
    "segment previews equal a brute force over the API's customer reads, merges and decay "
    "included",
    "[integration]") {
  TempDir dir;
  const std::string config =
      WriteScrmdConfig(dir, {{"accounts", DemoAccounts()},
                             {"storage", {{"synchronous", "normal"}}},
                             {"tag_rules_file", SourcePath("config/tag_rules.example.json")}});
  const std::string admin_key = CreateKey(config, "admin", "admin");
  ScrmdServer server(config);
  ApiClient api(server.port, admin_key, 30);

  std::mt19937_64 rng(20261207);
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const auto plan = PlanCallbacks(rng, now_s);
  size_t callbacks = 0;
  for (const auto& p : plan) callbacks += p.size();
  SendAll(server.port, plan, now_s);
  WaitForIngest(server.port, static_cast<double>(callbacks));

  // Manual tags: held until removed, and one that decays from a weight of 2.
  auto id_of = [&api](const std::string& platform, const std::string& account,
                      const std::string& value) {
    auto [status, view] = api.Get("/api/v1/customers/by-identity?platform=" + platform +
                                  "&account=" + account + "&external_id=" + value);
    REQUIRE(status == 200);
    return view["id"].get<std::string>();
  };
  for (int i = 0; i < 120; ++i) {
    const std::string id = id_of("oa", "shop", "oSEG" + std::to_string(i * 7));
    json body = {{"group", "价值"}, {"name", "重点"}};
    if (i % 3 == 0) body.update({{"weight", 2}, {"decay", true}});
    CHECK(api.Post("/api/v1/customers/" + id + "/tags", body).first == 200);
  }
  // Unionid merges of OA and WeCom customers (the older survives), a third of them undone.
  std::vector<std::string> merge_ids;
  for (int k = 0; k < 150; ++k) {
    const std::string oa_id = id_of("oa", "shop", "oSEG" + std::to_string(k * 9 + 1));
    const std::string wecom_id = id_of("wecom", "acme", "wmSEG" + std::to_string(k * 6 + 2));
    const std::string unionid = "uSEG" + std::to_string(k);
    REQUIRE(api.Post("/api/v1/customers/" + oa_id + "/identities",
                     {{"kind", "unionid"}, {"value", unionid}})
                .first == 200);
    auto [status, link] = api.Post("/api/v1/customers/" + wecom_id + "/identities",
                                   {{"kind", "unionid"}, {"value", unionid}});
    REQUIRE(status == 200);
    REQUIRE(link["merge"].is_object());
    merge_ids.push_back(link["merge"]["id"]);
  }
  for (size_t k = 0; k < merge_ids.size(); k += 3) {
    REQUIRE(api.Post("/api/v1/merges/" + merge_ids[k] + "/undo", json::object()).first == 200);
  }

  std::vector<Fetched> fetched = FetchAll(api);
  REQUIRE(fetched.size() > 2000);

  CompareQueries(api, fetched, 7, 160);

  // More undos, then the same comparison again: the index follows the undone merges.
  for (size_t k = 1; k < merge_ids.size(); k += 3) {
    REQUIRE(api.Post("/api/v1/merges/" + merge_ids[k] + "/undo", json::object()).first == 200);
  }
  fetched = FetchAll(api);
  CompareQueries(api, fetched, 11, 60);
}

}  // namespace
}  // namespace scrm::testing
