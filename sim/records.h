// What the simulator records (API calls it answered, callback deliveries it attempted) and the
// seam through which the callback player changes the world: WorldSink is implemented by the
// in-process Platform and, in `scrm-sim play --sim URL`, by a client of the control API.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/world.h"
#include "src/core/status.h"

namespace scrm::sim {

// One API call as the simulator saw and answered it.
struct RecordedRequest {
  int64_t seq = 0;    // 1-based, over every /cgi-bin call (what a "drop call N" fault names)
  int64_t at_ms = 0;  // simulator clock, unix milliseconds
  std::string method;
  std::string api;        // path after /cgi-bin/: "gettoken", "externalcontact/get", ...
  std::string query;      // as received minus secrets (corpsecret, secret)
  std::string body;       // as received minus secrets ("secret" of stable_token)
  int http_status = 200;  // 0 when the connection was dropped
  int64_t errcode = 0;    // errcode of the JSON answer (0 also when there was none)
  std::string outcome;    // "answered" | "dropped" | "http_5xx"
  std::string note;       // e.g. "deduplicated" when a send was not repeated
};

// One attempt to deliver one scenario event to the target.
struct DeliveryRecord {
  int64_t event_index = 0;    // 0-based position in the scenario
  int attempt = 1;            // 1 = first delivery, 2..4 = re-deliveries of the same bytes
  std::string platform;       // "oa" | "wecom"
  std::string type;           // event type
  std::string path;           // path and query as sent
  int http_status = 0;        // 0 when there was no answer
  std::string outcome;        // "ok" | "timeout" | "connection_error" | "http_status" | "bad_body"
  std::string response_body;  // first 256 bytes
  int64_t latency_ms = 0;
  int64_t at_ms = 0;  // simulator clock when the attempt started
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RecordedRequest, seq, at_ms, method, api, query,
                                                body, http_status, errcode, outcome, note)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeliveryRecord, event_index, attempt, platform,
                                                type, path, http_status, outcome, response_body,
                                                latency_ms, at_ms)

// Where the callback player reports. Implementations are thread-safe.
class WorldSink {
 public:
  virtual ~WorldSink() = default;
  // Simulator clock, unix milliseconds (callback CreateTime and timestamps derive from it).
  virtual int64_t NowMs() const = 0;
  // Changes the world as the platform would before it sends this event's callback.
  virtual core::Status ApplyEvent(const ScenarioEvent& event) = 0;
  virtual void RecordDelivery(const DeliveryRecord& record) = 0;
};

}  // namespace scrm::sim
