#include "sim/world.h"

#include <fstream>
#include <set>
#include <sstream>

namespace scrm::sim {
namespace {

using nlohmann::json;

core::Status ValidateFault(const FaultRule& f) {
  static const std::set<std::string> kKinds = {"latency", "http_5xx", "drop", "busy", "errcode"};
  if (kKinds.count(f.kind) == 0) {
    return core::InvalidArgumentError(
        "fault kind must be latency|http_5xx|drop|busy|errcode, got '" + f.kind + "'");
  }
  if (f.kind == "errcode" && f.errcode == 0) {
    return core::InvalidArgumentError("errcode fault needs a non-zero errcode");
  }
  if (f.rate <= 0 || f.rate > 1) return core::InvalidArgumentError("fault rate must be in (0, 1]");
  if (f.kind == "http_5xx" && (f.status < 500 || f.status > 599)) {
    return core::InvalidArgumentError("http_5xx fault status must be 500..599");
  }
  if (f.latency_ms < 0 || f.latency_ms > 60'000) {
    return core::InvalidArgumentError("fault latency_ms must be 0..60000");
  }
  return core::OkStatus();
}

core::Status ValidateEvent(const ScenarioEvent& e) {
  static const std::set<std::string> kOa = {"subscribe", "unsubscribe", "SCAN",
                                            "CLICK",     "VIEW",        "text"};
  static const std::set<std::string> kWecom = {"add_external_contact",  "add_half_external_contact",
                                               "edit_external_contact", "del_external_contact",
                                               "del_follow_user",       "text"};
  if (e.platform == "oa") {
    if (kOa.count(e.type) == 0) return core::InvalidArgumentError("unknown oa event " + e.type);
    if (e.openid.empty()) return core::InvalidArgumentError("oa event " + e.type + " needs openid");
  } else if (e.platform == "wecom") {
    if (kWecom.count(e.type) == 0) {
      return core::InvalidArgumentError("unknown wecom event " + e.type);
    }
    if (e.userid.empty()) return core::InvalidArgumentError("wecom event needs userid");
    if (e.type != "text" && e.external_userid.empty()) {
      return core::InvalidArgumentError("wecom event " + e.type + " needs external_userid");
    }
  } else {
    return core::InvalidArgumentError("event platform must be oa|wecom, got '" + e.platform + "'");
  }
  if (e.delay_ms < 0 || e.delay_ms > 600'000) {
    return core::InvalidArgumentError("event delay_ms must be 0..600000");
  }
  return core::OkStatus();
}

}  // namespace

core::StatusOr<std::vector<FaultRule>> ParseFaults(const json& array) {
  if (!array.is_array()) return core::InvalidArgumentError("faults must be an array");
  std::vector<FaultRule> out;
  try {
    for (const auto& item : array) out.push_back(item.get<FaultRule>());
  } catch (const json::exception& e) {
    return core::InvalidArgumentError(std::string("faults: ") + e.what());
  }
  for (const auto& f : out) SCRM_RETURN_IF_ERROR(ValidateFault(f));
  return out;
}

core::StatusOr<ScenarioEvent> ParseEvent(const json& object) {
  if (!object.is_object()) return core::InvalidArgumentError("an event must be a JSON object");
  ScenarioEvent event;
  try {
    event = object.get<ScenarioEvent>();
  } catch (const json::exception& e) {
    return core::InvalidArgumentError(std::string("event: ") + e.what());
  }
  SCRM_RETURN_IF_ERROR(ValidateEvent(event));
  return event;
}

core::StatusOr<World> ParseWorld(const std::string& json_text) {
  const json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return core::InvalidArgumentError("world: not a JSON object");
  }
  // Typos in a hand-written file would otherwise be silently ignored (STYLE.md 8).
  static const std::set<std::string> kTopKeys = {
      "wecom", "oa", "token_lifetime_s", "rate_limits", "faults", "events", "description"};
  for (const auto& [key, value] : doc.items()) {
    if (kTopKeys.count(key) == 0) return core::InvalidArgumentError("world: unknown key " + key);
  }
  World world;
  try {
    json copy = doc;
    copy.erase("description");
    world = copy.get<World>();
  } catch (const json::exception& e) {
    return core::InvalidArgumentError(std::string("world: ") + e.what());
  }
  if (world.wecom.encoding_aes_key.size() != 43 || world.oa.encoding_aes_key.size() != 43) {
    return core::InvalidArgumentError("world: encoding_aes_key must be 43 characters");
  }
  if (world.token_lifetime_s <= 0) {
    return core::InvalidArgumentError("world: token_lifetime_s must be > 0");
  }
  if (world.oa.mode != "safe" && world.oa.mode != "plain") {
    return core::InvalidArgumentError("world: oa.mode must be safe|plain");
  }
  for (const auto& f : world.faults) SCRM_RETURN_IF_ERROR(ValidateFault(f));
  for (const auto& e : world.events) SCRM_RETURN_IF_ERROR(ValidateEvent(e));
  for (const auto& r : world.rate_limits) {
    if (r.limit < 0 || r.window_s <= 0) {
      return core::InvalidArgumentError("world: rate limit needs limit >= 0 and window_s > 0");
    }
  }
  return world;
}

core::StatusOr<World> LoadWorldFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::NotFoundError("cannot open world file " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto world = ParseWorld(text.str());
  if (!world.ok()) {
    return core::InvalidArgumentError(path + ": " + world.status().message());
  }
  return world;
}

}  // namespace scrm::sim
