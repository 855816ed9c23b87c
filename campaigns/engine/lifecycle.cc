#include "campaigns/engine/lifecycle.h"

#include <array>
#include <string>
#include <utility>

namespace scrm::campaigns {
namespace {

using model::CampaignState;

constexpr std::array<std::pair<CampaignAction, std::string_view>, 9> kActions = {{
    {CampaignAction::kSubmit, "submit"},
    {CampaignAction::kApprove, "approve"},
    {CampaignAction::kReject, "reject"},
    {CampaignAction::kSchedule, "schedule"},
    {CampaignAction::kLaunch, "launch"},
    {CampaignAction::kPause, "pause"},
    {CampaignAction::kResume, "resume"},
    {CampaignAction::kCancel, "cancel"},
    {CampaignAction::kComplete, "complete"},
}};

std::optional<CampaignState> Move(CampaignState from, CampaignAction action,
                                  bool approval_required) {
  switch (action) {
    case CampaignAction::kSubmit:
      if (from != CampaignState::kDraft) return std::nullopt;
      return approval_required ? CampaignState::kPendingApproval : CampaignState::kApproved;
    case CampaignAction::kApprove:
      if (from != CampaignState::kPendingApproval) return std::nullopt;
      return CampaignState::kApproved;
    case CampaignAction::kReject:
      if (from != CampaignState::kPendingApproval) return std::nullopt;
      return CampaignState::kDraft;
    case CampaignAction::kSchedule:
      if (from != CampaignState::kApproved) return std::nullopt;
      return CampaignState::kScheduled;
    case CampaignAction::kLaunch:
      if (from != CampaignState::kApproved && from != CampaignState::kScheduled) {
        return std::nullopt;
      }
      return CampaignState::kRunning;
    case CampaignAction::kPause:
      if (from != CampaignState::kRunning) return std::nullopt;
      return CampaignState::kPaused;
    case CampaignAction::kResume:
      if (from != CampaignState::kPaused) return std::nullopt;
      return CampaignState::kRunning;
    case CampaignAction::kCancel:
      if (model::IsTerminal(from)) return std::nullopt;
      return CampaignState::kCancelled;
    case CampaignAction::kComplete:
      if (from != CampaignState::kRunning) return std::nullopt;
      return CampaignState::kCompleted;
  }
  return std::nullopt;
}

}  // namespace

std::string_view CampaignActionName(CampaignAction action) {
  for (const auto& [value, name] : kActions) {
    if (value == action) return name;
  }
  return "submit";
}

std::optional<CampaignAction> ParseCampaignAction(std::string_view name) {
  for (const auto& [value, text] : kActions) {
    if (text == name) return value;
  }
  return std::nullopt;
}

core::StatusOr<CampaignState> NextState(CampaignState from, CampaignAction action,
                                        bool approval_required) {
  const std::optional<CampaignState> to = Move(from, action, approval_required);
  if (!to) {
    return core::FailedPreconditionError("campaign is " +
                                         std::string(model::CampaignStateName(from)) + ": cannot " +
                                         std::string(CampaignActionName(action)));
  }
  return *to;
}

}  // namespace scrm::campaigns
