#include "src/api/api_json.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include "src/server/http_server.h"

namespace scrm::api {
namespace {

// Decimal digits only (no sign, space or "0x"), at most 19 of them, in [min, INT64_MAX].
std::optional<int64_t> ParseIdText(std::string_view text, int64_t min) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min) return std::nullopt;
  return value;
}

core::Status IdError(const std::string& name, int64_t min) {
  return core::InvalidArgumentError(name + ": must be an id (a string of decimal digits or an " +
                                    "integer) of at least " + std::to_string(min));
}

}  // namespace

nlohmann::json IdJson(int64_t id) { return nlohmann::json(std::to_string(id)); }

nlohmann::json IdJson(const std::optional<int64_t>& id) {
  return id.has_value() ? IdJson(*id) : nlohmann::json(nullptr);
}

core::StatusOr<int64_t> IdFromJson(const nlohmann::json& value, const std::string& name,
                                   int64_t min) {
  if (value.is_string()) {
    const auto parsed = ParseIdText(value.get_ref<const std::string&>(), min);
    if (!parsed) return IdError(name, min);
    return *parsed;
  }
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX) || static_cast<int64_t>(u) < min) {
      return IdError(name, min);
    }
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer() && value.get<int64_t>() >= min) return value.get<int64_t>();
  return IdError(name, min);
}

core::StatusOr<std::optional<int64_t>> IdMember(const nlohmann::json& body, const std::string& name,
                                                int64_t min) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  SCRM_ASSIGN_OR_RETURN(const int64_t id, IdFromJson(*it, name, min));
  return std::optional<int64_t>(id);
}

core::StatusOr<int64_t> IdParam(const server::Request& req, const std::string& name,
                                int64_t fallback, int64_t min) {
  if (!req.HasParam(name)) return fallback;
  const auto parsed = ParseIdText(req.Param(name), min);
  if (!parsed) return IdError(name, min);
  return *parsed;
}

core::StatusOr<int64_t> IntParam(const server::Request& req, const std::string& name,
                                 int64_t fallback, int64_t min, int64_t max) {
  if (!req.HasParam(name)) return fallback;
  const std::string text = req.Param(name);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return core::InvalidArgumentError(name + ": must be an integer in " + std::to_string(min) +
                                      ".." + std::to_string(max));
  }
  return value;
}

core::StatusOr<std::optional<std::string>> TextParam(const server::Request& req,
                                                     const std::string& name, size_t max_bytes) {
  if (!req.HasParam(name)) return std::optional<std::string>();
  std::string value = req.Param(name);
  if (value.size() > max_bytes) {
    return core::InvalidArgumentError(name + ": longer than " + std::to_string(max_bytes) +
                                      " bytes");
  }
  return std::optional<std::string>(std::move(value));
}

core::StatusOr<int64_t> PathId(const ApiContext& ctx, const std::string& name) {
  // An {id} capture matches digits only (server::Router); what is left to check is the range.
  if (!ctx.params.Has(name)) return core::InternalError("route has no {" + name + "} capture");
  const std::string_view text = ctx.params.Get(name);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    return core::InvalidArgumentError(name + ": must be a positive 64-bit integer");
  }
  return value;
}

core::StatusOr<nlohmann::json> JsonObjectBody(const server::Request& req, bool allow_empty) {
  if (req.body.empty() && allow_empty) return nlohmann::json::object();
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return core::InvalidArgumentError("body: must be a JSON object");
  }
  return body;
}

void WriteJson(server::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.SetContent(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                 "application/json");
}

core::StatusOr<PageParams> PageParamsOf(const server::Request& req, int64_t default_limit,
                                        size_t max_limit) {
  SCRM_ASSIGN_OR_RETURN(const int64_t after, IdParam(req, "after", 0, /*min=*/0));
  SCRM_ASSIGN_OR_RETURN(const int64_t limit,
                        IntParam(req, "limit", default_limit, 1, static_cast<int64_t>(max_limit)));
  return PageParams{after, static_cast<size_t>(limit)};
}

bool Check(const core::Status& status, server::Response& res, const ApiContext& ctx) {
  if (status.ok()) return true;
  server::WriteStatusError(res, status, ctx.request_id);
  return false;
}

core::StatusOr<std::string> StringMember(const nlohmann::json& body, const std::string& name,
                                         size_t max_bytes) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return core::InvalidArgumentError(name + ": required");
  if (!it->is_string()) return core::InvalidArgumentError(name + ": must be a string");
  std::string value = it->get<std::string>();
  if (value.empty() || value.size() > max_bytes) {
    return core::InvalidArgumentError(name + ": must be 1.." + std::to_string(max_bytes) +
                                      " bytes");
  }
  return value;
}

core::Status OnlyMembers(const nlohmann::json& body,
                         std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || key == name;
    if (!known) return core::InvalidArgumentError(key + ": unknown member");
  }
  return core::OkStatus();
}

}  // namespace scrm::api
