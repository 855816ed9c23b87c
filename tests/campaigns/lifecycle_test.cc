#include "campaigns/engine/lifecycle.h"

#include <catch2/catch.hpp>
#include <map>
#include <utility>

namespace scrm::campaigns {
namespace {

using model::CampaignState;
using S = CampaignState;
using A = CampaignAction;

constexpr S kAllStates[] = {S::kDraft,   S::kPendingApproval, S::kApproved,  S::kScheduled,
                            S::kRunning, S::kPaused,          S::kCompleted, S::kCancelled};
constexpr A kAllActions[] = {A::kSubmit, A::kApprove, A::kReject, A::kSchedule, A::kLaunch,
                             A::kPause,  A::kResume,  A::kCancel, A::kComplete};

// The legal moves with approval required; everything else is refused.
const std::map<std::pair<S, A>, S>& LegalMoves() {
  static const std::map<std::pair<S, A>, S> moves = {
      {{S::kDraft, A::kSubmit}, S::kPendingApproval},
      {{S::kPendingApproval, A::kApprove}, S::kApproved},
      {{S::kPendingApproval, A::kReject}, S::kDraft},
      {{S::kApproved, A::kSchedule}, S::kScheduled},
      {{S::kApproved, A::kLaunch}, S::kRunning},
      {{S::kScheduled, A::kLaunch}, S::kRunning},
      {{S::kRunning, A::kPause}, S::kPaused},
      {{S::kPaused, A::kResume}, S::kRunning},
      {{S::kRunning, A::kComplete}, S::kCompleted},
      {{S::kDraft, A::kCancel}, S::kCancelled},
      {{S::kPendingApproval, A::kCancel}, S::kCancelled},
      {{S::kApproved, A::kCancel}, S::kCancelled},
      {{S::kScheduled, A::kCancel}, S::kCancelled},
      {{S::kRunning, A::kCancel}, S::kCancelled},
      {{S::kPaused, A::kCancel}, S::kCancelled},
  };
  return moves;
}

TEST_CASE("NextState allows exactly the lifecycle's moves when approval is required", "[unit]") {
  int legal = 0;
  for (S from : kAllStates) {
    for (A action : kAllActions) {
      const auto next = NextState(from, action, true);
      const auto it = LegalMoves().find({from, action});
      INFO(model::CampaignStateName(from) << " " << CampaignActionName(action));
      if (it == LegalMoves().end()) {
        REQUIRE_FALSE(next.ok());
        CHECK(next.status().code() == core::StatusCode::kFailedPrecondition);
        CHECK(next.status().message() == "campaign is " +
                                             std::string(model::CampaignStateName(from)) +
                                             ": cannot " + std::string(CampaignActionName(action)));
      } else {
        REQUIRE(next.ok());
        CHECK(*next == it->second);
        ++legal;
      }
    }
  }
  CHECK(legal == static_cast<int>(LegalMoves().size()));
}

TEST_CASE("NextState submits straight to approved when approval is off", "[unit]") {
  CHECK(NextState(S::kDraft, A::kSubmit, false).value() == S::kApproved);
  // Nothing is ever pending then, so approve and reject stay refused from every other state.
  CHECK(NextState(S::kApproved, A::kApprove, false).status().code() ==
        core::StatusCode::kFailedPrecondition);
}

TEST_CASE("Campaign action names read back", "[unit]") {
  for (A action : kAllActions) {
    CHECK(ParseCampaignAction(CampaignActionName(action)) == action);
  }
  CHECK_FALSE(ParseCampaignAction("explode").has_value());
  for (S state : kAllStates) {
    CHECK(model::ParseCampaignState(model::CampaignStateName(state)) == state);
  }
}

}  // namespace
}  // namespace scrm::campaigns
