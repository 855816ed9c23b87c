// CorpTagCatalog: the WeCom corp tag ids (企业标签, externalcontact/get_corp_tag_list) of the
// accounts scrmd pushes tags to, so that a mapping to an id the corp does not have is refused
// when it is made instead of failing every later mark_tag that carries it (40068).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/platform/wecom_client.h"

namespace scrm::api {

// What Check found.
enum class CorpTagCheck {
  kKnown,      // some account's corp tag list has the id
  kUnknown,    // every account's list was read (recently) and none has it
  kNotSynced,  // an account's list was never read and reading it failed: not decidable now
};

struct CorpTagCheckResult {
  CorpTagCheck check = CorpTagCheck::kKnown;
  // kUnknown: the accounts read; kNotSynced: why ("acme: unavailable: ..."), for the error.
  std::string detail;
};

// Thread-safe (one mutex; a read of a list holds it for the call, bounded by `call_budget`).
// Does not own the clients or the clock, which must outlive it.
class CorpTagCatalog {
 public:
  explicit CorpTagCatalog(const core::Clock& clock,
                          std::chrono::milliseconds refresh_after = std::chrono::seconds(30),
                          std::chrono::milliseconds call_budget = std::chrono::seconds(5));

  // A WeCom account with a 客户联系 secret (before the server starts).
  void AddAccount(std::string account_id, platform::WecomClient& client);
  // No account: nothing to check against (mappings are then accepted as they are).
  bool empty() const;

  // Whether a corp has the tag id. The lists are read on first use and read again when the id
  // is not in them and the last read is older than `refresh_after` (a tag created on the
  // platform a moment ago is found). Deleted tags do not count.
  CorpTagCheckResult Check(const std::string& tag_id);

 private:
  struct Account {
    platform::WecomClient* client = nullptr;
    std::set<std::string> ids;
    int64_t read_at_ms = -1;  // -1: never read
  };
  // Reads one account's list; false (and `why`) when the call failed.
  bool Refresh(const std::string& account_id, Account& account, std::string& why);

  const core::Clock& clock_;
  const std::chrono::milliseconds refresh_after_;
  const std::chrono::milliseconds call_budget_;
  mutable std::mutex mu_;
  std::map<std::string, Account> accounts_;
};

}  // namespace scrm::api
