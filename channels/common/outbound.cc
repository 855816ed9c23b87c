#include "channels/common/outbound.h"

#include <utility>

namespace scrm::channels {

platform::ApiResult<platform::Done> OutboundChannel::DeleteContactWay(
    const std::string& /*id*/, const platform::CallOptions& /*options*/) {
  platform::ApiError error;
  error.outcome = platform::Outcome::kRejected;
  error.message = "account " + account_id() + " cannot delete a contact way on its platform";
  return error;
}

core::Status OutboundDirectory::Add(std::unique_ptr<OutboundChannel> channel) {
  SCRM_CHECK(channel != nullptr);  // src/app passes what it just built
  const std::string account_id = channel->account_id();
  if (channels_.contains(account_id)) {
    return core::AlreadyExistsError("outbound channel of account " + account_id + " added twice");
  }
  channels_.emplace(account_id, std::move(channel));
  return core::OkStatus();
}

OutboundChannel* OutboundDirectory::Find(std::string_view account_id) const {
  const auto it = channels_.find(account_id);
  return it == channels_.end() ? nullptr : it->second.get();
}

std::set<std::string, std::less<>> OutboundDirectory::AccountIds() const {
  std::set<std::string, std::less<>> ids;
  for (const auto& [id, channel] : channels_) ids.insert(id);
  return ids;
}

}  // namespace scrm::channels
