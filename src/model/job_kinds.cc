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

std::string EncodeWelcomePayload(const WelcomePayload& payload) {
  const json object = {{"customer_id", payload.customer_id},
                       {"channel_id", payload.channel_id},
                       {"template_id", payload.template_id},
                       {"welcome_code", payload.welcome_code},
                       {"userid", payload.userid},
                       {"external_userid", payload.external_userid},
                       {"received_at_ms", payload.received_at_ms}};
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::StatusOr<WelcomePayload> DecodeWelcomePayload(std::string_view text) {
  const json object = Parse(text);
  const auto positive = [&object](const char* key) {
    return object.contains(key) && object[key].is_number_integer() &&
           object[key].get<int64_t>() > 0;
  };
  if (object.is_discarded() || !object.is_object() || !positive("customer_id") ||
      !positive("channel_id") || !positive("template_id") || !HasString(object, "welcome_code") ||
      !HasString(object, "userid") || !HasString(object, "external_userid") ||
      !object.contains("received_at_ms") || !object["received_at_ms"].is_number_integer() ||
      object["welcome_code"].get<std::string>().empty()) {
    return core::InvalidArgumentError(
        "welcome payload is not {customer_id, channel_id, template_id, welcome_code, userid, "
        "external_userid, received_at_ms}");
  }
  WelcomePayload payload;
  payload.customer_id = object["customer_id"].get<int64_t>();
  payload.channel_id = object["channel_id"].get<int64_t>();
  payload.template_id = object["template_id"].get<int64_t>();
  payload.welcome_code = object["welcome_code"].get<std::string>();
  payload.userid = object["userid"].get<std::string>();
  payload.external_userid = object["external_userid"].get<std::string>();
  payload.received_at_ms = object["received_at_ms"].get<int64_t>();
  return payload;
}

}  // namespace scrm::model
