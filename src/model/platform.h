// Platform: which WeChat platform an account, an interaction or a customer identity belongs to.
// The one enum every module uses (config's `accounts[].platform`, the clients, the adapters).
#pragma once

#include <optional>
#include <string_view>

namespace scrm::model {

enum class Platform { kWecom, kOfficialAccount };

// "wecom" | "oa": the spelling in config files, stored rows and API filters.
std::string_view PlatformName(Platform platform);
std::optional<Platform> ParsePlatform(std::string_view name);

}  // namespace scrm::model
