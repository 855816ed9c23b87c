// The campaign lifecycle as a pure table (docs/campaigns.md "Lifecycle"): which action moves a
// campaign from which state to which. No I/O; safe from any thread.
//
//   draft ──submit──► pending_approval ──approve──► approved ──schedule──► scheduled
//     ▲                     │reject                    │launch               │launch (due)
//     └─────────────────────┘                          ▼                     ▼
//   (approval "off": submit goes to approved)        running ◄──resume── paused
//                                                      │ ──pause──────────►
//                                                      ▼ complete (the dispatcher)
//                                                   completed
//   cancel: from any state but completed and cancelled.
#pragma once

#include <optional>
#include <string_view>

#include "src/core/status.h"
#include "src/model/campaign.h"

namespace scrm::campaigns {

enum class CampaignAction {
  kSubmit,    // "submit"
  kApprove,   // "approve"
  kReject,    // "reject"
  kSchedule,  // "schedule"
  kLaunch,    // "launch"
  kPause,     // "pause"
  kResume,    // "resume"
  kCancel,    // "cancel"
  kComplete,  // "complete": the dispatcher, once every delivery has an outcome
};

std::string_view CampaignActionName(CampaignAction action);
std::optional<CampaignAction> ParseCampaignAction(std::string_view name);

// The state `action` moves a campaign in `from` to. approval_required: whether submit goes to
// pending_approval (true) or straight to approved. FailedPrecondition "campaign is <from>: cannot
// <action>" for a move the table does not have (the API's code "failed_precondition").
core::StatusOr<model::CampaignState> NextState(model::CampaignState from, CampaignAction action,
                                               bool approval_required);

}  // namespace scrm::campaigns
