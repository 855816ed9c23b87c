// CampaignOptions: what marketing sets per campaign (campaigns.options_json, docs/campaigns.md
// "Options"): the frequency cap across campaigns, the opt-out tag, the attribution window.
// Parsing is strict (unknown members, wrong types and out-of-range values are InvalidArgument
// naming the member); pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/core/status.h"

namespace scrm::campaigns {

inline constexpr size_t kMaxOptionsBytes = 4096;

struct CampaignOptions {
  // A customer who got frequency_cap_max campaign messages (of other campaigns) in the last
  // frequency_cap_hours is skipped (frequency_cap). max 0 = no cap. max 0..100, hours 1..8760.
  int frequency_cap_max = 0;
  int frequency_cap_hours = 168;
  // "group/name" of a tag whose holders are skipped (opted_out); "" = none. At most 256 bytes.
  std::string opt_out_tag;
  // How long after a send a click, reply or new contact is credited to the campaign (the
  // dispatcher's attribution). 1..720 hours.
  int attribution_window_hours = 72;

  friend bool operator==(const CampaignOptions&, const CampaignOptions&) = default;
};

// Parses {"frequency_cap": {"max": 2, "window_hours": 168}, "opt_out_tag": "...",
// "attribution_window_hours": 72}; every member optional; "" or "{}" = the defaults.
// InvalidArgument "options.frequency_cap.max: must be 0..100" and the like.
core::StatusOr<CampaignOptions> ParseCampaignOptions(std::string_view json_text);
// The JSON text ParseCampaignOptions reads back to `options` (every member written).
std::string CampaignOptionsToJson(const CampaignOptions& options);

}  // namespace scrm::campaigns
