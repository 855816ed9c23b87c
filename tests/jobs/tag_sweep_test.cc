// The decay sweep end to end in one process: a pushed tag that fades below its threshold with
// time alone (no row changes) is found by the "tagsweep" outbox job, which queues a tag push;
// the push takes the tag off the platform (the simulator). Time is the fixture's FakeClock.
#include "src/jobs/tag_sweep.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/jobs/jobs_test_helpers.h"

namespace scrm::jobs {
namespace {

using nlohmann::json;
using storage::OutboxState;
using testing::Fixture;
using testing::PushingOptions;

const model::TagRef kProductBTagSweep{"意向", "产品B"};  // corp tag etTAG2 in the simulator world
constexpr int64_t kHourMsTagSweep = int64_t{3600} * 1000;

// A WeCom customer (wmEXT001 followed by zhangsan) holding 产品B, pushed to the simulator.
int64_t PushedCustomer(Fixture& f, double weight = 2.0) {
  REQUIRE(f.service.editor.MapTag(kProductBTagSweep, "etTAG2", 0).ok());
  f.Apply({f.WecomAdd("wmEXT001", "zhangsan")});
  const int64_t customer = f.ByExternal("wmEXT001");
  auto added = f.service.editor.AddManualTag(customer, kProductBTagSweep, weight, /*decay=*/true);
  REQUIRE(added.ok());
  REQUIRE(added->held);
  REQUIRE(f.RunOnce() == 1);
  REQUIRE(f.sim.platform.Requests("externalcontact/mark_tag").size() == 1);
  return customer;
}

size_t PendingOfKind(Fixture& f, const std::string& kind) {
  auto jobs = f.outbox.List(OutboxState::kPending, 100);
  REQUIRE(jobs.ok());
  size_t n = 0;
  for (const storage::OutboxJob& job : *jobs) n += job.kind == kind ? 1 : 0;
  return n;
}

bool RelationHas(Fixture& f, const std::string& tag_id) {
  for (const sim::ExternalContact& c : f.sim.platform.WorldSnapshot().wecom.external_contacts) {
    if (c.external_userid != "wmEXT001") continue;
    for (const sim::FollowUser& fu : c.follow_user) {
      if (fu.userid != "zhangsan") continue;
      for (const std::string& t : fu.tags) {
        if (t == tag_id) return true;
      }
    }
  }
  return false;
}

TEST_CASE("TagSweepHandler queues a push that removes a tag faded by time alone", "[integration]") {
  Fixture f(PushingOptions());
  const int64_t customer = PushedCustomer(f);
  REQUIRE(RelationHas(f, "etTAG2"));
  REQUIRE(ScheduleTagSweep(f.outbox, f.sim.clock.NowUnixMillis()).ok());
  // A half-life and a day later the score (2) is below the threshold (1); no row changed.
  f.sim.clock.Advance(std::chrono::hours(24 * 31));
  CHECK(PendingOfKind(f, model::kTagPushJobKind) == 0);

  CHECK(f.RunOnce() == 1);  // the sweep
  CHECK(PendingOfKind(f, model::kTagPushJobKind) == 1);
  CHECK(f.RunOnce() == 1);  // the push it queued
  const auto calls = f.sim.platform.Requests("externalcontact/mark_tag");
  REQUIRE(calls.size() == 2);
  const json body = json::parse(calls[1].body);
  CHECK(body["remove_tag"] == json::array({"etTAG2"}));
  CHECK_FALSE(RelationHas(f, "etTAG2"));
  auto pushed = f.pushes.List(customer, "acme");
  REQUIRE(pushed.ok());
  CHECK(pushed->empty());

  // The next sweep finds nothing left to do.
  f.sim.clock.Advance(std::chrono::hours(1));
  CHECK(f.RunOnce() == 1);
  CHECK(PendingOfKind(f, model::kTagPushJobKind) == 0);
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").size() == 2);
}

TEST_CASE("TagSweepHandler queues nothing while the pushed tags are held and schedules the next",
          "[integration]") {
  Fixture f(PushingOptions());
  PushedCustomer(f, 8.0);  // held for three half-lives
  const int64_t now = f.sim.clock.NowUnixMillis();
  REQUIRE(ScheduleTagSweep(f.outbox, now).ok());
  f.sim.clock.Advance(std::chrono::hours(24 * 31));
  CHECK(f.RunOnce() == 1);
  CHECK(PendingOfKind(f, model::kTagPushJobKind) == 0);
  CHECK(f.sim.platform.Requests("externalcontact/mark_tag").size() == 1);
  CHECK(f.Job("tagsweep:" + std::to_string(now - now % kHourMsTagSweep)).state ==
        OutboxState::kDone);
  // The next sweep waits for the start of the next hour.
  const int64_t later = f.sim.clock.NowUnixMillis();
  const int64_t next = later - later % kHourMsTagSweep + kHourMsTagSweep;
  const storage::OutboxJob queued = f.Job("tagsweep:" + std::to_string(next));
  CHECK(queued.state == OutboxState::kPending);
  CHECK(queued.due_at_ms == next);
  CHECK(f.RunOnce() == 0);
}

TEST_CASE("TagSweepHandler leaves a faded tag alone whose mapping changed since the push",
          "[integration]") {
  Fixture f(PushingOptions());
  PushedCustomer(f);
  // The corp tag is no longer ours: the push job would forget it, not remove it.
  REQUIRE(f.service.editor.MapTag(kProductBTagSweep, "", 0).ok());
  REQUIRE(ScheduleTagSweep(f.outbox, f.sim.clock.NowUnixMillis()).ok());
  f.sim.clock.Advance(std::chrono::hours(24 * 31));
  CHECK(f.RunOnce() == 1);
  CHECK(PendingOfKind(f, model::kTagPushJobKind) == 0);
}

TEST_CASE("ScheduleTagSweep queues one sweep per interval", "[integration]") {
  Fixture f(PushingOptions());
  const int64_t now = f.sim.clock.NowUnixMillis();
  REQUIRE(ScheduleTagSweep(f.outbox, now).ok());
  REQUIRE(ScheduleTagSweep(f.outbox, now + 1000).ok());  // a restart in the same hour
  CHECK(PendingOfKind(f, model::kTagSweepJobKind) == 1);
  CHECK(f.Job("tagsweep:" + std::to_string(now - now % kHourMsTagSweep)).due_at_ms <= now);
  TagSweepOptions too_short;
  too_short.interval = std::chrono::milliseconds(10);
  CHECK(ScheduleTagSweep(f.outbox, now, too_short).code() == core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scrm::jobs
