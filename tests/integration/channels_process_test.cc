// Contact channels and welcome messages with the real processes (docs/campaigns.md "Channels and
// welcome messages"): scrmd creates a 联系我 contact way on scrm-sim, the simulator plays
// add_external_contact callbacks through it, and scrmd sends each new customer the channel's
// welcome template with send_welcome_msg while the WelcomeCode lives (the simulator answers
// 41051 to a late or second call); a second delivery of a callback sends nothing; the channel's
// stats count the adds and a delete. Prints the delay from each callback's ack to its
// send_welcome_msg call (p50 / p99 / max) for docs/performance.md.
#include <httplib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/scrmd_fixture.h"
#include "tests/support/api_ids.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kAdds = 300;  // callbacks played back to back: the load

json AddEvent(int i) {
  return json{{"platform", "wecom"},
              {"type", "add_external_contact"},
              {"userid", "zhangsan"},
              {"external_userid", "wmWELCOME" + std::to_string(100000 + i)},
              {"name", "客户" + std::to_string(i)},
              {"state", "expo_welcome"},
              {"welcome_code", "WCODE" + std::to_string(i)}};
}

// The simulator's answered send_welcome_msg calls by welcome code: {at_ms, errcode} each.
std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> WelcomeCalls(httplib::Client& sim) {
  auto r = sim.Get("/sim/requests");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json doc = json::parse(r->body);
  const json& items = doc.is_array() ? doc : doc["requests"];
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> out;
  for (const json& rec : items) {
    if (rec["api"] != "externalcontact/send_welcome_msg") continue;
    const json body = json::parse(rec["body"].get<std::string>(), nullptr, false);
    if (!body.is_object() || !body.contains("welcome_code")) continue;
    out[body["welcome_code"].get<std::string>()].emplace_back(rec["at_ms"].get<int64_t>(),
                                                              rec["errcode"].get<int64_t>());
  }
  return out;
}

json Play(httplib::Client& sim, int port, const json& events) {
  const json body = {{"target", "http://127.0.0.1:" + std::to_string(port)}, {"events", events}};
  auto r = sim.Post("/sim/play", body.dump(), "application/json");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  return json::parse(r->body);
}

// Polls `done` every 100 ms for up to 60 s (the outbox runner works on its own thread).
template <typename Fn>
bool Eventually(Fn done) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

TEST_CASE("scrmd welcomes customers added through a contact way, once, and counts them",
          "[integration]") {
  TempDir dir;
  SimServer sim(SourcePath("sim/scenarios/demo.json"));
  const std::string config = WriteScrmdConfig(dir, {{"accounts", DemoAccounts(sim.url)}});
  const std::string secrets = WriteDemoSecrets(dir);
  const std::string key = CreateKey(config, "marketing", "m");
  ScrmdServer scrmd(config, secrets);
  httplib::Client api = scrmd.Client();
  api.set_read_timeout(30, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer " + key}};
  httplib::Client sim_client = sim.Client();
  sim_client.set_read_timeout(120, 0);

  // A welcome template and a channel that uses it.
  const json tmpl = {
      {"name", "expo_welcome"},
      {"channel", "wecom_message"},
      {"content", {{"text", {{"content", "欢迎来到展会，{{owner.userid}} 为您服务"}}}}}};
  auto created = api.Post("/api/v1/templates", auth, tmpl.dump(), "application/json");
  REQUIRE(created);
  INFO(created->body);
  REQUIRE(created->status == 201);
  const std::string template_id = json::parse(created->body)["id"];
  const json channel_body = {{"name", "Expo 2026 booth"},
                             {"account_id", "acme"},
                             {"state", "expo_welcome"},
                             {"welcome_template_id", template_id},
                             {"default_tags", {{{"group", "渠道"}, {"name", "展会"}}}},
                             {"members", {"zhangsan"}}};
  auto channel = api.Post("/api/v1/channels", auth, channel_body.dump(), "application/json");
  REQUIRE(channel);
  INFO(channel->body);
  REQUIRE(channel->status == 201);
  const json channel_json = json::parse(channel->body);
  const std::string channel_id = channel_json["id"];
  CHECK_FALSE(channel_json["platform_id"].get<std::string>().empty());
  CHECK(channel_json["qr_image"].get<std::string>().starts_with("http"));

  // kAdds customers scan it, back to back.
  json events = json::array();
  for (int i = 0; i < kAdds; ++i) events.push_back(AddEvent(i));
  const json played = Play(sim_client, scrmd.port, events);
  REQUIRE(played["delivered"] == kAdds);

  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> calls;
  const bool all_sent = Eventually([&] {
    calls = WelcomeCalls(sim_client);
    return calls.size() == static_cast<size_t>(kAdds);
  });
  INFO(scrmd.process.Stderr());
  REQUIRE(all_sent);
  // Each code was used once, within its life (a late call is answered 41051).
  for (const auto& [code, attempts] : calls) {
    INFO(code);
    REQUIRE(attempts.size() == 1);
    CHECK(attempts[0].second == 0);
  }
  // The simulator saw the rendered template.
  {
    auto r = sim_client.Get("/sim/requests");
    REQUIRE(r);
    CHECK(r->body.find("欢迎来到展会，zhangsan 为您服务") != std::string::npos);
  }

  // Delay from each callback's ack (delivery start + its latency) to the send call.
  {
    auto r = sim_client.Get("/sim/deliveries");
    REQUIRE(r);
    const json doc = json::parse(r->body);
    const json& deliveries = doc.is_array() ? doc : doc["deliveries"];
    std::vector<int64_t> delays;
    for (const json& d : deliveries) {
      if (d["type"] != "add_external_contact" || d["outcome"] != "ok") continue;
      const int index = d["event_index"].get<int>();
      const auto it = calls.find("WCODE" + std::to_string(index));
      if (it == calls.end()) continue;
      const int64_t ack_ms = d["at_ms"].get<int64_t>() + d["latency_ms"].get<int64_t>();
      delays.push_back(it->second[0].first - ack_ms);
    }
    REQUIRE(delays.size() == static_cast<size_t>(kAdds));
    std::sort(delays.begin(), delays.end());
    const auto pct = [&delays](double p) {
      return delays[std::min(delays.size() - 1,
                             static_cast<size_t>(p * static_cast<double>(delays.size())))];
    };
    std::cout << "welcome delay from callback ack to send_welcome_msg over " << kAdds
              << " back-to-back adds: p50 " << pct(0.50) << " ms, p99 " << pct(0.99) << " ms, max "
              << delays.back() << " ms\n";
  }

  // A second delivery of a callback (the same event, WelcomeCode and all) sends nothing: a
  // later add is the barrier (the runner works through the jobs in order).
  json again = AddEvent(0);
  Play(sim_client, scrmd.port, json::array({again, AddEvent(kAdds)}));
  REQUIRE(Eventually([&] {
    calls = WelcomeCalls(sim_client);
    return calls.contains("WCODE" + std::to_string(kAdds));
  }));
  CHECK(calls["WCODE0"].size() == 1);

  // A delete, then the stats: every add, the one delete.
  Play(sim_client, scrmd.port,
       json::array({{{"platform", "wecom"},
                     {"type", "del_external_contact"},
                     {"userid", "zhangsan"},
                     {"external_userid", "wmWELCOME100001"}}}));
  json stats;
  const bool counted = Eventually([&] {
    auto r = api.Get(("/api/v1/channels/" + channel_id + "/stats").c_str(), auth);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    stats = json::parse(r->body);
    // The runner records each job after its call: the last welcome's record may trail it.
    return stats["deletes"] == 1 && stats["welcomes_sent"] == kAdds + 1;
  });
  INFO(stats.dump());
  CHECK(counted);
  CHECK(stats["adds"] == kAdds + 1);
  CHECK(stats["net"] == kAdds);
  CHECK(stats["welcomes_sent"] == kAdds + 1);

  // The customer holds the channel's default tag.
  auto list = api.Get("/api/v1/customers?q=wmWELCOME100002", auth);
  REQUIRE(list);
  const json items = json::parse(list->body)["items"];
  REQUIRE(items.size() == 1);
  auto one = api.Get(("/api/v1/customers/" + std::to_string(ApiId(items[0]["id"]))).c_str(), auth);
  REQUIRE(one);
  CHECK(one->body.find("展会") != std::string::npos);

  // Retiring deletes the contact way on the platform.
  auto retired = api.Post(("/api/v1/channels/" + channel_id + "/retire").c_str(), auth, "",
                          "application/json");
  REQUIRE(retired);
  INFO(retired->body);
  REQUIRE(retired->status == 200);
  CHECK(json::parse(retired->body)["retired"] == true);
  auto r = sim_client.Get("/sim/requests");
  REQUIRE(r);
  CHECK(r->body.find("externalcontact/del_contact_way") != std::string::npos);

  scrmd.Stop();
  sim.Stop();
}

}  // namespace
}  // namespace scrm::testing
