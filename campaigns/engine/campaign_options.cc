#include "campaigns/engine/campaign_options.h"

#include <nlohmann/json.hpp>

namespace scrm::campaigns {
namespace {

using nlohmann::json;

core::StatusOr<int> IntIn(const json& value, const std::string& path, int min, int max) {
  if (!value.is_number_integer()) return core::InvalidArgumentError(path + ": must be an integer");
  const int64_t v = value.get<int64_t>();
  if (v < min || v > max) {
    return core::InvalidArgumentError(path + ": must be " + std::to_string(min) + ".." +
                                      std::to_string(max));
  }
  return static_cast<int>(v);
}

}  // namespace

core::StatusOr<CampaignOptions> ParseCampaignOptions(std::string_view json_text) {
  CampaignOptions options;
  if (json_text.empty()) return options;
  if (json_text.size() > kMaxOptionsBytes) {
    return core::InvalidArgumentError("options: at most " + std::to_string(kMaxOptionsBytes) +
                                      " bytes");
  }
  const json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return core::InvalidArgumentError("options: must be a JSON object");
  }
  for (const auto& [key, value] : doc.items()) {
    if (key == "frequency_cap") {
      if (!value.is_object()) {
        return core::InvalidArgumentError("options.frequency_cap: must be an object");
      }
      for (const auto& [cap_key, cap_value] : value.items()) {
        if (cap_key == "max") {
          SCRM_ASSIGN_OR_RETURN(options.frequency_cap_max,
                                IntIn(cap_value, "options.frequency_cap.max", 0, 100));
        } else if (cap_key == "window_hours") {
          SCRM_ASSIGN_OR_RETURN(options.frequency_cap_hours,
                                IntIn(cap_value, "options.frequency_cap.window_hours", 1, 8760));
        } else {
          return core::InvalidArgumentError("options.frequency_cap." + cap_key +
                                            ": unknown member");
        }
      }
    } else if (key == "opt_out_tag") {
      if (!value.is_string()) {
        return core::InvalidArgumentError("options.opt_out_tag: must be a string");
      }
      options.opt_out_tag = value.get<std::string>();
      if (options.opt_out_tag.size() > 256) {
        return core::InvalidArgumentError("options.opt_out_tag: at most 256 bytes");
      }
      if (!options.opt_out_tag.empty() && options.opt_out_tag.find('/') == std::string::npos) {
        return core::InvalidArgumentError("options.opt_out_tag: must be \"group/name\"");
      }
    } else if (key == "attribution_window_hours") {
      SCRM_ASSIGN_OR_RETURN(options.attribution_window_hours,
                            IntIn(value, "options.attribution_window_hours", 1, 720));
    } else {
      return core::InvalidArgumentError("options." + key + ": unknown member");
    }
  }
  return options;
}

std::string CampaignOptionsToJson(const CampaignOptions& options) {
  const json doc = {
      {"frequency_cap",
       {{"max", options.frequency_cap_max}, {"window_hours", options.frequency_cap_hours}}},
      {"opt_out_tag", options.opt_out_tag},
      {"attribution_window_hours", options.attribution_window_hours}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace scrm::campaigns
