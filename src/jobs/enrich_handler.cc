#include "src/jobs/enrich_handler.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

namespace scrm::jobs {
namespace {

using JobKind = JobResult::Kind;

void SetIfPresent(std::map<std::string, std::string>& attributes, const char* key,
                  const std::string& value) {
  if (!value.empty()) attributes[key] = value;
}

}  // namespace

EnrichHandler::EnrichHandler(profiles::ProfileService& profiles,
                             std::shared_ptr<spdlog::logger> log, EnrichHandlerOptions options)
    : profiles_(profiles), log_(std::move(log)), options_(options) {}

void EnrichHandler::AddWecom(std::string account_id, platform::WecomClient& client) {
  wecom_[std::move(account_id)] = &client;
}

void EnrichHandler::AddOa(std::string account_id, platform::OaClient& client) {
  oa_[std::move(account_id)] = &client;
}

JobResult EnrichHandler::Run(const storage::OutboxJob& job) {
  const nlohmann::json payload =
      nlohmann::json::parse(job.payload_json, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded() || !payload.is_object() || !payload.contains("platform") ||
      !payload["platform"].is_string() || !payload.contains("kind") ||
      !payload["kind"].is_string() || !payload.contains("value") || !payload["value"].is_string()) {
    return JobResult::Failed("bad_payload", "enrich payload is not {platform, kind, value}");
  }
  const std::string platform = payload["platform"].get<std::string>();
  const std::string value = payload["value"].get<std::string>();
  const std::optional<model::IdentityKind> kind =
      model::ParseIdentityKind(payload["kind"].get<std::string>());
  if (!kind.has_value() || value.empty()) {
    return JobResult::Failed("bad_payload", "enrich payload names no identity");
  }
  // Resolved now, not when queued: a merge in between moved the identity to the survivor.
  auto customer = profiles_.FindCustomer(platform, job.account_id, *kind, value);
  if (!customer.ok()) return JobResult::FromProfileError(customer.status());
  if (!customer->has_value()) {
    JobResult gone;
    gone.outcome = "no_customer";
    return gone;
  }
  if (*kind == model::IdentityKind::kOpenid) return RunOa(job, **customer, value);
  if (*kind == model::IdentityKind::kExternalUserid) return RunWecom(job, **customer, value);
  return JobResult::Failed("bad_payload",
                           "enrich payload names a " + payload["kind"].get<std::string>());
}

JobResult EnrichHandler::RunOa(const storage::OutboxJob& job, int64_t customer_id,
                               const std::string& openid) {
  const auto client = oa_.find(job.account_id);
  if (client == oa_.end()) {
    return JobResult::Failed("no_client", "no OA client for account " + job.account_id);
  }
  platform::CallOptions call;
  call.priority = platform::Priority::kBulk;  // nobody waits for an enrichment
  call.time_budget = options_.call_budget;
  auto user = client->second->GetUserInfo(openid, "zh_CN", call);
  if (!user.ok())
    return PlatformFailure(job, config::Platform::kOfficialAccount, customer_id, user.error());
  // subscribe == 0: only openid (and unionid) come back (PROTOCOL §4.2).
  std::map<std::string, std::string> attributes;
  SetIfPresent(attributes, "oa.subscribe_scene", user.value().subscribe_scene);
  SetIfPresent(attributes, "oa.language", user.value().language);
  return Apply(customer_id, user.value().unionid, attributes, nullptr);
}

JobResult EnrichHandler::RunWecom(const storage::OutboxJob& job, int64_t customer_id,
                                  const std::string& external_userid) {
  const auto client = wecom_.find(job.account_id);
  if (client == wecom_.end()) {
    return JobResult::Failed("no_client", "no WeCom client for account " + job.account_id);
  }
  platform::CallOptions call;
  call.priority = platform::Priority::kBulk;
  call.time_budget = options_.call_budget;
  // follow_user comes in pages of 500 members with next_cursor (PROTOCOL §4.1): every page is
  // read before the tags are synced, since SyncPlatformTags removes the platform tags it is not
  // given — a partial list would take away the corp tags of the members on later pages. A page
  // that fails retries the whole job (reads are safe to repeat).
  auto detail = client->second->GetExternalContact(external_userid, "", call);
  if (!detail.ok())
    return PlatformFailure(job, config::Platform::kWecom, customer_id, detail.error());
  const platform::WecomExternalContact contact = detail.value().contact;
  std::vector<platform::WecomFollowUser> follow_users = std::move(detail.value().follow_users);
  std::string cursor = detail.value().next_cursor;
  for (int pages = 1; !cursor.empty(); ++pages) {
    // A platform reply is untrusted: a cursor that does not move, or more pages than any corp
    // has members for, must not keep the runner in this job.
    if (pages >= options_.max_follow_user_pages) {
      return JobResult::Failed("bad_reply", "externalcontact/get: more than " +
                                                std::to_string(options_.max_follow_user_pages) +
                                                " pages of follow_user");
    }
    auto page = client->second->GetExternalContact(external_userid, cursor, call);
    if (!page.ok())
      return PlatformFailure(job, config::Platform::kWecom, customer_id, page.error());
    if (page.value().next_cursor == cursor) {
      return JobResult::Failed("bad_reply", "externalcontact/get: next_cursor did not move");
    }
    for (platform::WecomFollowUser& follow : page.value().follow_users) {
      follow_users.push_back(std::move(follow));
    }
    cursor = page.value().next_cursor;
  }
  std::map<std::string, std::string> attributes;
  SetIfPresent(attributes, "wecom.name", contact.name);
  SetIfPresent(attributes, "wecom.position", contact.position);
  SetIfPresent(attributes, "wecom.corp_name", contact.corp_name);
  std::vector<model::PlatformTag> tags;
  for (const platform::WecomFollowUser& follow : follow_users) {
    for (const platform::WecomFollowTag& tag : follow.tags) {
      tags.push_back(
          model::PlatformTag{tag.group_name, tag.tag_name, tag.tag_id, static_cast<int>(tag.type)});
    }
  }
  return Apply(customer_id, contact.unionid, attributes, &tags);
}

JobResult EnrichHandler::Apply(int64_t customer_id, const std::string& unionid,
                               const std::map<std::string, std::string>& attributes,
                               const std::vector<model::PlatformTag>* tags) {
  int64_t target = customer_id;
  if (!unionid.empty()) {
    auto link = profiles_.LinkUnionid(customer_id, unionid);
    if (!link.ok()) return JobResult::FromProfileError(link.status());
    target = link->customer_id;
    if (link->merge.has_value()) {
      log_->info("enrich: customer {} merged into {} (unionid)", link->merge->merged_id,
                 link->merge->survivor_id);
    }
  }
  if (tags != nullptr) {
    const core::Status synced = profiles_.SyncPlatformTags(target, *tags);
    if (!synced.ok()) return JobResult::FromProfileError(synced);
  }
  if (!attributes.empty()) {
    const core::Status set = profiles_.SetAttributes(target, attributes);
    if (!set.ok()) return JobResult::FromProfileError(set);
  }
  return JobResult{};
}

JobResult EnrichHandler::PlatformFailure(const storage::OutboxJob& job, config::Platform platform,
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
      const core::Status marked = profiles_.SetAttributes(
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
