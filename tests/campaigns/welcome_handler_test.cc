// WelcomeHandler (campaigns/engine/welcome_handler.h): the "welcome" job renders the channel's
// template for the customer and sends it once while the WelcomeCode lives.
#include "campaigns/engine/welcome_handler.h"

#include <spdlog/sinks/null_sink.h>
#include <catch2/catch.hpp>

#include "campaigns/engine/contact_channel_sink.h"
#include "src/model/job_kinds.h"
#include "src/storage/template_store.h"
#include "tests/campaigns/campaigns_test_helpers.h"
#include "tests/profiles/profiles_test_helpers.h"

namespace scrm::campaigns {
namespace {

using jobs::JobResult;
using model::InteractionKind;
using testing::ApiFailure;
using testing::RecordingOutbound;
using testing::StoredChannel;

constexpr char kWelcomeText[] =
    R"({"text":{"content":"{{#customer.name}}{{customer.name}}，{{/customer.name}}欢迎光临！"}})";

// A customer added through a channel with a welcome template, its job, and the handler.
struct WelcomeRig {
  profiles::testing::Fixture f;
  storage::ContactChannelStore channels{*f.db};
  storage::TemplateStore templates{*f.db};
  ContactChannelSink sink{channels, f.store.outbox, f.service.editor, {"corp1"}};
  core::MetricsRegistry metrics;
  channels::OutboundDirectory directory;
  RecordingOutbound* outbound = nullptr;
  std::unique_ptr<WelcomeHandler> handler;
  model::ContactChannel channel;
  storage::OutboxJob job;

  explicit WelcomeRig(const char* content_json = kWelcomeText) {
    f.wired.sinks.Add(sink);
    auto owned = std::make_unique<RecordingOutbound>("corp1");
    outbound = owned.get();
    REQUIRE(directory.Add(std::move(owned)).ok());
    storage::StoredTemplate row;
    row.name = "welcome";
    row.channel = "wecom_message";
    row.content_json = content_json;
    row.source = "api";
    row.saved_at_ms = profiles::testing::kT0;
    auto stored = templates.Insert(row);
    REQUIRE(stored.ok());
    channel = StoredChannel(channels, "expo", stored->id, {}, profiles::testing::kT0);
    handler = std::make_unique<WelcomeHandler>(
        templates, f.service.queries, directory, f.clock, metrics,
        std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>()));
    model::Interaction it = f.Contact(InteractionKind::kContactAdd, "wmA", "zhangsan", "expo");
    std::get<model::ContactChangePayload>(it.payload).welcome_code = "WC1";
    f.Apply(it);
    REQUIRE(f.service.editor.SetAttributes(f.ByExternal("wmA"), {{"name", "王女士"}}).ok());
    auto found = f.store.outbox.FindByKey("welcome:corp1:WC1");
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    job = **found;
  }
  // The channel's stats once the runner recorded `result` on the job (as OutboxRunner does).
  model::ContactChannelStats StatsAfter(const JobResult& result) {
    auto claimed = f.store.outbox.Claim(f.clock.NowUnixMillis(), 60000, 10);
    REQUIRE(claimed.ok());
    REQUIRE(claimed->size() == 1);
    const storage::OutboxState state =
        result.kind == JobResult::Kind::kDone      ? storage::OutboxState::kDone
        : result.kind == JobResult::Kind::kUnknown ? storage::OutboxState::kUnknown
                                                   : storage::OutboxState::kFailed;
    REQUIRE(f.store.outbox
                .Finish((*claimed)[0].id, (*claimed)[0].attempts, state,
                        {result.outcome, result.errcode, result.error}, f.clock.NowUnixMillis())
                .ok());
    auto stats = channels.Stats(channel.id);
    REQUIRE(stats.ok());
    return *stats;
  }
};

TEST_CASE("WelcomeHandler sends the channel's template rendered for the customer", "[unit]") {
  WelcomeRig rig;
  rig.f.clock.Advance(std::chrono::milliseconds(1500));
  const JobResult result = rig.handler->Run(rig.job);
  CHECK(result.kind == JobResult::Kind::kDone);
  CHECK(result.outcome == "sent");
  REQUIRE(rig.outbound->sent.size() == 1);
  const auto* welcome = std::get_if<platform::WecomWelcomeMessage>(&rig.outbound->sent[0]);
  REQUIRE(welcome != nullptr);
  CHECK(welcome->welcome_code == "WC1");
  CHECK(welcome->text == "王女士，欢迎光临！");
  // The call may take no longer than the code has left to live.
  CHECK(rig.outbound->budgets[0] == std::chrono::milliseconds(18500));
  CHECK(rig.StatsAfter(result).welcomes_sent == 1);
  CHECK(rig.metrics.Render().find("scrmd_welcome_send_delay_seconds_count 1") != std::string::npos);
}

TEST_CASE("WelcomeHandler never calls twice for one code, even when the job is run again",
          "[unit]") {
  WelcomeRig rig;
  const JobResult first = rig.handler->Run(rig.job);
  REQUIRE(first.kind == JobResult::Kind::kDone);
  // The runner records the outcome; an admin's retry (POST /api/v1/jobs/{id}/retry) puts the job
  // back with a fresh attempt budget and the outcome kept.
  CHECK(rig.StatsAfter(first).welcomes_sent == 1);
  auto done = rig.f.store.outbox.FindByKey("welcome:corp1:WC1");
  REQUIRE(done.ok());
  REQUIRE(done->has_value());
  auto retried = rig.f.store.outbox.Retry((*done)->id, rig.f.clock.NowUnixMillis());
  CHECK(retried.status().code() == core::StatusCode::kFailedPrecondition);  // done: no retry
  storage::OutboxJob again = **done;
  again.attempts = 1;  // as a retried failed / unknown job is claimed
  const JobResult second = rig.handler->Run(again);
  CHECK(second.kind == JobResult::Kind::kFailed);
  CHECK(second.outcome == "already_attempted");
  CHECK(rig.outbound->sent.size() == 1);
}

TEST_CASE("WelcomeHandler expires a job claimed again after a crash during its call", "[unit]") {
  WelcomeRig rig;
  // The first claim's runner died in the call; the job is claimed again after the lease.
  rig.f.clock.Advance(std::chrono::minutes(5));
  storage::OutboxJob reclaimed = rig.job;
  reclaimed.attempts = 2;
  const JobResult result = rig.handler->Run(reclaimed);
  CHECK(result.outcome == "expired");
  CHECK(rig.outbound->sent.empty());
}

TEST_CASE("WelcomeHandler fails a job older than the code's life without a call", "[unit]") {
  WelcomeRig rig;
  rig.f.clock.Advance(std::chrono::milliseconds(20001));
  const JobResult result = rig.handler->Run(rig.job);
  CHECK(result.kind == JobResult::Kind::kFailed);
  CHECK(result.outcome == "expired");
  CHECK(rig.outbound->sent.empty());
  CHECK(rig.StatsAfter(result).welcomes_failed == 1);
}

TEST_CASE("WelcomeHandler records 41051 as an outcome, not an error", "[unit]") {
  WelcomeRig rig;
  rig.outbound->next_error = ApiFailure(platform::Outcome::kRefused, 41051);
  const JobResult result = rig.handler->Run(rig.job);
  CHECK(result.kind == JobResult::Kind::kDone);
  CHECK(result.outcome == "refused");
  CHECK(result.errcode == 41051);
  const auto stats = rig.StatsAfter(result);
  CHECK(stats.welcomes_failed == 1);
  CHECK(stats.welcomes_sent == 0);
}

TEST_CASE("WelcomeHandler never resends after an unknown outcome", "[unit]") {
  WelcomeRig rig;
  rig.outbound->next_error = ApiFailure(platform::Outcome::kUnknown, 0);
  const JobResult result = rig.handler->Run(rig.job);
  CHECK(result.kind == JobResult::Kind::kUnknown);  // the runner never retries these
  CHECK(rig.outbound->sent.size() == 1);
  CHECK(rig.StatsAfter(result).welcomes_failed == 1);
}

TEST_CASE("WelcomeHandler fails a template that does not render and a bad payload", "[unit]") {
  WelcomeRig rig(R"({"text":{"content":"{{#customer.name}}"}})");
  JobResult result = rig.handler->Run(rig.job);
  CHECK(result.kind == JobResult::Kind::kFailed);
  CHECK(result.outcome == "render_failed");
  CHECK(rig.outbound->sent.empty());
  storage::OutboxJob bad = rig.job;
  bad.payload_json = R"({"customer_id":1})";
  result = rig.handler->Run(bad);
  CHECK(result.outcome == "bad_payload");
}

TEST_CASE("Welcome payloads round-trip and refuse what is not one", "[unit]") {
  model::WelcomePayload p;
  p.customer_id = 4;
  p.channel_id = 2;
  p.template_id = 9;
  p.welcome_code = "CODE";
  p.userid = "zhangsan";
  p.external_userid = "wmX";
  p.received_at_ms = 1767225600000;
  auto back = model::DecodeWelcomePayload(model::EncodeWelcomePayload(p));
  REQUIRE(back.ok());
  CHECK(back->customer_id == 4);
  CHECK(back->channel_id == 2);
  CHECK(back->template_id == 9);
  CHECK(back->welcome_code == "CODE");
  CHECK(back->userid == "zhangsan");
  CHECK(back->external_userid == "wmX");
  CHECK(back->received_at_ms == 1767225600000);
  p.welcome_code.clear();
  CHECK(model::DecodeWelcomePayload(model::EncodeWelcomePayload(p)).status().code() ==
        core::StatusCode::kInvalidArgument);
  CHECK_FALSE(model::DecodeWelcomePayload("not json").ok());
}

}  // namespace
}  // namespace scrm::campaigns
