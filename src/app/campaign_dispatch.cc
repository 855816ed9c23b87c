#include "src/app/campaign_dispatch.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "src/core/thread_name.h"

namespace scrm::app {
namespace {

// A cursor must not keep the reader forever (a reply is untrusted).
constexpr int kMaxPages = 1000;

platform::CallOptions BulkCall() {
  platform::CallOptions options;
  options.priority = platform::Priority::kBulk;
  return options;
}

platform::ApiError NoClient(const std::string& account) {
  platform::ApiError error;
  error.outcome = platform::Outcome::kConfigError;
  error.message = "no WeCom client for account " + account;
  return error;
}

platform::ApiError TooManyPages() {
  platform::ApiError error;
  error.outcome = platform::Outcome::kBadReply;
  error.message = "more than 1000 pages of group-message records";
  return error;
}

}  // namespace

platform::ApiResult<std::vector<campaigns::GroupTaskRecord>> WecomGroupMessageRecords::ListTasks(
    const std::string& account, const std::string& sender, int64_t start_s, int64_t end_s) {
  const auto it = clients_.find(account);
  if (it == clients_.end()) return NoClient(account);
  platform::WecomGroupMessageQuery query;
  query.chat_type = "single";
  query.start_time = start_s;
  query.end_time = end_s;
  query.creator = sender;
  query.filter_type = 0;  // 企业发表: the tasks add_msg_template created
  query.limit = 100;
  std::vector<campaigns::GroupTaskRecord> out;
  for (int page = 0; page < kMaxPages; ++page) {
    auto got = it->second->GetGroupMsgListV2(query, BulkCall());
    if (!got.ok()) return got.error();
    for (const auto& item : got.value().items) {
      out.push_back(campaigns::GroupTaskRecord{item.msgid, item.create_time});
    }
    if (got.value().next_cursor.empty()) return out;
    query.cursor = got.value().next_cursor;
  }
  return TooManyPages();
}

platform::ApiResult<std::vector<campaigns::RecipientResult>> WecomGroupMessageRecords::SendResults(
    const std::string& account, const std::string& msgid, const std::string& sender) {
  const auto it = clients_.find(account);
  if (it == clients_.end()) return NoClient(account);
  std::vector<campaigns::RecipientResult> out;
  std::string cursor;
  for (int page = 0; page < kMaxPages; ++page) {
    auto got = it->second->GetGroupMsgSendResult(msgid, sender, cursor, 500, BulkCall());
    if (!got.ok()) return got.error();
    for (const auto& item : got.value().items) {
      out.push_back(campaigns::RecipientResult{item.external_userid, item.status});
    }
    if (got.value().next_cursor.empty()) return out;
    cursor = got.value().next_cursor;
  }
  return TooManyPages();
}

void DispatcherThread::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void DispatcherThread::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  notified_ = true;
  wake_.notify_all();
}

void DispatcherThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void DispatcherThread::Loop() {
  core::NameThisThread("dispatcher");
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto report = dispatcher_.RunOnce();
    if (!report.ok()) {
      log_->error("campaign dispatcher: {}", report.status().ToString());
    } else if (report->batches_sent + report->batches_failed + report->reconciled +
                   report->completed >
               0) {
      log_->info(
          "campaign dispatcher: {} batch(es) sent, {} failed, {} released, {} reconciled, {} "
          "resent, {} unknown, {} campaign(s) completed",
          report->batches_sent, report->batches_failed, report->batches_released,
          report->reconciled, report->resent, report->batches_unknown, report->completed);
    }
    lock.lock();
    // A round that sent something may have left more: go on at once (the governor paces the
    // calls); an idle or blocked round waits.
    if (report.ok() && report->batches_sent + report->batches_failed > 0 &&
        report->batches_released == 0) {
      continue;
    }
    wake_.wait_for(lock, interval_, [this] { return stopping_ || notified_; });
    notified_ = false;
  }
}

}  // namespace scrm::app
