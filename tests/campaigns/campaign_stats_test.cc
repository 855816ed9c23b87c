#include "campaigns/engine/campaign_stats.h"

#include <catch2/catch.hpp>
#include <vector>

#include "tests/campaigns/dispatcher_fixture.h"

namespace scrm::campaigns {
namespace {

using dispatch_testing::DispatchFixture;
using dispatch_testing::FailureOf;

TEST_CASE("CampaignStats adds up sent, failed by errcode and not reached by sender", "[db]") {
  DispatchFixture f(model::CampaignKind::kWecomGroup,
                    {{1, "alice", "wm1"}, {2, "alice", "wm2"}, {3, "bob", "wm3"}});
  channels::SendReceipt alice;
  alice.message_id = "task-a";
  alice.unreached = {"wm2"};
  f.channel->script.push_back(alice);
  f.channel->script.push_back(FailureOf(platform::Outcome::kRejected, 41048));
  f.Run();
  CampaignStatsService service(*f.campaigns, *f.deliveries, *f.batches, f.clock);
  const CampaignStats stats = service.Stats(f.campaign.id).value();
  CHECK(stats.kind == "wecom_group");
  CHECK(stats.total.audience == 3);
  CHECK(stats.total.sent == 2);  // wm1 accepted, wm2 accepted but not reached
  CHECK(stats.total.not_reached == 1);
  CHECK(stats.total.failed == 1);
  CHECK(stats.failed_by_errcode == std::map<int64_t, int64_t>{{41048, 1}});
  CHECK(stats.by_sender.at("alice").sent == 2);
  CHECK(stats.by_sender.at("bob").failed == 1);
  CHECK(stats.by_account.at("corp1").audience == 3);
  CHECK(service.Stats(999).status().code() == core::StatusCode::kNotFound);
}

TEST_CASE("CampaignStats retry requeues failed deliveries and reopens a completed campaign",
          "[db]") {
  DispatchFixture f(model::CampaignKind::kOaTemplate, dispatch_testing::OaRecipients(2));
  f.channel->script.push_back(FailureOf(platform::Outcome::kRefused, 43004));
  f.Run();
  REQUIRE(f.StateNow() == model::CampaignState::kCompleted);
  CampaignStatsService service(*f.campaigns, *f.deliveries, *f.batches, f.clock);
  CHECK(service.Retry(f.campaign.id, "mallory").value() == 1);
  CHECK(f.StateNow() == model::CampaignState::kRunning);
  const auto audit = f.campaigns->ListAudit(f.campaign.id).value();
  CHECK(audit.back().actor == "mallory");
  CHECK(audit.back().to_state == "running");
  f.Run();
  CHECK(f.channel->sent.size() == 3);
  CHECK(f.CountIn(model::DeliveryState::kSent) == 2);
  CHECK(f.StateNow() == model::CampaignState::kCompleted);
  CHECK(service.Stats(f.campaign.id).value().total.sent == 2);
}

TEST_CASE("CampaignStats retry refuses a cancelled campaign", "[db]") {
  DispatchFixture f(model::CampaignKind::kOaTemplate, dispatch_testing::OaRecipients(1));
  model::Campaign c = f.campaigns->Get(f.campaign.id).value();
  const int version = c.version;
  c.state = model::CampaignState::kCancelled;
  REQUIRE(f.campaigns->Save(c, version, model::CampaignState::kRunning, std::nullopt).ok());
  CampaignStatsService service(*f.campaigns, *f.deliveries, *f.batches, f.clock);
  const auto retried = service.Retry(f.campaign.id, "x");
  CHECK(retried.status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(retried.status().message().find("is cancelled") != std::string::npos);
}

}  // namespace
}  // namespace scrm::campaigns
