#include "src/jobs/enrich_handler.h"

#include <chrono>
#include <utility>
#include <vector>

#include "src/model/job_kinds.h"

namespace scrm::jobs {

EnrichHandler::EnrichHandler(profiles::ProfileService& profiles,
                             const channels::OutboundDirectory& channels,
                             std::shared_ptr<spdlog::logger> log, EnrichHandlerOptions options)
    : profiles_(profiles), channels_(channels), log_(std::move(log)), options_(options) {}

JobResult EnrichHandler::Run(const storage::OutboxJob& job) {
  auto payload = model::DecodeEnrichPayload(job.payload_json);
  if (!payload.ok()) return JobResult::Failed("bad_payload", payload.status().message());
  const std::string& value = payload->value;
  const model::IdentityKind kind = payload->kind;
  // Resolved now, not when queued: a merge in between moved the identity to the survivor.
  auto customer = profiles_.queries.FindCustomer(payload->platform, job.account_id, kind, value);
  if (!customer.ok()) return JobResult::FromProfileError(customer.status());
  if (!customer->has_value()) {
    JobResult gone;
    gone.outcome = "no_customer";
    return gone;
  }
  // An openid is read on an Official Account, an ExternalUserID on a WeCom corp.
  const bool oa = kind == model::IdentityKind::kOpenid;
  if (!oa && kind != model::IdentityKind::kExternalUserid) {
    return JobResult::Failed(
        "bad_payload", "enrich payload names a " + std::string(model::IdentityKindName(kind)));
  }
  const model::Platform on = oa ? model::Platform::kOfficialAccount : model::Platform::kWecom;
  channels::OutboundChannel* channel = channels_.Find(job.account_id);
  if (channel == nullptr ||
      channel->platform() != (oa ? model::Platform::kOfficialAccount : model::Platform::kWecom)) {
    return JobResult::Failed("no_client", std::string(oa ? "no OA client" : "no WeCom client") +
                                              " for account " + job.account_id);
  }
  channels::ReadContactOptions read;
  read.call.priority = platform::Priority::kBulk;  // nobody waits for an enrichment
  read.call.time_budget = options_.call_budget;
  read.max_pages = options_.max_follow_user_pages;
  // WeCom: every follow_user page is read before the tags are synced (WecomOutbound), since
  // SyncPlatformTags removes the platform tags it is not given. A page that fails retries the
  // whole job (reads are safe to repeat).
  auto contact = channel->ReadContact(value, read);
  if (!contact.ok()) return PlatformFailure(job, on, **customer, contact.error());
  const channels::ContactInfo& info = contact.value();
  return Apply(**customer, info.unionid, info.attributes,
               info.tags.has_value() ? &*info.tags : nullptr);
}

JobResult EnrichHandler::Apply(int64_t customer_id, const std::string& unionid,
                               const std::map<std::string, std::string>& attributes,
                               const std::vector<model::PlatformTag>* tags) {
  int64_t target = customer_id;
  if (!unionid.empty()) {
    auto link = profiles_.identities.LinkUnionid(customer_id, unionid);
    if (!link.ok()) return JobResult::FromProfileError(link.status());
    target = link->customer_id;
    if (link->merge.has_value()) {
      log_->info("enrich: customer {} merged into {} (unionid)", link->merge->merged_id,
                 link->merge->survivor_id);
    }
  }
  if (tags != nullptr) {
    const core::Status synced = profiles_.editor.SyncPlatformTags(target, *tags);
    if (!synced.ok()) return JobResult::FromProfileError(synced);
  }
  if (!attributes.empty()) {
    const core::Status set = profiles_.editor.SetAttributes(target, attributes);
    if (!set.ok()) return JobResult::FromProfileError(set);
  }
  return JobResult{};
}

JobResult EnrichHandler::PlatformFailure(const storage::OutboxJob& job, model::Platform platform,
                                         int64_t customer_id, const platform::ApiError& error) {
  const std::string outcome(platform::OutcomeName(error.outcome));
  switch (error.outcome) {
    case platform::Outcome::kRetryAfter: {
      JobResult result = JobResult::Retry(outcome, error.message, error.errcode);
      result.retry_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               error.retry_after.time_since_epoch())
                               .count();
      return result;
    }
    case platform::Outcome::kUnavailable:
    case platform::Outcome::kThrottled:
    case platform::Outcome::kUnknown:  // a read: asking again is harmless
      return JobResult::Retry(outcome, error.message, error.errcode);
    case platform::Outcome::kRefused: {
      // The platform will not tell us about this person (unknown openid, no follow relation):
      // asking again gives the same answer. Recorded on the customer so that operators see it.
      const core::Status marked = profiles_.editor.SetAttributes(
          customer_id, {{kRefusedAttributePrefix + job.account_id, std::to_string(error.errcode)}});
      if (!marked.ok()) {
        log_->warn("enrich: recording the refusal on customer {}: {}", customer_id,
                   marked.ToString());
      }
      return JobResult::Failed(outcome, error.message, error.errcode);
    }
    case platform::Outcome::kRejected:
      // An errcode nobody listed, on a read: asking again is harmless, a few times.
      if (error.errcode != 0 && !platform::IsKnownErrcode(platform, error.errcode) &&
          job.attempts < options_.unknown_errcode_attempts) {
        return JobResult::Retry(
            outcome,
            "unknown errcode on a read (attempt " + std::to_string(job.attempts) + " of " +
                std::to_string(options_.unknown_errcode_attempts) + "): " + error.message,
            error.errcode);
      }
      return JobResult::Failed(outcome, error.message, error.errcode);
    case platform::Outcome::kConfigError:  // the clients log and count these already
    case platform::Outcome::kBadReply:
      return JobResult::Failed(outcome, error.message, error.errcode);
  }
  return JobResult::Failed(outcome, error.message, error.errcode);
}

}  // namespace scrm::jobs
