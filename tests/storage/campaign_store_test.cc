#include "src/storage/campaign_store.h"

#include <catch2/catch.hpp>
#include <vector>

#include "src/storage/delivery_store.h"
#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

model::Campaign DraftCampaign(const std::string& name) {
  model::Campaign c;
  c.name = name;
  c.kind = model::CampaignKind::kOaTemplate;
  c.account_id = "oa1";
  c.segment_id = 3;
  c.segment_version = 1;
  c.template_id = 5;
  c.template_version = 2;
  c.created_by = "alice";
  c.created_at_ms = kNowMs;
  c.updated_at_ms = kNowMs;
  return c;
}

model::CampaignAuditEntry AuditRow(const std::string& from, const std::string& to,
                                   const std::string& actor) {
  model::CampaignAuditEntry a;
  a.from_state = from;
  a.to_state = to;
  a.actor = actor;
  a.at_ms = kNowMs;
  return a;
}

model::Delivery PlannedDelivery(int64_t campaign_id, int64_t customer_id, const std::string& addr) {
  model::Delivery d;
  d.campaign_id = campaign_id;
  d.customer_id = customer_id;
  d.channel_key = model::DeliveryChannelKey("oa1", "", addr);
  d.idempotency_key = model::DeliveryIdempotencyKey(campaign_id, customer_id, d.channel_key);
  d.created_at_ms = kNowMs;
  d.updated_at_ms = kNowMs;
  return d;
}

TEST_CASE("CampaignStore saves with compare-and-set on version and state and audits", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("c.db")});
  CampaignStore store(*db);
  auto created = store.Insert(DraftCampaign("spring"), AuditRow("", "draft", "alice"));
  REQUIRE(created.ok());
  CHECK(created->version == 1);
  CHECK(store.Get(created->id).value() == *created);

  model::Campaign next = *created;
  next.state = model::CampaignState::kPendingApproval;
  auto saved = store.Save(next, 1, model::CampaignState::kDraft,
                          AuditRow("draft", "pending_approval", "alice"));
  REQUIRE(saved.ok());
  CHECK(saved->version == 2);
  CHECK(store.Get(created->id).value() == *saved);

  // A stale version or state changes nothing and writes no audit row.
  auto stale = store.Save(next, 1, model::CampaignState::kDraft, std::nullopt);
  CHECK(stale.status().code() == core::StatusCode::kFailedPrecondition);
  auto wrong_state = store.Save(next, 2, model::CampaignState::kDraft, std::nullopt);
  CHECK(wrong_state.status().code() == core::StatusCode::kFailedPrecondition);
  CHECK(store.Save(next, 2, model::CampaignState::kDraft, std::nullopt)
            .status()
            .message()
            .find("pending_approval") != std::string::npos);

  auto audit = store.ListAudit(created->id);
  REQUIRE(audit.ok());
  REQUIRE(audit->size() == 2);
  CHECK(audit->at(0).to_state == "draft");
  CHECK(audit->at(1).from_state == "draft");
  CHECK(audit->at(1).to_state == "pending_approval");
  CHECK(audit->at(1).actor == "alice");
  CHECK(store.Get(999).status().code() == core::StatusCode::kNotFound);
}

TEST_CASE("CampaignStore lists by state and the due scheduled ones", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("c.db")});
  CampaignStore store(*db);
  model::Campaign due = DraftCampaign("due");
  due.state = model::CampaignState::kScheduled;
  due.schedule_at_ms = kNowMs - 1;
  model::Campaign later = DraftCampaign("later");
  later.state = model::CampaignState::kScheduled;
  later.schedule_at_ms = kNowMs + 1000;
  const int64_t due_id = store.Insert(due, AuditRow("", "scheduled", "a")).value().id;
  store.Insert(later, AuditRow("", "scheduled", "a")).value();
  store.Insert(DraftCampaign("draft"), AuditRow("", "draft", "a")).value();
  auto listed = store.ListDue(kNowMs, 10);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == due_id);
  CHECK(store.List(model::CampaignState::kScheduled, 0, 10).value().size() == 2);
  CHECK(store.List(std::nullopt, 0, 10).value().size() == 3);
  CHECK(store.List(std::nullopt, 0, 0).status().code() == core::StatusCode::kInvalidArgument);
}

TEST_CASE("DeliveryStore writes a chunk again without a second row per customer", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("c.db")});
  DeliveryStore deliveries(*db);
  std::vector<model::Delivery> chunk = {PlannedDelivery(1, 10, "o10"),
                                        PlannedDelivery(1, 11, "o11")};
  CHECK(deliveries.InsertChunk(chunk).value() == 2);
  CHECK(deliveries.InsertChunk(chunk).value() == 0);
  // The same customer through another channel key still gets no second row.
  std::vector<model::Delivery> moved = {PlannedDelivery(1, 10, "other-openid")};
  CHECK(deliveries.InsertChunk(moved).value() == 0);
  CHECK(deliveries.Total(1).value() == 2);
  auto listed = deliveries.List(1, model::DeliveryState::kPlanned, 0, 10);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK(listed->at(0).idempotency_key == "1:10:oa1::o10");

  // Another campaign's planned rows count for caps; the campaign itself is excluded.
  const std::vector<int64_t> ids = {10, 11, 12};
  auto recent = deliveries.CountRecent(ids, kNowMs - 1, 2);
  REQUIRE(recent.ok());
  CHECK(recent->at(10) == 1);
  CHECK(recent->count(12) == 0);
  CHECK(deliveries.CountRecent(ids, kNowMs - 1, 1).value().empty());
  CHECK(deliveries.CountRecent(ids, kNowMs + 1, 2).value().empty());
}

}  // namespace
}  // namespace scrm::storage
