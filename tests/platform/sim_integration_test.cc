// The platform clients as production wires them — CurlHttpClient, TokenService, RateGovernor,
// ApiCaller, WecomClient / OaClient — against the scrm-sim simulator on 127.0.0.1 (in process,
// real HTTP): token expiry mid-batch, injected 45033, dropped connections on sends with and
// without an idempotency key, and many concurrent callers sharing one token fetch
// (docs/outbound.md "Tests against the simulator"). Counts come from the simulator's record of
// the calls it answered.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sim/platform.h"
#include "sim/sim_server.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/net/curl_http_client.h"
#include "src/platform/api_caller.h"
#include "src/platform/oa_client.h"
#include "src/platform/wecom_client.h"
#include "tests/sim/sim_test_helpers.h"

namespace scrm::platform {
namespace {

using sim::testing::SimCredential;
using std::chrono::seconds;

// Backoff waits return at once: these tests count calls, they do not time them.
class NoSleep final : public Sleeper {
 public:
  void SleepFor(std::chrono::milliseconds) override {}
};

// Limits far above anything a test sends: the governor is not under test here, and with a
// FakeClock an exhausted bucket would never refill.
GovernorOptions Unlimited() {
  GovernorOptions options;
  options.wecom_default = {{1'000'000'000, seconds(60), 0}};
  options.oa_default = {{1'000'000'000, seconds(60), 0}};
  options.oa_api.clear();
  return options;
}

sim::SimServerOptions ServerOptions(int threads) {
  sim::SimServerOptions options;
  options.threads = threads;
  return options;
}

// The simulator (world: tests/sim/sim_test_helpers.h TestWorld) and the production client stack
// on one FakeClock. The simulator's own clock can be moved alone through /sim/clock.
struct Rig {
  explicit Rig(int server_threads = 16)
      : platform(sim::testing::TestWorld(), clock, sim_random),
        server(platform, ServerOptions(server_threads)) {}

  bool StartServer() {
    const core::Status status = server.Start();
    INFO(status.ToString());
    REQUIRE(status.ok());
    return true;
  }

  // POST to the simulator's control API (/sim/...).
  void Control(const std::string& path, const std::string& body = "{}") {
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(10, 0);
    auto res = client.Post(path.c_str(), body, "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
  }
  void Fault(const std::string& fault_json) {
    Control("/sim/faults", R"({"faults":[)" + fault_json + "]}");
  }

  // Calls of `api` the simulator answered (or dropped), in order.
  std::vector<sim::RecordedRequest> Recorded(const std::string& api) const {
    return platform.Requests(api);
  }
  size_t Count(const std::string& api, const std::string& outcome, int64_t errcode) const {
    size_t n = 0;
    for (const sim::RecordedRequest& r : platform.Requests(api)) {
      if (r.outcome == outcome && r.errcode == errcode) ++n;
    }
    return n;
  }

  core::FakeClock clock;
  core::FakeRandom sim_random{7};
  sim::Platform platform;
  sim::SimServer server;
  // Started before the clients below read its port.
  const bool started = StartServer();

  std::shared_ptr<spdlog::logger> log = core::MakeNullLogger();
  core::MetricsRegistry metrics;
  net::CurlGlobal curl;
  net::CurlHttpClient http;
  core::FakeRandom random{11};
  NoSleep sleeper;
  TokenService tokens{http, clock, metrics, log};
  RateGovernor governor{clock, Unlimited()};
  ApiCaller caller{http, tokens, governor, clock, random, sleeper, metrics, log};
  WecomClient wecom{SimCredential(server, model::Platform::kWecom), caller,
                    SimCredential(server, model::Platform::kWecom)};
  OaClient oa{SimCredential(server, model::Platform::kOfficialAccount), caller};
};

TEST_CASE("ApiCaller refreshes the token once when the simulator expires it mid-batch",
          "[integration]") {
  Rig rig;
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    if (i == 10) {
      // The platform's clock alone jumps past the 7200 s lifetime: the token scrmd still
      // believes valid answers 42001 (expired) from now on.
      rig.Control("/sim/clock", R"({"advance_s":7300})");
    }
    auto detail = rig.wecom.GetExternalContact("wmEXT001");
    INFO("call " << i << ": " << (detail.ok() ? "" : detail.error().message));
    CHECK(detail.ok());
    if (detail.ok()) ++ok;
  }
  CHECK(ok == 20);
  CHECK(rig.Recorded("gettoken").size() == 2);  // the first fetch and exactly one refresh
  CHECK(rig.Count("externalcontact/get", "answered", 42001) == 1);
  CHECK(rig.Count("externalcontact/get", "answered", 0) == 20);
}

TEST_CASE(
    "ApiCaller shares one token refresh among concurrent callers when the simulator "
    "invalidates the token mid-batch",
    "[integration]") {
  Rig rig;
  constexpr int kThreads = 8;
  constexpr int kCallsPerHalf = 10;
  std::atomic<int> ok{0};
  std::latch half_done(kThreads);
  std::latch invalidated(1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int half = 0; half < 2; ++half) {
        if (half == 1) {
          half_done.count_down();
          invalidated.wait();
        }
        for (int i = 0; i < kCallsPerHalf; ++i) {
          if (rig.oa.GetUserInfo("oOPEN001").ok()) ++ok;
        }
      }
    });
  }
  half_done.wait();
  rig.Control("/sim/tokens/invalidate");  // every issued token answers 40001 from now on
  invalidated.count_down();
  for (std::thread& thread : threads) thread.join();

  CHECK(ok.load() == kThreads * 2 * kCallsPerHalf);
  CHECK(rig.Recorded("stable_token").size() == 2);  // the first fetch and exactly one refresh
  CHECK(rig.Recorded("token").empty());             // never the plain /token (§4.2)
  const size_t rejected = rig.Count("user/info", "answered", 40001);
  CHECK(rejected >= 1);
  CHECK(rejected <= static_cast<size_t>(kThreads));  // at most one per thread, then retried
  CHECK(rig.Count("user/info", "answered", 0) == static_cast<size_t>(kThreads * 2 * kCallsPerHalf));
}

TEST_CASE("ApiCaller retries an injected 45033 and the call succeeds", "[integration]") {
  Rig rig;
  rig.Fault(R"({"kind":"errcode","api":"externalcontact/get","errcode":45033,"count":2})");
  auto detail = rig.wecom.GetExternalContact("wmEXT001");
  REQUIRE(detail.ok());
  CHECK(detail.value().contact.name == "王五");
  const auto calls = rig.Recorded("externalcontact/get");
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].errcode == 45033);
  CHECK(calls[1].errcode == 45033);
  CHECK(calls[2].errcode == 0);
}

TEST_CASE("OaClient does not retry a template send the user refused with 43101", "[integration]") {
  Rig rig;
  OaTemplateMessage message;
  message.touser = "oREFUSE";  // TestWorld: this follower blocks template messages
  message.template_id = "tmpl-1";
  message.client_msg_id = "refuse-1";  // idempotent, and still not retried
  message.data = {{"keyword1", "巧克力"}};
  auto sent = rig.oa.SendTemplate(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kRefused);
  CHECK(sent.error().errcode == 43101);
  CHECK(rig.Recorded("message/template/send").size() == 1);
}

TEST_CASE(
    "OaClient reports a custom send cut off by a dropped connection as unknown and does "
    "not resend it",
    "[integration]") {
  Rig rig;
  // The follower wrote to the account: the 48 h 客服 window is open (§4.2).
  sim::ScenarioEvent text;
  text.platform = "oa";
  text.type = "text";
  text.openid = "oOPEN001";
  REQUIRE(rig.platform.ApplyEvent(text).ok());
  // A read first, so that the send finds a warm keep-alive connection to reuse.
  REQUIRE(rig.oa.GetUserInfo("oOPEN001").ok());
  rig.Fault(R"({"kind":"drop","api":"message/custom/send","count":1})");

  OaCustomMessage message;
  message.touser = "oOPEN001";
  message.content = {{"content", "您好"}};
  auto sent = rig.oa.SendCustom(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kUnknown);
  const auto calls = rig.Recorded("message/custom/send");
  REQUIRE(calls.size() == 1);  // neither ApiCaller nor libcurl sent it again
  CHECK(calls[0].outcome == "dropped");
}

TEST_CASE(
    "WecomClient reports a welcome message cut off by a dropped connection as unknown and "
    "does not resend it",
    "[integration]") {
  Rig rig;
  sim::ScenarioEvent add;
  add.platform = "wecom";
  add.type = "add_external_contact";
  add.userid = "zhangsan";
  add.external_userid = "wmNEW001";
  add.welcome_code = "WELCOME-1";
  REQUIRE(rig.platform.ApplyEvent(add).ok());
  REQUIRE(rig.wecom.GetExternalContact("wmEXT001").ok());  // warms a keep-alive connection
  rig.Fault(R"({"kind":"drop","api":"externalcontact/send_welcome_msg","count":1})");

  WecomWelcomeMessage message;
  message.welcome_code = "WELCOME-1";
  message.text = "欢迎";
  auto sent = rig.wecom.SendWelcomeMsg(message);
  REQUIRE_FALSE(sent.ok());
  CHECK(sent.error().outcome == Outcome::kUnknown);
  const auto calls = rig.Recorded("externalcontact/send_welcome_msg");
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].outcome == "dropped");
}

TEST_CASE(
    "OaClient retries a template send with client_msg_id cut off by a dropped connection "
    "and it is sent once",
    "[integration]") {
  Rig rig;
  REQUIRE(rig.oa.GetUserInfo("oOPEN001").ok());
  rig.Fault(R"({"kind":"drop","api":"message/template/send","count":1})");
  OaTemplateMessage message;
  message.touser = "oOPEN001";
  message.template_id = "tmpl-1";
  message.client_msg_id = "order-42-shipped";
  message.data = {{"keyword1", "巧克力"}};
  auto sent = rig.oa.SendTemplate(message);
  INFO((sent.ok() ? "" : sent.error().message));
  REQUIRE(sent.ok());
  CHECK_FALSE(sent.value().empty());  // msgid
  const auto calls = rig.Recorded("message/template/send");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].outcome == "dropped");
  CHECK(calls[1].outcome == "answered");
  CHECK(calls[1].errcode == 0);
  CHECK(calls[1].note.empty());  // a real send, not a de-duplicated repeat
}

TEST_CASE(
    "WecomClient retries an app message with enable_duplicate_check cut off by a dropped "
    "connection and it is sent once",
    "[integration]") {
  Rig rig;
  REQUIRE(rig.wecom.GetExternalContact("wmEXT001").ok());
  rig.Fault(R"({"kind":"drop","api":"message/send","count":1})");
  WecomAppMessage message;
  message.touser = "zhangsan";
  message.agentid = 1000002;
  message.content = {{"content", "新客户"}};
  message.enable_duplicate_check = true;
  auto sent = rig.wecom.SendAppMessage(message);
  INFO((sent.ok() ? "" : sent.error().message));
  REQUIRE(sent.ok());
  CHECK_FALSE(sent.value().msgid.empty());
  const auto calls = rig.Recorded("message/send");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].outcome == "dropped");
  CHECK(calls[1].outcome == "answered");
  CHECK(calls[1].errcode == 0);
}

TEST_CASE("TokenService makes one token fetch at the simulator for 1000 concurrent callers",
          "[integration]") {
  constexpr int kCallers = 1000;
  Rig rig(/*server_threads=*/64);
  // A slow token endpoint: the callers arrive while the one fetch is in flight.
  rig.Fault(R"({"kind":"latency","api":"gettoken","latency_ms":200})");
  std::atomic<int> ok{0};
  std::latch start(1);
  std::vector<std::thread> threads;
  threads.reserve(kCallers);
  for (int t = 0; t < kCallers; ++t) {
    threads.emplace_back([&] {
      start.wait();
      if (rig.wecom.GetExternalContact("wmEXT001").ok()) ++ok;
    });
  }
  start.count_down();
  for (std::thread& thread : threads) thread.join();
  CHECK(ok.load() == kCallers);
  CHECK(rig.Recorded("gettoken").size() == 1);
  CHECK(rig.tokens.fetches() == 1);
  CHECK(rig.Count("externalcontact/get", "answered", 0) == static_cast<size_t>(kCallers));
}

}  // namespace
}  // namespace scrm::platform
