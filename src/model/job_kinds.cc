#include "src/model/job_kinds.h"

#include <nlohmann/json.hpp>

namespace scrm::model {
namespace {

using nlohmann::json;

json Parse(std::string_view text) {
  return json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

bool HasString(const json& object, const char* key) {
  return object.contains(key) && object[key].is_string();
}

}  // namespace

std::string EncodeEnrichPayload(const EnrichPayload& payload) {
  // nlohmann keeps object members sorted: kind, platform, value.
  const json object = {{"platform", payload.platform},
                       {"kind", IdentityKindName(payload.kind)},
                       {"value", payload.value}};
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::StatusOr<EnrichPayload> DecodeEnrichPayload(std::string_view text) {
  const json object = Parse(text);
  if (object.is_discarded() || !object.is_object() || !HasString(object, "platform") ||
      !HasString(object, "kind") || !HasString(object, "value")) {
    return core::InvalidArgumentError("enrich payload is not {platform, kind, value}");
  }
  EnrichPayload payload;
  payload.platform = object["platform"].get<std::string>();
  payload.value = object["value"].get<std::string>();
  const std::optional<IdentityKind> kind = ParseIdentityKind(object["kind"].get<std::string>());
  if (!kind.has_value() || payload.value.empty()) {
    return core::InvalidArgumentError("enrich payload names no identity");
  }
  payload.kind = *kind;
  return payload;
}

std::string EncodeTagPushPayload(const TagPushPayload& payload) {
  return json{{"customer_id", payload.customer_id}}.dump();
}

core::StatusOr<TagPushPayload> DecodeTagPushPayload(std::string_view text) {
  const json object = Parse(text);
  if (object.is_discarded() || !object.is_object() || !object.contains("customer_id") ||
      !object["customer_id"].is_number_integer() || object["customer_id"].get<int64_t>() <= 0) {
    return core::InvalidArgumentError("tagpush payload is not {customer_id}");
  }
  return TagPushPayload{object["customer_id"].get<int64_t>()};
}

}  // namespace scrm::model
