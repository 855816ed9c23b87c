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

#include "src/jobs/outbox_runner.h"
#include "src/platform/oa_client.h"
#include "src/platform/wecom_client.h"
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
// and to the clients given to AddWecom / AddOa; they must outlive it.
class EnrichHandler final : public JobHandler {
 public:
  EnrichHandler(profiles::ProfileService& profiles, std::shared_ptr<spdlog::logger> log,
                EnrichHandlerOptions options = {});

  // The client of a configured account with an API secret (before the runner starts).
  void AddWecom(std::string account_id, platform::WecomClient& client);
  void AddOa(std::string account_id, platform::OaClient& client);

  // Platform outcomes (platform::Outcome): success -> done; kRetryAfter (at retry_after),
  // kUnavailable, kThrottled, kUnknown (a read: safe to repeat) -> retry; kRefused -> failed,
  // and the customer gets attribute "enrich_refused:<account>" = the errcode; kConfigError,
  // kRejected, kBadReply -> failed with the reason, except kRejected for an errcode that
  // PROTOCOL §4.3 does not list: retried up to unknown_errcode_attempts claims, then failed. A
  // customer no longer found is done; a profile-store error is retried.
  JobResult Run(const storage::OutboxJob& job) override;

 private:
  JobResult RunOa(const storage::OutboxJob& job, int64_t customer_id, const std::string& openid);
  JobResult RunWecom(const storage::OutboxJob& job, int64_t customer_id,
                     const std::string& external_userid);
  JobResult PlatformFailure(const storage::OutboxJob& job, config::Platform platform,
                            int64_t customer_id, const platform::ApiError& error);
  // Links the unionid (merging when another customer holds it) and sets the attributes, on the
  // customer that survives.
  JobResult Apply(int64_t customer_id, const std::string& unionid,
                  const std::map<std::string, std::string>& attributes,
                  const std::vector<model::PlatformTag>* tags);

  profiles::ProfileService& profiles_;
  std::shared_ptr<spdlog::logger> log_;
  const EnrichHandlerOptions options_;
  std::map<std::string, platform::WecomClient*, std::less<>> wecom_;
  std::map<std::string, platform::OaClient*, std::less<>> oa_;
};

}  // namespace scrm::jobs
