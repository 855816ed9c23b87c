// Helpers shared by the campaigns/engine tests: a stored contact channel and a fake outbound
// channel that records what it was asked to send and answers as told.
#pragma once

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "channels/common/outbound.h"
#include "src/model/contact_channel.h"
#include "src/storage/contact_channel_store.h"

namespace scrm::campaigns::testing {

// A WeCom channel of account "corp1" (the profile fixture's) with state `state`.
inline model::ContactChannel StoredChannel(storage::ContactChannelStore& store, std::string state,
                                           int64_t template_id, std::vector<model::TagRef> tags,
                                           int64_t now_ms, std::string account = "corp1",
                                           model::Platform platform = model::Platform::kWecom) {
  model::ContactChannel c;
  c.name = "channel " + state;
  c.account_id = std::move(account);
  c.platform = platform;
  c.state = std::move(state);
  c.welcome_template_id = template_id;
  c.default_tags = std::move(tags);
  if (platform == model::Platform::kWecom) c.members = {"zhangsan"};
  c.platform_id = "cfg-" + c.state;
  auto created = store.Create(c, now_ms);
  INFO(created.status().ToString());
  REQUIRE(created.ok());
  return std::move(created).value();
}

// Records every Send; answers each with `next_error` when set, else success.
class RecordingOutbound final : public channels::OutboundChannel {
 public:
  explicit RecordingOutbound(std::string account,
                             model::Platform platform = model::Platform::kWecom)
      : account_(std::move(account)), platform_(platform) {}
  const std::string& account_id() const override { return account_; }
  model::Platform platform() const override { return platform_; }
  platform::ApiResult<channels::ContactInfo> ReadContact(
      const std::string&, const channels::ReadContactOptions&) override {
    return channels::ContactInfo{};
  }
  bool IsTagId(std::string_view id) const override { return !id.empty(); }
  platform::ApiResult<platform::Done> MarkTags(const channels::TagTarget&,
                                               const std::vector<std::string>&,
                                               const std::vector<std::string>&,
                                               const platform::CallOptions&) override {
    return platform::Done{};
  }
  platform::ApiResult<channels::SendReceipt> Send(const channels::OutboundMessage& message,
                                                  const platform::CallOptions& options) override {
    sent.push_back(message);
    budgets.push_back(options.time_budget);
    if (next_error.has_value()) return *next_error;
    return channels::SendReceipt{};
  }
  platform::ApiResult<channels::ContactWay> CreateContactWay(
      const channels::ContactWayRequest& request, const platform::CallOptions&) override {
    ways.push_back(request);
    if (next_error.has_value()) return *next_error;
    channels::ContactWay way;
    way.id = "cfg" + std::to_string(ways.size());
    way.qr_image = "http://qr/" + way.id;
    return way;
  }
  platform::ApiResult<platform::Done> DeleteContactWay(const std::string& id,
                                                       const platform::CallOptions&) override {
    deleted.push_back(id);
    if (delete_error.has_value()) return *delete_error;
    return platform::Done{};
  }

  std::vector<channels::OutboundMessage> sent;
  std::vector<std::chrono::milliseconds> budgets;
  std::vector<channels::ContactWayRequest> ways;
  std::vector<std::string> deleted;
  std::optional<platform::ApiError> next_error;
  std::optional<platform::ApiError> delete_error;

 private:
  std::string account_;
  model::Platform platform_;
};

inline platform::ApiError ApiFailure(platform::Outcome outcome, int64_t errcode) {
  platform::ApiError error;
  error.outcome = outcome;
  error.errcode = errcode;
  error.message = "errcode " + std::to_string(errcode);
  return error;
}

}  // namespace scrm::campaigns::testing
