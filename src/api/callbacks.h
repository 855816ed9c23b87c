// Platform callback routes: GET|POST /callbacks/wecom/{account} and /callbacks/oa/{account}.
// The handler verifies, decrypts and normalizes through the account's ChannelAdapter, hands the
// interaction to the durable inbox and acks only after it has committed. It never tags and
// never calls a platform API. The POST routes are async (HttpServer::PostAsync): the checks and
// the ack (a passive reply included) are computed on the event loop; the inbox writer thread,
// once the commit is done, only counts the outcome and hands the prepared answer (or a 503) to the
// request's Responder, so no thread waits for the commit.
#pragma once

#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "channels/common/channel.h"
#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/ingest/inbox_writer.h"
#include "src/server/http_server.h"

namespace scrm::api {

// The configured accounts' adapters, by platform and account id. Built once in main.
class AdapterRegistry {
 public:
  void Add(std::unique_ptr<channels::ChannelAdapter> adapter);
  // nullptr when no such account is configured on that platform.
  const channels::ChannelAdapter* Find(model::Platform platform, const std::string& id) const;
  size_t size() const { return adapters_.size(); }

 private:
  std::map<std::pair<model::Platform, std::string>, std::unique_ptr<channels::ChannelAdapter>>
      adapters_;
};

struct CallbackDeps {
  const AdapterRegistry& adapters;
  ingest::InboxWriter& inbox;
  const core::Clock& clock;
  core::MetricsRegistry& metrics;
  std::shared_ptr<spdlog::logger> log;
  const channels::PassiveReplier* replier = nullptr;  // optional
};

// Registers the four callback routes. `deps` members must outlive the server.
void RegisterCallbackRoutes(server::HttpServer& server, const CallbackDeps& deps);

}  // namespace scrm::api
