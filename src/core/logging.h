// Logger construction. Loggers are built once in main and passed to whoever logs.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

#include "src/core/status.h"

namespace scrm::core {

enum class LogFormat { kText, kJson };

struct LogOptions {
  std::string level = "info";  // trace|debug|info|warn|error|critical|off
  LogFormat format = LogFormat::kText;
};

// Parses "info", "warn", ... into an spdlog level; InvalidArgument for anything else.
StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view name);

// A logger named `name` writing to stderr in the given format. JSON lines carry
// ts, level, logger and msg (escaped). Not registered in spdlog's global registry.
std::shared_ptr<spdlog::logger> MakeLogger(const std::string& name, const LogOptions& options);

// A logger that drops everything (tests, tools).
std::shared_ptr<spdlog::logger> MakeNullLogger(const std::string& name = "null");

}  // namespace scrm::core
