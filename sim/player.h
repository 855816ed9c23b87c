// Player: sends scenario events to a scrmd callback URL the way WeCom and the Official Account
// do — signed and AES-encrypted (sim/callback_builder), re-delivered with the same bytes when no
// acceptable answer arrives in time (PROTOCOL.md §2) — and reports each attempt to a WorldSink.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sim/callback_builder.h"
#include "sim/records.h"
#include "sim/world.h"
#include "src/core/clock.h"
#include "src/core/status.h"

namespace scrm::sim {

struct PlayerOptions {
  // Base URL of scrmd, loopback only: "http://127.0.0.1:8080". Callbacks go to
  // {target}/callbacks/wecom/{wecom.account} and {target}/callbacks/oa/{oa.account}.
  std::string target;
  // No acceptable answer within this → the attempt failed (platform: 5 s, §2).
  std::chrono::milliseconds response_timeout{5000};
  // Re-deliveries after the first attempt ("总共重试三次": up to 3, §2 / §7.13).
  int max_retries = 3;
  // Pause between attempts (undocumented on the platform; seconds in practice).
  std::chrono::milliseconds retry_interval{1000};
  uint64_t seed = 1;  // nonces and AES prefixes
};

struct PlayResult {
  size_t events = 0;
  size_t delivered = 0;  // events that got an acceptable answer on some attempt
  size_t failed = 0;     // events that never did
  std::vector<DeliveryRecord> deliveries;
};

// The callback XML of one event (PROTOCOL.md §3), with `create_time` as CreateTime. `event` must
// have passed ParseEvent (platform and type known).
std::string EventXml(const World& accounts, const ScenarioEvent& event, int64_t create_time);

// InvalidArgument unless `url` is http://HOST:PORT with a loopback HOST (127.0.0.0/8, localhost,
// [::1]); the simulator never sends anything off the machine.
core::StatusOr<std::pair<std::string, int>> ParseLoopbackBase(const std::string& url);

// Not thread-safe: one thread plays one scenario at a time. `sink` must outlive the Player.
class Player {
 public:
  // `accounts` supplies tokens, AES keys, CorpID / AppID and account names.
  static core::StatusOr<std::unique_ptr<Player>> Create(const World& accounts,
                                                        PlayerOptions options, WorldSink& sink);

  // Plays `events` in order: fills generated ids (WelcomeCode, MsgId), applies the event to the
  // world through the sink (unless mutate_world is false), then delivers it with retries.
  // Errors only for an event the sink rejects; delivery failures are results, not errors.
  core::StatusOr<PlayResult> Play(const std::vector<ScenarioEvent>& events);

 private:
  Player(World accounts, PlayerOptions options, std::string host, int port, WorldSink& sink,
         CallbackBuilder wecom, CallbackBuilder oa);
  SimRequest Build(const ScenarioEvent& event, int64_t now_s);
  bool Deliver(size_t index, const ScenarioEvent& event, const SimRequest& request,
               PlayResult& result);

  World accounts_;
  PlayerOptions options_;
  std::string host_;
  int port_ = 0;
  WorldSink& sink_;
  CallbackBuilder wecom_;
  CallbackBuilder oa_;
  uint64_t next_id_ = 1;
};

// A WorldSink for a player without a simulator: real time, no world, deliveries kept in memory.
// Thread-safe.
class StandaloneSink final : public WorldSink {
 public:
  explicit StandaloneSink(const core::Clock& clock) : clock_(clock) {}
  int64_t NowMs() const override { return clock_.NowUnixMillis(); }
  core::Status ApplyEvent(const ScenarioEvent&) override { return core::OkStatus(); }
  void RecordDelivery(const DeliveryRecord& record) override;
  std::vector<DeliveryRecord> Deliveries() const;

 private:
  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::vector<DeliveryRecord> deliveries_;
};

}  // namespace scrm::sim
