// Normalization of decrypted WeChat/WeCom callback payloads (XML or JSON) into
// model::Interaction, shared by the WeCom and Official Account adapters. PROTOCOL.md §3.
#pragma once

#include <string_view>

#include "channels/common/channel.h"
#include "src/model/interaction.h"

namespace scrm::channels {

enum class PayloadFormat { kXml, kJson };

// Parses a decrypted payload and fills kind, ids, occurred_at_ms, msg_id, payload,
// dedupe_key, raw_body and raw_format of a new Interaction (platform and account_id from the
// arguments; received_at_ms left 0 for the caller). Unknown shapes become kUnknown/kOtherEvent,
// never an error; a body that is not well-formed XML/JSON, lacks a <xml> root, or has a
// non-numeric CreateTime/MsgId is kMalformedMessage. Thread-safe (no shared state).
Decoded<model::Interaction> NormalizePayload(model::Platform platform, std::string_view account_id,
                                             std::string_view body, PayloadFormat format);

}  // namespace scrm::channels
