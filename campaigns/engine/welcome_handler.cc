#include "campaigns/engine/welcome_handler.h"

#include <nlohmann/json.hpp>

#include <utility>
#include <variant>

#include "campaigns/engine/render_input.h"
#include "campaigns/render/renderer.h"
#include "campaigns/render/template_json.h"
#include "src/model/job_kinds.h"

namespace scrm::campaigns {
namespace {

using jobs::JobResult;

// send_welcome_msg: "externaluser has started chatting" / the code was used or expired.
constexpr int64_t kWelcomeCodeUsed = 41051;

// The rendered WeCom message as send_welcome_msg takes it (text.content and attachments).
platform::WecomWelcomeMessage ToWelcome(const std::string& code,
                                        const model::WecomMessageContent& content) {
  platform::WecomWelcomeMessage message;
  message.welcome_code = code;
  message.text = content.text;
  const nlohmann::json body = render::ContentToJson(content);
  if (body.contains("attachments")) message.attachments = body["attachments"];
  return message;
}

}  // namespace

WelcomeHandler::WelcomeHandler(storage::TemplateStore& templates,
                               const profiles::ProfileQueries& queries,
                               const channels::OutboundDirectory& directory,
                               const core::Clock& clock, core::MetricsRegistry& metrics,
                               std::shared_ptr<spdlog::logger> log, WelcomeOptions options)
    : templates_(templates),
      queries_(queries),
      directory_(directory),
      clock_(clock),
      delay_(metrics.Histogram("scrmd_welcome_send_delay_seconds",
                               "Time from a WeCom add_external_contact callback's receipt to "
                               "its send_welcome_msg call.",
                               {}, {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20})),
      outcomes_(metrics.Counter("scrmd_welcome_messages_total",
                                "Welcome messages by outcome (sent, refused, expired, unknown, "
                                "failed).",
                                {"outcome"})),
      log_(std::move(log)),
      options_(options) {}

JobResult WelcomeHandler::Counted(JobResult result) {
  const bool failed = result.kind == JobResult::Kind::kFailed && result.outcome != "expired";
  outcomes_.Inc({failed ? std::string("failed") : result.outcome});
  return result;
}

JobResult WelcomeHandler::Run(const storage::OutboxJob& job) {
  auto payload = model::DecodeWelcomePayload(job.payload_json);
  if (!payload.ok()) return Counted(JobResult::Failed("bad_payload", payload.status().message()));
  const model::WelcomePayload& p = *payload;
  if (!job.last_outcome.empty()) {
    // Run again after an outcome (a retry through the API): the code was used or is dead.
    return Counted(JobResult::Failed("already_attempted", "welcome code already attempted (" +
                                                              job.last_outcome +
                                                              "): a welcome code is never resent"));
  }
  const int64_t age_ms = clock_.NowUnixMillis() - p.received_at_ms;
  if (age_ms > options_.code_life.count()) {
    return Counted(JobResult::Failed(
        "expired", "the welcome code's " + std::to_string(options_.code_life.count() / 1000) +
                       " s had passed (" + std::to_string(age_ms) + " ms)"));
  }
  channels::OutboundChannel* outbound = directory_.Find(job.account_id);
  if (outbound == nullptr || outbound->platform() != model::Platform::kWecom) {
    return Counted(JobResult::Failed("no_client", "no WeCom client for account " + job.account_id));
  }
  // Rendered from the template and profile as they are now; a failure to read them is final:
  // the code would not outlive a retry.
  auto stored = templates_.Get(p.template_id);
  if (!stored.ok()) return Counted(JobResult::Failed("no_template", stored.status().message()));
  const nlohmann::json content_json = nlohmann::json::parse(stored->content_json, nullptr, false);
  auto content = render::ContentFromJson(content_json, model::TemplateChannel::kWecomMessage);
  auto compiled = content.ok() ? render::CompiledTemplate::Compile(std::move(content).value())
                               : core::StatusOr<render::CompiledTemplate>(content.status());
  auto customer = queries_.GetCustomer(p.customer_id);
  if (customer.ok() && customer->customer.merged_into.has_value()) {
    customer = queries_.GetCustomer(*customer->customer.merged_into);
  }
  if (!compiled.ok() || !customer.ok()) {
    return Counted(JobResult::Failed(
        "render_failed", (!compiled.ok() ? compiled.status() : customer.status()).message()));
  }
  auto rendered = compiled->Render(RenderProfileOf(*customer), render::Placeholders{});
  const auto* wecom =
      rendered.ok() ? std::get_if<model::WecomMessageContent>(&rendered.value()) : nullptr;
  if (wecom == nullptr) {
    return Counted(JobResult::Failed("render_failed", rendered.ok() ? "not a wecom_message template"
                                                                    : rendered.status().message()));
  }
  platform::CallOptions call;
  call.priority = platform::Priority::kRealtime;
  // No longer than the code lives: a later answer could only be 41051.
  call.time_budget =
      std::chrono::milliseconds(std::max<int64_t>(1, options_.code_life.count() - age_ms));
  delay_.Observe({}, static_cast<double>(clock_.NowUnixMillis() - p.received_at_ms) / 1000.0);
  auto sent = outbound->Send(ToWelcome(p.welcome_code, *wecom), call);
  if (sent.ok()) return Counted(JobResult::Done("sent"));
  const platform::ApiError& error = sent.error();
  if (error.errcode == kWelcomeCodeUsed) {
    JobResult refused = JobResult::Done("refused");
    refused.errcode = error.errcode;
    refused.error = error.message;
    return Counted(std::move(refused));
  }
  if (error.outcome == platform::Outcome::kUnknown) {
    // Maybe delivered: a welcome code is single-shot, so it is never sent again.
    log_->warn("welcome: job {} ({}): outcome unknown, not resent: {}", job.id, job.account_id,
               error.message);
    JobResult unknown;
    unknown.kind = JobResult::Kind::kUnknown;
    unknown.outcome = "unknown";
    unknown.errcode = error.errcode;
    unknown.error = error.message;
    return Counted(std::move(unknown));
  }
  return Counted(JobResult::Failed(std::string(platform::OutcomeName(error.outcome)), error.message,
                                   error.errcode));
}

}  // namespace scrm::campaigns
