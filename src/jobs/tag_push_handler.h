// TagPushHandler: the "tagpush" jobs of the outbox (docs/outbound.md "Tag push"): makes the tags
// a customer has on one account's platform match the mapped tags the customer holds now —
// WeCom externalcontact/mark_tag on each follow relation, OA tags/members/batchtagging and
// batchuntagging on each openid — and records what it set (storage::TagPushStore).
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "channels/common/outbound.h"
#include "src/core/clock.h"
#include "src/jobs/outbox_runner.h"
#include "src/profiles/profile_service.h"
#include "src/storage/tag_push_store.h"

namespace scrm::jobs {

// The attribute a refused target is recorded in (+ account id); the value lists
// "<target>=<errcode>" of the last run that had refusals, space-separated.
inline constexpr char kTagPushRefusedAttributePrefix[] = "tagpush_refused:";

struct TagPushHandlerOptions {
  // Each platform call's budget (governor waits, token fetch, retries): well below the lease.
  std::chrono::milliseconds call_budget{std::chrono::seconds(30)};
};

// Called on the runner's thread only (not thread-safe). Holds references to the profile
// service, the push store, the directory of outbound channels (the accounts with an API secret)
// and the clock; they must outlive it.
class TagPushHandler final : public JobHandler {
 public:
  TagPushHandler(profiles::ProfileService& profiles, storage::TagPushStore& pushes,
                 const channels::OutboundDirectory& channels, const core::Clock& clock,
                 std::shared_ptr<spdlog::logger> log, TagPushHandlerOptions options = {});

  // Reads the customer now (so several changes before the run end as the final state) and, per
  // target, adds the mapped tags held through a local source that the target lacks and removes
  // those scrmd added that are no longer held; tags held because the platform has them
  // (source platform) are left alone. Each target's success is recorded at once, so a retry
  // only redoes the rest. Outcomes: all targets done -> done; some refused (platform::kRefused,
  // e.g. WeCom 84061 the relation is gone, OA 40003) -> done with outcome "refused", the
  // customer gets attribute "tagpush_refused:<account>", and those targets are not retried;
  // A WeCom 40068 (a mapped corp tag id the corp does not have) on a mark_tag with several
  // changes is split: each change is sent alone, the valid ones go through, and each unknown id
  // is refused as "<userid>:<tag id>=40068" in the same attribute (never retried by this job).
  // kRetryAfter (at retry_after), kUnavailable, kThrottled, kUnknown (the calls are idempotent)
  // -> retry; kConfigError, kRejected, kBadReply -> failed. A customer no longer found, or
  // merged (the merge queued the survivor's push), is done.
  JobResult Run(const storage::OutboxJob& job) override;

 private:
  struct Target;
  struct Plan;
  JobResult Push(const storage::OutboxJob& job, channels::OutboundChannel& channel,
                 int64_t customer_id, const std::vector<Target>& targets, const Plan& plan);

  profiles::ProfileService& profiles_;
  storage::TagPushStore& pushes_;
  const channels::OutboundDirectory& channels_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  const TagPushHandlerOptions options_;
};

}  // namespace scrm::jobs
