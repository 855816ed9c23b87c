// Process-wide SQLite settings, applied once in main before any thread or connection exists.
#pragma once

#include "src/core/status.h"

namespace scrm::storage {

// Configures the SQLite library for this process (sqlite3_config, before sqlite3_initialize):
// multi-thread mode instead of serialized — every connection is used by one thread at a time
// (Database hands out the writer under its lock and each reader to one caller), so the
// per-call connection mutex is pure overhead — and no memory statistics (their global mutex is
// taken on every allocation). Measured ~10% of the ingest worker's CPU (bench/profile_bench).
// Must run before any other SQLite call; FailedPrecondition when SQLite is already initialised
// (then nothing changes, which is safe: the defaults are the stricter settings).
core::Status ConfigureSqliteForProcess();

}  // namespace scrm::storage
