// A campaign send batch as a value (issue 15, docs/campaigns.md "Delivery, exactly once"): one
// platform call of the dispatcher (campaigns/engine) — a WeCom add_msg_template for up to the
// per-call limit of one member's recipients, an OA template / custom message for one recipient,
// an OA mass send. Stored in campaign_send_batches (main migration 14); the names are stored and
// appear in the API: stable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scrm::model {

enum class BatchState {
  kPending,  // "pending": written, its deliveries attached; nothing sent yet
  kSending,  // "sending": attempts + 1 committed before the call; the outcome is not yet stored
  kSent,     // "sent": the platform accepted the call (platform_msg_id)
  kFailed,   // "failed": the platform refused the call (last_errcode); nothing was sent
  kUnknown,  // "unknown": the call may have been delivered; could not be reconciled
};

inline std::string_view BatchStateName(BatchState state) {
  switch (state) {
    case BatchState::kPending: return "pending";
    case BatchState::kSending: return "sending";
    case BatchState::kSent: return "sent";
    case BatchState::kFailed: return "failed";
    case BatchState::kUnknown: return "unknown";
  }
  return "unknown";
}

inline std::optional<BatchState> ParseBatchState(std::string_view name) {
  for (BatchState s : {BatchState::kPending, BatchState::kSending, BatchState::kSent,
                       BatchState::kFailed, BatchState::kUnknown}) {
    if (BatchStateName(s) == name) return s;
  }
  return std::nullopt;
}

struct SendBatch {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::string account_id;
  std::string sender;  // WeCom member userid; "" for OA
  BatchState state = BatchState::kPending;
  // "<campaign>:b:<first delivery id>" for a WeCom task or an OA mass send; an OA template /
  // custom batch of one takes its delivery's key (the client_msg_id it is sent with).
  std::string idempotency_key;
  std::string platform_msg_id;  // msgid / msg_id from the reply; "" until sent
  int64_t attempts = 0;         // calls begun (pending -> sending), crash restarts included
  int64_t last_errcode = 0;
  std::string last_error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;  // for a sending batch: when its last call began

  friend bool operator==(const SendBatch&, const SendBatch&) = default;
};

}  // namespace scrm::model
