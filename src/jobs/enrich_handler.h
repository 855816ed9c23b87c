// EnrichHandler: the "enrich" jobs of the outbox (docs/outbound.md "Outbox"): asks the platform
// about a customer created from an openid / external_userid (OA user/info, WeCom
// externalcontact/get, every page of follow_user) and applies the answer to the profile — the
// unionid (which merges the customers of one person), WeCom corp tags and a few facts as
// attributes.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "channels/common/outbound.h"
#include "src/jobs/outbox_runner.h"
#include "src/platform/errors.h"
#include "src/profiles/profile_service.h"

namespace scrm::jobs {

// Attribute keys the handler writes (docs/outbound.md "Outbox").
inline constexpr char kRefusedAttributePrefix[] = "enrich_refused:";  // + account id

// Default of EnrichHandlerOptions::unknown_errcode_attempts (docs/outbound.md "Outbox").
inline constexpr int kUnknownErrcodeReadAttempts = 3;

struct EnrichHandlerOptions {
  // Each platform call's budget (governor waits, token fetch, retries): well below the lease.
  std::chrono::milliseconds call_budget{std::chrono::seconds(30)};
  // externalcontact/get pages of follow_user (500 members each) read at most; more fails the
  // job as a bad reply. 200 pages = 100,000 members following one customer.
  int max_follow_user_pages = 200;
  // A platform errcode that PROTOCOL §4.3 does not list (platform::IsKnownErrcode) is retried on
  // these reads (user/info, externalcontact/get) until the job has been claimed this many times,
  // then the job fails (visible and retryable through /api/v1/jobs). A new code is more often a
  // passing platform condition than a verdict on the request; a send never gets this treatment.
  int unknown_errcode_attempts = kUnknownErrcodeReadAttempts;
};

// Called on the runner's thread only (not thread-safe). Holds references to the profile service
// and to the directory of outbound channels (the accounts with an API secret); they must outlive
// it. The job's account is looked up in the directory when the job runs.
class EnrichHandler final : public JobHandler {
 public:
  EnrichHandler(profiles::ProfileService& profiles, const channels::OutboundDirectory& channels,
                std::shared_ptr<spdlog::logger> log, EnrichHandlerOptions options = {});

  // Platform outcomes (platform::Outcome): success -> done; kRetryAfter (at retry_after),
  // kUnavailable, kThrottled, kUnknown (a read: safe to repeat) -> retry; kRefused -> failed,
  // and the customer gets attribute "enrich_refused:<account>" = the errcode; kConfigError,
  // kRejected, kBadReply -> failed with the reason, except kRejected for an errcode that
  // PROTOCOL §4.3 does not list: retried up to unknown_errcode_attempts claims, then failed. A
  // customer no longer found is done; a profile-store error is retried.
  JobResult Run(const storage::OutboxJob& job) override;

 private:
  JobResult PlatformFailure(const storage::OutboxJob& job, model::Platform platform,
                            int64_t customer_id, const platform::ApiError& error);
  // Links the unionid (merging when another customer holds it) and sets the attributes, on the
  // customer that survives.
  JobResult Apply(int64_t customer_id, const std::string& unionid,
                  const std::map<std::string, std::string>& attributes,
                  const std::vector<model::PlatformTag>* tags);

  profiles::ProfileService& profiles_;
  const channels::OutboundDirectory& channels_;
  std::shared_ptr<spdlog::logger> log_;
  const EnrichHandlerOptions options_;
};

}  // namespace scrm::jobs
