// The inbound seam between HTTP and a platform: a ChannelAdapter turns one callback request
// (already taken apart by the HTTP edge) into a verified, decrypted, normalized Interaction,
// and turns the outcome back into the body the platform expects.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "src/core/status.h"
#include "src/model/interaction.h"

namespace scrm::channels {

// The parts of an HTTP callback an adapter needs. HTTP-free so channels never see the HTTP edge's
// types.
struct CallbackRequest {
  std::map<std::string, std::string> query;  // URL-decoded query parameters
  std::string body;                          // raw request body
  std::string content_type;                  // Content-Type header, may be empty
  int64_t received_at_ms = 0;                // when the HTTP edge read the request
};

// Why a callback was refused. Each reason is counted in /metrics by account and reason.
enum class RejectReason {
  kMissingParameter,   // "missing_parameter": msg_signature / timestamp / nonce / echostr absent
  kBadSignature,       // "bad_signature": signature or msg_signature does not match (-40001)
  kStaleTimestamp,     // "stale_timestamp": outside the account's window; treated as a replay
  kMalformedEnvelope,  // "malformed_envelope": body is not the XML/JSON envelope (-40002)
  kBadBase64,          // "bad_base64": Encrypt is not strict base64 (-40010)
  kDecryptFailed,      // "decrypt_failed": AES length or padding wrong (-40007)
  kBadFrame,           // "bad_frame": frame too short or length field past its end (-40008)
  kWrongReceiveId,     // "wrong_receive_id": frame's CorpID/AppID is not this account's (-40005)
  kMalformedMessage,   // "malformed_message": payload over the size limit (other unusual
                       // shapes of an authentic payload are stored, marked kind "malformed")
  kReplayed,           // "replayed": OA plain mode, a (timestamp, nonce) already used with
                       // another body inside the window (ReplayGuard)
  kReplayMemoryFull,   // "replay_memory_full": OA plain mode, the pair cannot be remembered;
                       // answered 503 so the platform retries
};

std::string_view RejectReasonName(RejectReason reason);
// 401 for signature, timestamp, replay and receive-id failures (the sender is not who it
// claims); 503 for replay_memory_full (nothing is wrong with the request: retry later); 400 for
// everything else.
int RejectHttpStatus(RejectReason reason);

struct Rejection {
  RejectReason reason = RejectReason::kMalformedEnvelope;
  std::string detail;  // for the log; never contains secrets or the body
};

// Either a value or a Rejection.
template <typename T>
struct Decoded {
  std::optional<T> value;
  Rejection rejection;  // meaningful when !value
  bool ok() const { return value.has_value(); }
};

// A passive reply the service wants to send back synchronously (later: keyword auto-replies).
struct ReplyMessage {
  std::string text;  // a text reply; other message types come with the issues that need them
};

// One configured account on one platform. Implementations are immutable after construction
// and thread-safe (called concurrently from the HTTP workers).
class ChannelAdapter {
 public:
  virtual ~ChannelAdapter() = default;
  virtual const std::string& account_id() const = 0;
  virtual model::Platform platform() const = 0;

  // GET: the platform checks the callback URL. Returns the exact body to answer with
  // (WeCom: the decrypted echostr; OA: echostr unchanged after the signature check).
  virtual Decoded<std::string> VerifyUrl(const CallbackRequest& request) const = 0;

  // POST: verify, decrypt, parse and normalize. The Interaction has account_id, platform,
  // kind, ids, dedupe_key, occurred_at_ms, received_at_ms (from the request), payload and
  // raw_body filled in; id is left 0 for the inbox to assign.
  virtual Decoded<model::Interaction> Decode(const CallbackRequest& request) const = 0;

  // The body to answer with once the interaction is durable: with `reply`, a passive reply
  // addressed to the sender (encrypted when the account is); without, the platform's plain
  // acknowledgement (WeCom: empty; OA: "success"). `request` is the one that was decoded and
  // `interaction` what Decode returned (the HTTP edge builds the body before the inbox commits,
  // and sends it only once the interaction is durable).
  virtual std::string AckBody(const CallbackRequest& request, const model::Interaction& interaction,
                              const ReplyMessage* reply) const = 0;
};

// Decides a synchronous reply for an interaction (nullopt = none). Called on the HTTP event loop
// with the decoded interaction before it is handed to the inbox (the reply goes out only once the
// interaction is durable, and not at all if storing it fails), inside the platform's 5-second
// window: it must be fast and must not call a platform API. Implementations are thread-safe.
class PassiveReplier {
 public:
  virtual ~PassiveReplier() = default;
  virtual std::optional<ReplyMessage> ReplyFor(const model::Interaction& interaction) const = 0;
};

}  // namespace scrm::channels
