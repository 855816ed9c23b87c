// The lifecycle sweep (docs/tagging.md rule L7): the "stagesweep" outbox job moves customers in
// an active stage without an interaction for at_risk_days to at_risk, and queues the next sweep.
// Time is the fixture's FakeClock.
#include "src/jobs/stage_sweep.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "src/storage/stage_sweep_store.h"
#include "tests/jobs/jobs_test_helpers.h"

namespace scrm::jobs {
namespace {

using model::LifecycleStage;
using storage::OutboxState;
using testing::Fixture;
using testing::PushingOptions;

constexpr int64_t kHourMs = int64_t{3600} * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

struct SweepFixture {
  Fixture f{PushingOptions()};
  storage::StageSweepStore stages{*f.db};
  StageSweepOptions options = [] {
    StageSweepOptions o;
    o.at_risk_days = 30;
    o.page = 2;  // several pages with a few customers
    return o;
  }();
  StageSweepHandler handler{stages, f.outbox, f.sim.clock, f.log, options};
  std::unique_ptr<OutboxRunner> runner = [this] {
    auto made = f.MakeRunner();
    made->AddHandler(model::kStageSweepJobKind, handler);
    return made;
  }();

  LifecycleStage Stage(int64_t customer) { return f.View(customer).customer.stage; }
  size_t RunOnce() { return f.RunOnce(runner.get()); }
};

TEST_CASE("StageSweepHandler moves customers inactive past the threshold to at_risk",
          "[integration]") {
  SweepFixture s;
  Fixture& f = s.f;
  f.Apply({f.OaSubscribe("oOLD1"), f.OaSubscribe("oOLD2"), f.OaSubscribe("oOLD3")});
  f.sim.clock.Advance(std::chrono::milliseconds(20 * kDayMs));
  f.Apply({f.OaSubscribe("oRECENT")});
  f.Apply({f.OaSubscribe("oOLD3")});                            // acts again: no longer inactive
  f.sim.clock.Advance(std::chrono::milliseconds(11 * kDayMs));  // 31 days after the first three

  REQUIRE(ScheduleStageSweep(f.outbox, f.sim.clock.NowUnixMillis(), s.options).ok());
  CHECK(s.RunOnce() == 1);
  CHECK(s.Stage(f.ByOpenid("oOLD1")) == LifecycleStage::kAtRisk);
  CHECK(s.Stage(f.ByOpenid("oOLD2")) == LifecycleStage::kAtRisk);
  CHECK(f.View(f.ByOpenid("oOLD1")).customer.stage_reason == "inactive");
  CHECK(s.Stage(f.ByOpenid("oOLD3")) != LifecycleStage::kAtRisk);
  CHECK(s.Stage(f.ByOpenid("oRECENT")) == LifecycleStage::kNew);

  // The next sweep is queued for the next interval; nothing is due before it.
  auto pending = f.outbox.List(OutboxState::kPending, 10);
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 1);
  CHECK(pending->at(0).kind == model::kStageSweepJobKind);
  CHECK(s.RunOnce() == 0);
  // An hour later the next sweep runs and finds oOLD3 (31 days after its last act, 20 days on).
  f.sim.clock.Advance(std::chrono::milliseconds(20 * kDayMs));
  CHECK(s.RunOnce() == 1);
  CHECK(s.Stage(f.ByOpenid("oOLD3")) == LifecycleStage::kAtRisk);
  CHECK(s.Stage(f.ByOpenid("oRECENT")) == LifecycleStage::kAtRisk);
}

TEST_CASE("StageSweepStore leaves at_risk, lost and merged customers alone", "[integration]") {
  SweepFixture s;
  Fixture& f = s.f;
  f.Apply({f.OaSubscribe("oA"), f.OaSubscribe("oB")});
  const int64_t a = f.ByOpenid("oA");
  f.sim.clock.Advance(std::chrono::milliseconds(40 * kDayMs));
  const int64_t now_ms = f.sim.clock.NowUnixMillis();
  auto first = s.stages.MarkInactive(0, 10, now_ms - 30 * kDayMs, now_ms);
  REQUIRE(first.ok());
  CHECK(first->marked == 2);
  CHECK(first->done);
  using Moved = std::vector<std::pair<int64_t, LifecycleStage>>;
  CHECK(first->moved == Moved{{a, LifecycleStage::kNew}, {f.ByOpenid("oB"), LifecycleStage::kNew}});
  const int64_t updated = f.View(a).customer.updated_at_ms;
  f.sim.clock.Advance(std::chrono::milliseconds(kHourMs));
  auto again = s.stages.MarkInactive(0, 10, now_ms - 30 * kDayMs, now_ms + kHourMs);
  REQUIRE(again.ok());
  CHECK(again->marked == 0);
  CHECK(f.View(a).customer.updated_at_ms == updated);
  CHECK(s.stages.MarkInactive(0, 0, 0, 0).status().code() == core::StatusCode::kInvalidArgument);
}

TEST_CASE("StageSweepStore counts a customer without interactions from its creation",
          "[integration]") {
  SweepFixture s;
  Fixture& f = s.f;
  auto early = f.service.identities.EnsureCustomer("wecom", "acme",
                                                   model::IdentityKind::kExternalUserid, "wmEARLY");
  REQUIRE(early.ok());
  f.sim.clock.Advance(std::chrono::milliseconds(35 * kDayMs));
  auto late = f.service.identities.EnsureCustomer("wecom", "acme",
                                                  model::IdentityKind::kExternalUserid, "wmLATE");
  REQUIRE(late.ok());
  // Interactions that occurred long ago, applied now: the interaction's time counts.
  model::Interaction old = f.OaSubscribe("oOLDIMPORT");
  old.occurred_at_ms = f.sim.clock.NowUnixMillis() - 45 * kDayMs;
  f.Apply({old});
  const int64_t now_ms = f.sim.clock.NowUnixMillis();
  auto page = s.stages.MarkInactive(0, 10, now_ms - 30 * kDayMs, now_ms);
  REQUIRE(page.ok());
  CHECK(page->marked == 2);
  CHECK(s.Stage(early->customer_id) == LifecycleStage::kAtRisk);
  CHECK(s.Stage(late->customer_id) == LifecycleStage::kNew);
  CHECK(s.Stage(f.ByOpenid("oOLDIMPORT")) == LifecycleStage::kAtRisk);
}

TEST_CASE("StageSweepStore hands its moves to the OnMarked hook inside the page's transaction",
          "[integration]") {
  SweepFixture s;
  Fixture& f = s.f;
  f.Apply({f.OaSubscribe("oA")});
  const int64_t a = f.ByOpenid("oA");
  f.sim.clock.Advance(std::chrono::milliseconds(40 * kDayMs));
  const int64_t now_ms = f.sim.clock.NowUnixMillis();
  std::vector<int64_t> told;
  s.stages.OnMarked([&](storage::WriteTxn&, const storage::InactivePage& page, int64_t at_ms) {
    CHECK(at_ms == now_ms);
    for (const auto& [id, from] : page.moved) told.push_back(id);
    return core::InternalError("sink refused");
  });
  CHECK(s.stages.MarkInactive(0, 10, now_ms - 30 * kDayMs, now_ms).status().code() ==
        core::StatusCode::kInternal);
  CHECK(told == std::vector<int64_t>{a});
  CHECK(s.Stage(a) == LifecycleStage::kNew);  // the hook's error rolled the page back
  s.stages.OnMarked(
      [](storage::WriteTxn&, const storage::InactivePage&, int64_t) { return core::OkStatus(); });
  REQUIRE(s.stages.MarkInactive(0, 10, now_ms - 30 * kDayMs, now_ms).ok());
  CHECK(s.Stage(a) == LifecycleStage::kAtRisk);
}

}  // namespace
}  // namespace scrm::jobs
