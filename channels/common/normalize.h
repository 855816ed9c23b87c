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
// arguments; received_at_ms left 0 for the caller). unionid is never filled: identity claims in
// a callback body are not trusted (PROTOCOL §5; the enrichment job learns unionids). Unknown shapes
// become kUnknown/kOtherEvent, never an error; a body that is not well-formed XML/JSON, lacks a
// <xml> root, or has a non-numeric CreateTime/MsgId is kMalformedMessage. Thread-safe (no shared
// state).
Decoded<model::Interaction> NormalizePayload(model::Platform platform, std::string_view account_id,
                                             std::string_view body, PayloadFormat format);

// NormalizePayload for a payload whose signature verified (and that decrypted): one the
// normalizer refuses as kMalformedMessage for its shape is returned as an Interaction of kind
// kMalformed instead (dedupe_key "malformed" + SHA-256 of the body, occurred_at_ms 0, the
// reason in GenericPayload::malformed, raw_body kept, no identity), so the inbox stores it and
// the platform stops retrying. A payload over the size limit stays a rejection. Thread-safe.
Decoded<model::Interaction> NormalizeAuthenticated(model::Platform platform,
                                                   std::string_view account_id,
                                                   std::string_view body, PayloadFormat format);

}  // namespace scrm::channels
