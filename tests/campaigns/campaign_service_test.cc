#include "campaigns/engine/campaign_service.h"

#include <catch2/catch.hpp>

#include "campaigns/engine/campaign_scheduler.h"
#include "tests/campaigns/campaign_fixture.h"

namespace scrm::campaigns {
namespace {

using testing::CampaignFixture;
using testing::CustomerSpec;
using testing::kT0;

TEST_CASE("CampaignService approval: the creator cannot approve, another key can", "[db]") {
  CampaignFixture f;
  auto created = f.service->Create(f.Input(model::CampaignKind::kOaTemplate), "mkt");
  REQUIRE(created.ok());
  CHECK(created->state == model::CampaignState::kDraft);
  CHECK(created->segment_version == 1);
  REQUIRE(f.service->Apply(created->id, CampaignAction::kSubmit, "mkt", {}).ok());
  auto self = f.service->Apply(created->id, CampaignAction::kApprove, "mkt", {});
  CHECK(self.status().code() == core::StatusCode::kPermissionDenied);
  auto approved = f.service->Apply(created->id, CampaignAction::kApprove, "boss", {});
  REQUIRE(approved.ok());
  CHECK(approved->state == model::CampaignState::kApproved);
  CHECK(approved->approved_by == "boss");
}

TEST_CASE("CampaignService submits straight to approved when approval is off", "[db]") {
  CampaignFixture f(/*approval_required=*/false);
  auto created = f.service->Create(f.Input(model::CampaignKind::kOaTemplate), "mkt");
  REQUIRE(created.ok());
  auto submitted = f.service->Apply(created->id, CampaignAction::kSubmit, "mkt", {});
  REQUIRE(submitted.ok());
  CHECK(submitted->state == model::CampaignState::kApproved);
  CHECK(submitted->approved_by.empty());
  const auto audit = f.service->Audit(created->id).value();
  REQUIRE(audit.size() == 2);
  CHECK(audit[1].to_state == "approved");
  CHECK(audit[1].note == "approval off");
}

TEST_CASE("CampaignService audits every transition with actor and time", "[db]") {
  CampaignFixture f;
  f.AddCustomer({.members = {"zhang"},
                 .owner = "zhang",
                 .deleted_members = {},
                 .oa_subscribed = false,
                 .oa_unsubscribed = false,
                 .external_userid = true,
                 .last_message_ms = 0,
                 .tags = {}});
  const model::Campaign approved = f.Approved(f.Input(model::CampaignKind::kWecomGroup));
  f.clock.SetUnixMillis(kT0 + 1000);
  REQUIRE(f.service->Apply(approved.id, CampaignAction::kLaunch, "mkt", {}).ok());
  REQUIRE(f.service->Apply(approved.id, CampaignAction::kPause, "mkt", {}).ok());
  REQUIRE(f.service->Apply(approved.id, CampaignAction::kResume, "boss", {}).ok());
  TransitionArgs why;
  why.note = "wrong audience";
  REQUIRE(f.service->Apply(approved.id, CampaignAction::kCancel, "boss", why).ok());
  const auto audit = f.service->Audit(approved.id).value();
  REQUIRE(audit.size() == 7);
  const char* expected[][3] = {{"", "draft", "mkt"},
                               {"draft", "pending_approval", "mkt"},
                               {"pending_approval", "approved", "boss"},
                               {"approved", "running", "mkt"},
                               {"running", "paused", "mkt"},
                               {"paused", "running", "boss"},
                               {"running", "cancelled", "boss"}};
  for (size_t i = 0; i < audit.size(); ++i) {
    CHECK(audit[i].from_state == expected[i][0]);
    CHECK(audit[i].to_state == expected[i][1]);
    CHECK(audit[i].actor == expected[i][2]);
  }
  CHECK(audit[3].at_ms == kT0 + 1000);
  CHECK(audit[3].note == "frozen: 1 deliveries of an audience of 1");
  CHECK(audit[6].note == "wrong audience");
  const model::Campaign cancelled = f.service->Get(approved.id).value();
  CHECK(cancelled.launched_at_ms == kT0 + 1000);
  CHECK(cancelled.completed_at_ms == kT0 + 1000);
}

TEST_CASE("CampaignService refuses an illegal move and a stale version without an audit row",
          "[db]") {
  CampaignFixture f;
  auto created = f.service->Create(f.Input(model::CampaignKind::kOaTemplate), "mkt");
  REQUIRE(created.ok());
  auto launch = f.service->Apply(created->id, CampaignAction::kLaunch, "mkt", {});
  CHECK(launch.status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(launch.status().message() == "campaign is draft: cannot launch");
  TransitionArgs stale;
  stale.expected_version = 7;
  CHECK(f.service->Apply(created->id, CampaignAction::kSubmit, "mkt", stale).status().code() ==
        core::StatusCode::kFailedPrecondition);
  CHECK(f.service->Audit(created->id).value().size() == 1);
  CHECK(f.service->Apply(999, CampaignAction::kSubmit, "mkt", {}).status().code() ==
        core::StatusCode::kNotFound);
}

TEST_CASE("CampaignService edits only a draft, compare-and-set on the version", "[db]") {
  CampaignFixture f;
  auto created = f.service->Create(f.Input(model::CampaignKind::kOaTemplate), "mkt");
  REQUIRE(created.ok());
  CampaignInput edit = f.Input(model::CampaignKind::kOaTemplate);
  edit.name = "renamed";
  auto updated = f.service->Update(created->id, edit, 1);
  REQUIRE(updated.ok());
  CHECK(updated->name == "renamed");
  CHECK(updated->version == 2);
  CHECK(f.service->Update(created->id, edit, 1).status().code() ==
        core::StatusCode::kFailedPrecondition);
  REQUIRE(f.service->Apply(created->id, CampaignAction::kSubmit, "mkt", {}).ok());
  auto late = f.service->Update(created->id, edit, std::nullopt);
  CHECK(late.status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(late.status().message() == "campaign is pending_approval: only a draft can be edited");
}

TEST_CASE("CampaignService checks the template's channel against the kind", "[db]") {
  CampaignFixture f;
  CampaignInput input = f.Input(model::CampaignKind::kWecomGroup);
  input.template_id = f.oa_template;
  auto wrong = f.service->Create(input, "mkt");
  CHECK(wrong.status().code() == core::StatusCode::kInvalidArgument);
  CHECK(wrong.status().message() ==
        "template_id: channel oa_template does not fit kind wecom_group");
  CampaignInput mass = f.Input(model::CampaignKind::kOaMass);
  CHECK(f.service->Create(mass, "mkt").ok());
  mass.template_id = f.oa_template;
  CHECK(f.service->Create(mass, "mkt").status().code() == core::StatusCode::kInvalidArgument);
  CampaignInput account = f.Input(model::CampaignKind::kOaTemplate);
  account.account_id = "corp";
  CHECK(f.service->Create(account, "mkt").status().message() ==
        "account_id: no OA account \"corp\"");
  CampaignInput options = f.Input(model::CampaignKind::kOaTemplate);
  options.options_json = R"({"frequency_cap":{"max":500}})";
  CHECK(f.service->Create(options, "mkt").status().message() ==
        "options.frequency_cap.max: must be 0..100");
  CampaignInput segment = f.Input(model::CampaignKind::kOaTemplate);
  segment.segment_id = 77;
  CHECK(f.service->Create(segment, "mkt").status().message() == "segment_id: no segment 77");
}

TEST_CASE("CampaignScheduler launches the scheduled campaigns that are due, once", "[db]") {
  CampaignFixture f;
  f.AddCustomer({.members = {},
                 .owner = "",
                 .deleted_members = {},
                 .oa_subscribed = true,
                 .oa_unsubscribed = false,
                 .external_userid = false,
                 .last_message_ms = 0,
                 .tags = {}});
  const model::Campaign approved = f.Approved(f.Input(model::CampaignKind::kOaTemplate));
  TransitionArgs past;
  past.schedule_at_ms = kT0;
  CHECK(f.service->Apply(approved.id, CampaignAction::kSchedule, "mkt", past).status().message() ==
        "schedule_at_ms: must be in the future");
  TransitionArgs at;
  at.schedule_at_ms = kT0 + 60'000;
  auto scheduled = f.service->Apply(approved.id, CampaignAction::kSchedule, "mkt", at);
  REQUIRE(scheduled.ok());
  CHECK(scheduled->state == model::CampaignState::kScheduled);
  CHECK(f.service->Apply(approved.id, CampaignAction::kSchedule, "mkt", at).status().code() ==
        core::StatusCode::kFailedPrecondition);

  CampaignScheduler scheduler(*f.campaign_store, *f.service);
  CHECK(scheduler.RunOnce(kT0 + 59'999).value().launched == 0);
  f.clock.SetUnixMillis(kT0 + 60'000);
  const auto report = scheduler.RunOnce(kT0 + 60'000).value();
  CHECK(report.launched == 1);
  CHECK(report.failed == 0);
  const model::Campaign running = f.service->Get(approved.id).value();
  CHECK(running.state == model::CampaignState::kRunning);
  CHECK(f.service->Audit(approved.id).value().back().actor == kSchedulerActor);
  CHECK(f.deliveries->Total(approved.id).value() == 1);
  CHECK(scheduler.RunOnce(kT0 + 120'000).value().launched == 0);
}

}  // namespace
}  // namespace scrm::campaigns
