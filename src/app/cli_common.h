// What the scrmd subcommands share (src/app): the exit codes, the --config / --secrets flags,
// the one-line error, the config load and the database open of a command beside serve. Defined
// in main.cc.
#pragma once

#include <memory>
#include <string>

#include "src/config/config.h"
#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/storage/database.h"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace scrm::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfig = 2;

struct CommonFlags {
  std::string config_file;
  std::string secrets_file;
};

// Errors go to stderr as one line, so operators and scripts see exactly what is wrong; returns
// `code`.
int Fail(int code, const std::string& what);

// The config file, secrets file and SCRMD_* environment, validated.
core::StatusOr<config::Config> LoadConfigFrom(const CommonFlags& flags);

// The main database for a command that may run beside serve (no checkpointer, no migration
// while serve holds the store).
core::StatusOr<std::unique_ptr<storage::Database>> OpenForCommand(const config::Config& cfg,
                                                                  const core::Clock& clock,
                                                                  spdlog::logger& log);

}  // namespace scrm::app
