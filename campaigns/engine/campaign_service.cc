#include "campaigns/engine/campaign_service.h"

#include <string>
#include <utility>

#include "campaigns/engine/campaign_options.h"
#include "src/model/message_template.h"

namespace scrm::campaigns {
namespace {

using core::Status;
using core::StatusOr;

bool HasControl(const std::string& text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Which template channels a campaign kind sends (docs/campaigns.md "Kinds and templates").
bool ChannelFits(model::CampaignKind kind, model::TemplateChannel channel) {
  switch (kind) {
    case model::CampaignKind::kWecomGroup: return channel == model::TemplateChannel::kWecomMessage;
    case model::CampaignKind::kOaTemplate: return channel == model::TemplateChannel::kOaTemplate;
    case model::CampaignKind::kOaCustom:
    case model::CampaignKind::kOaMass:
      return channel == model::TemplateChannel::kOaCustomText ||
             channel == model::TemplateChannel::kOaCustomNews;
  }
  return false;
}

model::CampaignAuditEntry AuditOf(const model::Campaign& from, model::CampaignState to,
                                  const std::string& actor, int64_t at_ms, std::string note) {
  model::CampaignAuditEntry a;
  a.campaign_id = from.id;
  a.from_state = std::string(model::CampaignStateName(from.state));
  a.to_state = std::string(model::CampaignStateName(to));
  a.actor = actor;
  a.at_ms = at_ms;
  a.note = std::move(note);
  return a;
}

}  // namespace

Status CampaignService::Validate(const CampaignInput& input, model::Campaign& into) const {
  if (input.name.empty() || input.name.size() > kMaxCampaignNameBytes || HasControl(input.name)) {
    return core::InvalidArgumentError("name: must be 1.." + std::to_string(kMaxCampaignNameBytes) +
                                      " bytes without control characters");
  }
  const auto account = options_.accounts.find(input.account_id);
  const bool wants_wecom = input.kind == model::CampaignKind::kWecomGroup;
  if (account == options_.accounts.end() ||
      (account->second == model::Platform::kWecom) != wants_wecom) {
    return core::InvalidArgumentError(std::string("account_id: no ") +
                                      (wants_wecom ? "WeCom" : "OA") + " account \"" +
                                      input.account_id + "\"");
  }
  if (input.schedule_at_ms < 0) {
    return core::InvalidArgumentError("schedule_at_ms: must be 0 or a unix time in ms");
  }
  SCRM_ASSIGN_OR_RETURN(CampaignOptions options, ParseCampaignOptions(input.options_json));
  auto segment = segments_.Get(input.segment_id);
  if (!segment.ok()) {
    if (segment.status().code() != core::StatusCode::kNotFound) return segment.status();
    return core::InvalidArgumentError("segment_id: no segment " + std::to_string(input.segment_id));
  }
  auto tmpl = templates_.Get(input.template_id);
  if (!tmpl.ok()) {
    if (tmpl.status().code() != core::StatusCode::kNotFound) return tmpl.status();
    return core::InvalidArgumentError("template_id: no template " +
                                      std::to_string(input.template_id));
  }
  if (!tmpl->enabled) {
    return core::InvalidArgumentError("template_id: template \"" + tmpl->name + "\" is disabled");
  }
  const auto channel = model::ParseTemplateChannel(tmpl->channel);
  if (!channel || !ChannelFits(input.kind, *channel)) {
    return core::InvalidArgumentError("template_id: channel " + tmpl->channel +
                                      " does not fit kind " +
                                      std::string(model::CampaignKindName(input.kind)));
  }
  into.name = input.name;
  into.kind = input.kind;
  into.account_id = input.account_id;
  into.segment_id = segment->id;
  into.segment_version = segment->version;
  into.template_id = tmpl->id;
  into.template_version = tmpl->version;
  into.schedule_at_ms = input.schedule_at_ms;
  into.options_json = CampaignOptionsToJson(options);
  return core::OkStatus();
}

StatusOr<model::Campaign> CampaignService::Create(const CampaignInput& input,
                                                  const std::string& actor) {
  model::Campaign campaign;
  SCRM_RETURN_IF_ERROR(Validate(input, campaign));
  const int64_t now = clock_.NowUnixMillis();
  campaign.state = model::CampaignState::kDraft;
  campaign.created_by = actor;
  campaign.created_at_ms = now;
  campaign.updated_at_ms = now;
  model::CampaignAuditEntry audit;
  audit.to_state = "draft";
  audit.actor = actor;
  audit.at_ms = now;
  audit.note = "created";
  return store_.Insert(campaign, audit);
}

StatusOr<model::Campaign> CampaignService::Update(int64_t id, const CampaignInput& input,
                                                  std::optional<int> expected_version) {
  SCRM_ASSIGN_OR_RETURN(model::Campaign campaign, store_.Get(id));
  if (campaign.state != model::CampaignState::kDraft) {
    return core::FailedPreconditionError("campaign is " +
                                         std::string(model::CampaignStateName(campaign.state)) +
                                         ": only a draft can be edited");
  }
  const int version = expected_version.value_or(campaign.version);
  SCRM_RETURN_IF_ERROR(Validate(input, campaign));
  campaign.updated_at_ms = clock_.NowUnixMillis();
  return store_.Save(campaign, version, model::CampaignState::kDraft, std::nullopt);
}

StatusOr<model::Campaign> CampaignService::Get(int64_t id) const { return store_.Get(id); }

StatusOr<std::vector<model::Campaign>> CampaignService::List(
    std::optional<model::CampaignState> state, int64_t after, size_t limit) const {
  return store_.List(state, after, limit);
}

StatusOr<std::vector<model::CampaignAuditEntry>> CampaignService::Audit(int64_t id) const {
  SCRM_RETURN_IF_ERROR(store_.Get(id).status());
  return store_.ListAudit(id);
}

StatusOr<model::Campaign> CampaignService::Apply(int64_t id, CampaignAction action,
                                                 const std::string& actor,
                                                 const TransitionArgs& args) {
  if (args.note.size() > kMaxNoteBytes) {
    return core::InvalidArgumentError("note: at most " + std::to_string(kMaxNoteBytes) + " bytes");
  }
  SCRM_ASSIGN_OR_RETURN(model::Campaign current, store_.Get(id));
  if (args.expected_version && *args.expected_version != current.version) {
    return core::FailedPreconditionError("campaign " + std::to_string(id) + " is at version " +
                                         std::to_string(current.version) + ", not " +
                                         std::to_string(*args.expected_version));
  }
  SCRM_ASSIGN_OR_RETURN(model::CampaignState to,
                        NextState(current.state, action, options_.approval_required));
  const int64_t now = clock_.NowUnixMillis();
  model::Campaign next = current;
  next.state = to;
  next.updated_at_ms = now;
  std::string note = args.note;
  switch (action) {
    case CampaignAction::kSubmit:
      if (!options_.approval_required) note = note.empty() ? "approval off" : note;
      break;
    case CampaignAction::kApprove:
    case CampaignAction::kReject:
      // The four-eyes rule (docs/campaigns.md "Approval"): the creator never decides alone.
      if (actor == current.created_by) {
        return core::PermissionDeniedError("the creator of a campaign cannot " +
                                           std::string(CampaignActionName(action)) + " it");
      }
      if (action == CampaignAction::kApprove) next.approved_by = actor;
      break;
    case CampaignAction::kSchedule: {
      next.schedule_at_ms = args.schedule_at_ms.value_or(current.schedule_at_ms);
      if (next.schedule_at_ms <= now) {
        return core::InvalidArgumentError("schedule_at_ms: must be in the future");
      }
      break;
    }
    case CampaignAction::kLaunch: {
      // Rows first, transition after: a crash in between leaves the campaign approved or
      // scheduled, and the next launch adds only the missing rows (DeliveryStore::InsertChunk).
      SCRM_ASSIGN_OR_RETURN(FreezeReport report, planner_.Freeze(current));
      next.launched_at_ms = now;
      if (note.empty()) {
        note = "frozen: " + std::to_string(report.total) + " deliveries of an audience of " +
               std::to_string(report.audience);
      }
      break;
    }
    case CampaignAction::kComplete:
    case CampaignAction::kCancel: next.completed_at_ms = now; break;
    case CampaignAction::kPause:
    case CampaignAction::kResume: break;
  }
  return store_.Save(next, current.version, current.state,
                     AuditOf(current, to, actor, now, std::move(note)));
}

StatusOr<Forecast> CampaignService::MakeForecast(int64_t id, size_t page_size) const {
  SCRM_ASSIGN_OR_RETURN(model::Campaign campaign, store_.Get(id));
  return planner_.MakeForecast(campaign, page_size);
}

}  // namespace scrm::campaigns
