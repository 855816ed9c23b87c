// Config loading: each source (config file, secrets file, environment) is decoded onto one
// Config in precedence order, remembering which source set each key; then the result is
// validated once, so a bad value in a lower source can still be fixed by a higher one. The
// sections' keys and checks live in <section>_config.cc (sections.h); this file reads the files,
// dispatches each key to its section and owns the top-level keys.
#include "src/config/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

#include "src/config/field_table.h"
#include "src/config/sections.h"
#include "src/core/strings.h"

namespace scrm::config {
namespace {

using internal::Checks;
using internal::Field;
using internal::json;
using internal::kConfigFile;
using internal::KeyError;
using internal::kSecretsFile;
using internal::Loaded;
using internal::Source;

// Config files are small; a bigger file is a mistake (wrong path), not a config.
constexpr std::size_t kMaxFileBytes = std::size_t{4} << 20;
constexpr std::string_view kEnvPrefix = "SCRMD_";
// PATH_MAX on Linux: a longer path cannot be opened anyway.
constexpr std::size_t kMaxPathBytes = 4096;

const Field<Config> kTopFields[] = {
    {"listen", &Config::listen},
    {"data_dir", &Config::data_dir},
    {"tag_rules_file", &Config::tag_rules_file},
    {"templates_dir", &Config::templates_dir},
};

// Calls fn(section, member) for each plain section, in the order their checks run.
template <typename C, typename Fn>
void ForEachSection(C& config, Fn&& fn) {
  fn(internal::LogSection(), config.log);
  fn(internal::HttpSection(), config.http);
  fn(internal::StorageSection(), config.storage);
  fn(internal::OutboundSection(), config.outbound);
  fn(internal::LifecycleSection(), config.lifecycle);
  fn(internal::CampaignsSection(), config.campaigns);
}

// fn(fields, member) for the plain section called `name`; nullopt when there is none.
template <typename Fn>
std::optional<core::Status> ForSection(std::string_view name, Config& config, Fn&& fn) {
  std::optional<core::Status> result;
  ForEachSection(config, [&](const auto& section, auto& member) {
    if (!result && section.name == name) result = fn(section.fields, member);
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Decoding the sources

core::Status DecodeDocument(const json& doc, const Source& source, Loaded& loaded) {
  if (!doc.is_object()) return KeyError(source.file_label, "must be a JSON object");
  const bool is_secrets = source.origin == kSecretsFile.origin;
  for (const auto& item : doc.items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    if (key == "accounts") {
      SCRM_RETURN_IF_ERROR(is_secrets ? internal::DecodeSecretAccounts(value, loaded)
                                      : internal::DecodeAccounts(value, loaded));
      continue;
    }
    auto section_status =
        ForSection(key, loaded.config, [&](auto fields, auto& section) -> core::Status {
          return internal::DecodeObject(value, fields, key, source, section, loaded);
        });
    if (section_status) {
      SCRM_RETURN_IF_ERROR(*section_status);
      continue;
    }
    const Field<Config>* field = internal::FindField<Config>(kTopFields, key);
    if (field == nullptr) {
      return KeyError(std::string(source.error_prefix) + core::Printable(key), "unknown key");
    }
    SCRM_RETURN_IF_ERROR(internal::DecodeField(*field, value, key, source, loaded.config, loaded));
  }
  return core::OkStatus();
}

core::Status ApplyEnvVar(const std::string& env_name, const std::string& text, Loaded& loaded) {
  const std::string_view rest = std::string_view(env_name).substr(kEnvPrefix.size());
  const std::string lower = core::AsciiLower(rest);
  constexpr std::string_view kAccountsPrefix = "accounts__";
  if (lower.starts_with(kAccountsPrefix)) {
    return internal::ApplyEnvAccount(env_name, rest.substr(kAccountsPrefix.size()), text, loaded);
  }
  const std::vector<std::string> parts = core::Split(lower, "__");
  if (parts.size() == 1) {
    if (const Field<Config>* field = internal::FindField<Config>(kTopFields, parts[0])) {
      return internal::ApplyEnvField(*field, parts[0], env_name, text, loaded.config, loaded);
    }
  } else if (parts.size() == 2) {
    auto section_status =
        ForSection(parts[0], loaded.config, [&](auto fields, auto& section) -> core::Status {
          const auto* field = internal::FindField(fields, parts[1]);
          if (field == nullptr) {
            return KeyError(core::Printable(env_name), "does not name a config key");
          }
          return internal::ApplyEnvField(*field, parts[0] + "." + parts[1], env_name, text, section,
                                         loaded);
        });
    if (section_status) return *section_status;
  }
  return KeyError(core::Printable(env_name),
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

core::Status CheckTopLevel(const Checks& checks, const Config& config) {
  auto listen = SplitListen(config.listen);
  if (!listen.ok()) return checks.Fail("listen", listen.status().message());
  if (config.data_dir.empty()) return checks.Fail("data_dir", "must not be empty");
  if (config.tag_rules_file.size() > kMaxPathBytes) {
    return checks.Fail("tag_rules_file", "must be at most 4096 bytes");
  }
  if (core::Printable(config.tag_rules_file) != config.tag_rules_file) {
    return checks.Fail("tag_rules_file", "must not contain control characters");
  }
  if (config.templates_dir.size() > kMaxPathBytes) {
    return checks.Fail("templates_dir", "must be at most 4096 bytes");
  }
  if (core::Printable(config.templates_dir) != config.templates_dir) {
    return checks.Fail("templates_dir", "must not contain control characters");
  }
  return core::OkStatus();
}

// The top-level keys, then each section in order, then the accounts; the first error wins.
core::Status Validate(const Loaded& loaded) {
  const Checks checks(loaded);
  const Config& config = loaded.config;
  SCRM_RETURN_IF_ERROR(CheckTopLevel(checks, config));
  core::Status status;
  ForEachSection(config, [&](const auto& section, const auto&) {
    if (status.ok()) status = section.check(checks, config);
  });
  SCRM_RETURN_IF_ERROR(status);
  return internal::CheckAccounts(checks, config.accounts);
}

// Fills in defaults that depend on other keys, once everything is known to be valid.
void Finalize(Config& config) {
  internal::FinalizeHttp(config.http);
  internal::FinalizeAccounts(config.accounts);
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
  const std::string cannot_read = std::string(label) + ": cannot read " + core::Printable(path);
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
  return core::InvalidArgumentError("secrets: " + core::Printable(path) +
                                    " is readable or writable by group or others (mode " + octal +
                                    "); run: chmod 600 " + core::Printable(path));
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
  SCRM_RETURN_IF_ERROR(Validate(loaded));
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
