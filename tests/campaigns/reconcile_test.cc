#include "campaigns/engine/reconcile.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <variant>

#include "tests/campaigns/dispatcher_fixture.h"

namespace scrm::campaigns {
namespace {

using dispatch_testing::DispatchFixture;
using dispatch_testing::kStartMs;
using dispatch_testing::OaRecipients;

// The state a crash leaves: the batch written and moved to 'sending' (attempts 1), the process
// killed before or after the call, before the outcome was stored.
model::SendBatch CrashMidSend(DispatchFixture& f) {
  const auto planned = f.batches->ListUnbatched(f.campaign.id, 100).value();
  REQUIRE(!planned.empty());
  std::vector<int64_t> ids;
  for (const model::Delivery& d : planned) ids.push_back(d.id);
  model::SendBatch batch;
  batch.campaign_id = f.campaign.id;
  batch.account_id = f.campaign.account_id;
  batch.sender = planned.front().sender;
  batch.idempotency_key = f.campaign.kind == model::CampaignKind::kWecomGroup
                              ? std::to_string(f.campaign.id) + ":b:" + std::to_string(ids[0])
                              : planned.front().idempotency_key;
  batch.created_at_ms = kStartMs;
  const auto created = f.batches->Create(batch, f.campaign.kind == model::CampaignKind::kWecomGroup
                                                    ? std::span<const int64_t>(ids)
                                                    : std::span<const int64_t>(ids.data(), 1));
  REQUIRE(created.ok());
  auto sending = f.batches->BeginSend(created->id, model::BatchState::kPending, kStartMs);
  REQUIRE(sending.ok());
  CHECK(sending->attempts == 1);
  return *sending;
}

std::vector<DispatchFixture::Recipient> AliceThree() {
  return {{1, "alice", "wm1"}, {2, "alice", "wm2"}, {3, "alice", "wm3"}};
}

TEST_CASE("Reconcile settles a crashed WeCom batch from the records without a second call",
          "[db]") {
  DispatchFixture f(model::CampaignKind::kWecomGroup, AliceThree());
  const model::SendBatch batch = CrashMidSend(f);
  // The task the call created before the crash, and an older task of another campaign.
  f.records.tasks.push_back({"alice", {"other", kStartMs / 1000 - 30}, {{"wx9", 1}}});
  f.records.tasks.push_back(
      {"alice", {"task-7", kStartMs / 1000 + 1}, {{"wm1", 1}, {"wm2", 0}, {"wm3", 2}}});
  f.clock.Advance(std::chrono::seconds(5));
  const DispatchReport report = f.Run();
  CHECK(report.reconciled == 1);
  CHECK(f.channel->sent.empty());
  const model::SendBatch after = f.batches->Get(batch.id).value();
  CHECK(after.state == model::BatchState::kSent);
  CHECK(after.platform_msg_id == "task-7");
  CHECK(f.CountIn(model::DeliveryState::kDelivered) == 1);
  CHECK(f.CountIn(model::DeliveryState::kSent) == 1);
  CHECK(f.CountIn(model::DeliveryState::kNotReached) == 1);
  CHECK(f.StateNow() == model::CampaignState::kCompleted);
}

TEST_CASE("Reconcile waits for the WeCom records, then sends a task that was never created",
          "[db]") {
  DispatchFixture f(model::CampaignKind::kWecomGroup, AliceThree());
  const model::SendBatch batch = CrashMidSend(f);
  f.clock.Advance(std::chrono::seconds(10));
  DispatchReport report = f.Run();
  CHECK(report.resent == 0);
  CHECK(f.channel->sent.empty());
  CHECK(f.batches->Get(batch.id).value().state == model::BatchState::kSending);
  f.clock.Advance(std::chrono::seconds(60));
  report = f.Run();
  CHECK(report.resent == 1);
  REQUIRE(f.channel->sent.size() == 1);
  CHECK(std::get<platform::WecomGroupMessage>(f.channel->sent[0]).external_userids.size() == 3);
  const model::SendBatch after = f.batches->Get(batch.id).value();
  CHECK(after.state == model::BatchState::kSent);
  CHECK(after.attempts == 2);
  CHECK(f.CountIn(model::DeliveryState::kSent) == 3);
}

TEST_CASE("Reconcile leaves a WeCom batch unknown after its last attempt", "[db]") {
  DispatcherOptions options;
  options.max_attempts = 1;
  DispatchFixture f(model::CampaignKind::kWecomGroup, AliceThree(), options);
  CrashMidSend(f);
  f.clock.Advance(std::chrono::minutes(5));
  const DispatchReport report = f.Run();
  CHECK(report.batches_unknown == 1);
  CHECK(f.channel->sent.empty());
  CHECK(f.CountIn(model::DeliveryState::kUnknown) == 3);
}

TEST_CASE("Reconcile does not take another batch's task for a crashed one", "[db]") {
  DispatchFixture f(model::CampaignKind::kWecomGroup, AliceThree());
  const model::SendBatch batch = CrashMidSend(f);
  // task-1 holds wm1 but belongs to another stored batch.
  model::SendBatch other;
  other.campaign_id = 99;
  other.account_id = "corp1";
  other.sender = "alice";
  other.idempotency_key = "99:b:1";
  other.created_at_ms = kStartMs;
  REQUIRE(f.deliveries
              ->InsertChunk(std::vector<model::Delivery>{[&] {
                model::Delivery d;
                d.campaign_id = 99;
                d.customer_id = 1;
                d.channel_key = "corp1:alice:wm1";
                d.sender = "alice";
                d.idempotency_key = "99:1:corp1:alice:wm1";
                return d;
              }()})
              .ok());
  const auto planned = f.batches->ListUnbatched(99, 10).value();
  REQUIRE(planned.size() == 1);
  const int64_t other_id = f.batches->Create(other, std::vector<int64_t>{planned[0].id})->id;
  REQUIRE(f.batches->BeginSend(other_id, model::BatchState::kPending, kStartMs).ok());
  storage::BatchOutcome done;
  done.platform_msg_id = "task-1";
  REQUIRE(f.batches->Finish(other_id, done, kStartMs).ok());
  f.records.tasks.push_back({"alice", {"task-1", kStartMs / 1000}, {{"wm1", 1}}});
  f.clock.Advance(std::chrono::seconds(5));
  f.Run();
  CHECK(f.batches->Get(batch.id).value().state == model::BatchState::kSending);
  CHECK(f.channel->sent.empty());
}

TEST_CASE("Reconcile resends an OA template within the dedupe window under the same key", "[db]") {
  DispatchFixture f(model::CampaignKind::kOaTemplate, OaRecipients(1));
  const model::SendBatch batch = CrashMidSend(f);
  f.clock.Advance(std::chrono::minutes(3));
  const DispatchReport report = f.Run();
  CHECK(report.resent == 1);
  REQUIRE(f.channel->sent.size() == 1);
  CHECK(std::get<platform::OaTemplateMessage>(f.channel->sent[0]).client_msg_id ==
        batch.idempotency_key);
  CHECK(f.batches->Get(batch.id).value().attempts == 2);
  CHECK(f.CountIn(model::DeliveryState::kSent) == 1);
}

TEST_CASE("Reconcile leaves an OA template unknown once the dedupe window has passed", "[db]") {
  DispatchFixture f(model::CampaignKind::kOaTemplate, OaRecipients(1));
  const model::SendBatch batch = CrashMidSend(f);
  f.clock.Advance(std::chrono::minutes(11));
  const DispatchReport report = f.Run();
  CHECK(report.batches_unknown == 1);
  CHECK(f.channel->sent.empty());
  const model::SendBatch after = f.batches->Get(batch.id).value();
  CHECK(after.state == model::BatchState::kUnknown);
  CHECK(after.last_error.find("10-minute") != std::string::npos);
  CHECK(f.CountIn(model::DeliveryState::kUnknown) == 1);
}

TEST_CASE("SendBatchStore refuses a second begin and a finish of a batch not sending", "[db]") {
  DispatchFixture f(model::CampaignKind::kOaTemplate, OaRecipients(1));
  const model::SendBatch batch = CrashMidSend(f);
  const auto again = f.batches->BeginSend(batch.id, model::BatchState::kPending, kStartMs);
  CHECK(again.status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(again.status().message() == "send batch " + std::to_string(batch.id) + " is sending");
  REQUIRE(f.batches->Finish(batch.id, storage::BatchOutcome{}, kStartMs).ok());
  const auto twice = f.batches->Finish(batch.id, storage::BatchOutcome{}, kStartMs);
  CHECK(twice.code() == core::StatusCode::kFailedPrecondition);
  CHECK(f.batches->BeginSend(12345, model::BatchState::kPending, kStartMs).status().code() ==
        core::StatusCode::kNotFound);
}

TEST_CASE("SendBatchStore attaches only planned deliveries in no batch", "[db]") {
  DispatchFixture f(model::CampaignKind::kOaTemplate, OaRecipients(1));
  CrashMidSend(f);
  const auto all = f.All();
  model::SendBatch second;
  second.campaign_id = f.campaign.id;
  second.account_id = "oa1";
  second.idempotency_key = "other-key";
  second.created_at_ms = kStartMs;
  const auto created = f.batches->Create(second, std::vector<int64_t>{all[0].id});
  CHECK(created.status().code() == core::StatusCode::kFailedPrecondition);
  // Nothing was written: the key is free.
  CHECK(f.batches->List(f.campaign.id, model::BatchState::kPending, 0, 10).value().empty());
}

}  // namespace
}  // namespace scrm::campaigns
