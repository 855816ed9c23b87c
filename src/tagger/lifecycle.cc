#include "src/tagger/lifecycle.h"

#include <utility>

namespace scrm::tagger {
namespace {

using model::InteractionKind;
using model::LifecycleStage;

// The stage a customer's paid orders earn once they are active.
LifecycleStage ActiveStage(int64_t paid_orders) {
  if (paid_orders >= 2) return LifecycleStage::kRepeat;
  if (paid_orders == 1) return LifecycleStage::kCustomer;
  return LifecycleStage::kEngaged;
}

bool IsDormant(LifecycleStage stage) {
  return stage == LifecycleStage::kAtRisk || stage == LifecycleStage::kLost;
}

StageTransition Move(LifecycleStage current, LifecycleStage next, std::string reason,
                     std::string staff_userid = {}) {
  return StageTransition{next, next != current, std::move(reason), std::move(staff_userid)};
}

StageTransition Stay(LifecycleStage current) { return StageTransition{current, false, {}, {}}; }

}  // namespace

bool IsLeaveKind(InteractionKind kind) {
  return kind == InteractionKind::kUnsubscribe || kind == InteractionKind::kContactDelete ||
         kind == InteractionKind::kFollowUserDelete;
}

bool IsEngagementKind(InteractionKind kind) {
  switch (kind) {
    case InteractionKind::kMessageText:
    case InteractionKind::kMessageImage:
    case InteractionKind::kMessageVoice:
    case InteractionKind::kMessageVideo:
    case InteractionKind::kMessageLocation:
    case InteractionKind::kMessageLink:
    case InteractionKind::kSubscribe:
    case InteractionKind::kScan:
    case InteractionKind::kMenuClick:
    case InteractionKind::kMenuView:
    case InteractionKind::kEnterAgent:
    case InteractionKind::kContactAdd:
    case InteractionKind::kContactAddHalf: return true;
    default: return false;
  }
}

StageTransition DecideStage(LifecycleStage current, const LifecycleFacts& facts) {
  if (facts.paid_order) {
    // L3: a paid order makes a customer, the second one a repeat customer.
    return Move(current, ActiveStage(facts.paid_orders < 1 ? 1 : facts.paid_orders), "paid_order");
  }
  if (IsLeaveKind(facts.kind)) {
    // L1/L2: leaving ends the relationship unless another channel still reaches them.
    if (facts.still_connected) return Stay(current);
    return Move(current, LifecycleStage::kLost, std::string(model::KindName(facts.kind)),
                facts.staff_userid);
  }
  if (!IsEngagementKind(facts.kind)) return Stay(current);  // L6
  if (facts.prior_interactions == 0 && facts.paid_orders == 0) {
    return Move(current, LifecycleStage::kNew, "first_interaction");  // L4
  }
  // L5: acting again engages; a dormant customer is re-activated to what their orders earn.
  return Move(current, ActiveStage(facts.paid_orders),
              IsDormant(current) ? "reactivated" : "engagement");
}

LifecycleStage NextStage(LifecycleStage current, const LifecycleFacts& facts) {
  return DecideStage(current, facts).stage;
}

LifecycleStage StageAfterInactivity(LifecycleStage current, int64_t days_inactive,
                                    int threshold_days) {
  if (threshold_days <= 0 || days_inactive < threshold_days || IsDormant(current)) return current;
  return LifecycleStage::kAtRisk;
}

}  // namespace scrm::tagger
