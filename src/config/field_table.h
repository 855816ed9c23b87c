// Internal to src/config: the field tables with which each section file declares its keys, and
// the one engine that decodes JSON values and environment text onto them and checks the merged
// values with key-path errors ("http.threads: must be in 1..900 (from SCRMD_HTTP__THREADS)").
// Included by config.cc and the <section>_config.cc files only.
//
// Everything here is pure (no I/O, no globals written); a Loaded is owned by one LoadConfig call.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <variant>
#include <vector>

#include "src/config/config.h"
#include "src/core/logging.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/model/platform.h"

namespace scrm::config::internal {

using json = nlohmann::json;

// "path: reason" as InvalidArgument.
core::Status KeyError(std::string_view path, std::string_view reason);
// "parent.key", or "key" at the top.
std::string JoinPath(std::string_view parent, std::string_view key);
// `"a", "b" or "c"`.
std::string Alternatives(std::span<const std::string_view> names);

// ---------------------------------------------------------------------------------------------
// Enum spellings: each enum's table lives with the section that owns it.

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

std::span<const EnumName<core::LogFormat>> NamesOf(core::LogFormat);  // log_config.cc
std::span<const EnumName<model::Platform>> NamesOf(model::Platform);  // accounts_config.cc
std::span<const EnumName<EncryptMode>> NamesOf(EncryptMode);          // accounts_config.cc

template <typename E>
std::string_view NameOf(E value) {
  for (const auto& entry : NamesOf(value)) {
    if (entry.value == value) return entry.name;
  }
  return "unknown";
}

template <typename E>
std::string EnumAlternatives() {
  std::vector<std::string_view> names;
  for (const auto& entry : NamesOf(E{})) names.push_back(entry.name);
  return Alternatives(names);
}

// ---------------------------------------------------------------------------------------------
// The schema: every key, the member it sets and, for integers, its range. Validation, JSON
// decoding and environment overrides all read these tables, so a key is declared once.

struct IntRange {
  int64_t min = 0;
  int64_t max = 0;
};

template <typename T>
using Member = std::variant<std::string T::*, int T::*, int64_t T::*, core::LogFormat T::*,
                            model::Platform T::*, EncryptMode T::*>;

template <typename T>
struct Field {
  std::string_view key;
  Member<T> member;
  IntRange range = {};  // integer fields only
};

class Checks;

// What a section file gives config.cc: its key in the file (and SCRMD_<NAME>__ in the
// environment), its fields, and the check of its merged values (ranges included, in the order
// the section wants its first error found).
template <typename T>
struct Section {
  std::string_view name;
  std::span<const Field<T>> fields;
  core::Status (*check)(const Checks& checks, const Config& config) = nullptr;
};

template <typename T>
const Field<T>* FindField(std::span<const Field<T>> fields, std::string_view key) {
  for (const auto& field : fields) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

template <typename T>
bool IsIntegerField(const Field<T>& field) {
  return std::holds_alternative<int T::*>(field.member) ||
         std::holds_alternative<int64_t T::*>(field.member);
}

template <typename T>
int64_t IntegerValue(const Field<T>& field, const T& target) {
  if (const auto* member = std::get_if<int T::*>(&field.member)) return target.**member;
  if (const auto* member = std::get_if<int64_t T::*>(&field.member)) return target.**member;
  return 0;
}

std::string RangeProblem(IntRange range);

// Why `value` cannot be stored in an integer field, or nullopt once stored. The range itself is
// checked (Checks::CheckRanges) on the final value; here only "does it fit the member" matters.
template <typename T>
std::optional<std::string> AssignInteger(const Field<T>& field, int64_t value, T& target) {
  if (const auto* member = std::get_if<int T::*>(&field.member)) {
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      return RangeProblem(field.range);
    }
    target.** member = static_cast<int>(value);
    return std::nullopt;
  }
  if (const auto* member = std::get_if<int64_t T::*>(&field.member)) {
    target.** member = value;
    return std::nullopt;
  }
  return "must be a string";
}

// Same for a string or enum field.
template <typename T>
std::optional<std::string> AssignText(const Field<T>& field, const std::string& text, T& target) {
  return std::visit(
      [&](auto member) -> std::optional<std::string> {
        using Value = std::remove_reference_t<decltype(target.*member)>;
        if constexpr (std::is_same_v<Value, std::string>) {
          target.*member = text;
          return std::nullopt;
        } else if constexpr (std::is_enum_v<Value>) {
          for (const auto& entry : NamesOf(Value{})) {
            if (entry.name == text) {
              target.*member = entry.value;
              return std::nullopt;
            }
          }
          return "must be " + EnumAlternatives<Value>();
        } else {
          return "must be an integer";
        }
      },
      field.member);
}

template <typename T>
std::optional<std::string> AssignJson(const Field<T>& field, const json& value, T& target) {
  if (IsIntegerField(field)) {
    // Floats (8.0), booleans and numeric strings are refused: the file says what it means.
    if (!value.is_number_integer()) return "must be an integer";
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return RangeProblem(field.range);
    }
    return AssignInteger(field, value.get<int64_t>(), target);
  }
  if (!value.is_string()) return "must be a string";
  return AssignText(field, value.get_ref<const std::string&>(), target);
}

// Environment values are text; integers are parsed strictly (no sign '+', spaces or suffix).
template <typename T>
std::optional<std::string> AssignEnvText(const Field<T>& field, const std::string& text,
                                         T& target) {
  if (!IsIntegerField(field)) return AssignText(field, text, target);
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range && ptr == end) return RangeProblem(field.range);
  if (text.empty() || ec != std::errc() || ptr != end) return "must be an integer";
  return AssignInteger(field, value, target);
}

// ---------------------------------------------------------------------------------------------
// Decoding the sources

// What the sources have set so far.
struct Loaded {
  Config config;
  // Key path ("http.threads", "accounts[0].token") -> the source that set it last: "" for the
  // config file, "secrets file", or an environment variable name. Absent = still the default.
  std::map<std::string, std::string> origins;
};

struct Source {
  std::string_view file_label;    // "config" | "secrets": prefix of file-level errors
  std::string_view error_prefix;  // prepended to key paths in decode errors
  std::string_view origin;        // recorded in Loaded::origins
};

inline constexpr Source kConfigFile = {"config", "", ""};
inline constexpr Source kSecretsFile = {"secrets", "secrets.", "secrets file"};

template <typename T>
core::Status DecodeField(const Field<T>& field, const json& value, const std::string& key_path,
                         const Source& source, T& target, Loaded& loaded) {
  if (auto problem = AssignJson(field, value, target)) {
    return KeyError(std::string(source.error_prefix) + key_path, *problem);
  }
  loaded.origins[key_path] = std::string(source.origin);
  return core::OkStatus();
}

// Decodes an object whose keys are all in `fields` onto `target`; `path` names the object.
template <typename T>
core::Status DecodeObject(const json& object, std::span<const Field<T>> fields,
                          const std::string& path, const Source& source, T& target,
                          Loaded& loaded) {
  if (!object.is_object()) {
    return KeyError(std::string(source.error_prefix) + path, "must be an object");
  }
  for (const auto& item : object.items()) {
    const std::string key_path = JoinPath(path, core::Printable(item.key()));
    const Field<T>* field = FindField(fields, item.key());
    if (field == nullptr) {
      return KeyError(std::string(source.error_prefix) + key_path, "unknown key");
    }
    SCRM_RETURN_IF_ERROR(DecodeField(*field, item.value(), key_path, source, target, loaded));
  }
  return core::OkStatus();
}

// An environment override of one field; `env_name` is recorded as the origin.
template <typename T>
core::Status ApplyEnvField(const Field<T>& field, const std::string& key_path,
                           const std::string& env_name, const std::string& text, T& target,
                           Loaded& loaded) {
  if (auto problem = AssignEnvText(field, text, target)) {
    return KeyError(key_path, *problem + " (from " + env_name + ")");
  }
  loaded.origins[key_path] = env_name;
  return core::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Validation of the merged result

// What a section's check reports with: errors that name the key path and the override that set
// the value, so an operator looks in the right place. Borrows `loaded`.
class Checks {
 public:
  explicit Checks(const Loaded& loaded) : loaded_(loaded) {}

  // "path: reason", plus " (from <source>)" when a secrets file or env variable set the value.
  core::Status Fail(const std::string& path, std::string_view reason) const;
  // Whether any source set this key path (not just left the default).
  bool IsSet(const std::string& path) const { return loaded_.origins.contains(path); }

  // The first integer field of `target` outside its range, as "<path>.<key>: must be in a..b".
  template <typename T>
  core::Status CheckRanges(std::span<const Field<T>> fields, const std::string& path,
                           const T& target) const {
    for (const auto& field : fields) {
      if (!IsIntegerField(field)) continue;
      const int64_t value = IntegerValue(field, target);
      if (value < field.range.min || value > field.range.max) {
        return Fail(JoinPath(path, field.key), RangeProblem(field.range));
      }
    }
    return core::OkStatus();
  }

 private:
  const Loaded& loaded_;
};

}  // namespace scrm::config::internal
