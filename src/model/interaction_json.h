// JSON form of model::Interaction and of its typed Payload: what the inbox stores in
// interactions.payload_json and what the REST API returns.
#pragma once

#include <nlohmann/json.hpp>

#include "src/core/status.h"
#include "src/model/interaction.h"

namespace scrm::model {

// The payload as a JSON object, or null for std::monostate. The object carries a "type" member
// naming the alternative ("text", "media", "location", "link", "qr_scene", "menu", "send_job",
// "contact_change", "chat_change", "tag_change", "generic") followed by every field of the
// struct under its snake_case name, always present (stable API shape). Strings are copied as
// they are: they may hold invalid UTF-8 from a platform, so dump with
// nlohmann::json::error_handler_t::replace. Never throws.
nlohmann::json PayloadToJson(const Payload& payload);

// Inverse of PayloadToJson. null gives std::monostate. An object's "type" member selects the
// alternative; without one the alternative is the usual one for `kind` (message.text -> text,
// oa.subscribe -> qr_scene, contact.* -> contact_change, ...; generic when the kind has none).
// Missing or null fields keep their defaults and unknown members are ignored, so rows written
// by an older or newer binary still read. InvalidArgument when the value is neither null nor
// an object, "type" is unknown, or a field has the wrong JSON type. Never throws.
core::StatusOr<Payload> PayloadFromJson(InteractionKind kind, const nlohmann::json& json);

// The interaction as a JSON object: id (a number here; the REST API answers it as a string,
// docs/api.md "Ids are strings", since ids are above 2^53), platform, account, kind
// (KindName), dedupe_key, msg_id (string: a 64-bit MsgId loses precision in JSON doubles),
// openid, unionid, external_userid, userid, chat_id, to_user, occurred_at_ms, received_at_ms,
// payload (PayloadToJson), raw_format, and raw_body only when include_raw (it can hold personal
// data and is large). Same UTF-8 caveat as PayloadToJson. Never throws.
nlohmann::json InteractionToJson(const Interaction& interaction, bool include_raw);

}  // namespace scrm::model
