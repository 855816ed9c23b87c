#include "src/api/corp_tag_catalog.h"

#include <utility>

namespace scrm::api {

CorpTagCatalog::CorpTagCatalog(const core::Clock& clock, std::chrono::milliseconds refresh_after,
                               std::chrono::milliseconds call_budget)
    : clock_(clock), refresh_after_(refresh_after), call_budget_(call_budget) {}

void CorpTagCatalog::AddAccount(std::string account_id, platform::WecomClient& client) {
  std::lock_guard lock(mu_);
  accounts_[std::move(account_id)].client = &client;
}

bool CorpTagCatalog::empty() const {
  std::lock_guard lock(mu_);
  return accounts_.empty();
}

bool CorpTagCatalog::Refresh(const std::string& account_id, Account& account, std::string& why) {
  platform::CallOptions call;
  call.priority = platform::Priority::kRealtime;  // an operator waits for the answer
  call.time_budget = call_budget_;
  auto groups = account.client->GetCorpTagList({}, {}, call);
  if (!groups.ok()) {
    why = account_id + ": " + std::string(platform::OutcomeName(groups.error().outcome)) +
          (groups.error().errcode != 0 ? " " + std::to_string(groups.error().errcode) : "");
    return false;
  }
  std::set<std::string> ids;
  for (const platform::WecomCorpTagGroup& group : groups.value()) {
    if (group.deleted) continue;
    for (const platform::WecomCorpTag& tag : group.tags) {
      if (!tag.deleted) ids.insert(tag.id);
    }
  }
  account.ids = std::move(ids);
  account.read_at_ms = clock_.NowUnixMillis();
  return true;
}

CorpTagCheckResult CorpTagCatalog::Check(const std::string& tag_id) {
  std::lock_guard lock(mu_);
  const int64_t now_ms = clock_.NowUnixMillis();
  std::string accounts_read;
  std::string not_synced;
  for (auto& [account_id, account] : accounts_) {
    if (account.ids.contains(tag_id)) return {CorpTagCheck::kKnown, account_id};
    const bool stale =
        account.read_at_ms < 0 || now_ms - account.read_at_ms >= refresh_after_.count();
    std::string why;
    if (stale && !Refresh(account_id, account, why)) {
      if (account.read_at_ms < 0) {
        not_synced += (not_synced.empty() ? "" : ", ") + why;
        continue;
      }
      // An older list stands: the id was not in it.
    }
    if (account.ids.contains(tag_id)) return {CorpTagCheck::kKnown, account_id};
    accounts_read += (accounts_read.empty() ? "" : ", ") + account_id;
  }
  // An account whose list was never read may be the corp that has the id: not decidable now.
  if (!not_synced.empty()) return {CorpTagCheck::kNotSynced, not_synced};
  return {CorpTagCheck::kUnknown, accounts_read};
}

}  // namespace scrm::api
