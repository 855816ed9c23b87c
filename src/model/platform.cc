#include "src/model/platform.h"

namespace scrm::model {

std::string_view PlatformName(Platform platform) {
  return platform == Platform::kWecom ? "wecom" : "oa";
}

std::optional<Platform> ParsePlatform(std::string_view name) {
  if (name == "wecom") return Platform::kWecom;
  if (name == "oa") return Platform::kOfficialAccount;
  return std::nullopt;
}

}  // namespace scrm::model
