// The `storage` section of the service configuration: the SQLite databases. Parsed and validated
// by storage_config.cc (see config.h for sources and error messages).
#pragma once

#include <string>

namespace scrm::config {

// `storage`: the SQLite databases: the main file and the inbox file.
struct StorageConfig {
  std::string path;                  // default: <data_dir>/scrmd.db
  std::string inbox_path;            // default: next to path, "<stem>-inbox<extension>"
  std::string synchronous = "full";  // "full" | "normal" (full: a commit survives a power loss)
  int read_connections = 4;          // 1..64
  int busy_timeout_ms = 5000;        // 0..600000
};

}  // namespace scrm::config
