// Fakes and a database fixture for the dispatcher tests (tests/campaigns/dispatcher_test.cc,
// reconcile_test.cc): an outbound channel that records every Send and answers from a script, a
// message source, group-message records, and a running campaign with planned deliveries.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "campaigns/engine/dispatcher.h"
#include "campaigns/engine/dispatcher_seams.h"
#include "channels/common/outbound.h"
#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/storage/campaign_store.h"
#include "src/storage/database.h"
#include "src/storage/delivery_store.h"
#include "src/storage/send_batch_store.h"
#include "tests/support/test_support.h"

namespace scrm::campaigns::dispatch_testing {

// Records every Send; answers the next scripted result, or success with msgid "m<n>".
class RecordingChannel final : public channels::OutboundChannel {
 public:
  RecordingChannel(std::string account, model::Platform platform)
      : account_(std::move(account)), platform_(platform) {}
  const std::string& account_id() const override { return account_; }
  model::Platform platform() const override { return platform_; }
  platform::ApiResult<channels::ContactInfo> ReadContact(
      const std::string&, const channels::ReadContactOptions&) override {
    return platform::ApiError{platform::Outcome::kRejected, 0, 0, "not in this test", {}, 0};
  }
  bool IsTagId(std::string_view) const override { return true; }
  platform::ApiResult<platform::Done> MarkTags(const channels::TagTarget&,
                                               const std::vector<std::string>&,
                                               const std::vector<std::string>&,
                                               const platform::CallOptions&) override {
    return platform::Done{};
  }
  platform::ApiResult<channels::SendReceipt> Send(const channels::OutboundMessage& message,
                                                  const platform::CallOptions& options) override {
    sent.push_back(message);
    priorities.push_back(options.priority);
    if (!script.empty()) {
      auto next = std::move(script.front());
      script.pop_front();
      return next;
    }
    channels::SendReceipt receipt;
    receipt.message_id = "m" + std::to_string(sent.size());
    return receipt;
  }
  platform::ApiResult<channels::ContactWay> CreateContactWay(
      const channels::ContactWayRequest&, const platform::CallOptions&) override {
    return channels::ContactWay{};
  }

  std::vector<channels::OutboundMessage> sent;
  std::vector<platform::Priority> priorities;
  std::deque<platform::ApiResult<channels::SendReceipt>> script;

 private:
  std::string account_;
  model::Platform platform_;
};

inline platform::ApiError FailureOf(platform::Outcome outcome, int64_t errcode) {
  platform::ApiError error;
  error.outcome = outcome;
  error.errcode = errcode;
  error.message = "scripted";
  return error;
}

// Renders "hi <customer>" in the campaign kind's template shape; fails for a customer in fail.
class FixedMessages final : public MessageSource {
 public:
  core::StatusOr<model::MessageContent> Render(const model::Campaign& campaign, int64_t customer_id,
                                               const std::string& sender,
                                               const std::optional<std::string>&) override {
    ++calls;
    if (customer_id != 0 && customer_id == fail_customer) {
      return core::FailedPreconditionError("content.text.content: 4100 bytes, at most 4000");
    }
    const std::string text = "hi " + std::to_string(customer_id) + " from " + sender;
    switch (campaign.kind) {
      case model::CampaignKind::kWecomGroup:
        return model::MessageContent(model::WecomMessageContent{text, {}});
      case model::CampaignKind::kOaTemplate: {
        model::OaTemplateContent content;
        content.template_id = "TPL";
        content.data["first"] = model::OaTemplateField{text, ""};
        return model::MessageContent(content);
      }
      default: return model::MessageContent(model::OaCustomTextContent{text});
    }
  }
  int calls = 0;
  int64_t fail_customer = -1;
};

class FakeRecords final : public GroupMessageRecords {
 public:
  platform::ApiResult<std::vector<GroupTaskRecord>> ListTasks(const std::string&,
                                                              const std::string& sender,
                                                              int64_t start_s,
                                                              int64_t end_s) override {
    ++list_calls;
    std::vector<GroupTaskRecord> out;
    for (const Task& t : tasks) {
      if (t.sender == sender && t.record.create_time_s >= start_s &&
          t.record.create_time_s <= end_s) {
        out.push_back(t.record);
      }
    }
    return out;
  }
  platform::ApiResult<std::vector<RecipientResult>> SendResults(const std::string&,
                                                                const std::string& msgid,
                                                                const std::string&) override {
    ++result_calls;
    for (const Task& t : tasks) {
      if (t.record.msgid == msgid) return t.results;
    }
    return std::vector<RecipientResult>{};
  }

  struct Task {
    std::string sender;
    GroupTaskRecord record;
    std::vector<RecipientResult> results;
  };
  std::vector<Task> tasks;
  int list_calls = 0;
  int result_calls = 0;
};

inline constexpr int64_t kStartMs = 1767225600000;

// A migrated database with one running campaign of `kind` whose deliveries are given by
// (customer, sender, address).
struct DispatchFixture {
  struct Recipient {
    int64_t customer = 0;
    std::string sender;
    std::string address;
  };

  explicit DispatchFixture(model::CampaignKind kind, const std::vector<Recipient>& recipients,
                           DispatcherOptions options = {})
      : clock(kStartMs) {
    storage::DatabaseOptions db_options;
    db_options.path = dir.File("scrmd.db");
    auto opened = storage::Database::Open(db_options);
    REQUIRE(opened.ok());
    db = std::move(opened).value();
    REQUIRE(db->Migrate(kStartMs).ok());
    campaigns = std::make_unique<storage::CampaignStore>(*db);
    batches = std::make_unique<storage::SendBatchStore>(*db);
    deliveries = std::make_unique<storage::DeliveryStore>(*db);
    const bool wecom = kind == model::CampaignKind::kWecomGroup;
    const std::string account = wecom ? "corp1" : "oa1";
    auto owned = std::make_unique<RecordingChannel>(
        account, wecom ? model::Platform::kWecom : model::Platform::kOfficialAccount);
    channel = owned.get();
    REQUIRE(directory.Add(std::move(owned)).ok());

    model::Campaign c;
    c.name = "spring";
    c.kind = kind;
    c.account_id = account;
    c.segment_id = 1;
    c.segment_version = 1;
    c.template_id = 1;
    c.template_version = 1;
    c.state = model::CampaignState::kRunning;
    c.created_by = "alice";
    c.created_at_ms = kStartMs;
    c.updated_at_ms = kStartMs;
    c.launched_at_ms = kStartMs;
    model::CampaignAuditEntry audit;
    audit.to_state = "running";
    audit.actor = "alice";
    audit.at_ms = kStartMs;
    auto inserted = campaigns->Insert(c, audit);
    REQUIRE(inserted.ok());
    campaign = *inserted;

    std::vector<model::Delivery> rows;
    for (const Recipient& r : recipients) {
      model::Delivery d;
      d.campaign_id = campaign.id;
      d.customer_id = r.customer;
      d.channel_key = model::DeliveryChannelKey(account, r.sender, r.address);
      d.sender = r.sender;
      d.idempotency_key = model::DeliveryIdempotencyKey(campaign.id, r.customer, d.channel_key);
      d.created_at_ms = kStartMs;
      d.updated_at_ms = kStartMs;
      rows.push_back(d);
    }
    REQUIRE(deliveries->InsertChunk(rows).value() == rows.size());
    dispatcher = std::make_unique<Dispatcher>(*campaigns, *batches, directory, messages, &records,
                                              clock, metrics, options);
  }

  DispatchReport Run() {
    auto report = dispatcher->RunOnce();
    INFO(report.status().ToString());
    REQUIRE(report.ok());
    return *report;
  }

  std::vector<model::Delivery> All() {
    return deliveries->List(campaign.id, std::nullopt, 0, 1000).value();
  }

  int64_t CountIn(model::DeliveryState state) {
    int64_t n = 0;
    for (const model::Delivery& d : All()) n += d.state == state ? 1 : 0;
    return n;
  }

  model::CampaignState StateNow() { return campaigns->Get(campaign.id).value().state; }

  scrm::testing::TempDir dir;
  core::FakeClock clock;
  core::MetricsRegistry metrics;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::CampaignStore> campaigns;
  std::unique_ptr<storage::SendBatchStore> batches;
  std::unique_ptr<storage::DeliveryStore> deliveries;
  channels::OutboundDirectory directory;
  RecordingChannel* channel = nullptr;
  FixedMessages messages;
  FakeRecords records;
  model::Campaign campaign;
  std::unique_ptr<Dispatcher> dispatcher;
};

inline std::vector<DispatchFixture::Recipient> OaRecipients(int n) {
  std::vector<DispatchFixture::Recipient> out;
  for (int i = 1; i <= n; ++i) out.push_back({i, "", "openid" + std::to_string(i)});
  return out;
}

}  // namespace scrm::campaigns::dispatch_testing
