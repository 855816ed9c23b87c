#include "src/tagger/lifecycle.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace scrm::tagger {
namespace {

using model::InteractionKind;
using model::LifecycleStage;

constexpr LifecycleStage kNew = LifecycleStage::kNew;
constexpr LifecycleStage kEngaged = LifecycleStage::kEngaged;
constexpr LifecycleStage kCustomer = LifecycleStage::kCustomer;
constexpr LifecycleStage kRepeat = LifecycleStage::kRepeat;
constexpr LifecycleStage kAtRisk = LifecycleStage::kAtRisk;
constexpr LifecycleStage kLost = LifecycleStage::kLost;

LifecycleFacts Interaction(InteractionKind kind, int64_t prior, int64_t paid_orders = 0) {
  LifecycleFacts facts;
  facts.kind = kind;
  facts.prior_interactions = prior;
  facts.paid_orders = paid_orders;
  return facts;
}

LifecycleFacts PaidOrder(int64_t paid_orders) {
  LifecycleFacts facts;
  facts.paid_order = true;
  facts.prior_interactions = 3;
  facts.paid_orders = paid_orders;
  return facts;
}

LifecycleFacts Leave(InteractionKind kind, std::string staff, bool still_connected = false) {
  LifecycleFacts facts = Interaction(kind, 5);
  facts.staff_userid = std::move(staff);
  facts.still_connected = still_connected;
  return facts;
}

// The table of docs/tagging.md, row by row.
TEST_CASE("DecideStage follows the documented transitions", "[unit]") {
  struct Case {
    const char* rule;
    LifecycleStage current;
    LifecycleFacts facts;
    LifecycleStage expected;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"L4 first interaction", kNew, Interaction(InteractionKind::kContactAdd, 0), kNew,
       "first_interaction"},
      {"L4 first message", kNew, Interaction(InteractionKind::kMessageText, 0), kNew,
       "first_interaction"},
      {"L5 message after", kNew, Interaction(InteractionKind::kMessageText, 1), kEngaged,
       "engagement"},
      {"L5 menu click", kNew, Interaction(InteractionKind::kMenuClick, 2), kEngaged, "engagement"},
      {"L5 scan", kNew, Interaction(InteractionKind::kScan, 2), kEngaged, "engagement"},
      {"L5 subscribe", kNew, Interaction(InteractionKind::kSubscribe, 2), kEngaged, "engagement"},
      {"L5 customer stays", kCustomer, Interaction(InteractionKind::kMessageText, 9, 1), kCustomer,
       "engagement"},
      {"L5 repeat stays", kRepeat, Interaction(InteractionKind::kMessageText, 9, 3), kRepeat,
       "engagement"},
      {"L3 first paid order", kEngaged, PaidOrder(1), kCustomer, "paid_order"},
      {"L3 second paid order", kCustomer, PaidOrder(2), kRepeat, "paid_order"},
      {"L3 third paid order", kRepeat, PaidOrder(3), kRepeat, "paid_order"},
      {"L3 order from at_risk", kAtRisk, PaidOrder(1), kCustomer, "paid_order"},
      {"L1 unsubscribe", kEngaged, Leave(InteractionKind::kUnsubscribe, ""), kLost,
       "oa.unsubscribe"},
      {"L1 del_external_contact", kCustomer, Leave(InteractionKind::kContactDelete, "zhangsan"),
       kLost, "contact.delete"},
      {"L1 del_follow_user", kRepeat, Leave(InteractionKind::kFollowUserDelete, "lisi"), kLost,
       "contact.follow_user_delete"},
      {"L2 still connected", kCustomer,
       Leave(InteractionKind::kFollowUserDelete, "lisi", /*still_connected=*/true), kCustomer, ""},
      {"L5 re-activated after lost", kLost, Interaction(InteractionKind::kContactAdd, 7), kEngaged,
       "reactivated"},
      {"L5 re-activated after at_risk", kAtRisk, Interaction(InteractionKind::kMessageText, 7),
       kEngaged, "reactivated"},
      {"L5 re-activated customer", kLost, Interaction(InteractionKind::kSubscribe, 7, 2), kRepeat,
       "reactivated"},
      {"L6 platform report", kEngaged, Interaction(InteractionKind::kMassSendFinish, 4), kEngaged,
       ""},
      {"L6 staff edit", kLost, Interaction(InteractionKind::kContactEdit, 4), kLost, ""},
  };
  for (const Case& c : cases) {
    INFO(c.rule);
    const StageTransition t = DecideStage(c.current, c.facts);
    CHECK(t.stage == c.expected);
    CHECK(t.changed == (c.expected != c.current));
    CHECK(t.reason == c.reason);
    CHECK(NextStage(c.current, c.facts) == c.expected);
  }
}

TEST_CASE("DecideStage records the staff member when a contact deletion makes a customer lost",
          "[unit]") {
  const StageTransition t =
      DecideStage(kEngaged, Leave(InteractionKind::kContactDelete, "zhangsan"));
  CHECK(t.stage == kLost);
  CHECK(t.reason == "contact.delete");
  CHECK(t.staff_userid == "zhangsan");
}

TEST_CASE("StageAfterInactivity moves active stages to at_risk when the threshold is reached",
          "[unit]") {
  struct Case {
    LifecycleStage current;
    int64_t days;
    int threshold;
    LifecycleStage expected;
  };
  const std::vector<Case> cases = {
      {kEngaged, 29, 30, kEngaged}, {kEngaged, 30, 30, kAtRisk}, {kNew, 45, 30, kAtRisk},
      {kCustomer, 31, 30, kAtRisk}, {kRepeat, 90, 60, kAtRisk},  {kRepeat, 59, 60, kRepeat},
      {kAtRisk, 400, 30, kAtRisk},  {kLost, 400, 30, kLost},     {kEngaged, 400, 0, kEngaged},
  };
  for (const Case& c : cases) {
    INFO(model::LifecycleStageName(c.current) << " after " << c.days << " of " << c.threshold);
    CHECK(StageAfterInactivity(c.current, c.days, c.threshold) == c.expected);
  }
  CHECK(StageAfterInactivity(kEngaged, kDefaultAtRiskDays) == kAtRisk);
}

TEST_CASE("LifecycleStageName round-trips every stage", "[unit]") {
  for (LifecycleStage s : {kNew, kEngaged, kCustomer, kRepeat, kAtRisk, kLost}) {
    CHECK(model::ParseLifecycleStage(model::LifecycleStageName(s)) == s);
  }
  CHECK(model::LifecycleStageName(kAtRisk) == "at_risk");
  CHECK_FALSE(model::ParseLifecycleStage("vip"));
}

}  // namespace
}  // namespace scrm::tagger
