// Lifecycle stage rules: new → engaged → customer → repeat → at_risk → lost, computed from a
// customer's interactions and paid orders. The rules are the table in docs/tagging.md; change
// both together. Pure functions: the profile service gathers the facts and stores the stage.
#pragma once

#include <cstdint>
#include <string>

#include "src/model/interaction.h"
#include "src/model/tag_rule.h"

namespace scrm::tagger {

// Days without an interaction after which the periodic sweep marks a customer at_risk.
inline constexpr int kDefaultAtRiskDays = 30;

// What happened to the customer, and what the profile service knows around it.
struct LifecycleFacts {
  // The interaction's kind; ignored when `paid_order` is set.
  model::InteractionKind kind = model::InteractionKind::kUnknown;
  bool paid_order = false;         // the event is an order being paid
  int64_t prior_interactions = 0;  // the customer's interactions before this event
  int64_t paid_orders = 0;         // the customer's paid orders, this event's order included
  // On a leave event: true when the customer is still reachable (another WeCom member still
  // follows them, or they still follow the Official Account), so the relationship is not lost.
  bool still_connected = false;
  std::string staff_userid;  // UserID of the WeCom member in a contact event (ExternalUserID's)
};

// The stage after an event and why: reason is a stable token for the timeline —
// "first_interaction", "engagement", "reactivated", "paid_order", "inactive", or for lost the
// kind that caused it ("oa.unsubscribe", "contact.delete", "contact.follow_user_delete"), with
// the staff member in staff_userid.
struct StageTransition {
  model::LifecycleStage stage = model::LifecycleStage::kNew;
  bool changed = false;
  std::string reason;
  std::string staff_userid;
};

// True for the kinds that end the relationship: oa.unsubscribe, contact.delete
// (del_external_contact), contact.follow_user_delete (del_follow_user).
bool IsLeaveKind(model::InteractionKind kind);
// True for the kinds that are the customer acting: messages, subscribe, scan, menu clicks,
// entering the WeCom agent, adding a member as contact. Platform reports (send finishes,
// location reports), staff-side edits, group and tag events are not.
bool IsEngagementKind(model::InteractionKind kind);

// The transition for one event (rules L1–L6 in docs/tagging.md).
StageTransition DecideStage(model::LifecycleStage current, const LifecycleFacts& facts);

// DecideStage(current, facts).stage.
model::LifecycleStage NextStage(model::LifecycleStage current, const LifecycleFacts& facts);

// The periodic sweep (rule L7): new, engaged, customer and repeat become at_risk after
// `threshold_days` days without an interaction; at_risk and lost stay. threshold_days <= 0
// turns the sweep off.
model::LifecycleStage StageAfterInactivity(model::LifecycleStage current, int64_t days_inactive,
                                           int threshold_days = kDefaultAtRiskDays);

}  // namespace scrm::tagger
