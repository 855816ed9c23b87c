// ProfileService: ingest, merge/undo, API reads and writes, push queuing. Over 800 lines until
// issue 13 ("Core seams") splits it by concern: identity and merge, interaction application,
// manual operations, read queries. Nothing new goes into this file before that split.
#include "src/profiles/profile_service.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "src/core/random.h"
#include "src/model/job_kinds.h"
#include "src/tagger/lifecycle.h"
#include "src/tagger/scoring.h"

namespace scrm::profiles {
namespace {

using core::Status;
using core::StatusOr;
using model::InteractionKind;

constexpr int64_t kDayMs = int64_t{86400} * 1000;
constexpr int64_t kHourMs = int64_t{3600} * 1000;
// How far a platform's CreateTime may run ahead of our clock for window counts (see
// TimelineWindowCounter); a day is far beyond any callback timestamp window.
constexpr int64_t kMaxClockSkewMs = kDayMs;
constexpr size_t kMaxTagNameBytes = 64;
constexpr size_t kMaxMergeReasonBytes = 256;
constexpr double kMaxManualWeight = 1000;
constexpr int kMaxHalfLifeDays = 3650;
constexpr size_t kMaxPlatformTagIdBytes = 128;  // a WeCom corp tag id ("et..." ~ 32 bytes)
constexpr int64_t kMaxOaTagId = 2147483647;     // OA tag ids are 32-bit (tags/create)
// A merged customer's chain is followed this far at most (merges are one level deep unless a
// survivor is merged again; the bound only guards against a corrupt cycle).
constexpr int kMaxMergeHops = 16;
// A tag score this close to zero after taking a merged contribution out is zero.
constexpr double kScoreEpsilon = 1e-9;
constexpr std::string_view kLostAlertPrefix = "流失提醒：";

// One write transaction and the profile repositories that run their statements in it.
struct Txn {
  storage::WriteTxn& write;
  storage::ProfileStore& store;
};

// Runs fn in one write transaction of the store's database (storage::Database::InTransaction).
Status InTransaction(storage::ProfileStore& store, const std::function<Status(Txn&)>& fn) {
  return store.db.InTransaction([&](storage::WriteTxn& write) -> Status {
    Txn txn{write, store};
    return fn(txn);
  });
}

// The identity an interaction names, as stored (see model::Identity).
struct IdentityKey {
  std::string_view platform;
  std::string_view account_id;
  model::IdentityKind kind = model::IdentityKind::kOpenid;
  std::string_view value;
};

// The customer's own id on the channel: OA FromUserName (openid), WeCom ExternalUserID. A WeCom
// app message from a member carries only the member's UserID: members are staff, not
// customers, so it names nobody.
std::optional<IdentityKey> PrimaryIdentity(const model::Interaction& it) {
  const std::string_view platform = model::PlatformName(it.platform);
  if (it.platform == model::Platform::kOfficialAccount && !it.openid.empty()) {
    return IdentityKey{platform, it.account_id, model::IdentityKind::kOpenid, it.openid};
  }
  if (it.platform == model::Platform::kWecom && !it.external_userid.empty()) {
    return IdentityKey{platform, it.account_id, model::IdentityKind::kExternalUserid,
                       it.external_userid};
  }
  return std::nullopt;
}

// Queues the enrichment of a customer just created from `identity` (ProfileServiceOptions::
// enrichment_accounts), in the transaction that created it.
Status EnqueueEnrichment(Txn& txn, const ProfileServiceOptions& options,
                         const IdentityKey& identity, int64_t now_ms) {
  if (!options.enrichment_accounts.contains(identity.account_id)) return core::OkStatus();
  storage::OutboxJob job;
  job.kind = model::kEnrichJobKind;
  job.account_id = std::string(identity.account_id);
  job.dedupe_key = EnrichDedupeKey(identity.platform, identity.account_id, identity.value);
  job.payload_json = model::EncodeEnrichPayload(
      {std::string(identity.platform), identity.kind, std::string(identity.value)});
  job.due_at_ms = now_ms;
  // false = queued before (a replay of the interaction that created the customer): fine.
  return txn.store.outbox.Enqueue(txn.write, job, now_ms).status();
}

// The platform an identity of this kind names a customer on, when tags can be pushed to it:
// "wecom" for an external_userid (mark_tag), "oa" for an openid (batchtagging).
bool IsPushIdentity(const model::Identity& identity) {
  return (identity.kind == model::IdentityKind::kExternalUserid && identity.platform == "wecom") ||
         (identity.kind == model::IdentityKind::kOpenid && identity.platform == "oa");
}

bool MappedOn(const model::TagDetail& tag, std::string_view platform) {
  return platform == "wecom" ? !tag.tag.wecom_tag_id.empty() : tag.tag.oa_tag_id != 0;
}

// Queues a tag push (kTagPushJobKind) for every push account the customer has an identity on —
// only those where `tag` is mapped, when one is given. Coalesced: a job that waits unclaimed
// for the customer and account already will read this change when it runs.
// Returns for how many accounts a job was queued or is waiting already.
StatusOr<size_t> QueueTagPushCounted(Txn& txn, const ProfileServiceOptions& options,
                                     int64_t customer_id, const model::TagDetail* tag,
                                     int64_t now_ms) {
  size_t accounts = 0;
  if (options.tag_push_accounts.empty()) return accounts;
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::Identity> identities,
                        txn.store.identities.List(txn.write, customer_id));
  for (const model::Identity& identity : identities) {
    if (!IsPushIdentity(identity) || !options.tag_push_accounts.contains(identity.account_id)) {
      continue;
    }
    if (tag != nullptr && !MappedOn(*tag, identity.platform)) continue;
    storage::OutboxJob job;
    job.kind = model::kTagPushJobKind;
    job.account_id = identity.account_id;
    job.dedupe_key = TagPushKeyPrefix(identity.account_id, customer_id);
    job.payload_json = model::EncodeTagPushPayload({customer_id});
    job.due_at_ms = now_ms;
    SCRM_RETURN_IF_ERROR(txn.store.outbox.EnqueueCoalesced(txn.write, job, now_ms).status());
    ++accounts;
  }
  return accounts;
}

Status QueueTagPush(Txn& txn, const ProfileServiceOptions& options, int64_t customer_id,
                    const model::TagDetail* tag, int64_t now_ms) {
  return QueueTagPushCounted(txn, options, customer_id, tag, now_ms).status();
}

// Whether the push job would put the tag on the platform: held at now_ms (decayed score >=
// threshold) through a local source. A tag held because the platform has it (source platform)
// is left alone, so that it is never echoed back.
bool Pushable(const std::optional<model::CustomerTag>& row, const model::TagDetail& tag,
              int64_t now_ms) {
  if (!row.has_value() || row->source == model::TagSource::kPlatform) return false;
  return tagger::IsHeld(tagger::DecayedScore(row->score, row->updated_at_ms, now_ms,
                                             HalfLifeMs(tag.group, row->decays)),
                        tag.Threshold());
}

// A local change of one customer tag (rule, manual, API removal): queues a push when the tag is
// mapped and the change made the customer start or stop holding it. A weight that leaves a held
// tag held, and a replay (which changes nothing), queue nothing.
Status NoteTagChange(Txn& txn, const ProfileServiceOptions& options, int64_t customer_id,
                     const model::TagDetail& tag, const std::optional<model::CustomerTag>& before,
                     const std::optional<model::CustomerTag>& after, int64_t now_ms) {
  if (options.tag_push_accounts.empty()) return core::OkStatus();
  if (!MappedOn(tag, "wecom") && !MappedOn(tag, "oa")) return core::OkStatus();
  if (Pushable(before, tag, now_ms) == Pushable(after, tag, now_ms)) return core::OkStatus();
  return QueueTagPush(txn, options, customer_id, &tag, now_ms);
}

// Whether the customer holds a tag the push job would put on `platform`: a new follow relation
// then needs a push (the job only sends what that relation lacks).
StatusOr<bool> HoldsPushableTag(Txn& txn, int64_t customer_id, std::string_view platform,
                                int64_t now_ms) {
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::CustomerTag> rows,
                        txn.store.customer_tags.List(txn.write, customer_id));
  for (const model::CustomerTag& row : rows) {
    if (row.source == model::TagSource::kPlatform) continue;
    SCRM_ASSIGN_OR_RETURN(const model::TagDetail tag, txn.store.tags.Get(txn.write, row.tag_id));
    if (MappedOn(tag, platform) && Pushable(row, tag, now_ms)) return true;
  }
  return false;
}

// A tag just mapped (or remapped) on some platform: the customers who hold it through a local
// source get a push, which adds it under its new id (docs/outbound.md "Tag push"). `newly` is
// the tag with only the mappings that are new in this change, so that only the accounts of
// those platforms are queued. Returns how many customers got a push queued.
StatusOr<int64_t> QueueHolderPushes(Txn& txn, const ProfileServiceOptions& options,
                                    const model::TagDetail& newly, int64_t now_ms) {
  int64_t customers = 0;
  if (options.tag_push_accounts.empty()) return customers;
  if (!MappedOn(newly, "wecom") && !MappedOn(newly, "oa")) return customers;
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::CustomerTag> rows,
                        txn.store.customer_tags.ListLocalHolders(txn.write, newly.tag.id));
  for (const model::CustomerTag& row : rows) {
    if (!Pushable(row, newly, now_ms)) continue;
    SCRM_ASSIGN_OR_RETURN(const size_t accounts,
                          QueueTagPushCounted(txn, options, row.customer_id, &newly, now_ms));
    if (accounts > 0) ++customers;
  }
  return customers;
}

bool IsMessageKind(InteractionKind kind) { return model::KindName(kind).starts_with("message."); }

bool IsTagLibraryKind(InteractionKind kind) {
  return kind == InteractionKind::kTagCreate || kind == InteractionKind::kTagUpdate ||
         kind == InteractionKind::kTagDelete || kind == InteractionKind::kTagShuffle;
}

// Interactions that make an unknown person a customer: the person acting, or a relationship
// event. Platform reports (send results, location reports) and unmodelled events only attach
// to a customer we already know.
bool MayCreateCustomer(InteractionKind kind) {
  return tagger::IsEngagementKind(kind) || tagger::IsLeaveKind(kind) ||
         kind == InteractionKind::kContactEdit || kind == InteractionKind::kContactTransferFail;
}

// `text` cut to at most max_bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

struct SummaryVisitor {
  const model::Interaction& it;

  std::string operator()(const std::monostate&) const { return {}; }
  std::string operator()(const model::TextPayload& p) const { return p.content; }
  std::string operator()(const model::MediaPayload& p) const { return p.recognition; }
  std::string operator()(const model::LocationPayload& p) const { return p.label; }
  std::string operator()(const model::LinkPayload& p) const { return p.title + " " + p.url; }
  std::string operator()(const model::QrScenePayload& p) const {
    return p.scene.empty() ? std::string() : "scene=" + p.scene;
  }
  std::string operator()(const model::MenuPayload& p) const { return p.event_key; }
  std::string operator()(const model::SendJobPayload& p) const { return p.status; }
  std::string operator()(const model::ContactChangePayload& p) const {
    std::string out = "staff=" + it.userid;
    if (!p.state.empty()) out += " state=" + p.state;
    if (!p.source.empty()) out += " source=" + p.source;
    return out;
  }
  std::string operator()(const model::ChatChangePayload& p) const { return p.update_detail; }
  std::string operator()(const model::TagChangePayload& p) const { return p.id; }
  std::string operator()(const model::GenericPayload& p) const { return p.event; }
};

std::string Summary(const model::Interaction& it, size_t max_bytes) {
  return TruncateUtf8(std::visit(SummaryVisitor{it}, it.payload), max_bytes);
}

// window_count conditions over the customer's timeline: entries of the kinds with
// since_ms <= at_ms <= the interaction's time, from interactions up to this one (ids are in
// inbox order). Both bounds keep a replay deterministic: it counts what the first delivery
// counted, not the interactions that came after it (even at the same millisecond). The scan
// starts at the first id the inbox could have given an interaction received at
// since_ms - kMaxClockSkewMs (ids are time-ordered, core::IdGenerator): one that happened in the
// window cannot have been received before, unless the platform's clock (CreateTime) runs more
// than that ahead of ours — and callbacks that far off are refused as replays anyway.
class TimelineWindowCounter final : public tagger::WindowCounter {
 public:
  TimelineWindowCounter(Txn& txn, int64_t customer_id, const model::Interaction& it)
      : txn_(txn),
        customer_id_(customer_id),
        until_ms_(it.occurred_at_ms),
        interaction_id_(it.id) {}

  int64_t CountSince(std::span<const InteractionKind> kinds, int64_t since_ms) const override {
    const int64_t first_id =
        core::IdGenerator::FirstIdAt(std::max<int64_t>(0, since_ms - kMaxClockSkewMs));
    int64_t total = 0;
    for (size_t i = 0; i < kinds.size(); ++i) {
      if (std::find(kinds.begin(), kinds.begin() + static_cast<std::ptrdiff_t>(i), kinds[i]) !=
          kinds.begin() + static_cast<std::ptrdiff_t>(i)) {
        continue;  // a kind listed twice counts once
      }
      StatusOr<int64_t> count =
          txn_.store.timeline.Count(txn_.write, customer_id_, model::KindName(kinds[i]), since_ms,
                                    until_ms_, first_id, interaction_id_);
      if (!count.ok()) {
        if (status_.ok()) status_ = count.status();
        continue;
      }
      total += *count;
    }
    return total;
  }

  // The first storage error of a CountSince (the interface has no way to return it).
  const Status& status() const { return status_; }

 private:
  Txn& txn_;
  const int64_t customer_id_;
  const int64_t until_ms_;
  const int64_t interaction_id_;
  mutable Status status_;
};

// One interaction being applied.
struct ApplyContext {
  Txn& txn;
  const model::Interaction& it;
  const ProfileServiceOptions& options;
  int64_t now_ms = 0;
  model::Customer customer;
};

// Adds `weight` at `at_ms` to the customer's score on the tag (decay first, tagger::ApplyDelta)
// and records the source and evidence; queues a tag push when the customer starts or stops
// holding a mapped tag (NoteTagChange, evaluated at now_ms). The stored row.
StatusOr<model::CustomerTag> ApplyTagDelta(Txn& txn, int64_t customer_id,
                                           const model::TagDetail& tag, double weight,
                                           int64_t at_ms, model::TagSource source, int64_t rule_id,
                                           int rule_version, int64_t interaction_id,
                                           const ProfileServiceOptions& options, int64_t now_ms,
                                           bool decays = true) {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::CustomerTag> stored,
                        txn.store.customer_tags.Get(txn.write, customer_id, tag.tag.id));
  tagger::TagScore score;
  if (stored.has_value()) score = {stored->score, stored->updated_at_ms};
  // The stored score decays (or not: a held manual tag) up to the delta as it was stored.
  const tagger::TagScore next = tagger::ApplyDelta(
      score, tagger::TagDelta{model::TagRef{tag.group.name, tag.tag.name}, weight, at_ms},
      HalfLifeMs(tag.group, stored.has_value() ? stored->decays : decays));
  model::CustomerTag row;
  row.customer_id = customer_id;
  row.tag_id = tag.tag.id;
  row.score = next.score;
  row.updated_at_ms = stored.has_value() ? next.updated_at_ms : at_ms;
  row.source = source;
  row.decays = decays;
  if (stored.has_value() && !stored->decays) {
    // A manual tag held until removed stays so: a rule adds to its score, it keeps holding.
    row.source = model::TagSource::kManual;
    row.decays = false;
  }
  row.evidence_rule_id = rule_id;
  row.evidence_rule_version = rule_version;
  row.evidence_interaction_id = interaction_id;
  SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, row));
  SCRM_RETURN_IF_ERROR(NoteTagChange(txn, options, customer_id, tag, stored, row, now_ms));
  return row;
}

// Keeps the follow relations of WeCom members (add_external_contact, add_half_external_contact,
// del_external_contact, del_follow_user) and OA subscriptions, and the owner: the first member
// who follows the customer, handed to the earliest remaining member when the owner leaves.
// Returns whether another relation still reaches the customer (lifecycle L1 / L2).
StatusOr<bool> UpdateFollowers(ApplyContext& c) {
  const InteractionKind kind = c.it.kind;
  const bool oa = kind == InteractionKind::kSubscribe || kind == InteractionKind::kUnsubscribe;
  const bool wecom =
      kind == InteractionKind::kContactAdd || kind == InteractionKind::kContactAddHalf ||
      kind == InteractionKind::kContactDelete || kind == InteractionKind::kFollowUserDelete;
  if (!oa && !wecom) return false;
  SCRM_ASSIGN_OR_RETURN(std::vector<model::Follower> followers,
                        c.txn.store.followers.List(c.txn.write, c.customer.id));
  const std::string userid = oa ? std::string() : c.it.userid;
  model::Follower row;
  bool exists = false;
  for (const model::Follower& f : followers) {
    if (f.account_id == c.it.account_id && f.userid == userid) {
      row = f;
      exists = true;
      break;
    }
  }
  if (!exists) {
    row.customer_id = c.customer.id;
    row.account_id = c.it.account_id;
    row.userid = userid;
    row.added_at_ms = c.it.occurred_at_ms;
  }
  const bool was_connected = exists && model::IsConnected(row.state);
  bool joining = false;
  switch (kind) {
    case InteractionKind::kContactAdd:
    case InteractionKind::kSubscribe:
      row.state = model::FollowerState::kActive;
      joining = true;
      break;
    case InteractionKind::kContactAddHalf:
      // A half relation never downgrades a confirmed one.
      if (!(exists && row.state == model::FollowerState::kActive)) {
        row.state = model::FollowerState::kHalf;
      }
      joining = true;
      break;
    case InteractionKind::kContactDelete: row.state = model::FollowerState::kDeletedByStaff; break;
    case InteractionKind::kFollowUserDelete:
      row.state = model::FollowerState::kDeletedByCustomer;
      break;
    default: row.state = model::FollowerState::kUnsubscribed; break;
  }
  if (joining) {
    if (!was_connected) row.added_at_ms = c.it.occurred_at_ms;
    row.removed_at_ms = 0;
    if (wecom && !userid.empty() && c.customer.owner_userid.empty()) {
      c.customer.owner_userid = userid;
    }
  } else {
    row.removed_at_ms = c.it.occurred_at_ms;
  }

  bool still_connected = false;
  const model::Follower* successor = nullptr;  // earliest other connected member
  for (const model::Follower& f : followers) {
    if (f.id == row.id && exists) continue;
    if (!model::IsConnected(f.state)) continue;
    still_connected = true;
    if (!f.userid.empty() && successor == nullptr) successor = &f;
  }
  if (!joining && wecom && !userid.empty() && c.customer.owner_userid == userid &&
      successor != nullptr) {
    c.customer.owner_userid = successor->userid;
    model::Follower next_owner = *successor;
    next_owner.is_owner = true;
    SCRM_RETURN_IF_ERROR(c.txn.store.followers.Put(c.txn.write, next_owner));
  }
  row.is_owner = !userid.empty() && userid == c.customer.owner_userid;
  SCRM_RETURN_IF_ERROR(c.txn.store.followers.Put(c.txn.write, row));
  // A member who starts following a customer with pushed tags gets them on this relation too;
  // an OA follower who subscribes again gets the tags it could not get while unsubscribed.
  if (joining && !was_connected && (oa || !userid.empty()) &&
      c.options.tag_push_accounts.contains(c.it.account_id)) {
    SCRM_ASSIGN_OR_RETURN(const bool holds,
                          HoldsPushableTag(c.txn, c.customer.id, oa ? "oa" : "wecom", c.now_ms));
    if (holds) {
      SCRM_RETURN_IF_ERROR(QueueTagPush(c.txn, c.options, c.customer.id, nullptr, c.now_ms));
    }
  }
  return still_connected;
}

// 流失提醒: the follow-up task a leave that makes the customer lost raises for the owner (or,
// without an owner, the member in the event).
Status AddLostAlert(ApplyContext& c) {
  std::string what;
  switch (c.it.kind) {
    case InteractionKind::kFollowUserDelete: what = "客户删除了员工 " + c.it.userid; break;
    case InteractionKind::kContactDelete: what = "员工 " + c.it.userid + " 删除了客户"; break;
    default: what = "客户取消关注公众号"; break;
  }
  model::FollowUpTask task;
  task.customer_id = c.customer.id;
  task.owner_userid = c.customer.owner_userid.empty() ? c.it.userid : c.customer.owner_userid;
  task.title = std::string(kLostAlertPrefix) + what;
  task.due_at_ms = c.it.occurred_at_ms + c.options.lost_alert_due_ms;
  task.source_interaction_id = c.it.id;
  task.source_rule_id = 0;
  task.created_at_ms = c.now_ms;
  return c.txn.store.tasks.Add(c.txn.write, task).status();
}

// The built-in effects, applied once per interaction: timeline entry, counters, followers and
// owner, lifecycle stage (docs/tagging.md L1–L6) and the lost-customer alert. The timeline entry
// is their idempotency key: it is unique per (customer, kind, interaction) and moves with the
// customer's rows in a merge, so finding it means a replay, and nothing else runs. (A separate
// applied_effects row cost one more b-tree insert per interaction on the worker's hot path.)
Status ApplyBuiltIn(ApplyContext& c) {
  const model::Interaction& it = c.it;
  model::Customer& customer = c.customer;
  model::TimelineEntry entry;
  entry.customer_id = customer.id;
  entry.interaction_id = it.id;
  entry.kind = std::string(model::KindName(it.kind));
  entry.at_ms = it.occurred_at_ms;
  entry.summary = Summary(it, c.options.summary_max_bytes);
  SCRM_ASSIGN_OR_RETURN(const std::optional<int64_t> entry_id,
                        c.txn.store.timeline.Add(c.txn.write, entry));
  if (!entry_id.has_value()) return core::OkStatus();  // applied before: a replay

  const int64_t prior = customer.counters.interactions;
  ++customer.counters.interactions;
  if (IsMessageKind(it.kind)) {
    ++customer.counters.messages;
  } else {
    ++customer.counters.events;
  }
  if (customer.first_interaction_at_ms == 0 ||
      it.occurred_at_ms < customer.first_interaction_at_ms) {
    customer.first_interaction_at_ms = it.occurred_at_ms;
  }
  customer.last_interaction_at_ms = std::max(customer.last_interaction_at_ms, it.occurred_at_ms);

  SCRM_ASSIGN_OR_RETURN(const bool still_connected, UpdateFollowers(c));

  tagger::LifecycleFacts facts;
  facts.kind = it.kind;
  facts.prior_interactions = prior;
  facts.paid_orders = customer.counters.paid_orders;
  facts.still_connected = still_connected;
  facts.staff_userid = it.userid;
  const tagger::StageTransition transition = tagger::DecideStage(customer.stage, facts);
  if (!transition.changed) return core::OkStatus();
  model::TimelineEntry stage_entry;
  stage_entry.customer_id = customer.id;
  stage_entry.interaction_id = it.id;
  stage_entry.kind = std::string(model::kTimelineStageKind);
  stage_entry.at_ms = it.occurred_at_ms;
  stage_entry.summary =
      std::string(model::LifecycleStageName(customer.stage)) + " -> " +
      std::string(model::LifecycleStageName(transition.stage)) + " (" + transition.reason +
      (transition.staff_userid.empty() ? "" : ", staff " + transition.staff_userid) + ")";
  SCRM_RETURN_IF_ERROR(c.txn.store.timeline.Add(c.txn.write, stage_entry));
  customer.stage = transition.stage;
  customer.stage_reason = transition.reason;
  customer.stage_staff = transition.staff_userid;
  if (transition.stage == model::LifecycleStage::kLost && tagger::IsLeaveKind(it.kind)) {
    SCRM_RETURN_IF_ERROR(AddLostAlert(c));
  }
  return core::OkStatus();
}

// Applies one action of a matched rule.
struct ActionApplier {
  ApplyContext& c;
  const tagger::RuleMatch& match;

  Status operator()(const model::AddTagAction& a) const {
    SCRM_ASSIGN_OR_RETURN(model::TagDetail tag,
                          c.txn.store.tags.GetOrCreate(c.txn.write, a.tag.group, a.tag.name,
                                                       c.options.default_tag_group));
    return ApplyTagDelta(c.txn, c.customer.id, tag, a.weight, c.it.occurred_at_ms,
                         model::TagSource::kRule, match.rule_id, match.rule_version, c.it.id,
                         c.options, c.now_ms)
        .status();
  }
  Status operator()(const model::RemoveTagAction& a) const {
    SCRM_ASSIGN_OR_RETURN(std::optional<model::TagDetail> tag,
                          c.txn.store.tags.Find(c.txn.write, a.tag.group, a.tag.name));
    if (!tag.has_value()) return core::OkStatus();
    if (c.options.tag_push_accounts.empty()) {
      return c.txn.store.customer_tags.Delete(c.txn.write, c.customer.id, tag->tag.id).status();
    }
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::CustomerTag> before,
                          c.txn.store.customer_tags.Get(c.txn.write, c.customer.id, tag->tag.id));
    if (!before.has_value()) return core::OkStatus();
    SCRM_RETURN_IF_ERROR(
        c.txn.store.customer_tags.Delete(c.txn.write, c.customer.id, tag->tag.id).status());
    return NoteTagChange(c.txn, c.options, c.customer.id, *tag, before, std::nullopt, c.now_ms);
  }
  Status operator()(const model::SetAttributeAction& a) const {
    if (a.value.empty()) {
      c.customer.attributes.erase(a.key);
    } else {
      c.customer.attributes[a.key] = a.value;
    }
    return core::OkStatus();
  }
  Status operator()(const model::SetStageAction& a) const {
    if (a.stage == c.customer.stage) return core::OkStatus();
    model::TimelineEntry entry;
    entry.customer_id = c.customer.id;
    entry.interaction_id = c.it.id;
    entry.kind = std::string(model::kTimelineRuleStageKind);
    entry.at_ms = c.it.occurred_at_ms;
    entry.summary = std::string(model::LifecycleStageName(c.customer.stage)) + " -> " +
                    std::string(model::LifecycleStageName(a.stage)) + " (" +
                    std::string(match.rule_name) + ")";
    SCRM_RETURN_IF_ERROR(c.txn.store.timeline.Add(c.txn.write, entry));
    c.customer.stage = a.stage;
    c.customer.stage_reason = "rule:" + std::to_string(match.rule_id);
    c.customer.stage_staff.clear();
    return core::OkStatus();
  }
  Status operator()(const model::CreateTaskAction& a) const {
    model::FollowUpTask task;
    task.customer_id = c.customer.id;
    task.owner_userid = c.customer.owner_userid;
    task.title = a.title;
    task.due_at_ms = c.it.occurred_at_ms + int64_t{a.due_in_hours} * kHourMs;
    task.source_interaction_id = c.it.id;
    task.source_rule_id = match.rule_id;
    task.created_at_ms = c.now_ms;
    return c.txn.store.tasks.Add(c.txn.write, task).status();
  }
};

Status ApplyRules(ApplyContext& c, const tagger::RuleEngine& engine) {
  TimelineWindowCounter counter(c.txn, c.customer.id, c.it);
  const std::vector<tagger::RuleMatch> matches = engine.Evaluate(c.it, nullptr, counter);
  SCRM_RETURN_IF_ERROR(counter.status());
  std::string key;
  for (const tagger::RuleMatch& match : matches) {
    for (size_t i = 0; i < match.actions.size(); ++i) {
      key = "rule:";
      key += std::to_string(match.rule_id);
      key += ':';
      key += std::to_string(i);
      SCRM_ASSIGN_OR_RETURN(const bool first_time,
                            c.txn.store.effects.RecordOnce(c.txn.write, c.it.id, key));
      if (!first_time) continue;
      SCRM_RETURN_IF_ERROR(std::visit(ActionApplier{c, match}, match.actions[i]));
    }
  }
  return core::OkStatus();
}

// change_external_tag: the corp tag library changed. A deleted tag or group loses its mapping
// (the local tag and its scores stay); names of created / updated tags come with
// get_corp_tag_list, which is a platform sync, not this event.
Status ApplyTagLibraryChange(Txn& txn, const model::Interaction& it) {
  const auto* change = std::get_if<model::TagChangePayload>(&it.payload);
  if (change == nullptr || it.kind != InteractionKind::kTagDelete) return core::OkStatus();
  if (change->tag_type == "tag_group")
    return txn.store.tags.ClearWecomGroupMapping(txn.write, change->id).status();
  return txn.store.tags.ClearWecomTagMapping(txn.write, change->id).status();
}

StatusOr<int64_t> AddIdentityTo(Txn& txn, int64_t customer_id, const IdentityKey& key,
                                int64_t now_ms) {
  model::Identity identity;
  identity.customer_id = customer_id;
  identity.platform = std::string(key.platform);
  identity.account_id = std::string(key.account_id);
  identity.kind = key.kind;
  identity.value = std::string(key.value);
  identity.created_at_ms = now_ms;
  SCRM_RETURN_IF_ERROR(txn.store.identities.Add(txn.write, identity));
  return customer_id;
}

StatusOr<std::optional<model::Identity>> Lookup(Txn& txn, const std::optional<IdentityKey>& key) {
  if (!key.has_value()) return std::optional<model::Identity>();
  return txn.store.identities.Find(txn.write, key->platform, key->account_id, key->kind,
                                   key->value);
}

model::TagRef RefOf(const model::TagDetail& tag) { return {tag.group.name, tag.tag.name}; }

const model::CustomerTag* FindTagRow(const std::vector<model::CustomerTag>& rows, int64_t tag_id) {
  for (const model::CustomerTag& row : rows) {
    if (row.tag_id == tag_id) return &row;
  }
  return nullptr;
}

Status ValidateTagRef(const model::TagRef& tag) {
  if (tag.group.empty() || tag.group.size() > kMaxTagNameBytes) {
    return core::InvalidArgumentError("tag group must be 1..64 bytes");
  }
  if (tag.name.empty() || tag.name.size() > kMaxTagNameBytes) {
    return core::InvalidArgumentError("tag name must be 1..64 bytes");
  }
  return core::OkStatus();
}

TagView ToTagView(const model::CustomerTagDetail& detail, int64_t now_ms) {
  TagView view;
  view.detail = detail;
  view.decayed_score = tagger::DecayedScore(detail.value.score, detail.value.updated_at_ms, now_ms,
                                            HalfLifeMs(detail.tag.group, detail.value.decays));
  view.held = tagger::IsHeld(view.decayed_score, detail.tag.Threshold());
  return view;
}

Status CheckActive(const model::Customer& customer) {
  if (customer.merged_into.has_value()) {
    return core::FailedPreconditionError("customer " + std::to_string(customer.id) +
                                         " is merged into " +
                                         std::to_string(*customer.merged_into));
  }
  return core::OkStatus();
}

}  // namespace

int64_t HalfLifeMs(const model::TagGroup& group, bool decays) {
  return decays ? HalfLifeMs(group) : 0;  // a manual tag is held until removed (docs/tagging.md)
}

int64_t HalfLifeMs(const model::TagGroup& group) {
  return group.half_life_days <= 0 ? 0 : int64_t{group.half_life_days} * kDayMs;
}

std::string TagPushKeyPrefix(std::string_view account_id, int64_t customer_id) {
  std::string key = "tagpush:";
  key.append(account_id).append(":").append(std::to_string(customer_id)).append(":");
  return key;
}

std::string EnrichDedupeKey(std::string_view platform, std::string_view account_id,
                            std::string_view value) {
  std::string key = "enrich:";
  key.append(platform).append(":").append(account_id).append(":").append(value);
  return key;
}

ProfileService::ProfileService(storage::ProfileStore& store, const RuleSetHolder& rules,
                               const core::Clock& clock, ProfileServiceOptions options)
    : store_(store), rules_(rules), clock_(clock), options_(std::move(options)) {
  // A summary budget below one CJK character and a few ASCII ones is a configuration bug.
  SCRM_CHECK(options_.summary_max_bytes >= 16);
}

// ---------------------------------------------------------------------------------------------
// Ingest

Status ProfileService::Apply(storage::WriteTxn& write, const model::Interaction& it,
                             const tagger::RuleEngine& engine) const {
  Txn txn{write, store_};
  if (IsTagLibraryKind(it.kind)) return ApplyTagLibraryChange(txn, it);
  // Identity resolution (PROTOCOL §5) from the channel's own id only. it.unionid is never
  // used: an interaction comes from a callback body, and a body's identity claims are not
  // believed (a plain-mode OA body is not even signed). Unionids reach a customer through
  // LinkUnionid: the enrichment job (user/info, externalcontact/get), backfill or an operator.
  // Rows an older scrmd stored with a body's UnionId are ignored the same way on a replay.
  const std::optional<IdentityKey> primary = PrimaryIdentity(it);
  if (!primary.has_value()) return core::OkStatus();
  const int64_t now_ms = clock_.NowUnixMillis();

  // Every step is idempotent by construction: a replay finds the identity the first delivery
  // made. The common case — a known openid / external_userid — is one statement.
  SCRM_ASSIGN_OR_RETURN(
      std::optional<model::Customer> by_primary,
      txn.store.identities.FindCustomer(txn.write, primary->platform, primary->account_id,
                                        primary->kind, primary->value));
  model::Customer customer;
  if (by_primary.has_value()) {
    customer = std::move(*by_primary);
  } else {
    if (!MayCreateCustomer(it.kind)) return core::OkStatus();
    customer.stage = model::LifecycleStage::kNew;
    customer.stage_reason = "first_interaction";
    customer.created_at_ms = now_ms;
    customer.updated_at_ms = now_ms;
    SCRM_ASSIGN_OR_RETURN(customer.id, txn.store.customers.Create(txn.write, customer));
    SCRM_RETURN_IF_ERROR(AddIdentityTo(txn, customer.id, *primary, now_ms));
    SCRM_RETURN_IF_ERROR(EnqueueEnrichment(txn, options_, *primary, now_ms));
  }

  for (int hop = 0; customer.merged_into.has_value(); ++hop) {
    // Identities move with a merge, so this only happens to a store edited by hand.
    if (hop == kMaxMergeHops) {
      return core::InternalError("customer " + std::to_string(customer.id) +
                                 " is in a merge cycle");
    }
    SCRM_ASSIGN_OR_RETURN(customer, txn.store.customers.Get(txn.write, *customer.merged_into));
  }
  ApplyContext context{txn, it, options_, now_ms, customer};
  SCRM_RETURN_IF_ERROR(ApplyBuiltIn(context));
  SCRM_RETURN_IF_ERROR(ApplyRules(context, engine));
  if (context.customer == customer) return core::OkStatus();  // a replay changes nothing
  context.customer.updated_at_ms = now_ms;
  return txn.store.customers.Update(txn.write, context.customer);
}

StatusOr<size_t> ProfileService::ApplyChunkPrefix(std::span<const model::Interaction> chunk,
                                                  std::string_view cursor_name,
                                                  size_t min_before_yield) const {
  if (chunk.empty()) return size_t{0};
  SCRM_CHECK(min_before_yield >= 1);
  const std::shared_ptr<const tagger::RuleEngine> engine = rules_.engine();
  size_t applied = 0;
  SCRM_RETURN_IF_ERROR(InTransaction(store_, [&](Txn& txn) -> Status {
    applied = 0;
    for (const model::Interaction& it : chunk) {
      const Status status = Apply(txn.write, it, *engine);
      if (!status.ok()) {
        return Status(status.code(),
                      "interaction " + std::to_string(it.id) + ": " + status.message());
      }
      ++applied;
      if (applied >= min_before_yield && applied < chunk.size() && txn.write.OthersWaiting()) break;
    }
    return txn.store.cursors.SetCursor(txn.write, cursor_name, chunk[applied - 1].id);
  }));
  return applied;
}

Status ProfileService::ApplyChunk(std::span<const model::Interaction> chunk,
                                  const std::optional<CursorUpdate>& cursor) const {
  // Pinned for the whole chunk: a rule set swapped meanwhile applies from the next chunk on.
  const std::shared_ptr<const tagger::RuleEngine> engine = rules_.engine();
  return InTransaction(store_, [&](Txn& txn) -> Status {
    for (const model::Interaction& it : chunk) {
      const Status status = Apply(txn.write, it, *engine);
      if (!status.ok()) {
        return Status(status.code(),
                      "interaction " + std::to_string(it.id) + ": " + status.message());
      }
    }
    if (cursor.has_value())
      SCRM_RETURN_IF_ERROR(txn.store.cursors.SetCursor(txn.write, cursor->name, cursor->last_id));
    return core::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// Merge and undo

StatusOr<std::optional<model::MergeRecord>> ProfileService::MergeByUnionid(storage::WriteTxn& write,
                                                                           int64_t a,
                                                                           int64_t b) const {
  Txn txn{write, store_};
  const int64_t survivor = std::min(a, b);
  const int64_t merged = std::max(a, b);
  SCRM_ASSIGN_OR_RETURN(const bool excluded,
                        txn.store.merges.IsExcluded(txn.write, survivor, merged));
  if (excluded) return std::optional<model::MergeRecord>();
  model::MergeRecord record;
  SCRM_RETURN_IF_ERROR(ApplyMerge(txn.write, survivor, merged, "unionid", &record));
  return std::optional<model::MergeRecord>(std::move(record));
}

Status ProfileService::ApplyMerge(storage::WriteTxn& write, int64_t survivor_id, int64_t merged_id,
                                  const std::string& reason, model::MergeRecord* record) const {
  Txn txn{write, store_};
  if (survivor_id == merged_id) {
    return core::InvalidArgumentError("a customer cannot be merged into itself");
  }
  const int64_t now_ms = clock_.NowUnixMillis();
  SCRM_ASSIGN_OR_RETURN(model::Customer survivor, txn.store.customers.Get(txn.write, survivor_id));
  SCRM_ASSIGN_OR_RETURN(model::Customer merged, txn.store.customers.Get(txn.write, merged_id));
  SCRM_RETURN_IF_ERROR(CheckActive(survivor));
  SCRM_RETURN_IF_ERROR(CheckActive(merged));

  model::MergeUndoState undo;
  undo.survivor_before = survivor;
  undo.merged_before = merged;

  // Tags: a tag only the merged customer has moves; one both have adds up — the merged score is
  // a weight at its own time (tagger::ApplyDelta), so the sum decays like both did — and the
  // evidence of the later change wins.
  SCRM_ASSIGN_OR_RETURN(const std::vector<model::CustomerTag> survivor_tags,
                        txn.store.customer_tags.List(txn.write, survivor_id));
  SCRM_ASSIGN_OR_RETURN(undo.merged_tags, txn.store.customer_tags.List(txn.write, merged_id));
  for (const model::CustomerTag& theirs : undo.merged_tags) {
    const model::CustomerTag* ours = FindTagRow(survivor_tags, theirs.tag_id);
    if (ours == nullptr) {
      SCRM_RETURN_IF_ERROR(
          txn.store.customer_tags.Move(txn.write, merged_id, survivor_id, theirs.tag_id));
      model::CustomerTag moved = theirs;
      moved.customer_id = survivor_id;
      undo.survivor_tags_after.push_back(moved);
      continue;
    }
    SCRM_ASSIGN_OR_RETURN(const model::TagDetail tag, txn.store.tags.Get(txn.write, theirs.tag_id));
    // A manual tag either of them holds without decay stays held (docs/tagging.md).
    const bool decays = ours->decays && theirs.decays;
    const tagger::TagScore sum =
        tagger::ApplyDelta(tagger::TagScore{ours->score, ours->updated_at_ms},
                           tagger::TagDelta{RefOf(tag), theirs.score, theirs.updated_at_ms},
                           HalfLifeMs(tag.group, decays));
    model::CustomerTag combined = theirs.updated_at_ms > ours->updated_at_ms ? theirs : *ours;
    combined.customer_id = survivor_id;
    combined.decays = decays;
    combined.score = sum.score;
    combined.updated_at_ms = sum.updated_at_ms;
    SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, combined));
    SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Delete(txn.write, merged_id, theirs.tag_id));
    undo.survivor_tags_before.push_back(*ours);
    undo.survivor_tags_after.push_back(combined);
  }

  SCRM_ASSIGN_OR_RETURN(undo.identity_ids,
                        txn.store.identities.MoveAll(txn.write, merged_id, survivor_id));
  SCRM_ASSIGN_OR_RETURN(undo.timeline_ids,
                        txn.store.timeline.MoveAll(txn.write, merged_id, survivor_id));
  SCRM_ASSIGN_OR_RETURN(undo.task_ids, txn.store.tasks.MoveAll(txn.write, merged_id, survivor_id));
  SCRM_ASSIGN_OR_RETURN(undo.follower_ids,
                        txn.store.followers.MoveAll(txn.write, merged_id, survivor_id));

  model::CustomerCounters& counters = survivor.counters;
  counters.interactions += merged.counters.interactions;
  counters.messages += merged.counters.messages;
  counters.events += merged.counters.events;
  counters.orders += merged.counters.orders;
  counters.paid_orders += merged.counters.paid_orders;
  if (merged.first_interaction_at_ms != 0 &&
      (survivor.first_interaction_at_ms == 0 ||
       merged.first_interaction_at_ms < survivor.first_interaction_at_ms)) {
    survivor.first_interaction_at_ms = merged.first_interaction_at_ms;
  }
  survivor.last_interaction_at_ms =
      std::max(survivor.last_interaction_at_ms, merged.last_interaction_at_ms);
  for (const auto& [key, value] : merged.attributes) survivor.attributes.emplace(key, value);
  if (survivor.owner_userid.empty()) survivor.owner_userid = merged.owner_userid;
  // A survivor that left (lost / at_risk) while the other record is active is active: the
  // person is still reachable through the other record's channel.
  const auto dormant = [](model::LifecycleStage s) {
    return s == model::LifecycleStage::kLost || s == model::LifecycleStage::kAtRisk;
  };
  if (dormant(survivor.stage) && !dormant(merged.stage)) {
    survivor.stage = merged.stage;
    survivor.stage_reason = merged.stage_reason;
    survivor.stage_staff = merged.stage_staff;
  }
  survivor.updated_at_ms = now_ms;
  merged.merged_into = survivor_id;
  merged.updated_at_ms = now_ms;
  undo.survivor_after = survivor;
  SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, survivor));
  SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, merged));

  record->survivor_id = survivor_id;
  record->merged_id = merged_id;
  record->at_ms = now_ms;
  record->reason = reason;
  record->undone_at_ms.reset();
  SCRM_ASSIGN_OR_RETURN(record->id, txn.store.merges.Insert(txn.write, *record, undo));
  // The survivor now holds both customers' tags and reaches both customers' targets: its push
  // reconciles them (the job sends only what a target lacks).
  return QueueTagPush(txn, options_, survivor_id, nullptr, now_ms);
}

StatusOr<model::MergeRecord> ProfileService::Merge(int64_t survivor_id, int64_t other_id,
                                                   std::string reason) {
  if (reason.size() > kMaxMergeReasonBytes) {
    return core::InvalidArgumentError("merge reason must be at most 256 bytes");
  }
  if (reason.empty()) reason = "manual";
  model::MergeRecord record;
  const Status status = InTransaction(store_, [&](Txn& txn) {
    return ApplyMerge(txn.write, survivor_id, other_id, reason, &record);
  });
  if (!status.ok()) return status;
  return record;
}

StatusOr<model::MergeRecord> ProfileService::UndoMerge(int64_t merge_id) {
  model::MergeRecord result;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const storage::StoredMerge stored,
                          txn.store.merges.Get(txn.write, merge_id));
    const model::MergeRecord& record = stored.record;
    const model::MergeUndoState& undo = stored.undo;
    if (record.undone_at_ms.has_value()) {
      return core::FailedPreconditionError("merge " + std::to_string(merge_id) +
                                           " is already undone");
    }
    const int64_t now_ms = clock_.NowUnixMillis();
    SCRM_ASSIGN_OR_RETURN(model::Customer survivor,
                          txn.store.customers.Get(txn.write, record.survivor_id));
    SCRM_ASSIGN_OR_RETURN(const model::Customer merged,
                          txn.store.customers.Get(txn.write, record.merged_id));
    if (survivor.merged_into.has_value()) {
      return core::FailedPreconditionError(
          "customer " + std::to_string(survivor.id) + " was merged into " +
          std::to_string(*survivor.merged_into) + " since: undo that merge first");
    }
    if (merged.merged_into != record.survivor_id) {
      return core::FailedPreconditionError("customer " + std::to_string(merged.id) +
                                           " is no longer merged into " +
                                           std::to_string(record.survivor_id));
    }

    // Tags: a survivor row nobody touched since the merge is put back as it was; one that moved
    // on keeps what happened since, minus the merged customer's contribution.
    for (const model::CustomerTag& theirs : undo.merged_tags) {
      const model::CustomerTag* before = FindTagRow(undo.survivor_tags_before, theirs.tag_id);
      const model::CustomerTag* after = FindTagRow(undo.survivor_tags_after, theirs.tag_id);
      SCRM_ASSIGN_OR_RETURN(
          const std::optional<model::CustomerTag> current,
          txn.store.customer_tags.Get(txn.write, record.survivor_id, theirs.tag_id));
      if (current.has_value() && after != nullptr && *current == *after) {
        if (before != nullptr) {
          SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, *before));
        } else {
          SCRM_RETURN_IF_ERROR(
              txn.store.customer_tags.Delete(txn.write, record.survivor_id, theirs.tag_id));
        }
      } else if (current.has_value()) {
        SCRM_ASSIGN_OR_RETURN(const model::TagDetail tag,
                              txn.store.tags.Get(txn.write, theirs.tag_id));
        model::CustomerTag rest = *current;
        rest.score -=
            tagger::DecayedScore(theirs.score, theirs.updated_at_ms, current->updated_at_ms,
                                 HalfLifeMs(tag.group, current->decays));
        if (before == nullptr && std::fabs(rest.score) < kScoreEpsilon) {
          SCRM_RETURN_IF_ERROR(
              txn.store.customer_tags.Delete(txn.write, record.survivor_id, theirs.tag_id));
        } else {
          SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, rest));
        }
      }
      SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, theirs));
    }

    SCRM_RETURN_IF_ERROR(
        txn.store.identities.MoveById(txn.write, undo.identity_ids, record.merged_id));
    SCRM_RETURN_IF_ERROR(
        txn.store.timeline.MoveById(txn.write, undo.timeline_ids, record.merged_id));
    SCRM_RETURN_IF_ERROR(txn.store.tasks.MoveById(txn.write, undo.task_ids, record.merged_id));
    SCRM_RETURN_IF_ERROR(
        txn.store.followers.MoveById(txn.write, undo.follower_ids, record.merged_id));

    if (survivor == undo.survivor_after) {
      survivor = undo.survivor_before;
    } else {
      model::CustomerCounters& counters = survivor.counters;
      const model::CustomerCounters& theirs = undo.merged_before.counters;
      counters.interactions = std::max<int64_t>(0, counters.interactions - theirs.interactions);
      counters.messages = std::max<int64_t>(0, counters.messages - theirs.messages);
      counters.events = std::max<int64_t>(0, counters.events - theirs.events);
      counters.orders = std::max<int64_t>(0, counters.orders - theirs.orders);
      counters.paid_orders = std::max<int64_t>(0, counters.paid_orders - theirs.paid_orders);
      survivor.updated_at_ms = now_ms;
    }
    SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, survivor));
    SCRM_RETURN_IF_ERROR(txn.store.customers.Update(txn.write, undo.merged_before));
    SCRM_RETURN_IF_ERROR(txn.store.merges.MarkUndone(txn.write, merge_id, now_ms));
    // An automatic (unionid) merge of the pair would otherwise happen again on their next
    // interaction.
    SCRM_RETURN_IF_ERROR(
        txn.store.merges.AddExclusion(txn.write, record.survivor_id, record.merged_id));
    // Both customers' tags changed back: each reconciles the targets it has again.
    SCRM_RETURN_IF_ERROR(QueueTagPush(txn, options_, record.survivor_id, nullptr, now_ms));
    SCRM_RETURN_IF_ERROR(QueueTagPush(txn, options_, record.merged_id, nullptr, now_ms));
    result = record;
    result.undone_at_ms = now_ms;
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reads

StatusOr<CustomerView> ProfileService::GetCustomer(int64_t customer_id) const {
  SCRM_ASSIGN_OR_RETURN(model::CustomerProfile profile, store_.GetProfile(customer_id));
  const int64_t now_ms = clock_.NowUnixMillis();
  CustomerView view;
  view.customer = std::move(profile.customer);
  view.identities = std::move(profile.identities);
  for (const model::CustomerTagDetail& tag : profile.tags)
    view.tags.push_back(ToTagView(tag, now_ms));
  view.followers = std::move(profile.followers);
  for (model::Follower& f : view.followers) {
    f.is_owner = !f.userid.empty() && f.userid == view.customer.owner_userid;
  }
  view.tasks = std::move(profile.tasks);
  view.merges = std::move(profile.merges);
  return view;
}

StatusOr<std::vector<model::TimelineEntry>> ProfileService::ListTimeline(int64_t customer_id,
                                                                         int64_t after_id,
                                                                         size_t limit) const {
  return store_.timeline.List(customer_id, after_id, limit);
}

StatusOr<std::vector<model::Customer>> ProfileService::ListCustomers(storage::CustomerFilter filter,
                                                                     TagMatch match) const {
  if (filter.tag_id.has_value() && match != TagMatch::kAny) {
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::TagDetail> tag,
                          store_.tags.FindById(*filter.tag_id));
    if (!tag.has_value()) return std::vector<model::Customer>();
    const int64_t now_ms = clock_.NowUnixMillis();
    const int64_t half_life_ms = HalfLifeMs(tag->group);
    const double threshold = tag->Threshold();
    const bool want_held = match == TagMatch::kHeld;
    filter.tag_score_filter = [=](double score, int64_t updated_at_ms, bool decays) {
      const double decayed =
          tagger::DecayedScore(score, updated_at_ms, now_ms, decays ? half_life_ms : 0);
      return tagger::IsHeld(decayed, threshold) == want_held;
    };
  }
  return store_.customers.List(filter);
}

StatusOr<std::optional<int64_t>> ProfileService::FindCustomer(std::string_view platform,
                                                              std::string_view account_id,
                                                              model::IdentityKind kind,
                                                              std::string_view value) const {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::Identity> identity,
                        store_.identities.Find(platform, account_id, kind, value));
  if (!identity.has_value()) return std::optional<int64_t>();
  return std::optional<int64_t>(identity->customer_id);
}

StatusOr<std::vector<model::TagDetail>> ProfileService::ListTags() const {
  return store_.tags.List();
}

StatusOr<std::vector<model::TagDetail>> ProfileService::ListTags(
    const storage::TagFilter& filter) const {
  return store_.tags.List(filter);
}

StatusOr<model::TagDetail> ProfileService::GetTag(int64_t tag_id) const {
  SCRM_ASSIGN_OR_RETURN(std::optional<model::TagDetail> tag, store_.tags.FindById(tag_id));
  if (!tag.has_value()) return core::NotFoundError("no tag " + std::to_string(tag_id));
  return std::move(tag).value();
}

StatusOr<std::vector<model::TagGroup>> ProfileService::ListTagGroups() const {
  return store_.tags.ListGroups();
}

StatusOr<std::optional<model::TagDetail>> ProfileService::FindTag(const model::TagRef& tag) const {
  return store_.tags.Find(tag.group, tag.name);
}

StatusOr<std::vector<model::FollowUpTask>> ProfileService::ListTasks(
    const storage::TaskFilter& filter) const {
  return store_.tasks.List(filter);
}

// ---------------------------------------------------------------------------------------------
// Changes

StatusOr<TagView> ProfileService::AddManualTag(int64_t customer_id, const model::TagRef& ref,
                                               double weight, bool decay) {
  SCRM_RETURN_IF_ERROR(ValidateTagRef(ref));
  if (!std::isfinite(weight) || weight == 0 || std::fabs(weight) > kMaxManualWeight) {
    return core::InvalidArgumentError("weight must be non-zero and within -1000..1000");
  }
  TagView view;
  const int64_t now_ms = clock_.NowUnixMillis();
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    SCRM_ASSIGN_OR_RETURN(
        model::TagDetail tag,
        txn.store.tags.GetOrCreate(txn.write, ref.group, ref.name, options_.default_tag_group));
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::CustomerTag> stored,
                          txn.store.customer_tags.Get(txn.write, customer_id, tag.tag.id));
    if (stored.has_value() && stored->source == model::TagSource::kManual) {
      TagView current = ToTagView(model::CustomerTagDetail{*stored, tag}, now_ms);
      if (current.held) {
        // Adding a manual tag the customer holds already changes nothing (idempotent).
        view = std::move(current);
        view.unchanged = true;
        return core::OkStatus();
      }
    }
    SCRM_ASSIGN_OR_RETURN(
        model::CustomerTag row,
        ApplyTagDelta(txn, customer_id, tag, weight, now_ms, model::TagSource::kManual, 0, 0, 0,
                      options_, now_ms, /*decays=*/decay));
    view = ToTagView(model::CustomerTagDetail{row, tag}, now_ms);
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return view;
}

Status ProfileService::RemoveTag(int64_t customer_id, const model::TagRef& ref) {
  SCRM_RETURN_IF_ERROR(ValidateTagRef(ref));
  return InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::TagDetail> tag,
                          txn.store.tags.Find(txn.write, ref.group, ref.name));
    if (!tag.has_value()) return core::NotFoundError("no tag " + ref.group + "/" + ref.name);
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::CustomerTag> before,
                          txn.store.customer_tags.Get(txn.write, customer_id, tag->tag.id));
    SCRM_ASSIGN_OR_RETURN(const bool deleted,
                          txn.store.customer_tags.Delete(txn.write, customer_id, tag->tag.id));
    if (!deleted) {
      return core::NotFoundError("customer " + std::to_string(customer_id) + " does not have " +
                                 ref.group + "/" + ref.name);
    }
    return NoteTagChange(txn, options_, customer_id, *tag, before, std::nullopt,
                         clock_.NowUnixMillis());
  });
}

StatusOr<model::Identity> ProfileService::AddIdentity(int64_t customer_id,
                                                      model::Identity identity) {
  if (identity.value.empty()) return core::InvalidArgumentError("identity value is empty");
  if (identity.kind == model::IdentityKind::kUnionid) {
    identity.platform = std::string(model::kUnionidPlatform);
    identity.account_id.clear();
  }
  identity.customer_id = customer_id;
  identity.created_at_ms = clock_.NowUnixMillis();
  model::Identity stored;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    SCRM_ASSIGN_OR_RETURN(stored, txn.store.identities.Add(txn.write, identity));
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return stored;
}

StatusOr<ProfileService::UnionidLink> ProfileService::LinkUnionid(int64_t customer_id,
                                                                  const std::string& unionid) {
  if (unionid.empty()) return core::InvalidArgumentError("unionid is empty");
  const IdentityKey key{model::kUnionidPlatform, "", model::IdentityKind::kUnionid, unionid};
  UnionidLink link;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::Identity> holder, Lookup(txn, key));
    link.customer_id = customer.id;
    if (!holder.has_value()) {
      SCRM_RETURN_IF_ERROR(AddIdentityTo(txn, customer.id, key, clock_.NowUnixMillis()));
      return core::OkStatus();
    }
    if (holder->customer_id == customer.id) return core::OkStatus();
    SCRM_ASSIGN_OR_RETURN(link.merge, MergeByUnionid(txn.write, customer.id, holder->customer_id));
    if (link.merge.has_value()) link.customer_id = link.merge->survivor_id;
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return link;
}

Status ProfileService::SyncPlatformTags(int64_t customer_id,
                                        std::span<const model::PlatformTag> tags) {
  const int64_t now_ms = clock_.NowUnixMillis();
  return InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(const model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    std::set<int64_t> present;
    for (const model::PlatformTag& platform_tag : tags) {
      // Only 企业标签 are the corp's tag library; personal and rule-group tags are not ours.
      if (platform_tag.type != 1 || platform_tag.tag_id.empty()) continue;
      SCRM_ASSIGN_OR_RETURN(std::optional<model::TagDetail> tag,
                            txn.store.tags.FindByWecomId(txn.write, platform_tag.tag_id));
      if (!tag.has_value()) {
        const model::TagRef ref{platform_tag.group_name, platform_tag.tag_name};
        if (!ValidateTagRef(ref).ok()) continue;  // a name we cannot store: skip, not fail
        SCRM_ASSIGN_OR_RETURN(
            model::TagDetail local,
            txn.store.tags.GetOrCreate(txn.write, ref.group, ref.name, options_.default_tag_group));
        if (local.tag.wecom_tag_id.empty()) {
          local.tag.wecom_tag_id = platform_tag.tag_id;
          SCRM_RETURN_IF_ERROR(txn.store.tags.Update(txn.write, local.tag));
        }
        tag = std::move(local);
      }
      present.insert(tag->tag.id);
      SCRM_ASSIGN_OR_RETURN(const std::optional<model::CustomerTag> current,
                            txn.store.customer_tags.Get(txn.write, customer_id, tag->tag.id));
      const double decayed =
          current.has_value() ? tagger::DecayedScore(current->score, current->updated_at_ms, now_ms,
                                                     HalfLifeMs(tag->group, current->decays))
                              : 0;
      if (current.has_value() && tagger::IsHeld(decayed, tag->Threshold())) continue;
      model::CustomerTag row;
      row.customer_id = customer_id;
      row.tag_id = tag->tag.id;
      row.score = tag->Threshold();
      row.updated_at_ms = now_ms;
      row.source = model::TagSource::kPlatform;
      SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Put(txn.write, row));
    }
    SCRM_ASSIGN_OR_RETURN(const std::vector<model::CustomerTag> rows,
                          txn.store.customer_tags.List(txn.write, customer_id));
    for (const model::CustomerTag& row : rows) {
      if (row.source != model::TagSource::kPlatform || present.contains(row.tag_id)) continue;
      SCRM_RETURN_IF_ERROR(txn.store.customer_tags.Delete(txn.write, customer_id, row.tag_id));
    }
    return core::OkStatus();
  });
}

StatusOr<ProfileService::EnsuredCustomer> ProfileService::EnsureCustomer(
    std::string_view platform, std::string_view account_id, model::IdentityKind kind,
    std::string_view value) {
  if (value.empty()) return core::InvalidArgumentError("identity value is empty");
  if (kind != model::IdentityKind::kOpenid && kind != model::IdentityKind::kExternalUserid) {
    return core::InvalidArgumentError("only an openid or external_userid names a new customer");
  }
  const IdentityKey key{platform, account_id, kind, value};
  EnsuredCustomer ensured;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(
        const std::optional<model::Customer> found,
        txn.store.identities.FindCustomer(txn.write, platform, account_id, kind, value));
    if (found.has_value()) {
      ensured.customer_id = found->id;
      return core::OkStatus();
    }
    const int64_t now_ms = clock_.NowUnixMillis();
    model::Customer customer;
    customer.stage = model::LifecycleStage::kNew;
    customer.stage_reason = "backfill";
    customer.created_at_ms = now_ms;
    customer.updated_at_ms = now_ms;
    SCRM_ASSIGN_OR_RETURN(ensured.customer_id, txn.store.customers.Create(txn.write, customer));
    ensured.created = true;
    SCRM_RETURN_IF_ERROR(AddIdentityTo(txn, ensured.customer_id, key, now_ms).status());
    return EnqueueEnrichment(txn, options_, key, now_ms);
  });
  if (!status.ok()) return status;
  return ensured;
}

Status ProfileService::SetAttributes(int64_t customer_id,
                                     const std::map<std::string, std::string>& attributes) {
  constexpr size_t kMaxKeyBytes = 64;
  constexpr size_t kMaxValueBytes = 1024;
  for (const auto& [key, value] : attributes) {
    if (key.empty() || key.size() > kMaxKeyBytes) {
      return core::InvalidArgumentError("attribute key must be 1..64 bytes");
    }
    if (value.size() > kMaxValueBytes) {
      return core::InvalidArgumentError("attribute " + key + " is longer than 1024 bytes");
    }
  }
  return InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(model::Customer customer,
                          txn.store.customers.Get(txn.write, customer_id));
    SCRM_RETURN_IF_ERROR(CheckActive(customer));
    const model::Customer before = customer;
    for (const auto& [key, value] : attributes) {
      if (value.empty()) {
        customer.attributes.erase(key);
      } else {
        customer.attributes[key] = value;
      }
    }
    if (customer == before) return core::OkStatus();  // a repeated enrichment changes nothing
    customer.updated_at_ms = clock_.NowUnixMillis();
    return txn.store.customers.Update(txn.write, customer);
  });
}

StatusOr<model::TagDetail> ProfileService::MapTag(const model::TagRef& ref,
                                                  std::string wecom_tag_id, int64_t oa_tag_id) {
  TagMappingChange change;
  change.wecom_tag_id = std::move(wecom_tag_id);
  change.oa_tag_id = oa_tag_id;
  SCRM_ASSIGN_OR_RETURN(MappedTag mapped, UpdateTagMapping(ref, change));
  return std::move(mapped.tag);
}

namespace {

Status ValidateMappingChange(const TagMappingChange& change) {
  if (!change.wecom_tag_id.has_value() && !change.oa_tag_id.has_value()) {
    return core::InvalidArgumentError("a mapping change must set wecom_tag_id or oa_tag_id");
  }
  if (change.wecom_tag_id.has_value() && change.wecom_tag_id->size() > kMaxPlatformTagIdBytes) {
    return core::InvalidArgumentError("wecom_tag_id must be at most 128 bytes");
  }
  if (change.oa_tag_id.has_value() && (*change.oa_tag_id < 0 || *change.oa_tag_id > kMaxOaTagId)) {
    return core::InvalidArgumentError("oa_tag_id must be within 0..2147483647");
  }
  return core::OkStatus();
}

}  // namespace

StatusOr<MappedTag> ProfileService::UpdateTagMapping(storage::WriteTxn& write, model::TagDetail tag,
                                                     const TagMappingChange& change) const {
  Txn txn{write, store_};
  const int64_t now_ms = clock_.NowUnixMillis();
  model::TagDetail newly = tag;  // only the mappings this change adds or replaces
  newly.tag.wecom_tag_id.clear();
  newly.tag.oa_tag_id = 0;
  if (change.wecom_tag_id.has_value()) {
    if (*change.wecom_tag_id != tag.tag.wecom_tag_id) newly.tag.wecom_tag_id = *change.wecom_tag_id;
    tag.tag.wecom_tag_id = *change.wecom_tag_id;
  }
  if (change.oa_tag_id.has_value()) {
    if (*change.oa_tag_id != tag.tag.oa_tag_id) newly.tag.oa_tag_id = *change.oa_tag_id;
    tag.tag.oa_tag_id = *change.oa_tag_id;
  }
  // AlreadyExists when the WeCom id is another tag's (tags_wecom is UNIQUE).
  if (Status updated = txn.store.tags.Update(txn.write, tag.tag); !updated.ok()) {
    if (updated.code() != core::StatusCode::kAlreadyExists) return updated;
    return core::AlreadyExistsError("wecom_tag_id: the WeCom corp tag \"" + tag.tag.wecom_tag_id +
                                    "\" is mapped to another tag; unmap it there first");
  }
  MappedTag result;
  SCRM_ASSIGN_OR_RETURN(result.pushes_queued, QueueHolderPushes(txn, options_, newly, now_ms));
  result.tag = std::move(tag);
  return result;
}

StatusOr<MappedTag> ProfileService::UpdateTagMapping(const model::TagRef& ref,
                                                     const TagMappingChange& change) {
  SCRM_RETURN_IF_ERROR(ValidateTagRef(ref));
  SCRM_RETURN_IF_ERROR(ValidateMappingChange(change));
  MappedTag result;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(
        model::TagDetail tag,
        txn.store.tags.GetOrCreate(txn.write, ref.group, ref.name, options_.default_tag_group));
    SCRM_ASSIGN_OR_RETURN(result, UpdateTagMapping(txn.write, std::move(tag), change));
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

StatusOr<MappedTag> ProfileService::UpdateTagMapping(int64_t tag_id,
                                                     const TagMappingChange& change) {
  SCRM_RETURN_IF_ERROR(ValidateMappingChange(change));
  MappedTag result;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(model::TagDetail tag, txn.store.tags.Get(txn.write, tag_id));  // NotFound
    SCRM_ASSIGN_OR_RETURN(result, UpdateTagMapping(txn.write, std::move(tag), change));
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

StatusOr<model::TagGroup> ProfileService::ConfigureTagGroup(std::string_view name,
                                                            int half_life_days, double threshold) {
  return ConfigureTagGroup(name, TagGroupChange{half_life_days, threshold});
}

StatusOr<model::TagGroup> ProfileService::ConfigureTagGroup(std::string_view name,
                                                            const TagGroupChange& change) {
  if (name.empty() || name.size() > kMaxTagNameBytes) {
    return core::InvalidArgumentError("tag group must be 1..64 bytes");
  }
  if (!change.half_life_days.has_value() && !change.threshold.has_value()) {
    return core::InvalidArgumentError("a group change must set half_life_days or threshold");
  }
  if (change.half_life_days.has_value() &&
      (*change.half_life_days < 0 || *change.half_life_days > kMaxHalfLifeDays)) {
    return core::InvalidArgumentError("half_life_days must be within 0..3650");
  }
  if (change.threshold.has_value() && !std::isfinite(*change.threshold)) {
    return core::InvalidArgumentError("threshold must be finite");
  }
  model::TagGroup result;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    SCRM_ASSIGN_OR_RETURN(
        result, txn.store.tags.GetOrCreateGroup(txn.write, name, options_.default_tag_group));
    if (change.half_life_days.has_value()) result.half_life_days = *change.half_life_days;
    if (change.threshold.has_value()) result.threshold = *change.threshold;
    return txn.store.tags.UpdateGroup(txn.write, result);
  });
  if (!status.ok()) return status;
  return result;
}

StatusOr<FadedTagSweepPage> ProfileService::QueueFadedTagPushes(const storage::PushedTagKey& after,
                                                                size_t limit) {
  SCRM_ASSIGN_OR_RETURN(const std::vector<storage::PushedTagState> rows,
                        store_.tag_pushes.ListPushedTagStates(after, limit));
  FadedTagSweepPage page;
  page.scanned = rows.size();
  page.done = rows.size() < limit;
  page.next = rows.empty() ? after : rows.back().key;
  const int64_t now_ms = clock_.NowUnixMillis();
  std::set<std::pair<int64_t, std::string>> faded;
  for (const storage::PushedTagState& state : rows) {
    if (!options_.tag_push_accounts.contains(state.key.account_id)) continue;
    // Remapped or unmapped since the push: the push job forgets it, there is nothing to remove.
    const bool still_mapped =
        (!state.wecom_tag_id.empty() && state.platform_tag_id == state.wecom_tag_id) ||
        (state.oa_tag_id != 0 && state.platform_tag_id == std::to_string(state.oa_tag_id));
    if (!still_mapped) continue;
    if (state.row.has_value() && state.row->source == model::TagSource::kPlatform) continue;
    model::TagGroup decay;
    decay.half_life_days = state.half_life_days;
    const bool held =
        state.row.has_value() &&
        tagger::IsHeld(tagger::DecayedScore(state.row->score, state.row->updated_at_ms, now_ms,
                                            HalfLifeMs(decay, state.row->decays)),
                       state.threshold);
    if (!held) faded.emplace(state.key.customer_id, state.key.account_id);
  }
  if (faded.empty()) return page;
  const Status status = InTransaction(store_, [&](Txn& txn) -> Status {
    page.pushes_queued = 0;  // a retried transaction counts again
    for (const auto& [customer_id, account_id] : faded) {
      auto customer = txn.store.customers.Get(txn.write, customer_id);
      if (!customer.ok() && customer.status().code() == core::StatusCode::kNotFound) continue;
      SCRM_RETURN_IF_ERROR(customer.status());
      // A merged customer's push job ends as "merged"; its survivor got its own push.
      if (customer->merged_into.has_value()) continue;
      storage::OutboxJob job;
      job.kind = model::kTagPushJobKind;
      job.account_id = account_id;
      job.dedupe_key = TagPushKeyPrefix(account_id, customer_id);
      job.payload_json = model::EncodeTagPushPayload({customer_id});
      job.due_at_ms = now_ms;
      SCRM_RETURN_IF_ERROR(txn.store.outbox.EnqueueCoalesced(txn.write, job, now_ms).status());
      ++page.pushes_queued;
    }
    return core::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

Status ProfileService::SetTaskStatus(int64_t task_id, model::TaskStatus status) {
  return InTransaction(
      store_, [&](Txn& txn) { return txn.store.tasks.UpdateStatus(txn.write, task_id, status); });
}

}  // namespace scrm::profiles
