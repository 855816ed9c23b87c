// The `lifecycle` section: keys and ranges.
#include "src/config/lifecycle_config.h"

#include "src/config/sections.h"

namespace scrm::config::internal {
namespace {

const Field<LifecycleConfig> kLifecycleFields[] = {
    {"at_risk_days", &LifecycleConfig::at_risk_days, {1, 3650}},
    {"sweep_interval_s", &LifecycleConfig::sweep_interval_s, {1, 86400}},
};

core::Status CheckLifecycle(const Checks& checks, const Config& config) {
  return checks.CheckRanges<LifecycleConfig>(kLifecycleFields, "lifecycle", config.lifecycle);
}

}  // namespace

const Section<LifecycleConfig>& LifecycleSection() {
  static const Section<LifecycleConfig> section = {"lifecycle", kLifecycleFields, &CheckLifecycle};
  return section;
}

}  // namespace scrm::config::internal
