// The campaign dispatcher's thread and its WeCom records reader (docs/campaigns.md "Delivery,
// exactly once"): src/app owns threads, and only src/app may join campaigns/engine to the typed
// WeCom client of src/platform.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "campaigns/engine/dispatcher.h"
#include "campaigns/engine/dispatcher_seams.h"
#include "src/platform/wecom_client.h"

namespace spdlog {
class logger;
}

namespace scrm::app {

// GroupMessageRecords over each WeCom account's client (get_groupmsg_list_v2,
// get_groupmsg_send_result), every page, at bulk priority. Thread-safe as the clients are.
class WecomGroupMessageRecords final : public campaigns::GroupMessageRecords {
 public:
  // Does not own the clients, which must outlive it.
  explicit WecomGroupMessageRecords(
      const std::map<std::string, std::unique_ptr<platform::WecomClient>>& clients)
      : clients_(clients) {}

  platform::ApiResult<std::vector<campaigns::GroupTaskRecord>> ListTasks(const std::string& account,
                                                                         const std::string& sender,
                                                                         int64_t start_s,
                                                                         int64_t end_s) override;
  platform::ApiResult<std::vector<campaigns::RecipientResult>> SendResults(
      const std::string& account, const std::string& msgid, const std::string& sender) override;

 private:
  const std::map<std::string, std::unique_ptr<platform::WecomClient>>& clients_;
};

// Runs Dispatcher::RunOnce on its own thread every `interval` (sooner after Notify), logging a
// round that failed. Start / Stop / Notify from any thread; Stop joins (the call in hand
// finishes within its budget).
class DispatcherThread {
 public:
  DispatcherThread(campaigns::Dispatcher& dispatcher, std::chrono::milliseconds interval,
                   std::shared_ptr<spdlog::logger> log)
      : dispatcher_(dispatcher), interval_(interval), log_(std::move(log)) {}
  ~DispatcherThread() { Stop(); }

  void Start();
  void Notify();
  void Stop();

 private:
  void Loop();

  campaigns::Dispatcher& dispatcher_;
  const std::chrono::milliseconds interval_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool notified_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace scrm::app
