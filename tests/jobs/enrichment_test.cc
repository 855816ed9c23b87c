// The enrichment path end to end in one process: interactions create customers and queue
// "enrich" jobs in the same transaction; the runner calls the simulator through the real
// platform clients and applies the answers.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "tests/jobs/jobs_test_helpers.h"

namespace scrm::jobs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using storage::OutboxState;
using testing::Fixture;

constexpr char kOaKey[] = "enrich:oa:brand:oOPEN001";
constexpr char kWecomKey[] = "enrich:wecom:acme:wmEXT001";

TEST_CASE("ProfileService queues one enrichment per created customer and none on a replay",
          "[integration]") {
  Fixture f;
  const model::Interaction subscribe = f.OaSubscribe("oOPEN001");
  f.Apply({subscribe});
  f.Apply({subscribe});                  // a replay: same interaction id
  f.Apply({f.OaSubscribe("oOPEN001")});  // a later interaction of a known customer
  CHECK(f.outbox.Count(OutboxState::kPending).value() == 1);
  const storage::OutboxJob job = f.Job(kOaKey);
  CHECK(job.kind == "enrich");
  CHECK(job.account_id == "brand");
  CHECK(job.payload_json == R"({"kind":"openid","platform":"oa","value":"oOPEN001"})");
}

TEST_CASE("ProfileService queues no enrichment for an account without API credentials",
          "[integration]") {
  Fixture f;
  model::Interaction other = f.OaSubscribe("oX");
  other.account_id = "no-secret";
  f.Apply({other});
  CHECK(f.outbox.Count(OutboxState::kPending).value() == 0);
}

TEST_CASE("OutboxRunner merges an OA follower and a WeCom contact sharing a unionid",
          "[integration]") {
  Fixture f;
  f.Apply({f.OaSubscribe("oOPEN001")});
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t follower = f.ByOpenid("oOPEN001");
  const int64_t contact = f.ByExternal("wmEXT001");
  REQUIRE(follower != contact);

  CHECK(f.RunOnce() == 2);

  CHECK(f.ByOpenid("oOPEN001") == follower);
  CHECK(f.ByExternal("wmEXT001") == follower);  // the older customer survives
  CHECK(f.Find("wechat", "", model::IdentityKind::kUnionid, "ozUNION001") == follower);
  const profiles::CustomerView view = f.View(follower);
  CHECK(view.customer.attributes.at("wecom.name") == "王五");
  CHECK(view.customer.attributes.at("oa.language") == "zh_CN");
  bool tagged = false;
  for (const profiles::TagView& tag : view.tags) {
    if (tag.detail.tag.group.name == "意向" && tag.detail.tag.tag.name == "产品A") {
      tagged = tag.held && tag.detail.value.source == model::TagSource::kPlatform;
    }
  }
  CHECK(tagged);
  CHECK(f.View(contact).customer.merged_into == follower);
  CHECK(f.Job(kOaKey).state == OutboxState::kDone);
  CHECK(f.Job(kWecomKey).state == OutboxState::kDone);
  CHECK(f.sim.platform.Requests("user/info").size() == 1);
  CHECK(f.sim.platform.Requests("externalcontact/get").size() == 1);
  CHECK(f.RunOnce() == 0);
}

// The local tags the customer holds with source platform, as "group/name".
std::set<std::string> PlatformTags(const profiles::CustomerView& view) {
  std::set<std::string> out;
  for (const profiles::TagView& tag : view.tags) {
    if (tag.held && tag.detail.value.source == model::TagSource::kPlatform) {
      out.insert(tag.detail.tag.group.name + "/" + tag.detail.tag.tag.name);
    }
  }
  return out;
}

TEST_CASE("OutboxRunner reads every follow_user page of a customer followed by over 500 members",
          "[integration]") {
  Fixture f(testing::EnrichingOptions(), sim::testing::ManyFollowersWorld(1201));
  f.Apply({f.WecomAdd("wmMANY", "member0")});
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job("enrich:wecom:acme:wmMANY").state == OutboxState::kDone);
  // Three pages: 500, 500 and 201 members, each asked for with the cursor of the one before.
  const std::vector<sim::RecordedRequest> calls = f.sim.platform.Requests("externalcontact/get");
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].query.find("cursor=") == std::string::npos);
  CHECK(calls[1].query.find("cursor=500") != std::string::npos);
  CHECK(calls[2].query.find("cursor=1000") != std::string::npos);
  // The tag of member 1200 (third page) is kept with the one of member 0.
  CHECK(PlatformTags(f.View(f.ByExternal("wmMANY"))) ==
        std::set<std::string>{"意向/产品A", "意向/产品B"});
  CHECK(f.View(f.ByExternal("wmMANY")).customer.attributes.at("wecom.name") == "赵六");
}

TEST_CASE("OutboxRunner syncs no tags when a later follow_user page fails and reads all again",
          "[integration]") {
  Fixture f(testing::EnrichingOptions(), sim::testing::ManyFollowersWorld(501));
  f.Apply({f.WecomAdd("wmMANY", "member0")});
  // Calls of the attempt: gettoken, page 1, page 2 — the second page is frequency-blocked.
  sim::FaultRule blocked;
  blocked.kind = "errcode";
  blocked.api = "externalcontact/get";
  blocked.call = static_cast<int64_t>(f.sim.platform.Requests().size()) + 3;
  blocked.errcode = 45009;
  f.sim.platform.SetFaults({blocked});
  CHECK(f.RunOnce() == 1);
  const std::vector<sim::RecordedRequest> first = f.sim.platform.Requests("externalcontact/get");
  REQUIRE(first.size() == 2);
  REQUIRE(first[1].seq == blocked.call);
  CHECK(first[1].query.find("cursor=500") != std::string::npos);
  storage::OutboxJob job = f.Job("enrich:wecom:acme:wmMANY");
  CHECK(job.state == OutboxState::kPending);
  CHECK(job.last_errcode == 45009);
  // Page 1 alone was not applied: it would have been synced without the tag of page 2.
  CHECK(PlatformTags(f.View(f.ByExternal("wmMANY"))).empty());

  f.sim.clock.Advance(std::chrono::minutes(2));
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job("enrich:wecom:acme:wmMANY").state == OutboxState::kDone);
  CHECK(f.sim.platform.Requests("externalcontact/get").size() == 4);  // both pages again
  CHECK(PlatformTags(f.View(f.ByExternal("wmMANY"))) ==
        std::set<std::string>{"意向/产品A", "意向/产品B"});
}

TEST_CASE("OutboxRunner fails a refused enrichment records it and does not retry it",
          "[integration]") {
  Fixture f;
  f.Apply({f.OaSubscribe("oNOBODY")});  // unknown to the platform: 40003
  CHECK(f.RunOnce() == 1);
  const storage::OutboxJob job = f.Job("enrich:oa:brand:oNOBODY");
  CHECK(job.state == OutboxState::kFailed);
  CHECK(job.last_outcome == "refused");
  CHECK(job.last_errcode == 40003);
  CHECK(f.View(f.ByOpenid("oNOBODY")).customer.attributes.at("enrich_refused:brand") == "40003");
  f.sim.clock.Advance(std::chrono::hours(48));
  CHECK(f.RunOnce() == 0);
  CHECK(f.sim.platform.Requests("user/info").size() == 1);
}

TEST_CASE("OutboxRunner retries an enrichment after 45033 and succeeds later", "[integration]") {
  Fixture f;
  f.sim.platform.SetRateLimits({sim::RateLimitRule{"externalcontact/get", 0, 60, 0}});
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  CHECK(f.RunOnce() == 1);
  storage::OutboxJob job = f.Job(kWecomKey);
  CHECK(job.state == OutboxState::kPending);
  CHECK(job.last_outcome == "unavailable");
  CHECK(job.last_errcode == 45033);
  // ApiCaller already retried 3 times inside the attempt; the runner waits its own backoff.
  CHECK(f.sim.platform.Requests("externalcontact/get").size() == 4);
  CHECK(f.RunOnce() == 0);
  f.sim.platform.SetRateLimits({});
  f.sim.clock.Advance(seconds(30));
  CHECK(f.RunOnce() == 1);
  job = f.Job(kWecomKey);
  CHECK(job.state == OutboxState::kDone);
  CHECK(job.attempts == 2);
  CHECK(f.View(f.ByExternal("wmEXT001")).customer.attributes.at("wecom.name") == "王五");
}

TEST_CASE("OutboxRunner retries an enrichment after system busy and succeeds later",
          "[integration]") {
  Fixture f;
  sim::FaultRule busy;
  busy.kind = "busy";
  busy.api = "user/info";
  busy.count = 4;  // the first attempt and its 3 retries
  f.sim.platform.SetFaults({busy});
  f.Apply({f.OaSubscribe("oOPEN001")});
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(kOaKey).state == OutboxState::kPending);
  CHECK(f.Job(kOaKey).last_errcode == -1);
  f.sim.clock.Advance(seconds(30));
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(kOaKey).state == OutboxState::kDone);
  CHECK(f.Find("wechat", "", model::IdentityKind::kUnionid, "ozUNION001") ==
        f.ByOpenid("oOPEN001"));
}

TEST_CASE("OutboxRunner runs a job claimed before a crash exactly once", "[integration]") {
  Fixture f;
  f.Apply({f.OaSubscribe("oOPEN001")});
  // A runner claimed the job and died before calling the platform.
  const auto crashed = f.outbox.Claim(f.sim.clock.NowUnixMillis(), 300000, 10);
  REQUIRE(crashed.ok());
  REQUIRE(crashed->size() == 1);
  // The restarted process: a new runner on the same database.
  auto restarted = f.MakeRunner();
  CHECK(f.RunOnce(restarted.get()) == 0);  // the lease still runs
  f.sim.clock.Advance(std::chrono::minutes(5));
  CHECK(f.RunOnce(restarted.get()) == 1);
  CHECK(f.Job(kOaKey).state == OutboxState::kDone);
  CHECK(f.Job(kOaKey).attempts == 2);
  CHECK(f.RunOnce(restarted.get()) == 0);
  CHECK(f.sim.platform.Requests("user/info").size() == 1);
  // The dead claim's late report changes nothing.
  CHECK(f.outbox
            .Finish((*crashed)[0].id, (*crashed)[0].attempts, OutboxState::kFailed, {},
                    f.sim.clock.NowUnixMillis())
            .code() == core::StatusCode::kFailedPrecondition);
  CHECK(f.Job(kOaKey).state == OutboxState::kDone);
}

TEST_CASE("OutboxRunner fails a job of a kind it has no handler for", "[integration]") {
  Fixture f;
  storage::OutboxJob job;
  job.kind = "mystery";
  job.account_id = "acme";
  job.dedupe_key = "mystery:1";
  job.due_at_ms = f.sim.clock.NowUnixMillis();
  REQUIRE(f.outbox.Enqueue(job, job.due_at_ms).ok());
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job("mystery:1").state == OutboxState::kFailed);
  CHECK(f.Job("mystery:1").last_outcome == "no_handler");
}

TEST_CASE("OutboxRunner gives up after max attempts", "[integration]") {
  Fixture f;
  OutboxRunnerOptions options;
  options.max_attempts = 2;
  auto runner = f.MakeRunner(options);
  f.sim.platform.SetRateLimits({sim::RateLimitRule{"externalcontact/get", 0, 60, 0}});
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  CHECK(f.RunOnce(runner.get()) == 1);
  f.sim.clock.Advance(std::chrono::minutes(2));
  CHECK(f.RunOnce(runner.get()) == 1);
  CHECK(f.Job(kWecomKey).state == OutboxState::kFailed);
  CHECK(f.Job(kWecomKey).last_errcode == 45033);
}

TEST_CASE("OutboxRunner retries an OA enrichment after 45033 and links the unionid later",
          "[integration]") {
  Fixture f;
  sim::FaultRule busy;
  busy.kind = "errcode";
  busy.api = "user/info";
  busy.errcode = 45033;  // the OA concurrency limit: once failed on the first answer
  busy.count = 4;        // the first attempt and its 3 retries
  f.sim.platform.SetFaults({busy});
  f.Apply({f.OaSubscribe("oOPEN001")});
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(kOaKey).state == OutboxState::kPending);
  CHECK(f.Job(kOaKey).last_errcode == 45033);
  CHECK(f.Job(kOaKey).last_outcome == "unavailable");
  f.sim.clock.Advance(seconds(30));
  CHECK(f.RunOnce() == 1);
  CHECK(f.Job(kOaKey).state == OutboxState::kDone);
  CHECK(f.Find("wechat", "", model::IdentityKind::kUnionid, "ozUNION001") ==
        f.ByOpenid("oOPEN001"));
}

TEST_CASE("OutboxRunner retries an unknown errcode on a read a bounded number of times",
          "[integration]") {
  Fixture f;
  sim::FaultRule odd;
  odd.kind = "errcode";
  odd.api = "user/info";
  odd.errcode = 47999;  // listed nowhere
  f.sim.platform.SetFaults({odd});
  f.Apply({f.OaSubscribe("oOPEN001")});
  for (int attempt = 1; attempt < kUnknownErrcodeReadAttempts; ++attempt) {
    INFO("attempt " << attempt);
    CHECK(f.RunOnce() == 1);
    const storage::OutboxJob job = f.Job(kOaKey);
    CHECK(job.state == OutboxState::kPending);
    CHECK(job.last_outcome == "rejected");
    CHECK(job.last_errcode == 47999);
    f.sim.clock.Advance(std::chrono::hours(2));
  }
  CHECK(f.RunOnce() == 1);
  const storage::OutboxJob failed = f.Job(kOaKey);
  CHECK(failed.state == OutboxState::kFailed);
  CHECK(failed.attempts == kUnknownErrcodeReadAttempts);
  CHECK(failed.last_errcode == 47999);
  CHECK(f.sim.platform.Requests("user/info").size() ==
        static_cast<size_t>(kUnknownErrcodeReadAttempts));
  f.sim.clock.Advance(std::chrono::hours(48));
  CHECK(f.RunOnce() == 0);
}

TEST_CASE("OutboxRunner thread runs a queued job and stops promptly", "[integration]") {
  Fixture f;
  OutboxRunnerOptions options;
  options.poll_interval = std::chrono::hours(1);  // only Notify wakes it
  auto runner = f.MakeRunner(options);
  REQUIRE(runner->Start().ok());
  CHECK(runner->Start().code() == core::StatusCode::kFailedPrecondition);
  f.Apply({f.OaSubscribe("oOPEN001")});
  runner->Notify();
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (f.Job(kOaKey).state != OutboxState::kDone && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  CHECK(f.Job(kOaKey).state == OutboxState::kDone);
  const auto stop_started = std::chrono::steady_clock::now();
  runner->Stop();
  CHECK(std::chrono::steady_clock::now() - stop_started < seconds(2));
}

}  // namespace
}  // namespace scrm::jobs
