// The `log` section: keys, spellings and checks.
#include "src/config/log_config.h"

#include "src/config/sections.h"

namespace scrm::config::internal {
namespace {

constexpr EnumName<core::LogFormat> kLogFormatNames[] = {{"text", core::LogFormat::kText},
                                                         {"json", core::LogFormat::kJson}};

const Field<LogConfig> kLogFields[] = {
    {"level", &LogConfig::level},
    {"format", &LogConfig::format},
};

core::Status CheckLog(const Checks& checks, const Config& config) {
  auto level = core::ParseLogLevel(config.log.level);
  if (!level.ok()) return checks.Fail("log.level", level.status().message());
  return core::OkStatus();
}

}  // namespace

std::span<const EnumName<core::LogFormat>> NamesOf(core::LogFormat) { return kLogFormatNames; }

const Section<LogConfig>& LogSection() {
  static const Section<LogConfig> section = {"log", kLogFields, &CheckLog};
  return section;
}

}  // namespace scrm::config::internal
