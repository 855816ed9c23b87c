// The `lifecycle` section of the service configuration: the stage sweep. Parsed and validated by
// lifecycle_config.cc (see config.h for sources and error messages).
#pragma once

namespace scrm::config {

// The lifecycle sweep (docs/tagging.md rule L7): an outbox job, kind "stagesweep", run every
// sweep_interval_s, moves new / engaged / customer / repeat customers without an interaction for
// at_risk_days to at_risk.
struct LifecycleConfig {
  int at_risk_days = 30;        // 1..3650
  int sweep_interval_s = 3600;  // 1..86400
};

}  // namespace scrm::config
