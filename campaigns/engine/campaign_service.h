// CampaignService: campaigns as /api/v1/campaigns manages them (docs/campaigns.md): create and
// edit drafts (checked against the accounts, the saved segment and the template, whose channel
// must fit the campaign kind), move them through the lifecycle (lifecycle.h) with the approval
// rule and an audit row per transition naming the actor, forecast them, and freeze them at
// launch (planner.h). It does not send: the dispatcher reads the running campaigns' deliveries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "campaigns/engine/lifecycle.h"
#include "campaigns/engine/planner.h"
#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/campaign.h"
#include "src/model/platform.h"
#include "src/storage/campaign_store.h"
#include "src/storage/segment_store.h"
#include "src/storage/template_store.h"

namespace scrm::campaigns {

inline constexpr size_t kMaxCampaignNameBytes = 128;
inline constexpr size_t kMaxNoteBytes = 1024;
// The actor of the transitions the due-schedule check makes (campaign_scheduler.h).
inline constexpr char kSchedulerActor[] = "scheduler";

// What a client saves (POST, or PUT of a draft).
struct CampaignInput {
  std::string name;  // 1..kMaxCampaignNameBytes, no control characters
  model::CampaignKind kind = model::CampaignKind::kWecomGroup;
  std::string account_id;
  int64_t segment_id = 0;
  int64_t template_id = 0;
  int64_t schedule_at_ms = 0;  // 0 = at launch
  std::string options_json = "{}";
};

// The arguments of one transition.
struct TransitionArgs {
  std::optional<int> expected_version;    // compare-and-set when given
  std::string note;                       // kept in the audit row (a rejection's reason)
  std::optional<int64_t> schedule_at_ms;  // schedule: replaces the campaign's when given
};

struct CampaignServiceOptions {
  // config campaigns.approval == "required".
  bool approval_required = true;
  // The configured accounts and their platforms: wecom_group needs a WeCom one, the others an OA.
  std::map<std::string, model::Platform> accounts;
};

// Thread-safety: any thread; every change is a compare-and-set on the campaign's version in the
// store, so two concurrent changes cannot both apply. Does not own what it is given.
class CampaignService {
 public:
  CampaignService(storage::CampaignStore& store, storage::SegmentStore& segments,
                  storage::TemplateStore& templates, const CampaignPlanner& planner,
                  const core::Clock& clock, CampaignServiceOptions options)
      : store_(store),
        segments_(segments),
        templates_(templates),
        planner_(planner),
        clock_(clock),
        options_(std::move(options)) {}

  // A new draft at version 1, created_by = actor, naming the segment's and template's current
  // versions. InvalidArgument naming the member at fault ("account_id: no OA account \"x\"",
  // "template_id: channel oa_template does not fit kind wecom_group", "options.…").
  core::StatusOr<model::Campaign> Create(const CampaignInput& input, const std::string& actor);
  // Replaces a draft's members (segment and template versions taken again). As Create, plus
  // NotFound; FailedPrecondition when it is not a draft or not at expected_version.
  core::StatusOr<model::Campaign> Update(int64_t id, const CampaignInput& input,
                                         std::optional<int> expected_version);
  core::StatusOr<model::Campaign> Get(int64_t id) const;  // NotFound
  core::StatusOr<std::vector<model::Campaign>> List(std::optional<model::CampaignState> state,
                                                    int64_t after, size_t limit) const;
  core::StatusOr<std::vector<model::CampaignAuditEntry>> Audit(int64_t id) const;  // NotFound

  // Applies `action` as `actor`. FailedPrecondition "campaign is running: cannot submit" for a
  // move the lifecycle does not have, or when expected_version is stale; PermissionDenied when
  // the actor approves (or rejects) a campaign it created; InvalidArgument for a schedule not in
  // the future or a note over kMaxNoteBytes. launch freezes the plan first (planner.h errors);
  // a launch interrupted before its transition leaves the campaign where it was, and launching
  // again finishes the freeze without duplicates.
  core::StatusOr<model::Campaign> Apply(int64_t id, CampaignAction action, const std::string& actor,
                                        const TransitionArgs& args);

  // The forecast of a campaign (planner.h MakeForecast).
  core::StatusOr<Forecast> MakeForecast(int64_t id, size_t page_size) const;

  bool approval_required() const { return options_.approval_required; }

 private:
  core::Status Validate(const CampaignInput& input, model::Campaign& into) const;

  storage::CampaignStore& store_;
  storage::SegmentStore& segments_;
  storage::TemplateStore& templates_;
  const CampaignPlanner& planner_;
  const core::Clock& clock_;
  CampaignServiceOptions options_;
};

}  // namespace scrm::campaigns
