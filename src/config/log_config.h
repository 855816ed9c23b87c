// The `log` section of the service configuration (parsed by log_config.cc; see config.h).
#pragma once

#include <string>

#include "src/core/logging.h"

namespace scrm::config {

// `log`: where and how the service logs.
struct LogConfig {
  std::string level = "info";                       // trace|debug|info|warn|error|critical|off
  core::LogFormat format = core::LogFormat::kText;  // "text" | "json"
};

}  // namespace scrm::config
