// ContactChannelSink (campaigns/engine/contact_channel_sink.h): arrivals through a channel's
// state are recorded in the ingest transaction, with the default tags and the welcome job.
#include "campaigns/engine/contact_channel_sink.h"

#include <catch2/catch.hpp>

#include "src/model/job_kinds.h"
#include "tests/campaigns/campaigns_test_helpers.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::campaigns {
namespace {

using model::InteractionKind;
using profiles::testing::Fixture;
using testing::StoredChannel;

// The profile fixture with a channel store and the sink registered.
struct SinkRig {
  Fixture f;
  storage::ContactChannelStore channels{*f.db};
  int notified = 0;
  ContactChannelSink sink{
      channels, f.store.outbox, f.service.editor, {"corp1"}, [this] { ++notified; }};
  SinkRig() { f.wired.sinks.Add(sink); }

  model::Interaction Add(std::string external, std::string state, std::string code) {
    model::Interaction it =
        f.Contact(InteractionKind::kContactAdd, std::move(external), "zhangsan", std::move(state));
    std::get<model::ContactChangePayload>(it.payload).welcome_code = std::move(code);
    return it;
  }
  std::vector<storage::OutboxJob> Jobs() {
    auto jobs = f.store.outbox.List(storage::OutboxState::kPending, 100);
    REQUIRE(jobs.ok());
    std::vector<storage::OutboxJob> welcome;
    for (auto& job : *jobs) {
      if (job.kind == model::kWelcomeJobKind) welcome.push_back(job);
    }
    return welcome;
  }
  model::ContactChannelStats Stats(int64_t id) {
    auto stats = channels.Stats(id);
    REQUIRE(stats.ok());
    return *stats;
  }
};

TEST_CASE("ContactChannelSink records an add through a channel with its tags and welcome job",
          "[unit]") {
  SinkRig rig;
  const auto channel = StoredChannel(rig.channels, "expo", 7, {model::TagRef{"渠道", "展会"}},
                                     profiles::testing::kT0);
  const model::Interaction add = rig.Add("wmA", "expo", "WC1");
  rig.f.Apply(add);
  const int64_t customer = rig.f.ByExternal("wmA");
  const auto view = rig.f.View(customer);
  const profiles::TagView* tag = profiles::testing::FindTag(view, "渠道", "展会");
  REQUIRE(tag != nullptr);
  CHECK(tag->held);
  CHECK(rig.Stats(channel.id).adds == 1);
  const auto jobs = rig.Jobs();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].dedupe_key == "welcome:corp1:WC1");
  CHECK(jobs[0].account_id == "corp1");
  CHECK(jobs[0].due_at_ms == 0);  // ahead of every other due job
  auto payload = model::DecodeWelcomePayload(jobs[0].payload_json);
  REQUIRE(payload.ok());
  CHECK(payload->customer_id == customer);
  CHECK(payload->channel_id == channel.id);
  CHECK(payload->template_id == 7);
  CHECK(payload->welcome_code == "WC1");
  CHECK(payload->userid == "zhangsan");
  CHECK(payload->external_userid == "wmA");
  CHECK(payload->received_at_ms == add.received_at_ms);
  CHECK(rig.notified == 1);

  // The same interaction again (a replay after a crash) queues and counts nothing more.
  rig.f.Apply(add);
  CHECK(rig.Jobs().size() == 1);
  CHECK(rig.Stats(channel.id).adds == 1);
  CHECK(rig.notified == 1);
}

TEST_CASE("ContactChannelSink counts a delete of a relation that came through a channel",
          "[unit]") {
  SinkRig rig;
  const auto channel = StoredChannel(rig.channels, "expo", 0, {}, profiles::testing::kT0);
  rig.f.Apply(rig.Add("wmA", "expo", "WC1"));
  rig.f.Apply(rig.Add("wmB", "expo", "WC2"));
  rig.f.Apply(rig.f.Contact(InteractionKind::kContactDelete, "wmA", "zhangsan"));
  const auto stats = rig.Stats(channel.id);
  CHECK(stats.adds == 2);
  CHECK(stats.deletes == 1);
  CHECK(stats.net == 1);
  CHECK(rig.Jobs().empty());  // no welcome template: no job
}

TEST_CASE("ContactChannelSink ignores states it did not create and no-state adds", "[unit]") {
  SinkRig rig;
  const auto channel = StoredChannel(rig.channels, "expo", 7, {}, profiles::testing::kT0);
  rig.f.Apply(rig.Add("wmA", "other_state", "WC1"));
  rig.f.Apply(rig.Add("wmB", "", "WC2"));
  CHECK(rig.Stats(channel.id).adds == 0);
  CHECK(rig.Jobs().empty());
}

TEST_CASE("ContactChannelSink counts a retired channel's arrivals without tags or welcome",
          "[unit]") {
  SinkRig rig;
  const auto channel = StoredChannel(rig.channels, "expo", 7, {model::TagRef{"渠道", "展会"}},
                                     profiles::testing::kT0);
  REQUIRE(rig.channels.Retire(channel.id, profiles::testing::kT0).ok());
  rig.f.Apply(rig.Add("wmA", "expo", "WC1"));
  CHECK(rig.Stats(channel.id).adds == 1);
  CHECK(rig.Jobs().empty());
  const auto view = rig.f.View(rig.f.ByExternal("wmA"));
  CHECK(profiles::testing::FindTag(view, "渠道", "展会") == nullptr);
}

TEST_CASE("ContactChannelSink queues no welcome without a WelcomeCode or an API account",
          "[unit]") {
  SinkRig rig;
  const auto channel = StoredChannel(rig.channels, "expo", 7, {}, profiles::testing::kT0);
  rig.f.Apply(rig.Add("wmA", "expo", ""));  // the member chatted first: no WelcomeCode
  CHECK(rig.Jobs().empty());
  CHECK(rig.Stats(channel.id).adds == 1);

  Fixture other;
  storage::ContactChannelStore store{*other.db};
  ContactChannelSink no_account{store, other.store.outbox, other.service.editor, {}};
  other.wired.sinks.Add(no_account);
  StoredChannel(store, "expo", 7, {}, profiles::testing::kT0);
  model::Interaction it = other.Contact(InteractionKind::kContactAdd, "wmB", "zhangsan", "expo");
  std::get<model::ContactChangePayload>(it.payload).welcome_code = "WC9";
  other.Apply(it);
  auto pending = other.store.outbox.FindByKey("welcome:corp1:WC9");
  REQUIRE(pending.ok());
  CHECK_FALSE(pending->has_value());
}

TEST_CASE("ContactChannelSink attributes an OA subscribe through a parametric QR code", "[unit]") {
  SinkRig rig;
  const auto channel =
      StoredChannel(rig.channels, "poster_1", 0, {model::TagRef{"渠道", "海报"}},
                    profiles::testing::kT0, "oa1", model::Platform::kOfficialAccount);
  rig.f.Apply(rig.f.OaEvent("oA", InteractionKind::kSubscribe,
                            model::QrScenePayload{"qrscene_poster_1", "ticket"}));
  CHECK(rig.Stats(channel.id).adds == 1);
  const auto view = rig.f.View(rig.f.ByOpenid("oA"));
  CHECK(profiles::testing::FindTag(view, "渠道", "海报") != nullptr);
  CHECK(rig.Jobs().empty());  // an OA subscription has no welcome code
}

TEST_CASE("ChannelStateOf reads the WeCom State and the OA scene without its prefix", "[unit]") {
  model::Interaction it;
  it.kind = InteractionKind::kScan;
  it.payload = model::QrScenePayload{"poster_1", "t"};
  CHECK(ChannelStateOf(it) == "poster_1");
  it.kind = InteractionKind::kSubscribe;
  it.payload = model::QrScenePayload{"qrscene_poster_1", "t"};
  CHECK(ChannelStateOf(it) == "poster_1");
  it.kind = InteractionKind::kMessageText;
  CHECK(ChannelStateOf(it).empty());
  CHECK(WelcomeDedupeKey("acme", "CODE") == "welcome:acme:CODE");
}

}  // namespace
}  // namespace scrm::campaigns
