// Over 800 lines, knowingly for one more round: the decoding (sources, field tables) and the
// Validator share the Loaded/Field types defined here; the next split moves the Validator and
// the field tables into config_validate.cc behind an internal header (issue 13's round).
// Config loading: each source (config file, secrets file, environment) is decoded onto one
// Config in precedence order, remembering which source set each key; then the result is
// validated once, so a bad value in a lower source can still be fixed by a higher one.
#include "src/config/config.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace scrm::config {
namespace {

using json = nlohmann::json;

// Config files are small; a bigger file is a mistake (wrong path), not a config.
constexpr std::size_t kMaxFileBytes = std::size_t{4} << 20;
constexpr std::string_view kEnvPrefix = "SCRMD_";
// PATH_MAX on Linux: a longer path cannot be opened anyway.
constexpr std::size_t kMaxPathBytes = 4096;

// ---------------------------------------------------------------------------------------------
// Small text helpers

// Text from a file or the environment made safe for a one-line message (keys, ids, env names;
// never values).
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : ch);
  }
  return out;
}

char AsciiLower(char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; }

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& ch : out) ch = AsciiLower(ch);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool IsAlnum(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

bool AllAlnum(std::string_view text) {
  for (char ch : text) {
    if (!IsAlnum(ch)) return false;
  }
  return true;
}

std::vector<std::string> Split(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = text.find(separator, start);
    if (at == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, at - start));
    start = at + separator.size();
  }
}

// `"a", "b" or "c"`.
std::string Alternatives(std::span<const std::string_view> names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += "\"" + std::string(names[i]) + "\"";
  }
  return out;
}

std::string JoinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string AccountPath(std::size_t index) { return "accounts[" + std::to_string(index) + "]"; }

core::Status KeyError(std::string_view path, std::string_view reason) {
  return core::InvalidArgumentError(std::string(path) + ": " + std::string(reason));
}

// ---------------------------------------------------------------------------------------------
// Enum spellings

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

constexpr EnumName<core::LogFormat> kLogFormatNames[] = {{"text", core::LogFormat::kText},
                                                         {"json", core::LogFormat::kJson}};
constexpr EnumName<Platform> kPlatformNames[] = {{"wecom", Platform::kWecom},
                                                 {"oa", Platform::kOfficialAccount}};
constexpr EnumName<EncryptMode> kEncryptModeNames[] = {
    {"plain", EncryptMode::kPlain}, {"compat", EncryptMode::kCompat}, {"safe", EncryptMode::kSafe}};

std::span<const EnumName<core::LogFormat>> NamesOf(core::LogFormat) { return kLogFormatNames; }
std::span<const EnumName<Platform>> NamesOf(Platform) { return kPlatformNames; }
std::span<const EnumName<EncryptMode>> NamesOf(EncryptMode) { return kEncryptModeNames; }

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
                            Platform T::*, EncryptMode T::*>;

template <typename T>
struct Field {
  std::string_view key;
  Member<T> member;
  IntRange range = {};  // integer fields only
};

const Field<Config> kTopFields[] = {
    {"listen", &Config::listen},
    {"data_dir", &Config::data_dir},
    {"tag_rules_file", &Config::tag_rules_file},
};

const Field<LogConfig> kLogFields[] = {
    {"level", &LogConfig::level},
    {"format", &LogConfig::format},
};

const Field<HttpConfig> kHttpFields[] = {
    {"threads", &HttpConfig::threads, {1, 900}},
    // Open connections at once (libmicrohttpd refuses more at accept). The bound dates from
    // cpp-httplib's select() (descriptors below 1024) and is kept: it is far above what one
    // scrmd on 2 cores serves.
    {"max_connections", &HttpConfig::max_connections, {1, 900}},
    {"keep_alive_max", &HttpConfig::keep_alive_max, {1, 1000000}},
    {"keep_alive_timeout_s", &HttpConfig::keep_alive_timeout_s, {1, 3600}},
    {"read_timeout_s", &HttpConfig::read_timeout_s, {1, 3600}},
    {"write_timeout_s", &HttpConfig::write_timeout_s, {1, 3600}},
    {"max_body_bytes", &HttpConfig::max_body_bytes, {1, int64_t{64} << 20}},
    {"max_connections_per_ip", &HttpConfig::max_connections_per_ip, {0, 900}},
    {"request_timeout_s", &HttpConfig::request_timeout_s, {1, 3600}},
    {"min_body_bytes_per_s", &HttpConfig::min_body_bytes_per_s, {0, int64_t{1} << 30}},
    {"body_rate_grace_s", &HttpConfig::body_rate_grace_s, {0, 3600}},
    {"max_pending_body_bytes", &HttpConfig::max_pending_body_bytes, {1, int64_t{4} << 30}},
    {"admin_listen", &HttpConfig::admin_listen},
};

const Field<StorageConfig> kStorageFields[] = {
    {"path", &StorageConfig::path},
    {"inbox_path", &StorageConfig::inbox_path},
    {"synchronous", &StorageConfig::synchronous},
    {"read_connections", &StorageConfig::read_connections, {1, 64}},
    {"busy_timeout_ms", &StorageConfig::busy_timeout_ms, {0, 600000}},
};

const Field<LifecycleConfig> kLifecycleFields[] = {
    {"at_risk_days", &LifecycleConfig::at_risk_days, {1, 3650}},
    {"sweep_interval_s", &LifecycleConfig::sweep_interval_s, {1, 86400}},
};

const Field<OutboundConfig> kOutboundFields[] = {
    {"request_timeout_ms", &OutboundConfig::request_timeout_ms, {100, 120000}},
    {"connect_timeout_ms", &OutboundConfig::connect_timeout_ms, {100, 60000}},
    {"max_retries", &OutboundConfig::max_retries, {0, 10}},
    {"base_backoff_ms", &OutboundConfig::base_backoff_ms, {1, 60000}},
    {"max_backoff_ms", &OutboundConfig::max_backoff_ms, {1, 600000}},
    {"token_refresh_margin_s", &OutboundConfig::token_refresh_margin_s, {0, 3600}},
    {"max_idle_connections", &OutboundConfig::max_idle_connections, {1, 1024}},
    {"wecom_per_minute", &OutboundConfig::wecom_per_minute, {1, 10000000}},
    {"wecom_per_hour", &OutboundConfig::wecom_per_hour, {1, 100000000}},
    {"oa_per_minute", &OutboundConfig::oa_per_minute, {1, 10000000}},
    {"oa_mass_send_per_minute", &OutboundConfig::oa_mass_send_per_minute, {1, 10000}},
    {"oa_template_per_day", &OutboundConfig::oa_template_per_day, {1, 100000000}},
};

const Field<AccountConfig> kAccountFields[] = {
    {"id", &AccountConfig::id},
    {"platform", &AccountConfig::platform},
    {"corp_id", &AccountConfig::corp_id},
    {"app_id", &AccountConfig::app_id},
    {"token", &AccountConfig::token},
    {"encoding_aes_key", &AccountConfig::encoding_aes_key},
    {"secret", &AccountConfig::secret},
    {"app_secret", &AccountConfig::app_secret},
    {"agent_id", &AccountConfig::agent_id, {0, 4294967295}},
    {"agent_secret", &AccountConfig::agent_secret},
    {"encrypt_mode", &AccountConfig::encrypt_mode},
    {"api_base", &AccountConfig::api_base},
    {"timestamp_window_s", &AccountConfig::timestamp_window_s, {1, 86400}},
};

// The only account keys a secrets file may set: keeping ids, platforms and URLs out of it
// means the secrets file cannot silently re-point an account.
constexpr std::string_view kSecretAccountKeys[] = {"token", "encoding_aes_key", "secret",
                                                   "app_secret", "agent_secret"};

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

std::string RangeProblem(IntRange range) {
  return "must be in " + std::to_string(range.min) + ".." + std::to_string(range.max);
}

// Why `value` cannot be stored in an integer field, or nullopt once stored. The range itself is
// checked by Validate on the final value; here only "does it fit the member" matters.
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

constexpr Source kConfigFile = {"config", "", ""};
constexpr Source kSecretsFile = {"secrets", "secrets.", "secrets file"};

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
    const std::string key_path = JoinPath(path, Printable(item.key()));
    const Field<T>* field = FindField(fields, item.key());
    if (field == nullptr) {
      return KeyError(std::string(source.error_prefix) + key_path, "unknown key");
    }
    SCRM_RETURN_IF_ERROR(DecodeField(*field, item.value(), key_path, source, target, loaded));
  }
  return core::OkStatus();
}

// Calls fn(fields, section) for the section (log, http, storage) called `name`.
template <typename Fn>
std::optional<core::Status> ForSection(std::string_view name, Config& config, Fn&& fn) {
  if (name == "log") return fn(std::span<const Field<LogConfig>>(kLogFields), config.log);
  if (name == "http") return fn(std::span<const Field<HttpConfig>>(kHttpFields), config.http);
  if (name == "storage") {
    return fn(std::span<const Field<StorageConfig>>(kStorageFields), config.storage);
  }
  if (name == "outbound") {
    return fn(std::span<const Field<OutboundConfig>>(kOutboundFields), config.outbound);
  }
  if (name == "lifecycle") {
    return fn(std::span<const Field<LifecycleConfig>>(kLifecycleFields), config.lifecycle);
  }
  return std::nullopt;
}

// The config file's `accounts`: an array that defines the accounts.
core::Status DecodeAccounts(const json& value, Loaded& loaded) {
  if (!value.is_array()) return KeyError("accounts", "must be an array");
  loaded.config.accounts.clear();
  for (std::size_t i = 0; i < value.size(); ++i) {
    AccountConfig& account = loaded.config.accounts.emplace_back();
    SCRM_RETURN_IF_ERROR(DecodeObject<AccountConfig>(value[i], kAccountFields, AccountPath(i),
                                                     kConfigFile, account, loaded));
  }
  return core::OkStatus();
}

std::optional<std::size_t> FindAccountIndex(const std::vector<AccountConfig>& accounts,
                                            std::string_view id) {
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    if (accounts[i].id == id) return i;
  }
  return std::nullopt;
}

// The secrets file's `accounts`: an object keyed by account id that adds secrets to accounts
// the config file defines.
core::Status DecodeSecretAccounts(const json& value, Loaded& loaded) {
  if (!value.is_object()) {
    return KeyError("secrets.accounts", "must be an object keyed by account id");
  }
  for (const auto& item : value.items()) {
    const std::string error_path = "secrets.accounts." + Printable(item.key());
    const auto index = FindAccountIndex(loaded.config.accounts, item.key());
    if (!index) return KeyError(error_path, "no account with this id in the config file");
    if (!item.value().is_object()) return KeyError(error_path, "must be an object");
    AccountConfig& account = loaded.config.accounts[*index];
    for (const auto& entry : item.value().items()) {
      const std::string key = Printable(entry.key());
      const Field<AccountConfig>* field = FindField<AccountConfig>(kAccountFields, entry.key());
      bool is_secret = false;
      for (std::string_view secret_key : kSecretAccountKeys) is_secret |= secret_key == key;
      if (field == nullptr) return KeyError(error_path + "." + key, "unknown key");
      if (!is_secret) {
        return KeyError(error_path + "." + key,
                        "not a secret; only token, encoding_aes_key, secret, app_secret and "
                        "agent_secret may be set in the secrets file");
      }
      const std::string key_path = AccountPath(*index) + "." + key;
      if (auto problem = AssignJson(*field, entry.value(), account)) {
        return KeyError(error_path + "." + key, *problem);
      }
      loaded.origins[key_path] = std::string(kSecretsFile.origin);
    }
  }
  return core::OkStatus();
}

core::Status DecodeDocument(const json& doc, const Source& source, Loaded& loaded) {
  if (!doc.is_object()) return KeyError(source.file_label, "must be a JSON object");
  const bool is_secrets = source.origin == kSecretsFile.origin;
  for (const auto& item : doc.items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    if (key == "accounts") {
      SCRM_RETURN_IF_ERROR(is_secrets ? DecodeSecretAccounts(value, loaded)
                                      : DecodeAccounts(value, loaded));
      continue;
    }
    auto section_status =
        ForSection(key, loaded.config, [&](auto fields, auto& section) -> core::Status {
          return DecodeObject(value, fields, key, source, section, loaded);
        });
    if (section_status) {
      SCRM_RETURN_IF_ERROR(*section_status);
      continue;
    }
    const Field<Config>* field = FindField<Config>(kTopFields, key);
    if (field == nullptr) {
      return KeyError(std::string(source.error_prefix) + Printable(key), "unknown key");
    }
    SCRM_RETURN_IF_ERROR(DecodeField(*field, value, key, source, loaded.config, loaded));
  }
  return core::OkStatus();
}

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

// SCRMD_ACCOUNTS__<ID>__<KEY>; `tail` is "<ID>__<KEY>" in its original case.
core::Status ApplyEnvAccount(const std::string& env_name, std::string_view tail,
                             const std::string& text, Loaded& loaded) {
  const std::string name = Printable(env_name);
  // The last "__" separates the key: keys have no double underscore, ids may.
  const std::size_t at = tail.rfind("__");
  if (at == std::string_view::npos || at == 0 || at + 2 == tail.size()) {
    return KeyError(name, "does not name a config key (expected SCRMD_ACCOUNTS__<ID>__<KEY>)");
  }
  const std::string_view id = tail.substr(0, at);
  const std::string key = AsciiLower(tail.substr(at + 2));

  // Environment names are conventionally upper case while ids usually are not, so an exact
  // match wins and a case-insensitive one is accepted only when it is unambiguous.
  std::optional<std::size_t> index = FindAccountIndex(loaded.config.accounts, id);
  if (!index) {
    for (std::size_t i = 0; i < loaded.config.accounts.size(); ++i) {
      if (!EqualsIgnoreCase(loaded.config.accounts[i].id, id)) continue;
      if (index) return KeyError(name, "matches more than one account id when case is ignored");
      index = i;
    }
  }
  if (!index) return KeyError(name, "no account with id '" + Printable(id) + "' in the config");

  const Field<AccountConfig>* field = FindField<AccountConfig>(kAccountFields, key);
  if (field == nullptr) return KeyError(name, "no account key '" + Printable(key) + "'");
  if (key == "id") return KeyError(name, "an account id cannot be set from the environment");
  return ApplyEnvField(*field, AccountPath(*index) + "." + key, env_name, text,
                       loaded.config.accounts[*index], loaded);
}

core::Status ApplyEnvVar(const std::string& env_name, const std::string& text, Loaded& loaded) {
  const std::string_view rest = std::string_view(env_name).substr(kEnvPrefix.size());
  const std::string lower = AsciiLower(rest);
  constexpr std::string_view kAccountsPrefix = "accounts__";
  if (lower.starts_with(kAccountsPrefix)) {
    return ApplyEnvAccount(env_name, rest.substr(kAccountsPrefix.size()), text, loaded);
  }
  const std::vector<std::string> parts = Split(lower, "__");
  if (parts.size() == 1) {
    if (const Field<Config>* field = FindField<Config>(kTopFields, parts[0])) {
      return ApplyEnvField(*field, parts[0], env_name, text, loaded.config, loaded);
    }
  } else if (parts.size() == 2) {
    auto section_status =
        ForSection(parts[0], loaded.config, [&](auto fields, auto& section) -> core::Status {
          const auto* field = FindField(fields, parts[1]);
          if (field == nullptr) return KeyError(Printable(env_name), "does not name a config key");
          return ApplyEnvField(*field, parts[0] + "." + parts[1], env_name, text, section, loaded);
        });
    if (section_status) return *section_status;
  }
  return KeyError(Printable(env_name),
                  "does not name a config key (levels are separated by \"__\", e.g. "
                  "SCRMD_LOG__LEVEL)");
}

core::Status ApplyEnvironment(const std::map<std::string, std::string>& env, Loaded& loaded) {
  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix)) continue;
    SCRM_RETURN_IF_ERROR(ApplyEnvVar(name, value, loaded));
  }
  return core::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Validation of the merged result

struct HostPort {
  std::string host;
  int port = 0;
};

// Splits "host:port" / "[v6]:port"; the error message is the reason only (no key path).
core::StatusOr<HostPort> SplitListen(std::string_view listen) {
  const std::string_view kShape = "must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080";
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return core::InvalidArgumentError(std::string(kShape));
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return core::InvalidArgumentError("an IPv6 host must be in brackets, e.g. [::1]:8080");
    }
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) {
      return core::InvalidArgumentError("brackets are only for IPv6 hosts, e.g. [::1]:8080");
    }
  } else if (host.find(':') != std::string_view::npos) {
    return core::InvalidArgumentError("an IPv6 host must be in brackets, e.g. [::1]:8080");
  }
  if (host.empty()) return core::InvalidArgumentError("host must not be empty");
  for (char ch : host) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || ch == '/' || ch == '[' || ch == ']') {
      return core::InvalidArgumentError("host contains a character not allowed in a host");
    }
  }
  int port = 0;
  const char* end = port_text.data() + port_text.size();
  const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  const bool digits_only = !port_text.empty() && port_text.size() <= 5 && port_text[0] != '-';
  if (!digits_only || ec != std::errc() || ptr != end || port > 65535) {
    return core::InvalidArgumentError("port must be in 0..65535");
  }
  return HostPort{std::string(host), port};
}

bool HasSchemeAndHost(std::string_view url) {
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (url.starts_with(scheme)) {
      return url.size() > scheme.size() && url[scheme.size()] != '/';
    }
  }
  return false;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char ch : id) {
    if (!IsAlnum(ch) && ch != '_' && ch != '-') return false;
  }
  return true;
}

class Validator {
 public:
  explicit Validator(const Loaded& loaded) : loaded_(loaded), config_(loaded.config) {}

  core::Status Run() {
    SCRM_RETURN_IF_ERROR(CheckTopLevel());
    SCRM_RETURN_IF_ERROR(CheckLog());
    SCRM_RETURN_IF_ERROR(CheckHttp());
    SCRM_RETURN_IF_ERROR(CheckStorage());
    SCRM_RETURN_IF_ERROR(CheckOutbound());
    SCRM_RETURN_IF_ERROR(
        CheckRanges<LifecycleConfig>(kLifecycleFields, "lifecycle", config_.lifecycle));
    std::map<std::string, std::size_t> seen_ids;
    for (std::size_t i = 0; i < config_.accounts.size(); ++i) {
      SCRM_RETURN_IF_ERROR(CheckAccount(i, seen_ids));
    }
    return core::OkStatus();
  }

 private:
  // "path: reason", plus which override set the value, so an operator looks in the right place.
  core::Status Fail(const std::string& path, std::string_view reason) const {
    std::string message = path + ": " + std::string(reason);
    const auto origin = loaded_.origins.find(path);
    if (origin != loaded_.origins.end() && !origin->second.empty()) {
      message += " (from " + origin->second + ")";
    }
    return core::InvalidArgumentError(std::move(message));
  }

  bool IsSet(const std::string& path) const { return loaded_.origins.contains(path); }

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

  core::Status CheckTopLevel() const {
    auto listen = SplitListen(config_.listen);
    if (!listen.ok()) return Fail("listen", listen.status().message());
    if (config_.data_dir.empty()) return Fail("data_dir", "must not be empty");
    if (config_.tag_rules_file.size() > kMaxPathBytes) {
      return Fail("tag_rules_file", "must be at most 4096 bytes");
    }
    if (Printable(config_.tag_rules_file) != config_.tag_rules_file) {
      return Fail("tag_rules_file", "must not contain control characters");
    }
    return core::OkStatus();
  }

  core::Status CheckLog() const {
    auto level = core::ParseLogLevel(config_.log.level);
    if (!level.ok()) return Fail("log.level", level.status().message());
    return core::OkStatus();
  }

  core::Status CheckHttp() const {
    SCRM_RETURN_IF_ERROR(CheckRanges<HttpConfig>(kHttpFields, "http", config_.http));
    // Workers beyond max_connections would never get a connection to serve.
    if (config_.http.max_connections < config_.http.threads) {
      return Fail("http.max_connections",
                  "must be >= http.threads (" + std::to_string(config_.http.threads) + ")");
    }
    const HttpConfig& http = config_.http;
    // The default cap (128) follows a smaller max_connections (Finalize); a cap set above it is
    // a mistake to name.
    if (http.max_connections_per_ip > http.max_connections &&
        loaded_.origins.contains("http.max_connections_per_ip")) {
      return Fail("http.max_connections_per_ip", "must be <= http.max_connections (" +
                                                     std::to_string(http.max_connections) +
                                                     "), or 0 for no cap");
    }
    // A keep-alive connection's idle time counts towards the request's deadline.
    if (http.request_timeout_s <= http.keep_alive_timeout_s) {
      return Fail("http.request_timeout_s", "must be > http.keep_alive_timeout_s (" +
                                                std::to_string(http.keep_alive_timeout_s) + ")");
    }
    if (http.max_pending_body_bytes < http.max_body_bytes) {
      return Fail("http.max_pending_body_bytes",
                  "must be >= http.max_body_bytes (" + std::to_string(http.max_body_bytes) + ")");
    }
    if (!http.admin_listen.empty()) {
      auto admin = SplitListen(http.admin_listen);
      if (!admin.ok()) return Fail("http.admin_listen", admin.status().message());
      auto main = SplitListen(config_.listen);
      if (main.ok() && admin->port != 0 && admin->port == main->port && admin->host == main->host) {
        return Fail("http.admin_listen", "must differ from listen");
      }
    }
    return core::OkStatus();
  }

  core::Status CheckStorage() const {
    constexpr std::string_view kModes[] = {"normal", "full"};
    if (config_.storage.synchronous != kModes[0] && config_.storage.synchronous != kModes[1]) {
      return Fail("storage.synchronous", "must be " + Alternatives(kModes));
    }
    // Two Database objects on one file would be two writers fighting over one lock, and the
    // inbox migration would copy a table onto itself.
    const std::string main_path = config_.DatabasePath();
    if (main_path != ":memory:" &&
        std::filesystem::path(config_.InboxDatabasePath()).lexically_normal() ==
            std::filesystem::path(main_path).lexically_normal()) {
      return Fail("storage.inbox_path", "must differ from the database path");
    }
    return CheckRanges<StorageConfig>(kStorageFields, "storage", config_.storage);
  }

  core::Status CheckOutbound() const {
    SCRM_RETURN_IF_ERROR(
        CheckRanges<OutboundConfig>(kOutboundFields, "outbound", config_.outbound));
    if (config_.outbound.max_backoff_ms < config_.outbound.base_backoff_ms) {
      return Fail("outbound.max_backoff_ms", "must be >= outbound.base_backoff_ms (" +
                                                 std::to_string(config_.outbound.base_backoff_ms) +
                                                 ")");
    }
    // Limits per minute above the hourly limit would be dead configuration.
    if (config_.outbound.wecom_per_hour < config_.outbound.wecom_per_minute) {
      return Fail("outbound.wecom_per_hour", "must be >= outbound.wecom_per_minute");
    }
    return core::OkStatus();
  }

  core::Status CheckAccount(std::size_t index, std::map<std::string, std::size_t>& seen_ids) const {
    const AccountConfig& account = config_.accounts[index];
    const std::string path = AccountPath(index);
    const auto at = [&](std::string_view key) { return path + "." + std::string(key); };

    if (account.id.empty()) return Fail(at("id"), "required");
    if (!IsValidId(account.id)) return Fail(at("id"), "must be 1..64 characters of [A-Za-z0-9_-]");
    if (!seen_ids.emplace(account.id, index).second) {
      return Fail(at("id"), "duplicate id '" + account.id + "'");
    }
    if (!IsSet(at("platform"))) {
      return Fail(at("platform"), "required (" + EnumAlternatives<Platform>() + ")");
    }

    const bool wecom = account.platform == Platform::kWecom;
    const std::string not_for =
        std::string("not allowed for platform \"") + std::string(NameOf(account.platform)) + "\"";
    if (wecom) {
      if (account.corp_id.empty()) return Fail(at("corp_id"), "required");
      if (IsSet(at("app_id"))) return Fail(at("app_id"), not_for + " (use corp_id)");
      if (IsSet(at("app_secret"))) return Fail(at("app_secret"), not_for + " (use secret)");
      // An app credential is both or neither.
      if ((account.agent_id != 0) != !account.agent_secret.empty()) {
        return Fail(at(account.agent_id != 0 ? "agent_secret" : "agent_id"),
                    "required when " +
                        std::string(account.agent_id != 0 ? "agent_id" : "agent_secret") +
                        " is set");
      }
      // WeCom callbacks are always encrypted; there is no mode to choose.
      if (IsSet(at("encrypt_mode"))) return Fail(at("encrypt_mode"), not_for);
    } else {
      if (account.app_id.empty()) return Fail(at("app_id"), "required");
      if (IsSet(at("corp_id"))) return Fail(at("corp_id"), not_for + " (use app_id)");
      if (IsSet(at("secret"))) return Fail(at("secret"), not_for + " (use app_secret)");
      if (IsSet(at("agent_id"))) return Fail(at("agent_id"), not_for);
      if (IsSet(at("agent_secret"))) return Fail(at("agent_secret"), not_for);
    }

    // Messages below describe the rule, never the value: these are secrets.
    if (account.token.empty()) return Fail(at("token"), "required");
    if (account.token.size() > 128 || !AllAlnum(account.token)) {
      return Fail(at("token"), "must be 1..128 characters of [A-Za-z0-9]");
    }
    const bool needs_aes_key = wecom || account.encrypt_mode != EncryptMode::kPlain;
    if (account.encoding_aes_key.empty()) {
      if (needs_aes_key) {
        return Fail(at("encoding_aes_key"),
                    wecom ? "required" : "required unless encrypt_mode is \"plain\"");
      }
    } else {
      // EncodingAESKey is base64 of a 32-byte AES key without its trailing '='.
      if (account.encoding_aes_key.size() != 43) {
        return Fail(at("encoding_aes_key"), "must be 43 characters");
      }
      if (!AllAlnum(account.encoding_aes_key)) {
        return Fail(at("encoding_aes_key"), "must contain only [A-Za-z0-9]");
      }
    }

    if (!account.api_base.empty() && !HasSchemeAndHost(account.api_base)) {
      return Fail(at("api_base"), "must start with http:// or https:// followed by a host");
    }
    return CheckRanges<AccountConfig>(kAccountFields, path, account);
  }

  const Loaded& loaded_;
  const Config& config_;
};

// Fills in defaults that depend on other keys, once everything is known to be valid.
void Finalize(Config& config) {
  config.http.max_connections_per_ip =
      std::min(config.http.max_connections_per_ip, config.http.max_connections);
  for (AccountConfig& account : config.accounts) {
    if (account.api_base.empty()) {
      account.api_base =
          std::string(account.platform == Platform::kWecom ? kWecomDefaultApiBase
                                                           : kOfficialAccountDefaultApiBase);
    }
    // Clients append "/cgi-bin/..."; one spelling of the base avoids "//" in request paths.
    while (account.api_base.ends_with('/')) account.api_base.pop_back();
  }
}

// ---------------------------------------------------------------------------------------------
// Files and JSON

// json::parse(..., false) says only "discarded"; this SAX pass finds where. It records the
// position and never looks at (or reports) the text, which may hold secrets.
class ErrorPositionSax final : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    position_ = position;
    return false;
  }

  std::size_t position() const { return position_; }

 private:
  std::size_t position_ = 0;
};

core::StatusOr<json> ParseJson(std::string_view label, const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded()) return doc;

  ErrorPositionSax sax;
  json::sax_parse(text, &sax);
  // nlohmann counts bytes read, so the offending byte is the last one read (0-based below).
  const std::size_t offset =
      std::min(sax.position() > 0 ? sax.position() - 1 : 0, text.empty() ? 0 : text.size() - 1);
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return core::InvalidArgumentError(std::string(label) + ": invalid JSON at byte " +
                                    std::to_string(offset) + " (line " + std::to_string(line) +
                                    ", column " + std::to_string(column) + ")");
}

core::StatusOr<std::string> ReadSourceFile(std::string_view label, const std::string& path) {
  const std::string cannot_read = std::string(label) + ": cannot read " + Printable(path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return core::InvalidArgumentError(cannot_read + " (is a directory)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return core::InvalidArgumentError(cannot_read);
  std::string text;
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) {
      return core::InvalidArgumentError(cannot_read + " (larger than " +
                                        std::to_string(kMaxFileBytes >> 20) + " MiB)");
    }
  }
  if (in.bad()) return core::InvalidArgumentError(cannot_read);
  return text;
}

// A secrets file others can read leaks the tokens and keys; one others can write lets them
// re-key an account. Refused before it is read, with the fix in the message. A missing file is
// left to ReadSourceFile's "cannot read".
core::Status CheckSecretsFileMode(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::is_regular_file(status)) return core::OkStatus();
  using std::filesystem::perms;
  const perms mode = status.permissions();
  const perms open_to_others =
      perms::group_read | perms::group_write | perms::others_read | perms::others_write;
  if ((mode & open_to_others) == perms::none) return core::OkStatus();
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & perms::mask));
  return core::InvalidArgumentError("secrets: " + Printable(path) +
                                    " is readable or writable by group or others (mode " + octal +
                                    "); run: chmod 600 " + Printable(path));
}

// The whole pipeline over texts already in memory; nullptr = source not given.
core::StatusOr<Config> LoadFromTexts(const std::string* config_text,
                                     const std::string* secrets_text,
                                     const std::map<std::string, std::string>& env) {
  json config_doc = json::object();
  if (config_text != nullptr) {
    SCRM_ASSIGN_OR_RETURN(config_doc, ParseJson(kConfigFile.file_label, *config_text));
  }
  json secrets_doc;
  if (secrets_text != nullptr) {
    SCRM_ASSIGN_OR_RETURN(secrets_doc, ParseJson(kSecretsFile.file_label, *secrets_text));
  }

  Loaded loaded;
  SCRM_RETURN_IF_ERROR(DecodeDocument(config_doc, kConfigFile, loaded));
  if (secrets_text != nullptr) {
    SCRM_RETURN_IF_ERROR(DecodeDocument(secrets_doc, kSecretsFile, loaded));
  }
  SCRM_RETURN_IF_ERROR(ApplyEnvironment(env, loaded));
  SCRM_RETURN_IF_ERROR(Validator(loaded).Run());
  Finalize(loaded.config);
  return std::move(loaded.config);
}

// The module boundary for nlohmann: every type is checked before it is read, so an exception
// here is a bug; it still becomes a Status rather than crossing into the caller.
template <typename Fn>
core::StatusOr<Config> CatchingJsonErrors(Fn&& fn) {
  try {
    return fn();
  } catch (const json::exception& e) {
    return core::InternalError("config: unexpected JSON library error " + std::to_string(e.id));
  }
}

}  // namespace

std::string_view PlatformName(Platform platform) { return NameOf(platform); }
std::string_view EncryptModeName(EncryptMode mode) { return NameOf(mode); }

std::string Config::ListenHost() const {
  auto parts = SplitListen(listen);
  return parts.ok() ? parts->host : std::string();
}

int Config::ListenPort() const {
  auto parts = SplitListen(listen);
  return parts.ok() ? parts->port : -1;
}

std::string Config::AdminListenHost() const {
  if (http.admin_listen.empty()) return std::string();
  auto parts = SplitListen(http.admin_listen);
  return parts.ok() ? parts->host : std::string();
}

int Config::AdminListenPort() const {
  if (http.admin_listen.empty()) return -1;
  auto parts = SplitListen(http.admin_listen);
  return parts.ok() ? parts->port : -1;
}

std::string Config::DatabasePath() const {
  if (!storage.path.empty()) return storage.path;
  if (data_dir.ends_with('/')) return data_dir + "scrmd.db";
  return data_dir + "/scrmd.db";
}

std::string Config::InboxDatabasePath() const {
  if (!storage.inbox_path.empty()) return storage.inbox_path;
  const std::string main_path = DatabasePath();
  if (main_path == ":memory:") return main_path;
  const std::filesystem::path path(main_path);
  return (path.parent_path() / (path.stem().string() + "-inbox" + path.extension().string()))
      .string();
}

const AccountConfig* Config::FindAccount(std::string_view id) const {
  for (const AccountConfig& account : accounts) {
    if (account.id == id) return &account;
  }
  return nullptr;
}

core::StatusOr<Config> LoadConfig(const ConfigSources& sources) {
  std::optional<std::string> config_text;
  if (!sources.config_file.empty()) {
    SCRM_ASSIGN_OR_RETURN(config_text, ReadSourceFile("config", sources.config_file));
  }
  std::optional<std::string> secrets_text;
  if (!sources.secrets_file.empty()) {
    SCRM_RETURN_IF_ERROR(CheckSecretsFileMode(sources.secrets_file));
    SCRM_ASSIGN_OR_RETURN(secrets_text, ReadSourceFile("secrets", sources.secrets_file));
  }
  return CatchingJsonErrors([&] {
    return LoadFromTexts(config_text ? &*config_text : nullptr,
                         secrets_text ? &*secrets_text : nullptr, sources.env);
  });
}

core::StatusOr<Config> ParseConfig(const std::string& json_text) {
  return CatchingJsonErrors([&] { return LoadFromTexts(&json_text, nullptr, {}); });
}

std::map<std::string, std::string> ScrmdEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with(kEnvPrefix)) continue;
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

}  // namespace scrm::config
