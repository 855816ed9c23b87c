// WelcomeHandler: the outbox job "welcome" (model::kWelcomeJobKind) that ContactChannelSink
// queues for a customer added through a WeCom contact way with a welcome template: renders the
// template for the customer (campaigns/render over RenderProfileOf) and sends it with
// send_welcome_msg (PROTOCOL §4.1) while the WelcomeCode lives (docs/campaigns.md "Channels and
// welcome messages").
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "channels/common/outbound.h"
#include "src/core/clock.h"
#include "src/core/metrics.h"
#include "src/jobs/outbox_runner.h"
#include "src/profiles/profile_queries.h"
#include "src/storage/template_store.h"

namespace scrm::campaigns {

struct WelcomeOptions {
  // A WelcomeCode is valid for 20 s after the event (PROTOCOL §4.1); the job fails as "expired"
  // without a call once this long has passed since scrmd received the callback.
  std::chrono::milliseconds code_life{20000};
};

// A welcome code is single-shot: only a job's first attempt calls. A job that has an outcome
// already (run again through POST /api/v1/jobs/{id}/retry) fails as "already_attempted" without
// a call; one claimed again after a crash during its call comes after the runner's lease
// (minutes), far past the code's life, and fails as "expired". Outcomes, on the job's row (the
// channel's stats read them there): "sent" (done); "refused", 41051 — the customer chatted first
// or the code was used: done, an outcome, not an error; "expired" (failed, no call); "unknown"
// (unknown: maybe delivered, never retried); any other failure (failed, with the outcome and
// errcode). Nothing else is written on the send path. The delay from the callback's receipt to
// the call is observed in scrmd_welcome_send_delay_seconds, outcomes counted in
// scrmd_welcome_messages_total{outcome}.
// Thread-safety: the runner's thread only (JobHandler). Does not own its collaborators, which
// must outlive it.
class WelcomeHandler final : public jobs::JobHandler {
 public:
  WelcomeHandler(storage::TemplateStore& templates, const profiles::ProfileQueries& queries,
                 const channels::OutboundDirectory& directory, const core::Clock& clock,
                 core::MetricsRegistry& metrics, std::shared_ptr<spdlog::logger> log,
                 WelcomeOptions options = {});

  jobs::JobResult Run(const storage::OutboxJob& job) override;

 private:
  // Counts the outcome and returns the result.
  jobs::JobResult Counted(jobs::JobResult result);

  storage::TemplateStore& templates_;
  const profiles::ProfileQueries& queries_;
  const channels::OutboundDirectory& directory_;
  const core::Clock& clock_;
  core::HistogramFamily& delay_;
  core::CounterFamily& outcomes_;
  std::shared_ptr<spdlog::logger> log_;
  const WelcomeOptions options_;
};

}  // namespace scrm::campaigns
