// Helpers shared by the ingest tests: a migrated file database, a fake clock, interactions and a
// recording processor.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/status.h"
#include "src/ingest/processor.h"
#include "src/model/interaction.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "tests/support/test_support.h"

namespace scrm::ingest::testing {

inline constexpr int64_t kNowMs = 1767225600000;  // 2026-01-01T00:00:00Z
// Generous upper bound for waits on another thread; a passing test never waits this long.
inline constexpr std::chrono::milliseconds kPatience{10000};

// The database file at path holding `schema`, migrated.
inline std::unique_ptr<storage::Database> OpenMigrated(
    const std::string& path, storage::Schema schema = storage::Schema::kMain) {
  storage::DatabaseOptions options;
  options.path = path;
  options.schema = schema;
  auto db = storage::Database::Open(options);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  auto applied = (*db)->Migrate(kNowMs);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  return std::move(db).value();
}

// The inbox file at path (Schema::kInbox), migrated.
inline std::unique_ptr<storage::Database> OpenInbox(const std::string& path) {
  return OpenMigrated(path, storage::Schema::kInbox);
}

// The first column of the first row of `sql`, as an integer, read on the writer connection.
inline int64_t InboxScalar(storage::Database& db, const char* sql) {
  int64_t value = 0;
  const core::Status status = db.WithWriter([&](SQLite::Database& conn) -> core::Status {
    value = conn.execAndGet(sql).getInt64();
    return core::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
  return value;
}

// A WeCom text message with dedupe key derived from `key`.
inline model::Interaction MakeMessage(const std::string& key, const std::string& account = "acct") {
  model::Interaction it;
  it.platform = model::Platform::kWecom;
  it.account_id = account;
  it.kind = model::InteractionKind::kMessageText;
  it.msg_id = key;
  it.dedupe_key = "msg\x1fuser\x1f" + key;
  it.userid = "zhangsan";
  it.occurred_at_ms = kNowMs;
  it.payload = model::TextPayload{"hi " + key};
  it.raw_body = "<xml/>";
  return it;
}

// Spins (yielding) until pred() holds; false after kPatience. For states with no event to wait
// on (another thread blocking inside a call).
inline bool WaitUntil(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Records (processor name, interaction id) of every call, across processors sharing a log.
// Fails the ids in fail_ids while failing is set. Thread-safe.
class CallLog {
 public:
  void Add(const std::string& name, int64_t id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.emplace_back(name, id);
    }
    cv_.notify_all();
  }
  std::vector<std::pair<std::string, int64_t>> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<int64_t> IdsOf(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int64_t> ids;
    for (const auto& [n, id] : calls_) {
      if (n == name) ids.push_back(id);
    }
    return ids;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.clear();
  }
  // Waits until at least `count` calls were made to `name` with `id`.
  bool WaitForCall(const std::string& name, int64_t id, size_t count = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kPatience, [&] {
      size_t seen = 0;
      for (const auto& [n, i] : calls_) {
        if (n == name && i == id) ++seen;
      }
      return seen >= count;
    });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, int64_t>> calls_;
};

class RecordingProcessor final : public InteractionProcessor {
 public:
  RecordingProcessor(std::string name, CallLog& log) : name_(std::move(name)), log_(log) {}
  std::string_view name() const override { return name_; }
  core::Status Process(const model::Interaction& interaction) override {
    log_.Add(name_, interaction.id);
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_ids_.count(interaction.id) > 0) {
      return core::UnavailableError("downstream is down");
    }
    return core::OkStatus();
  }
  void FailOn(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ids_.insert(id);
  }
  void Heal() {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ids_.clear();
  }

 private:
  std::string name_;
  CallLog& log_;
  std::mutex mu_;
  std::set<int64_t> fail_ids_;
};

}  // namespace scrm::ingest::testing
