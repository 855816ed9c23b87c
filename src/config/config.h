// Service configuration: one JSON file + a secrets file + SCRMD_* environment overrides,
// parsed and validated once at startup into plain structs with documented defaults. Each section
// has its own header and parser (<section>_config.h/.cc, over the field tables of
// field_table.h); config.cc merges the sources and owns the top-level keys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/config/accounts_config.h"
#include "src/config/campaigns_config.h"
#include "src/config/http_config.h"
#include "src/config/lifecycle_config.h"
#include "src/config/log_config.h"
#include "src/config/outbound_config.h"
#include "src/config/storage_config.h"
#include "src/core/status.h"

namespace scrm::config {

// Config::templates_dir's default.
inline constexpr std::string_view kDefaultTemplatesDir = "templates";

struct Config {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 = ephemeral
  std::string data_dir = "./var";
  LogConfig log;
  HttpConfig http;
  StorageConfig storage;
  OutboundConfig outbound;
  LifecycleConfig lifecycle;
  CampaignsConfig campaigns;
  std::vector<AccountConfig> accounts;
  // Tag rules loaded at startup ({"rules": [...]}, config/tag_rules.example.json); "" = no rules.
  // At most 4096 bytes, no control characters; the file itself is read and checked by scrmd
  // serve (a missing or invalid file stops the start).
  std::string tag_rules_file;
  // The shipped message templates (docs/templates.md "Shipped templates"): a folder of *.json
  // template files whose templates scrmd serve stores when the database does not have them yet.
  // "" = none. Relative paths are from the working directory: the default is the repository's
  // templates/ for scrmd run from the checkout (scripts/run.sh); when the default folder does not
  // exist nothing is loaded, while a folder set explicitly must exist. Same rules as
  // tag_rules_file (at most 4096 bytes, no control characters).
  std::string templates_dir = std::string(kDefaultTemplatesDir);

  // Host and port parsed from `listen` (validated at load). The host of "[::1]:8080" is "::1".
  // On a Config that did not come from LoadConfig/ParseConfig and has a malformed `listen`,
  // they return "" and -1.
  std::string ListenHost() const;
  int ListenPort() const;
  // The same for http.admin_listen ("" and -1 when it is not set).
  std::string AdminListenHost() const;
  int AdminListenPort() const;
  // storage.path, or <data_dir>/scrmd.db when empty.
  std::string DatabasePath() const;
  // storage.inbox_path, or when empty the file next to DatabasePath() with "-inbox" after its
  // stem: <data_dir>/scrmd-inbox.db by default, /srv/x/main.db -> /srv/x/main-inbox.db,
  // ":memory:" -> ":memory:" (a database of its own).
  std::string InboxDatabasePath() const;
  // The account with this id, or nullptr. The pointer lives as long as this Config is unchanged.
  const AccountConfig* FindAccount(std::string_view id) const;
};

// Where the raw configuration comes from. Empty paths mean "not given".
struct ConfigSources {
  std::string config_file;   // JSON; absent => embedded defaults
  std::string secrets_file;  // JSON, same shape as the config; merged over it
  // ...except that its `accounts` is an object keyed by account id, and only token,
  // encoding_aes_key, secret, app_secret and agent_secret may be set there:
  //   {"accounts": {"corp1": {"token": "...", "encoding_aes_key": "...", "secret": "..."}}}
  // Environment (name -> value); only SCRMD_* names are read. `SCRMD_HTTP__THREADS=16` sets
  // http.threads, `SCRMD_ACCOUNTS__<ID>__TOKEN=x` sets accounts[id==<ID>].token.
  std::map<std::string, std::string> env;
};

// Loads, merges and validates. Errors are InvalidArgument with one line that starts with the
// key path: "accounts[1].encoding_aes_key: must be 43 characters",
// "http.threads: must be an integer", "lisen: unknown key".
// Precedence: env > secrets file > config file > defaults. The first error found is reported:
// unreadable file / JSON syntax, then keys and types of the config file, of the secrets file,
// of the env, then the merged values (so a higher source may fix a lower one's out-of-range
// value). Messages never contain secret values. docs/configuration.md is the operator's guide.
core::StatusOr<Config> LoadConfig(const ConfigSources& sources);

// Parses a JSON text alone (no files, no env): what tests use.
core::StatusOr<Config> ParseConfig(const std::string& json_text);

// The process environment as a map (only SCRMD_* entries). Called by main.
std::map<std::string, std::string> ScrmdEnvironment();

}  // namespace scrm::config
