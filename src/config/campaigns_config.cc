// The `campaigns` section: keys and ranges.
#include "src/config/campaigns_config.h"

#include "src/config/sections.h"

namespace scrm::config::internal {
namespace {

const Field<CampaignsConfig> kCampaignsFields[] = {
    {"approval", &CampaignsConfig::approval, {}},
    {"monthly_cap", &CampaignsConfig::monthly_cap, {0, 1000}},
    {"freeze_chunk", &CampaignsConfig::freeze_chunk, {100, 100000}},
    {"max_audience", &CampaignsConfig::max_audience, {1, 10000000}},
};

core::Status CheckCampaigns(const Checks& checks, const Config& config) {
  const std::string& approval = config.campaigns.approval;
  if (approval != "required" && approval != "off") {
    return KeyError("campaigns.approval", "must be \"required\" or \"off\"");
  }
  return checks.CheckRanges<CampaignsConfig>(kCampaignsFields, "campaigns", config.campaigns);
}

}  // namespace

const Section<CampaignsConfig>& CampaignsSection() {
  static const Section<CampaignsConfig> section = {"campaigns", kCampaignsFields, &CheckCampaigns};
  return section;
}

}  // namespace scrm::config::internal
