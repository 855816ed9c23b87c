#include "src/jobs/tag_push_handler.h"

#include <optional>
#include <set>
#include <utility>

#include "src/model/job_kinds.h"
#include "src/platform/errors.h"

namespace scrm::jobs {
namespace {

using JobKind = JobResult::Kind;

// OA batchtagging: the fan has 20 tags already (PROTOCOL §4.2). The platform will not take
// another tag for this person, whatever we send: a per-user refusal, not a bad request.
constexpr int64_t kOaTooManyTags = 45059;
// WeCom mark_tag: a tag id the corp does not have ("invalid tagid", PROTOCOL §4.1). It fails the
// whole call, the valid ids with it.
constexpr int64_t kWecomInvalidTagId = 40068;
// Attribute values are capped by profiles::ProfileEditor::SetAttributes.
constexpr size_t kMaxAttributeBytes = 1024;

// What one call's failure means for the job: nullopt = the target refused (recorded, the job
// goes on with the other targets); otherwise the job stops with this result.
std::optional<JobResult> Classify(const platform::ApiError& error, bool oa) {
  const std::string outcome(platform::OutcomeName(error.outcome));
  switch (error.outcome) {
    case platform::Outcome::kRefused: return std::nullopt;
    case platform::Outcome::kRetryAfter: {
      JobResult result = JobResult::Retry(outcome, error.message, error.errcode);
      result.retry_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               error.retry_after.time_since_epoch())
                               .count();
      return result;
    }
    case platform::Outcome::kUnavailable:
    case platform::Outcome::kThrottled:
    case platform::Outcome::kUnknown:  // mark_tag and batch(un)tagging are idempotent
      return JobResult::Retry(outcome, error.message, error.errcode);
    case platform::Outcome::kRejected:
      if (oa && error.errcode == kOaTooManyTags) return std::nullopt;
      return JobResult::Failed(outcome, error.message, error.errcode);
    case platform::Outcome::kConfigError:  // the clients log and count these already
    case platform::Outcome::kBadReply:
      return JobResult::Failed(outcome, error.message, error.errcode);
  }
  return JobResult::Failed(outcome, error.message, error.errcode);
}

}  // namespace

// One place the tags go: a WeCom follow relation or an OA follower.
struct TagPushHandler::Target {
  std::string target;           // TagPush::target: the member's userid (WeCom) or the openid (OA)
  std::string external_userid;  // WeCom: the customer's ExternalUserID on the corp
};

// What the customer should have on the account's platform, and what scrmd set before.
struct TagPushHandler::Plan {
  bool oa = false;
  std::map<int64_t, std::string> desired;  // local tag id -> platform tag id
  std::set<int64_t> platform_held;         // held because the platform has them: left alone
  std::vector<storage::TagPush> pushed;
  // For pushed tags no longer desired: the platform id each is mapped to now ("" = unmapped).
  std::map<int64_t, std::string> mapped_now;
};

TagPushHandler::TagPushHandler(profiles::ProfileService& profiles, storage::TagPushStore& pushes,
                               const channels::OutboundDirectory& channels,
                               const core::Clock& clock, std::shared_ptr<spdlog::logger> log,
                               TagPushHandlerOptions options)
    : profiles_(profiles),
      pushes_(pushes),
      channels_(channels),
      clock_(clock),
      log_(std::move(log)),
      options_(options) {}

JobResult TagPushHandler::Run(const storage::OutboxJob& job) {
  const auto payload = model::DecodeTagPushPayload(job.payload_json);
  if (!payload.ok()) return JobResult::Failed("bad_payload", payload.status().message());
  const int64_t customer_id = payload->customer_id;
  Plan plan;
  channels::OutboundChannel* channel = channels_.Find(job.account_id);
  if (channel == nullptr) {
    return JobResult::Failed("no_client", "no client for account " + job.account_id);
  }
  plan.oa = channel->platform() == model::Platform::kOfficialAccount;

  // The state now, not when queued: changes since then end as their final state.
  auto view = profiles_.queries.GetCustomer(customer_id);
  if (!view.ok() && view.status().code() == core::StatusCode::kNotFound) {
    return JobResult::Done("no_customer");
  }
  if (!view.ok()) return JobResult::FromProfileError(view.status());
  if (view->customer.merged_into.has_value()) return JobResult::Done("merged");

  for (const profiles::TagView& tag : view->tags) {
    if (!tag.held) continue;
    if (tag.detail.value.source == model::TagSource::kPlatform) {
      plan.platform_held.insert(tag.detail.tag.tag.id);  // never echoed back, never removed
      continue;
    }
    const model::Tag& mapped = tag.detail.tag.tag;
    if (plan.oa && mapped.oa_tag_id != 0) {
      plan.desired[mapped.id] = std::to_string(mapped.oa_tag_id);
    } else if (!plan.oa && !mapped.wecom_tag_id.empty()) {
      plan.desired[mapped.id] = mapped.wecom_tag_id;
    }
  }
  auto pushed = pushes_.List(customer_id, job.account_id);
  if (!pushed.ok()) return JobResult::FromProfileError(pushed.status());
  plan.pushed = std::move(pushed).value();
  bool removals = false;
  for (const storage::TagPush& row : plan.pushed) {
    removals = removals ||
               (!plan.desired.contains(row.tag_id) && !plan.platform_held.contains(row.tag_id));
  }
  if (removals) {
    // Removal candidates have no customer row any more: their mapping comes from the library.
    auto tags = profiles_.queries.ListTags();
    if (!tags.ok()) return JobResult::FromProfileError(tags.status());
    for (const model::TagDetail& tag : *tags) {
      plan.mapped_now[tag.tag.id] =
          plan.oa ? (tag.tag.oa_tag_id != 0 ? std::to_string(tag.tag.oa_tag_id) : "")
                  : tag.tag.wecom_tag_id;
    }
  }

  std::vector<Target> targets;
  const std::string_view platform = plan.oa ? "oa" : "wecom";
  const model::IdentityKind kind =
      plan.oa ? model::IdentityKind::kOpenid : model::IdentityKind::kExternalUserid;
  std::vector<std::string> ids;
  for (const model::Identity& identity : view->identities) {
    if (identity.platform == platform && identity.account_id == job.account_id &&
        identity.kind == kind) {
      ids.push_back(identity.value);
    }
  }
  if (plan.oa) {
    // An OA follower that unsubscribed cannot be tagged (43004): skipped; subscribing again
    // queues a push (profiles::TagPushEnqueuer).
    bool subscribed = true;
    for (const model::Follower& f : view->followers) {
      if (f.account_id == job.account_id && f.userid.empty()) {
        subscribed = model::IsConnected(f.state);
      }
    }
    if (subscribed) {
      for (const std::string& openid : ids) targets.push_back(Target{openid, ""});
    }
  } else if (!ids.empty()) {
    // One external_userid per customer and corp (PROTOCOL §5); the first if a merge left two.
    for (const model::Follower& f : view->followers) {
      if (f.account_id == job.account_id && !f.userid.empty() && model::IsConnected(f.state)) {
        targets.push_back(Target{f.userid, ids.front()});
      }
    }
  }
  if (targets.empty()) return JobResult::Done("no_target");
  return Push(job, *channel, customer_id, targets, plan);
}

JobResult TagPushHandler::Push(const storage::OutboxJob& job, channels::OutboundChannel& channel,
                               int64_t customer_id, const std::vector<Target>& targets,
                               const Plan& plan) {
  platform::CallOptions call;
  call.priority = platform::Priority::kBulk;  // nobody waits for a tag push
  call.time_budget = options_.call_budget;
  std::string refusals;  // "<target>=<errcode> ..."
  int64_t first_refusal = 0;
  const auto refuse = [&](const Target& target, int64_t errcode) {
    if (!refusals.empty()) refusals += ' ';
    refusals += target.target + "=" + std::to_string(errcode);
    if (first_refusal == 0) first_refusal = errcode;
    log_->info("tagpush: {} refused customer {} on {}: {}", job.account_id, customer_id,
               target.target, errcode);
  };
  // A corp tag id the platform does not know: "<target>:<tag id>=40068".
  const auto refuse_tag = [&](const Target& target, const std::string& platform_tag_id,
                              int64_t errcode) {
    if (!refusals.empty()) refusals += ' ';
    refusals += target.target + ":" + platform_tag_id + "=" + std::to_string(errcode);
    if (first_refusal == 0) first_refusal = errcode;
    log_->warn("tagpush: {} refused corp tag {} for customer {} on {}: {} (check the mapping)",
               job.account_id, platform_tag_id, customer_id, target.target, errcode);
  };

  for (const Target& target : targets) {
    const int64_t now_ms = clock_.NowUnixMillis();
    std::map<int64_t, const storage::TagPush*> had;
    for (const storage::TagPush& row : plan.pushed) {
      if (row.target == target.target) had[row.tag_id] = &row;
    }
    // Per tag: one of add_id / remove_id is set.
    struct Change {
      std::string add_id;
      std::string remove_id;
      int64_t tag_id = 0;
      bool keep = false;  // the tag stays pushed (with add_id)
    };
    std::vector<Change> changes;
    std::vector<storage::TagPush> added;
    std::vector<int64_t> removed;
    for (const auto& [tag_id, platform_id] : plan.desired) {
      const auto it = had.find(tag_id);
      if (it != had.end() && it->second->platform_tag_id == platform_id) continue;
      // New, or mapped to another platform tag since the push (its row is replaced).
      changes.push_back(Change{platform_id, "", tag_id, true});
    }
    for (const auto& [tag_id, row] : had) {
      if (plan.desired.contains(tag_id) || plan.platform_held.contains(tag_id)) continue;
      const auto now = plan.mapped_now.find(tag_id);
      if (now == plan.mapped_now.end() || now->second != row->platform_tag_id) {
        // Unmapped or remapped since the push (change_external_tag unmaps a corp tag deleted
        // on the platform): the old platform tag is no longer scrmd's to manage and may not
        // exist any more (40068 would fail every later push). Forgotten, not removed.
        removed.push_back(tag_id);
        continue;
      }
      changes.push_back(Change{"", row->platform_tag_id, tag_id, false});
    }
    const auto note = [&](const Change& change) {
      if (change.keep) {
        added.push_back(storage::TagPush{customer_id, job.account_id, target.target, change.tag_id,
                                         change.add_id, now_ms});
      } else {
        removed.push_back(change.tag_id);
      }
    };
    std::optional<JobResult> stop;
    if (changes.empty()) {
      // Nothing to send (perhaps rows to forget).
    } else if (!plan.oa) {
      // One mark_tag per relation with every addition and removal (§4.1).
      std::vector<std::string> add_tag;
      std::vector<std::string> remove_tag;
      for (const Change& change : changes) {
        if (!change.add_id.empty()) add_tag.push_back(change.add_id);
        if (!change.remove_id.empty()) remove_tag.push_back(change.remove_id);
      }
      const channels::TagTarget on{target.target, target.external_userid};
      auto marked = channel.MarkTags(on, add_tag, remove_tag, call);
      if (marked.ok()) {
        for (const Change& change : changes) note(change);
      } else if (marked.error().errcode == kWecomInvalidTagId && changes.size() > 1) {
        // One id the corp does not have (deleted, or mapped by mistake) fails the whole call:
        // send each change alone so that the valid ones go through and only the bad one is
        // refused (recorded on the customer, not retried until the mapping changes).
        for (const Change& change : changes) {
          const std::vector<std::string> one_add =
              change.add_id.empty() ? std::vector<std::string>{} : std::vector{change.add_id};
          const std::vector<std::string> one_remove =
              change.remove_id.empty() ? std::vector<std::string>{} : std::vector{change.remove_id};
          auto single = channel.MarkTags(on, one_add, one_remove, call);
          if (single.ok()) {
            note(change);
          } else if (single.error().errcode == kWecomInvalidTagId) {
            refuse_tag(target, change.keep ? change.add_id : change.remove_id,
                       single.error().errcode);
            if (!change.keep) removed.push_back(change.tag_id);  // nothing left to take off
          } else if (stop = Classify(single.error(), false); !stop.has_value()) {
            refuse(target, single.error().errcode);
            break;
          } else {
            break;
          }
        }
      } else if (marked.error().errcode == kWecomInvalidTagId) {
        const Change& change = changes.front();
        refuse_tag(target, change.keep ? change.add_id : change.remove_id, marked.error().errcode);
        if (!change.keep) removed.push_back(change.tag_id);
      } else if (stop = Classify(marked.error(), false); !stop.has_value()) {
        refuse(target, marked.error().errcode);
      }
    } else {
      // batchtagging takes one tag and up to 50 openids (§4.2): one call per tag for this
      // openid, each recorded as it goes through.
      const channels::TagTarget on{"", target.target};
      for (const Change& change : changes) {
        const bool adding = change.keep;
        const std::string& id = adding ? change.add_id : change.remove_id;
        if (!channel.IsTagId(id)) {  // not an OA tag id: nothing the platform could hold
          if (!adding) removed.push_back(change.tag_id);
          continue;
        }
        auto done =
            adding ? channel.MarkTags(on, {id}, {}, call) : channel.MarkTags(on, {}, {id}, call);
        if (!done.ok()) {
          stop = Classify(done.error(), true);
          if (!stop.has_value()) refuse(target, done.error().errcode);
          break;
        }
        note(change);
      }
    }
    // What went through is recorded even when the job stops here: a retry redoes only the rest.
    const core::Status recorded =
        pushes_.Record(customer_id, job.account_id, target.target, added, removed);
    if (!recorded.ok()) {
      // The calls are idempotent: the next attempt sends them again and records them then.
      return JobResult::FromProfileError(recorded);
    }
    if (stop.has_value()) return *stop;
  }

  if (refusals.empty()) return JobResult::Done();
  if (refusals.size() > kMaxAttributeBytes) refusals.resize(kMaxAttributeBytes);
  const core::Status marked = profiles_.editor.SetAttributes(
      customer_id, {{kTagPushRefusedAttributePrefix + job.account_id, refusals}});
  if (!marked.ok()) {
    log_->warn("tagpush: recording the refusal on customer {}: {}", customer_id, marked.ToString());
  }
  JobResult result =
      JobResult::Done(std::string(platform::OutcomeName(platform::Outcome::kRefused)));
  result.errcode = first_refusal;
  result.error = "refused: " + refusals;
  return result;
}

}  // namespace scrm::jobs
