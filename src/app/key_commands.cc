#include "src/app/key_commands.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "src/api/auth.h"
#include "src/api/routes.h"
#include "src/core/logging.h"
#include "src/core/random.h"
#include "src/model/api_key.h"
#include "src/storage/api_key_store.h"

namespace scrm::app {

int KeysCreate(const CommonFlags& flags, const KeyFlags& key_flags) {
  const auto role = model::ParseRole(key_flags.role);
  if (!role) return Fail(kExitConfig, "--role: must be admin, marketing, sales or readonly");
  auto cfg = LoadConfigFrom(flags);
  if (!cfg.ok()) return Fail(kExitConfig, cfg.status().message());
  core::SystemClock clock;
  core::SecureRandom random;
  auto log = core::MakeLogger("scrmd", {cfg->log.level, cfg->log.format});
  auto db = OpenForCommand(*cfg, clock, *log);
  if (!db.ok()) return Fail(kExitFailure, "database: " + db.status().ToString());
  storage::ApiKeyStore keys(**db);
  auto issued = api::IssueApiKey(keys, random, clock, key_flags.name, *role);
  if (!issued.ok()) return Fail(kExitFailure, "keys create: " + issued.status().ToString());
  // The secret alone on stdout, so `KEY=$(scrmd keys create ...)` works; it is shown once.
  std::printf("%s\n", issued->secret.c_str());
  std::fprintf(stderr, "created key %lld '%s' (role %s); store it now, it is not shown again\n",
               static_cast<long long>(issued->key.id), issued->key.name.c_str(),
               key_flags.role.c_str());
  return (*db)->Close().ok() ? kExitOk : kExitFailure;
}

int KeysList(const CommonFlags& flags, const KeyFlags& key_flags) {
  auto cfg = LoadConfigFrom(flags);
  if (!cfg.ok()) return Fail(kExitConfig, cfg.status().message());
  core::SystemClock clock;
  auto log = core::MakeLogger("scrmd", {cfg->log.level, cfg->log.format});
  auto db = OpenForCommand(*cfg, clock, *log);
  if (!db.ok()) return Fail(kExitFailure, "database: " + db.status().ToString());
  storage::ApiKeyStore keys(**db);
  auto list = keys.List();
  if (!list.ok()) return Fail(kExitFailure, "keys list: " + list.status().ToString());
  if (!key_flags.json)
    std::printf("%-6s %-24s %-10s %-14s %s\n", "ID", "NAME", "ROLE", "PREFIX", "STATE");
  for (const auto& key : *list) {
    if (key_flags.json) {
      std::printf("%s\n", api::ApiKeyJson(key).c_str());
    } else {
      std::printf("%-6lld %-24s %-10s %-14s %s\n", static_cast<long long>(key.id), key.name.c_str(),
                  std::string(model::RoleName(key.role)).c_str(), key.prefix.c_str(),
                  key.revoked_at_ms ? "revoked" : "active");
    }
  }
  return (*db)->Close().ok() ? kExitOk : kExitFailure;
}

int KeysRevoke(const CommonFlags& flags, const KeyFlags& key_flags) {
  if ((key_flags.id == 0) == key_flags.name.empty()) {
    return Fail(kExitConfig, "keys revoke: give exactly one of --id or --name");
  }
  auto cfg = LoadConfigFrom(flags);
  if (!cfg.ok()) return Fail(kExitConfig, cfg.status().message());
  core::SystemClock clock;
  auto log = core::MakeLogger("scrmd", {cfg->log.level, cfg->log.format});
  auto db = OpenForCommand(*cfg, clock, *log);
  if (!db.ok()) return Fail(kExitFailure, "database: " + db.status().ToString());
  storage::ApiKeyStore keys(**db);
  const core::Status revoked = key_flags.id != 0
                                   ? keys.Revoke(key_flags.id, clock.NowUnixMillis())
                                   : keys.RevokeByName(key_flags.name, clock.NowUnixMillis());
  if (!revoked.ok()) return Fail(kExitFailure, "keys revoke: " + revoked.ToString());
  std::fprintf(stderr, "revoked\n");
  return (*db)->Close().ok() ? kExitOk : kExitFailure;
}

}  // namespace scrm::app
