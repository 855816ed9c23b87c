#include "channels/common/channel.h"

namespace scrm::channels {

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kMissingParameter: return "missing_parameter";
    case RejectReason::kBadSignature: return "bad_signature";
    case RejectReason::kStaleTimestamp: return "stale_timestamp";
    case RejectReason::kMalformedEnvelope: return "malformed_envelope";
    case RejectReason::kBadBase64: return "bad_base64";
    case RejectReason::kDecryptFailed: return "decrypt_failed";
    case RejectReason::kBadFrame: return "bad_frame";
    case RejectReason::kWrongReceiveId: return "wrong_receive_id";
    case RejectReason::kMalformedMessage: return "malformed_message";
    case RejectReason::kReplayed: return "replayed";
    case RejectReason::kReplayMemoryFull: return "replay_memory_full";
  }
  return "unknown";
}

int RejectHttpStatus(RejectReason reason) {
  switch (reason) {
    case RejectReason::kBadSignature:
    case RejectReason::kStaleTimestamp:
    case RejectReason::kWrongReceiveId:
    case RejectReason::kReplayed: return 401;
    case RejectReason::kReplayMemoryFull: return 503;
    default: return 400;
  }
}

}  // namespace scrm::channels
