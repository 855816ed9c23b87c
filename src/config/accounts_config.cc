// The `accounts` section: keys, spellings, the three sources' shapes (config file array, secrets
// file object keyed by id, SCRMD_ACCOUNTS__<ID>__<KEY>) and the per-platform checks.
#include "src/config/accounts_config.h"

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "src/config/sections.h"

namespace scrm::config {
namespace internal {
namespace {

constexpr EnumName<EncryptMode> kEncryptModeNames[] = {
    {"plain", EncryptMode::kPlain}, {"compat", EncryptMode::kCompat}, {"safe", EncryptMode::kSafe}};

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

std::string AccountPath(std::size_t index) { return "accounts[" + std::to_string(index) + "]"; }

std::optional<std::size_t> FindAccountIndex(const std::vector<AccountConfig>& accounts,
                                            std::string_view id) {
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    if (accounts[i].id == id) return i;
  }
  return std::nullopt;
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
    if (!core::IsAsciiAlnum(ch) && ch != '_' && ch != '-') return false;
  }
  return true;
}

core::Status CheckAccount(const Checks& checks, const std::vector<AccountConfig>& accounts,
                          std::size_t index, std::map<std::string, std::size_t>& seen_ids) {
  const AccountConfig& account = accounts[index];
  const std::string path = AccountPath(index);
  const auto at = [&](std::string_view key) { return path + "." + std::string(key); };
  const auto fail = [&](std::string_view key, std::string_view reason) {
    return checks.Fail(at(key), reason);
  };
  const auto is_set = [&](std::string_view key) { return checks.IsSet(at(key)); };

  if (account.id.empty()) return fail("id", "required");
  if (!IsValidId(account.id)) return fail("id", "must be 1..64 characters of [A-Za-z0-9_-]");
  if (!seen_ids.emplace(account.id, index).second) {
    return fail("id", "duplicate id '" + account.id + "'");
  }
  if (!is_set("platform")) {
    return fail("platform", "required (" + EnumAlternatives<model::Platform>() + ")");
  }

  const bool wecom = account.platform == model::Platform::kWecom;
  const std::string not_for =
      std::string("not allowed for platform \"") + std::string(NameOf(account.platform)) + "\"";
  if (wecom) {
    if (account.corp_id.empty()) return fail("corp_id", "required");
    if (is_set("app_id")) return fail("app_id", not_for + " (use corp_id)");
    if (is_set("app_secret")) return fail("app_secret", not_for + " (use secret)");
    // An app credential is both or neither.
    if ((account.agent_id != 0) != !account.agent_secret.empty()) {
      return fail(account.agent_id != 0 ? "agent_secret" : "agent_id",
                  "required when " +
                      std::string(account.agent_id != 0 ? "agent_id" : "agent_secret") + " is set");
    }
    // WeCom callbacks are always encrypted; there is no mode to choose.
    if (is_set("encrypt_mode")) return fail("encrypt_mode", not_for);
  } else {
    if (account.app_id.empty()) return fail("app_id", "required");
    if (is_set("corp_id")) return fail("corp_id", not_for + " (use app_id)");
    if (is_set("secret")) return fail("secret", not_for + " (use app_secret)");
    if (is_set("agent_id")) return fail("agent_id", not_for);
    if (is_set("agent_secret")) return fail("agent_secret", not_for);
  }

  // Messages below describe the rule, never the value: these are secrets.
  if (account.token.empty()) return fail("token", "required");
  if (account.token.size() > 128 || !core::AllAsciiAlnum(account.token)) {
    return fail("token", "must be 1..128 characters of [A-Za-z0-9]");
  }
  const bool needs_aes_key = wecom || account.encrypt_mode != EncryptMode::kPlain;
  if (account.encoding_aes_key.empty()) {
    if (needs_aes_key) {
      return fail("encoding_aes_key",
                  wecom ? "required" : "required unless encrypt_mode is \"plain\"");
    }
  } else {
    // EncodingAESKey is base64 of a 32-byte AES key without its trailing '='.
    if (account.encoding_aes_key.size() != 43) {
      return fail("encoding_aes_key", "must be 43 characters");
    }
    if (!core::AllAsciiAlnum(account.encoding_aes_key)) {
      return fail("encoding_aes_key", "must contain only [A-Za-z0-9]");
    }
  }

  if (!account.api_base.empty() && !HasSchemeAndHost(account.api_base)) {
    return fail("api_base", "must start with http:// or https:// followed by a host");
  }
  return checks.CheckRanges<AccountConfig>(kAccountFields, path, account);
}

}  // namespace

// The config spelling of a platform is the model's (one spelling in files, rows and filters).
std::span<const EnumName<model::Platform>> NamesOf(model::Platform) {
  static const EnumName<model::Platform> kNames[] = {
      {model::PlatformName(model::Platform::kWecom), model::Platform::kWecom},
      {model::PlatformName(model::Platform::kOfficialAccount), model::Platform::kOfficialAccount}};
  return kNames;
}
std::span<const EnumName<EncryptMode>> NamesOf(EncryptMode) { return kEncryptModeNames; }

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

core::Status DecodeSecretAccounts(const json& value, Loaded& loaded) {
  if (!value.is_object()) {
    return KeyError("secrets.accounts", "must be an object keyed by account id");
  }
  for (const auto& item : value.items()) {
    const std::string error_path = "secrets.accounts." + core::Printable(item.key());
    const auto index = FindAccountIndex(loaded.config.accounts, item.key());
    if (!index) return KeyError(error_path, "no account with this id in the config file");
    if (!item.value().is_object()) return KeyError(error_path, "must be an object");
    AccountConfig& account = loaded.config.accounts[*index];
    for (const auto& entry : item.value().items()) {
      const std::string key = core::Printable(entry.key());
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

core::Status ApplyEnvAccount(const std::string& env_name, std::string_view tail,
                             const std::string& text, Loaded& loaded) {
  const std::string name = core::Printable(env_name);
  // The last "__" separates the key: keys have no double underscore, ids may.
  const std::size_t at = tail.rfind("__");
  if (at == std::string_view::npos || at == 0 || at + 2 == tail.size()) {
    return KeyError(name, "does not name a config key (expected SCRMD_ACCOUNTS__<ID>__<KEY>)");
  }
  const std::string_view id = tail.substr(0, at);
  const std::string key = core::AsciiLower(tail.substr(at + 2));

  // Environment names are conventionally upper case while ids usually are not, so an exact
  // match wins and a case-insensitive one is accepted only when it is unambiguous.
  std::optional<std::size_t> index = FindAccountIndex(loaded.config.accounts, id);
  if (!index) {
    for (std::size_t i = 0; i < loaded.config.accounts.size(); ++i) {
      if (!core::EqualsIgnoreCase(loaded.config.accounts[i].id, id)) continue;
      if (index) return KeyError(name, "matches more than one account id when case is ignored");
      index = i;
    }
  }
  if (!index) {
    return KeyError(name, "no account with id '" + core::Printable(id) + "' in the config");
  }

  const Field<AccountConfig>* field = FindField<AccountConfig>(kAccountFields, key);
  if (field == nullptr) return KeyError(name, "no account key '" + core::Printable(key) + "'");
  if (key == "id") return KeyError(name, "an account id cannot be set from the environment");
  return ApplyEnvField(*field, AccountPath(*index) + "." + key, env_name, text,
                       loaded.config.accounts[*index], loaded);
}

core::Status CheckAccounts(const Checks& checks, const std::vector<AccountConfig>& accounts) {
  std::map<std::string, std::size_t> seen_ids;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    SCRM_RETURN_IF_ERROR(CheckAccount(checks, accounts, i, seen_ids));
  }
  return core::OkStatus();
}

void FinalizeAccounts(std::vector<AccountConfig>& accounts) {
  for (AccountConfig& account : accounts) {
    if (account.api_base.empty()) {
      account.api_base =
          std::string(account.platform == model::Platform::kWecom ? kWecomDefaultApiBase
                                                                  : kOfficialAccountDefaultApiBase);
    }
    // Clients append "/cgi-bin/..."; one spelling of the base avoids "//" in request paths.
    while (account.api_base.ends_with('/')) account.api_base.pop_back();
  }
}

}  // namespace internal

std::string_view EncryptModeName(EncryptMode mode) { return internal::NameOf(mode); }

}  // namespace scrm::config
