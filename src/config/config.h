// Service configuration: one JSON file + a secrets file + SCRMD_* environment overrides,
// parsed and validated once at startup into plain structs with documented defaults.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/logging.h"
#include "src/core/status.h"

namespace scrm::config {

// `log`: where and how the service logs.
struct LogConfig {
  std::string level = "info";                       // trace|debug|info|warn|error|critical|off
  core::LogFormat format = core::LogFormat::kText;  // "text" | "json"
};

// `http`: the libmicrohttpd server (src/server). Event threads serve the connections; `threads`
// workers run the ordinary (blocking) handlers, and a connection never holds a worker.
struct HttpConfig {
  int threads = 8;            // workers for the ordinary handlers; 1..900
  int max_connections = 512;  // open connections at once (more are refused at accept); threads..900
  int keep_alive_max = 1000;  // requests per keep-alive connection; 1..1000000
  int keep_alive_timeout_s = 5;      // idle keep-alive connection closed after; 1..3600
  int read_timeout_s = 10;           // 1..3600
  int write_timeout_s = 10;          // 1..3600
  int64_t max_body_bytes = 1 << 20;  // larger bodies get 413; 1..(64 MiB)
  // Slow and greedy clients (docs/configuration.md "http"):
  int max_connections_per_ip = 128;  // open connections from one client address; 0 = no cap;
                                     // 0..max_connections
  int request_timeout_s = 30;  // a whole request (headers and body) from the connection's accept
                               // or the previous answer; 1..3600, > keep_alive_timeout_s
  int64_t min_body_bytes_per_s = 1024;  // a body slower than this after the grace is cut off;
                                        // 0 = no minimum; 0..(1 GiB)
  int body_rate_grace_s = 5;  // seconds after the headers before min_body_bytes_per_s applies;
                              // 0..3600
  int64_t max_pending_body_bytes = int64_t{64} << 20;  // bodies still arriving, all connections
                                                       // together: more get 503;
                                                       // max_body_bytes..(4 GiB)
  // "host:port" of a second listener that alone serves /metrics and the /readyz detail; "" = none
  // (everything on `listen`). Must differ from `listen`.
  std::string admin_listen;
};

// `storage`: the SQLite databases: the main file and the inbox file.
struct StorageConfig {
  std::string path;                  // default: <data_dir>/scrmd.db
  std::string inbox_path;            // default: next to path, "<stem>-inbox<extension>"
  std::string synchronous = "full";  // "full" | "normal" (full: a commit survives a power loss)
  int read_connections = 4;          // 1..64
  int busy_timeout_ms = 5000;        // 0..600000
};

// `outbound`: calls to the WeCom / OA APIs (docs/outbound.md). Limits are calls per account and
// API; per-API overrides beyond these come with the code that needs them.
struct OutboundConfig {
  int request_timeout_ms = 10000;        // one HTTP exchange; 100..120000
  int connect_timeout_ms = 3000;         // TCP + TLS handshake; 100..60000
  int max_retries = 3;                   // transient retries per call (PROTOCOL §4.3: <= 3); 0..10
  int base_backoff_ms = 200;             // first retry waits 1/2..1 of this, doubling; 1..60000
  int max_backoff_ms = 5000;             // cap of one backoff; 1..600000
  int token_refresh_margin_s = 300;      // refresh tokens this long before expiry; 0..3600
  int max_idle_connections = 32;         // pooled libcurl handles kept for reuse; 1..1024
  int64_t wecom_per_minute = 10000;      // per corp per API (PROTOCOL §4.1); 1..10000000
  int64_t wecom_per_hour = 150000;       // per corp per API; 1..100000000
  int64_t oa_per_minute = 10000;         // per OA per API; 1..10000000
  int64_t oa_mass_send_per_minute = 60;  // message/mass/sendall; 1..10000
  int64_t oa_template_per_day = 100000;  // message/template/send daily quota; 1..100000000
};

// The lifecycle sweep (docs/tagging.md rule L7): an outbox job, kind "stagesweep", run every
// sweep_interval_s, moves new / engaged / customer / repeat customers without an interaction for
// at_risk_days to at_risk.
struct LifecycleConfig {
  int at_risk_days = 30;        // 1..3650
  int sweep_interval_s = 3600;  // 1..86400
};

enum class Platform { kWecom, kOfficialAccount };
enum class EncryptMode { kPlain, kCompat, kSafe };

// The config spelling of each value: "wecom" | "oa", "plain" | "compat" | "safe".
std::string_view PlatformName(Platform platform);
std::string_view EncryptModeName(EncryptMode mode);

// api_base when the account does not set one.
inline constexpr std::string_view kWecomDefaultApiBase = "https://qyapi.weixin.qq.com";
inline constexpr std::string_view kOfficialAccountDefaultApiBase = "https://api.weixin.qq.com";

// One entry of `accounts`: a WeCom corp or an Official Account we receive callbacks for.
struct AccountConfig {
  std::string id;                        // [A-Za-z0-9_-]{1,64}, unique; appears in the callback URL
  Platform platform = Platform::kWecom;  // required in the file: "wecom" | "oa"
  std::string corp_id;                   // wecom: CorpID (receiveid)
  std::string app_id;                    // oa: AppID (receiveid)
  std::string token;                     // secret; 1..128 chars [A-Za-z0-9]
  std::string encoding_aes_key;  // secret; exactly 43 chars [A-Za-z0-9]; optional for oa plain
  std::string secret;            // secret; wecom contact secret
  std::string app_secret;        // secret; oa app secret
  // wecom only, optional: the self-built app that sends member messages (message/send).
  int64_t agent_id = 0;      // AgentId; 0 = none; 0..4294967295
  std::string agent_secret;  // secret; the app's own secret (a separate access token)
  EncryptMode encrypt_mode = EncryptMode::kSafe;  // oa only; wecom is always encrypted
  std::string api_base;  // default https://qyapi.weixin.qq.com or https://api.weixin.qq.com
                         // must be http(s)://host...; trailing '/' removed at load
  int64_t timestamp_window_s = 300;  // callbacks whose timestamp is further off are replays;
                                     // 1..86400
};

struct Config {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 = ephemeral
  std::string data_dir = "./var";
  LogConfig log;
  HttpConfig http;
  StorageConfig storage;
  OutboundConfig outbound;
  LifecycleConfig lifecycle;
  std::vector<AccountConfig> accounts;
  // Tag rules loaded at startup ({"rules": [...]}, config/tag_rules.example.json); "" = no rules.
  // At most 4096 bytes, no control characters; the file itself is read and checked by scrmd
  // serve (a missing or invalid file stops the start).
  std::string tag_rules_file;

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
