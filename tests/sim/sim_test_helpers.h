// Fixtures for the simulator tests: a Platform behind a real SimServer on an ephemeral loopback
// port with a fake clock, and a small callback receiver standing in for scrmd.
#pragma once

#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sim/platform.h"
#include "sim/sim_server.h"
#include "sim/world.h"
#include "src/core/clock.h"
#include "src/core/random.h"
#include "src/platform/credential.h"

namespace scrm::sim::testing {

// The credential of the test world's account on `platform` ("acme" corp / "brand" OA), against
// the simulator at `server`.
inline platform::Credential SimCredential(const SimServer& server, model::Platform platform) {
  platform::Credential credential;
  credential.platform = platform;
  credential.api_base = server.base_url();
  if (platform == model::Platform::kWecom) {
    credential.account_id = "acme";
    credential.app_id = "wwsim0000000000001";
    credential.secret = "sim-corp-secret";
  } else {
    credential.account_id = "brand";
    credential.app_id = "wxsim00000000001";
    credential.secret = "sim-app-secret";
  }
  return credential;
}

using nlohmann::json;

inline World TestWorld() {
  World w;
  w.wecom.members = {{"zhangsan", "张三"}, {"lisi", "李四"}};
  ExternalContact c;
  c.external_userid = "wmEXT001";
  c.name = "王五";
  c.unionid = "ozUNION001";
  c.follow_user = {FollowUser{"zhangsan", "", "", 1767225000, {"etTAG1"}, "", 1, "expo"}};
  w.wecom.external_contacts.push_back(c);
  w.wecom.corp_tags = {CorpTagGroup{
      "etGROUP1",
      "意向",
      1767225000,
      1,
      {CorpTag{"etTAG1", "产品A", 1767225000, 1}, CorpTag{"etTAG2", "产品B", 1767225000, 2}}}};
  Follower f;
  f.openid = "oOPEN001";
  f.unionid = "ozUNION001";
  f.subscribe_time = 1767225000;
  w.oa.followers.push_back(f);
  Follower gone;
  gone.openid = "oGONE";
  gone.subscribe = false;
  w.oa.followers.push_back(gone);
  Follower refuses;
  refuses.openid = "oREFUSE";
  refuses.refuse_messages = true;
  w.oa.followers.push_back(refuses);
  w.oa.tags = {OaTag{100, "星标"}};
  return w;
}

// The test world plus wmMANY, followed by `members` staff members: the first has corp tag
// etTAG1 (产品A), the last etTAG2 (产品B), so with more than 500 the second tag is on a later
// follow_user page (PROTOCOL §4.1).
inline World ManyFollowersWorld(int members) {
  World world = TestWorld();
  ExternalContact contact;
  contact.external_userid = "wmMANY";
  contact.name = "赵六";
  for (int i = 0; i < members; ++i) {
    FollowUser follow;
    follow.userid = "member" + std::to_string(i);
    follow.createtime = 1767225000;
    if (i == 0) follow.tags = {"etTAG1"};
    if (i == members - 1) follow.tags = {"etTAG2"};
    contact.follow_user.push_back(follow);
  }
  world.wecom.external_contacts.push_back(contact);
  return world;
}

// A simulator on 127.0.0.1:<ephemeral> with a FakeClock the test advances.
struct SimFixture {
  explicit SimFixture(World world = TestWorld())
      : platform(std::move(world), clock, random), server(platform, SimServerOptions{}) {
    REQUIRE(server.Start().ok());
  }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", server.port());
    c.set_read_timeout(5, 0);
    return c;
  }
  json Get(const std::string& path) {
    auto res = Client().Get(path.c_str());
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return json::parse(res->body);
  }
  json Post(const std::string& path, const json& body) {
    auto res = Client().Post(path.c_str(), body.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return json::parse(res->body);
  }
  std::string WecomToken() {
    const json r = Get("/cgi-bin/gettoken?corpid=wwsim0000000000001&corpsecret=sim-corp-secret");
    REQUIRE(r["errcode"] == 0);
    return r["access_token"];
  }
  std::string OaToken() {
    const json r = Post("/cgi-bin/stable_token", {{"grant_type", "client_credential"},
                                                  {"appid", "wxsim00000000001"},
                                                  {"secret", "sim-app-secret"}});
    REQUIRE(r.contains("access_token"));
    return r["access_token"];
  }

  core::FakeClock clock;
  core::FakeRandom random{7};
  Platform platform;
  SimServer server;
};

// Stands in for scrmd: answers callbacks through `answer` (default: 200 "success") and keeps
// every request it saw.
struct Receiver {
  struct Seen {
    std::string path;
    httplib::Params params;
    std::string body;
  };
  using Answer = std::function<void(int call, const httplib::Request&, httplib::Response&)>;

  explicit Receiver(Answer a = nullptr) : answer(std::move(a)) {
    server.new_task_queue = [] { return new httplib::ThreadPool(8); };
    server.set_keep_alive_timeout(1);
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      int call = 0;
      {
        std::lock_guard lock(mu);
        seen.push_back({req.path, req.params, req.body});
        call = static_cast<int>(seen.size());
      }
      res.set_content("success", "text/plain");
      if (answer) answer(call, req, res);
    };
    server.Post(R"(/callbacks/.*)", handle);
    port = server.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::vector<Seen> Requests() {
    std::lock_guard lock(mu);
    return seen;
  }

  Answer answer;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::vector<Seen> seen;
};

}  // namespace scrm::sim::testing
