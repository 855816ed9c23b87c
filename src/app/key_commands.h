// `scrmd keys create | list | revoke`: the API keys of the REST API, from the command line
// (docs/operations.md).
#pragma once

#include <cstdint>
#include <string>

#include "src/app/cli_common.h"

namespace scrm::app {

struct KeyFlags {
  std::string role;
  std::string name;
  int64_t id = 0;
  bool json = false;
};

// Each prints what it did (a new key's secret alone on stdout) and returns the exit code.
int KeysCreate(const CommonFlags& flags, const KeyFlags& key_flags);
int KeysList(const CommonFlags& flags, const KeyFlags& key_flags);
int KeysRevoke(const CommonFlags& flags, const KeyFlags& key_flags);

}  // namespace scrm::app
