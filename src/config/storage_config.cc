// The `storage` section: keys, ranges and the checks across them.
#include "src/config/storage_config.h"

#include <filesystem>
#include <string>

#include "src/config/sections.h"

namespace scrm::config::internal {
namespace {

const Field<StorageConfig> kStorageFields[] = {
    {"path", &StorageConfig::path},
    {"inbox_path", &StorageConfig::inbox_path},
    {"synchronous", &StorageConfig::synchronous},
    {"read_connections", &StorageConfig::read_connections, {1, 64}},
    {"busy_timeout_ms", &StorageConfig::busy_timeout_ms, {0, 600000}},
};

core::Status CheckStorage(const Checks& checks, const Config& config) {
  constexpr std::string_view kModes[] = {"normal", "full"};
  if (config.storage.synchronous != kModes[0] && config.storage.synchronous != kModes[1]) {
    return checks.Fail("storage.synchronous", "must be " + Alternatives(kModes));
  }
  // Two Database objects on one file would be two writers fighting over one lock, and the
  // inbox migration would copy a table onto itself.
  const std::string main_path = config.DatabasePath();
  if (main_path != ":memory:" &&
      std::filesystem::path(config.InboxDatabasePath()).lexically_normal() ==
          std::filesystem::path(main_path).lexically_normal()) {
    return checks.Fail("storage.inbox_path", "must differ from the database path");
  }
  return checks.CheckRanges<StorageConfig>(kStorageFields, "storage", config.storage);
}

}  // namespace

const Section<StorageConfig>& StorageSection() {
  static const Section<StorageConfig> section = {"storage", kStorageFields, &CheckStorage};
  return section;
}

}  // namespace scrm::config::internal
