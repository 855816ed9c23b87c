#include "src/platform/json_fields.h"

#include <limits>

namespace scrm::platform {
namespace {

constexpr size_t kMaxReplyBytes = 16 << 20;

}  // namespace

core::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text) {
  if (text.size() > kMaxReplyBytes) return core::InvalidArgumentError("reply too large");
  // The non-throwing overload: a syntax error (or excessive nesting) comes back discarded.
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (value.is_discarded()) return core::InvalidArgumentError("reply is not valid JSON");
  if (!value.is_object()) return core::InvalidArgumentError("reply is not a JSON object");
  return value;
}

core::StatusOr<std::string> DumpJson(const nlohmann::json& value) {
  try {
    return value.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception&) {
    return core::InvalidArgumentError("request contains a string that is not valid UTF-8");
  }
}

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                            (u >= '0' && u <= '9') || u == '-' || u == '_' || u == '.' || u == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    }
  }
  return out;
}

JsonFields::JsonFields(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) Fail(path_ + ": not an object");
}

void JsonFields::Fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

void JsonFields::TypeError(std::string_view key, std::string_view expected) {
  Fail(path_ + "." + std::string(key) + ": not " + std::string(expected));
}

const nlohmann::json* JsonFields::Find(std::string_view key, bool required) {
  if (!object_.is_object()) return nullptr;
  const auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    if (required) Fail(path_ + "." + std::string(key) + ": missing");
    return nullptr;
  }
  return &*it;
}

std::string JsonFields::String(std::string_view key, bool required) {
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return "";
  if (!v->is_string()) {
    TypeError(key, "a string");
    return "";
  }
  return v->get_ref<const std::string&>();
}

std::string JsonFields::Id(std::string_view key, bool required) {
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return "";
  if (v->is_string()) return v->get_ref<const std::string&>();
  if (v->is_number_unsigned()) return std::to_string(v->get<uint64_t>());
  if (v->is_number_integer()) return std::to_string(v->get<int64_t>());
  TypeError(key, "an id");
  return "";
}

int64_t JsonFields::Int(std::string_view key, bool required) {
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return 0;
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      TypeError(key, "a 64-bit integer");
      return 0;
    }
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer()) return v->get<int64_t>();
  TypeError(key, "an integer");
  return 0;
}

bool JsonFields::Bool(std::string_view key, bool required) {
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_number_integer() && (v->get<int64_t>() == 0 || v->get<int64_t>() == 1)) {
    return v->get<int64_t>() == 1;
  }
  TypeError(key, "a boolean");
  return false;
}

std::vector<std::string> JsonFields::Strings(std::string_view key, bool required) {
  std::vector<std::string> out;
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return out;
  if (!v->is_array()) {
    TypeError(key, "an array of strings");
    return out;
  }
  for (const auto& item : *v) {
    if (!item.is_string()) {
      TypeError(key, "an array of strings");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<int64_t> JsonFields::Ints(std::string_view key, bool required) {
  std::vector<int64_t> out;
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return out;
  if (!v->is_array()) {
    TypeError(key, "an array of integers");
    return out;
  }
  for (const auto& item : *v) {
    if (!item.is_number_integer() ||
        (item.is_number_unsigned() &&
         item.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      TypeError(key, "an array of integers");
      return {};
    }
    out.push_back(item.get<int64_t>());
  }
  return out;
}

const nlohmann::json* JsonFields::Object(std::string_view key, bool required) {
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    TypeError(key, "an object");
    return nullptr;
  }
  return v;
}

const nlohmann::json* JsonFields::Array(std::string_view key, bool required) {
  const nlohmann::json* v = Find(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    TypeError(key, "an array");
    return nullptr;
  }
  return v;
}

}  // namespace scrm::platform
