// Internal to src/config: what each section file gives config.cc. A plain section (log, http,
// storage, outbound, lifecycle) is a Section<T>: its fields and its check; config.cc decodes the
// file, secrets file and environment onto it with field_table.h. `accounts` has a shape of its own
// (an array in the config file, an object keyed by id in the secrets file, SCRMD_ACCOUNTS__<ID>__
// in the environment) and so its own entry points.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/config/config.h"
#include "src/config/field_table.h"
#include "src/core/status.h"

namespace scrm::config::internal {

const Section<LogConfig>& LogSection();              // log_config.cc
const Section<HttpConfig>& HttpSection();            // http_config.cc
const Section<StorageConfig>& StorageSection();      // storage_config.cc
const Section<OutboundConfig>& OutboundSection();    // outbound_config.cc
const Section<LifecycleConfig>& LifecycleSection();  // lifecycle_config.cc
const Section<CampaignsConfig>& CampaignsSection();  // campaigns_config.cc

// Defaults of `http` that depend on other keys, once everything is known to be valid.
void FinalizeHttp(HttpConfig& http);

// accounts_config.cc
// The config file's `accounts`: an array that defines the accounts.
core::Status DecodeAccounts(const json& value, Loaded& loaded);
// The secrets file's `accounts`: an object keyed by account id that adds secrets to accounts
// the config file defines.
core::Status DecodeSecretAccounts(const json& value, Loaded& loaded);
// SCRMD_ACCOUNTS__<ID>__<KEY>; `tail` is "<ID>__<KEY>" in its original case.
core::Status ApplyEnvAccount(const std::string& env_name, std::string_view tail,
                             const std::string& text, Loaded& loaded);
// Every account, in order; the first error wins.
core::Status CheckAccounts(const Checks& checks, const std::vector<AccountConfig>& accounts);
// Default api_base per platform, trailing '/' removed.
void FinalizeAccounts(std::vector<AccountConfig>& accounts);

}  // namespace scrm::config::internal
