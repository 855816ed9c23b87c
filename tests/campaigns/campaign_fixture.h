// The campaign engine over a real migrated SQLite file, the reference segment evaluator and a
// fake clock: customers are written through the profile repositories and mirrored into the
// evaluator, so a segment over them matches as the bitmap index would.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "campaigns/engine/campaign_service.h"
#include "campaigns/engine/planner.h"
#include "campaigns/segments/segment_service.h"
#include "src/core/clock.h"
#include "src/storage/campaign_audience_store.h"
#include "src/storage/campaign_store.h"
#include "src/storage/customer_repository.h"
#include "src/storage/database.h"
#include "src/storage/delivery_store.h"
#include "src/storage/follower_repository.h"
#include "src/storage/identity_repository.h"
#include "src/storage/segment_store.h"
#include "src/storage/template_store.h"
#include "src/storage/timeline_repository.h"
#include "tests/support/segment_reference.h"
#include "tests/support/test_support.h"

namespace scrm::campaigns::testing {

inline constexpr int64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z

// One customer to add: its relations in "corp" (WeCom) and "oa" (OA), and its last message.
struct CustomerSpec {
  std::vector<std::string> members;  // connected WeCom relations in "corp"
  std::string owner;                 // which of them is the owner ("" = none)
  std::vector<std::string> deleted_members;
  bool oa_subscribed = false;
  bool oa_unsubscribed = false;   // an ended subscription (with its openid)
  bool external_userid = true;    // has an external_userid in "corp" when it has members
  int64_t last_message_ms = 0;    // a message.text timeline entry at this time (0 = none)
  std::vector<std::string> tags;  // "group/name" held
};

class CampaignFixture {
 public:
  explicit CampaignFixture(bool approval_required = true) : clock(kT0) {
    storage::DatabaseOptions options;
    options.path = dir.File("campaigns.db");
    auto opened = storage::Database::Open(options);
    REQUIRE(opened.ok());
    db = std::move(opened).value();
    REQUIRE(db->Migrate(kT0).ok());
    segment_store = std::make_unique<storage::SegmentStore>(*db);
    template_store = std::make_unique<storage::TemplateStore>(*db);
    campaign_store = std::make_unique<storage::CampaignStore>(*db);
    deliveries = std::make_unique<storage::DeliveryStore>(*db);
    audience = std::make_unique<storage::CampaignAudienceStore>(*db);
    segments = std::make_unique<segments::SegmentService>(*segment_store, clock);
    planner = std::make_unique<CampaignPlanner>(*segments, *segment_store, evaluator, *audience,
                                                *deliveries, clock, limits);
    CampaignServiceOptions service_options;
    service_options.approval_required = approval_required;
    service_options.accounts = {{"corp", model::Platform::kWecom},
                                {"oa", model::Platform::kOfficialAccount}};
    service = std::make_unique<CampaignService>(*campaign_store, *segment_store, *template_store,
                                                *planner, clock, service_options);
    segment_id = segments->Create({"everyone", "", "relation:any"}).value().id;
    wecom_template = AddTemplate("wecom hello", "wecom_message");
    oa_template = AddTemplate("oa notice", "oa_template");
    oa_text = AddTemplate("oa text", "oa_custom_text");
  }

  int64_t AddTemplate(const std::string& name, const std::string& channel) {
    storage::StoredTemplate row;
    row.name = name;
    row.channel = channel;
    row.content_json = "{\"text\":\"hi\"}";
    row.created_at_ms = kT0;
    row.saved_at_ms = kT0;
    auto stored = template_store->Insert(row);
    REQUIRE(stored.ok());
    return stored->id;
  }

  // Writes the customer (profile rows and evaluator facts); its id.
  int64_t AddCustomer(const CustomerSpec& spec) {
    int64_t id = 0;
    segments::testing::CustomerFacts facts;
    const core::Status written = db->InTransaction([&](storage::WriteTxn& txn) -> core::Status {
      model::Customer c;
      c.owner_userid = spec.owner;
      c.created_at_ms = kT0;
      c.updated_at_ms = kT0;
      SCRM_ASSIGN_OR_RETURN(id, storage::CustomerRepository(*db).Create(txn, c));
      const std::string n = std::to_string(id);
      auto follow = [&](const std::string& account, const std::string& userid,
                        model::FollowerState state, bool owner) -> core::Status {
        model::Follower f;
        f.customer_id = id;
        f.account_id = account;
        f.userid = userid;
        f.state = state;
        f.is_owner = owner;
        facts.followers.push_back({account, userid, state});
        return storage::FollowerRepository().Put(txn, f).status();
      };
      auto identify = [&](const std::string& platform, const std::string& account,
                          model::IdentityKind kind, const std::string& value) -> core::Status {
        model::Identity identity;
        identity.customer_id = id;
        identity.platform = platform;
        identity.account_id = account;
        identity.kind = kind;
        identity.value = value;
        return storage::IdentityRepository(*db).Add(txn, identity).status();
      };
      for (const std::string& m : spec.members) {
        SCRM_RETURN_IF_ERROR(follow("corp", m, model::FollowerState::kActive, m == spec.owner));
      }
      for (const std::string& m : spec.deleted_members) {
        SCRM_RETURN_IF_ERROR(follow("corp", m, model::FollowerState::kDeletedByCustomer, false));
      }
      if ((!spec.members.empty() || !spec.deleted_members.empty()) && spec.external_userid) {
        SCRM_RETURN_IF_ERROR(
            identify("wecom", "corp", model::IdentityKind::kExternalUserid, "wm" + n));
      }
      if (spec.oa_subscribed || spec.oa_unsubscribed) {
        SCRM_RETURN_IF_ERROR(follow("oa", "",
                                    spec.oa_subscribed ? model::FollowerState::kActive
                                                       : model::FollowerState::kUnsubscribed,
                                    false));
        SCRM_RETURN_IF_ERROR(identify("oa", "oa", model::IdentityKind::kOpenid, "o" + n));
      }
      if (spec.last_message_ms > 0) {
        model::TimelineEntry entry;
        entry.customer_id = id;
        entry.interaction_id = id;
        entry.kind = "message.text";
        entry.at_ms = spec.last_message_ms;
        SCRM_RETURN_IF_ERROR(storage::TimelineRepository(*db).Add(txn, entry).status());
      }
      return core::OkStatus();
    });
    INFO(written.ToString());
    REQUIRE(written.ok());
    facts.id = id;
    facts.owner = spec.owner;
    for (const std::string& tag : spec.tags) facts.tags[tag] = {2.0, 1.0};
    evaluator.Put(facts);
    return id;
  }

  CampaignInput Input(model::CampaignKind kind) const {
    CampaignInput input;
    input.name = "campaign";
    input.kind = kind;
    input.account_id = kind == model::CampaignKind::kWecomGroup ? "corp" : "oa";
    input.segment_id = segment_id;
    switch (kind) {
      case model::CampaignKind::kWecomGroup: input.template_id = wecom_template; break;
      case model::CampaignKind::kOaTemplate: input.template_id = oa_template; break;
      default: input.template_id = oa_text; break;
    }
    return input;
  }

  // A campaign created by "mkt", submitted, and approved by "boss" (or with approval off).
  model::Campaign Approved(const CampaignInput& input) {
    auto created = service->Create(input, "mkt");
    INFO(created.status().ToString());
    REQUIRE(created.ok());
    REQUIRE(service->Apply(created->id, CampaignAction::kSubmit, "mkt", {}).ok());
    if (service->approval_required()) {
      REQUIRE(service->Apply(created->id, CampaignAction::kApprove, "boss", {}).ok());
    }
    return service->Get(created->id).value();
  }

  model::Campaign Launched(const CampaignInput& input) {
    const model::Campaign approved = Approved(input);
    auto launched = service->Apply(approved.id, CampaignAction::kLaunch, "mkt", {});
    INFO(launched.status().ToString());
    REQUIRE(launched.ok());
    return *launched;
  }

  scrm::testing::TempDir dir;
  core::FakeClock clock;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::SegmentStore> segment_store;
  std::unique_ptr<storage::TemplateStore> template_store;
  std::unique_ptr<storage::CampaignStore> campaign_store;
  std::unique_ptr<storage::DeliveryStore> deliveries;
  std::unique_ptr<storage::CampaignAudienceStore> audience;
  segments::testing::ReferenceEvaluator evaluator;
  std::unique_ptr<segments::SegmentService> segments;
  PlannerLimits limits;
  std::unique_ptr<CampaignPlanner> planner;
  std::unique_ptr<CampaignService> service;
  int64_t segment_id = 0;
  int64_t wecom_template = 0;
  int64_t oa_template = 0;
  int64_t oa_text = 0;
};

}  // namespace scrm::campaigns::testing
