#include "campaigns/engine/planner.h"

#include <catch2/catch.hpp>
#include <vector>

#include "tests/campaigns/campaign_fixture.h"

namespace scrm::campaigns {
namespace {

using model::SkipReason;
using testing::CampaignFixture;
using testing::CustomerSpec;
using testing::kT0;

CustomerSpec Wecom(std::vector<std::string> members, std::string owner) {
  CustomerSpec spec;
  spec.members = std::move(members);
  spec.owner = std::move(owner);
  return spec;
}

CustomerSpec Subscriber() {
  CustomerSpec spec;
  spec.oa_subscribed = true;
  return spec;
}

// The one delivery of `customer` in `campaign` (REQUIREd to exist).
model::Delivery DeliveryOf(CampaignFixture& f, int64_t campaign, int64_t customer) {
  auto rows = f.deliveries->List(campaign, std::nullopt, 0, 1000);
  REQUIRE(rows.ok());
  for (const model::Delivery& d : *rows) {
    if (d.customer_id == customer) return d;
  }
  FAIL("no delivery for customer " << customer);
  return {};
}

TEST_CASE("Planner picks the owner's WeCom relation, else the oldest connected one", "[db]") {
  CampaignFixture f;
  const int64_t owned = f.AddCustomer(Wecom({"li", "zhang"}, "zhang"));
  const int64_t unowned = f.AddCustomer(Wecom({"li", "wang"}, ""));
  const model::Campaign c = f.Launched(f.Input(model::CampaignKind::kWecomGroup));
  const model::Delivery a = DeliveryOf(f, c.id, owned);
  CHECK(a.state == model::DeliveryState::kPlanned);
  CHECK(a.sender == "zhang");
  CHECK(a.channel_key == "corp:zhang:wm" + std::to_string(owned));
  CHECK(a.idempotency_key ==
        std::to_string(c.id) + ":" + std::to_string(owned) + ":" + a.channel_key);
  CHECK(DeliveryOf(f, c.id, unowned).sender == "li");
}

TEST_CASE("Planner skips no_relation when no member relation is connected", "[db]") {
  CampaignFixture f;
  CustomerSpec deleted;
  deleted.deleted_members = {"li"};
  const int64_t gone = f.AddCustomer(deleted);
  const int64_t oa_only = f.AddCustomer(Subscriber());
  CustomerSpec no_id = Wecom({"li"}, "li");
  no_id.external_userid = false;
  const int64_t unaddressable = f.AddCustomer(no_id);
  const Forecast forecast =
      f.planner->MakeForecast(f.Approved(f.Input(model::CampaignKind::kWecomGroup)), 10).value();
  CHECK(forecast.audience == 3);
  CHECK(forecast.planned == 0);
  CHECK(forecast.skipped.at(SkipReason::kNoRelation) == 3);
  std::vector<int64_t> ids;
  for (const auto& d : forecast.skipped_pages.at(SkipReason::kNoRelation)) {
    ids.push_back(d.customer_id);
  }
  CHECK(ids == std::vector<int64_t>{gone, oa_only, unaddressable});
}

TEST_CASE("Planner skips unsubscribed for an OA kind when the subscription ended", "[db]") {
  CampaignFixture f;
  CustomerSpec ended;
  ended.oa_unsubscribed = true;
  f.AddCustomer(ended);
  f.AddCustomer(Subscriber());
  f.AddCustomer(Wecom({"li"}, "li"));  // no openid in the OA at all
  const Forecast forecast =
      f.planner->MakeForecast(f.Approved(f.Input(model::CampaignKind::kOaTemplate)), 10).value();
  CHECK(forecast.planned == 1);
  CHECK(forecast.skipped.at(SkipReason::kUnsubscribed) == 1);
  CHECK(forecast.skipped.at(SkipReason::kNoRelation) == 1);
  REQUIRE(forecast.by_sender.size() == 1);
  CHECK(forecast.by_sender[0].account_id == "oa");
  CHECK(forecast.by_sender[0].sender.empty());
  CHECK(forecast.by_sender[0].count == 1);
}

TEST_CASE("Planner skips outside_48h for oa_custom without a recent interaction", "[db]") {
  CampaignFixture f;
  CustomerSpec recent = Subscriber();
  recent.last_message_ms = kT0 - kWindow48hMs + 1000;
  CustomerSpec old = Subscriber();
  old.last_message_ms = kT0 - kWindow48hMs - 1000;
  const int64_t in_window = f.AddCustomer(recent);
  f.AddCustomer(old);
  f.AddCustomer(Subscriber());  // never wrote
  const Forecast custom =
      f.planner->MakeForecast(f.Approved(f.Input(model::CampaignKind::kOaCustom)), 10).value();
  CHECK(custom.planned == 1);
  CHECK(custom.planned_page.at(0).customer_id == in_window);
  CHECK(custom.skipped.at(SkipReason::kOutside48h) == 2);
  // Other OA kinds have no window.
  const Forecast mass =
      f.planner->MakeForecast(f.Approved(f.Input(model::CampaignKind::kOaMass)), 10).value();
  CHECK(mass.planned == 3);
}

TEST_CASE("Planner skips opted_out for a holder of the campaign's opt-out tag", "[db]") {
  CampaignFixture f;
  CustomerSpec dnd = Subscriber();
  dnd.tags = {"pref/dnd"};
  f.AddCustomer(dnd);
  f.AddCustomer(Subscriber());
  CampaignInput input = f.Input(model::CampaignKind::kOaTemplate);
  input.options_json = R"({"opt_out_tag":"pref/dnd"})";
  const Forecast forecast = f.planner->MakeForecast(f.Approved(input), 10).value();
  CHECK(forecast.planned == 1);
  CHECK(forecast.skipped.at(SkipReason::kOptedOut) == 1);
}

TEST_CASE("Planner skips already_sent when another campaign sent the same template", "[db]") {
  CampaignFixture f;
  const int64_t reached = f.AddCustomer(Subscriber());
  f.AddCustomer(Subscriber());
  // An earlier campaign with the same template whose message to `reached` went out.
  const model::Campaign earlier = f.Launched(f.Input(model::CampaignKind::kOaTemplate));
  model::Campaign other = earlier;
  other.name = "other";
  const int64_t other_id = f.campaign_store->Insert(other, model::CampaignAuditEntry{}).value().id;
  model::Delivery sent = DeliveryOf(f, earlier.id, reached);
  sent.campaign_id = other_id;
  sent.state = model::DeliveryState::kSent;
  sent.idempotency_key = "other:" + sent.idempotency_key;
  REQUIRE(f.deliveries->InsertChunk(std::vector<model::Delivery>{sent}).value() == 1);

  const Forecast forecast =
      f.planner->MakeForecast(f.Approved(f.Input(model::CampaignKind::kOaTemplate)), 10).value();
  CHECK(forecast.skipped.at(SkipReason::kAlreadySent) == 1);
  CHECK(forecast.skipped_pages.at(SkipReason::kAlreadySent).at(0).customer_id == reached);
  // Another template is not the same message.
  CampaignInput mass = f.Input(model::CampaignKind::kOaMass);
  CHECK(f.planner->MakeForecast(f.Approved(mass), 10)
            .value()
            .skipped.count(SkipReason::kAlreadySent) == 0);
}

TEST_CASE("Planner skips monthly_cap once other campaigns reached the cap", "[db]") {
  CampaignFixture f;
  f.AddCustomer(Subscriber());
  for (int i = 0; i < 4; ++i) {
    const model::Campaign c = f.Launched(f.Input(model::CampaignKind::kOaTemplate));
    CHECK(f.deliveries->List(c.id, model::DeliveryState::kPlanned, 0, 10).value().size() == 1);
  }
  const model::Campaign fifth = f.Launched(f.Input(model::CampaignKind::kOaTemplate));
  const auto rows = f.deliveries->List(fifth.id, std::nullopt, 0, 10).value();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == model::DeliveryState::kSkipped);
  CHECK(rows[0].skip_reason == SkipReason::kMonthlyCap);
  // 30 days later the earlier ones no longer count.
  f.clock.SetUnixMillis(kT0 + kMonthlyCapWindowMs + 1);
  CHECK(f.planner->MakeForecast(fifth, 10).value().planned == 1);
}

TEST_CASE("Planner skips frequency_cap across campaigns within the campaign's window", "[db]") {
  CampaignFixture f;
  f.AddCustomer(Subscriber());
  f.Launched(f.Input(model::CampaignKind::kOaTemplate));
  CampaignInput capped = f.Input(model::CampaignKind::kOaMass);
  capped.options_json = R"({"frequency_cap":{"max":1,"window_hours":24}})";
  const model::Campaign c = f.Approved(capped);
  const Forecast now = f.planner->MakeForecast(c, 10).value();
  CHECK(now.planned == 0);
  CHECK(now.skipped.at(SkipReason::kFrequencyCap) == 1);
  f.clock.SetUnixMillis(kT0 + 25 * 3'600'000);
  CHECK(f.planner->MakeForecast(c, 10).value().planned == 1);
}

TEST_CASE("Freeze run twice writes the same rows once", "[db]") {
  CampaignFixture f;
  for (int i = 0; i < 5; ++i) f.AddCustomer(Subscriber());
  CustomerSpec ended;
  ended.oa_unsubscribed = true;
  f.AddCustomer(ended);
  const model::Campaign c = f.Approved(f.Input(model::CampaignKind::kOaTemplate));
  const FreezeReport first = f.planner->Freeze(c).value();
  CHECK(first.audience == 6);
  CHECK(first.written == 6);
  const auto rows = f.deliveries->List(c.id, std::nullopt, 0, 100).value();
  f.clock.SetUnixMillis(kT0 + 5000);
  const FreezeReport second = f.planner->Freeze(c).value();
  CHECK(second.written == 0);
  CHECK(second.total == 6);
  CHECK(f.deliveries->List(c.id, std::nullopt, 0, 100).value() == rows);
}

TEST_CASE("Launch after a freeze a crash cut short adds only the missing rows", "[db]") {
  CampaignFixture f;
  for (int i = 0; i < 5; ++i) f.AddCustomer(Subscriber());
  const model::Campaign c = f.Approved(f.Input(model::CampaignKind::kOaTemplate));
  // What a crash after the first committed chunk of two leaves behind.
  PlannerLimits small = f.limits;
  small.freeze_chunk = 2;
  CampaignPlanner chunked(*f.segments, *f.segment_store, f.evaluator, *f.audience, *f.deliveries,
                          f.clock, small);
  const Forecast forecast = chunked.MakeForecast(c, 2).value();
  REQUIRE(f.deliveries->InsertChunk(forecast.planned_page).value() == 2);
  CHECK(f.service->Get(c.id).value().state == model::CampaignState::kApproved);

  auto launched = f.service->Apply(c.id, CampaignAction::kLaunch, "mkt", {});
  REQUIRE(launched.ok());
  CHECK(launched->state == model::CampaignState::kRunning);
  const auto rows = f.deliveries->List(c.id, std::nullopt, 0, 100).value();
  REQUIRE(rows.size() == 5);
  std::set<int64_t> customers;
  for (const auto& d : rows) customers.insert(d.customer_id);
  CHECK(customers.size() == 5);
}

TEST_CASE("Planner refuses an audience over max_audience", "[db]") {
  CampaignFixture f;
  for (int i = 0; i < 3; ++i) f.AddCustomer(Subscriber());
  PlannerLimits small = f.limits;
  small.max_audience = 2;
  CampaignPlanner capped(*f.segments, *f.segment_store, f.evaluator, *f.audience, *f.deliveries,
                         f.clock, small);
  const model::Campaign c = f.Approved(f.Input(model::CampaignKind::kOaTemplate));
  CHECK(capped.Freeze(c).status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(f.deliveries->Total(c.id).value() == 0);
}

}  // namespace
}  // namespace scrm::campaigns

namespace scrm::campaigns {
namespace {

TEST_CASE("Freeze run again after a customer's owner changed gives no second row", "[db]") {
  testing::CampaignFixture f;
  const int64_t moved = f.AddCustomer(Wecom({"li"}, "li"));
  const model::Campaign c = f.Approved(f.Input(model::CampaignKind::kWecomGroup));
  REQUIRE(f.planner->Freeze(c).value().written == 1);
  // Between the crash and the second run a new member became the owner.
  const core::Status added = f.db->InTransaction([&](storage::WriteTxn& txn) -> core::Status {
    model::Follower owner;
    owner.customer_id = moved;
    owner.account_id = "corp";
    owner.userid = "wang";
    owner.is_owner = true;
    SCRM_RETURN_IF_ERROR(storage::FollowerRepository().Put(txn, owner).status());
    model::Follower former = owner;
    former.userid = "li";
    former.is_owner = false;
    return storage::FollowerRepository().Put(txn, former).status();
  });
  REQUIRE(added.ok());
  CHECK(f.planner->MakeForecast(c, 10).value().planned_page.at(0).sender == "wang");
  const FreezeReport again = f.planner->Freeze(c).value();
  CHECK(again.written == 0);
  CHECK(again.total == 1);
  CHECK(DeliveryOf(f, c.id, moved).sender == "li");
}

}  // namespace
}  // namespace scrm::campaigns
