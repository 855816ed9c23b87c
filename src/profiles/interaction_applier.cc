#include "src/profiles/interaction_applier.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "src/core/random.h"
#include "src/profiles/profile_ops.h"
#include "src/tagger/lifecycle.h"
#include "src/tagger/scoring.h"

namespace scrm::profiles {
namespace {

using core::Status;
using core::StatusOr;
using internal::Txn;
using model::InteractionKind;

constexpr int64_t kHourMs = int64_t{3600} * 1000;
// How far a platform's CreateTime may run ahead of our clock for window counts (see
// TimelineWindowCounter); a day is far beyond any callback timestamp window.
constexpr int64_t kMaxClockSkewMs = internal::kDayMs;
constexpr std::string_view kLostAlertPrefix = "流失提醒：";

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

// The channel an interaction says the customer came through, "" when none: the QR scene of an OA
// subscribe (EventKey "qrscene_<scene>") or SCAN (EventKey "<scene>"), the State of a WeCom
// add_external_contact / add_half_external_contact (联系我 state, 获客链接 customer_channel).
std::string ChannelOf(const model::Interaction& it) {
  // Both platforms cap these at 64 bytes; a longer one is cut rather than stored whole.
  constexpr size_t kMaxChannelBytes = 128;
  constexpr std::string_view kQrScenePrefix = "qrscene_";
  std::string_view channel;
  if (it.kind == InteractionKind::kSubscribe || it.kind == InteractionKind::kScan) {
    if (const auto* qr = std::get_if<model::QrScenePayload>(&it.payload)) channel = qr->scene;
    if (channel.starts_with(kQrScenePrefix)) channel.remove_prefix(kQrScenePrefix.size());
  } else if (it.kind == InteractionKind::kContactAdd ||
             it.kind == InteractionKind::kContactAddHalf) {
    if (const auto* contact = std::get_if<model::ContactChangePayload>(&it.payload)) {
      channel = contact->state;
    }
  }
  return TruncateUtf8(channel, kMaxChannelBytes);
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
  const ChangeSinks& sinks;
  int64_t now_ms = 0;
  model::Customer customer;
};

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
  const std::string owner_before = c.customer.owner_userid;
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
  if (c.customer.owner_userid != owner_before) {
    SCRM_RETURN_IF_ERROR(internal::Emit(c.sinks, c.txn, c.customer.id, c.now_ms,
                                        OwnerChanged{owner_before, c.customer.owner_userid}));
  }
  if (!c.sinks.empty() && joining != was_connected) {
    const std::string_view platform = oa ? "oa" : "wecom";
    if (joining) {
      SCRM_RETURN_IF_ERROR(internal::Emit(c.sinks, c.txn, c.customer.id, c.now_ms,
                                          FollowerAdded{platform, c.it.account_id, userid, &c.it}));
    } else {
      SCRM_RETURN_IF_ERROR(internal::Emit(c.sinks, c.txn, c.customer.id, c.now_ms,
                                          FollowerRemoved{platform, c.it.account_id, userid}));
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
  SCRM_RETURN_IF_ERROR(internal::Emit(c.sinks, c.txn, customer.id, c.now_ms,
                                      InteractionApplied{entry.kind, it.occurred_at_ms}));
  if (customer.channel.empty()) {
    std::string channel = ChannelOf(it);
    if (!channel.empty()) {
      customer.channel = std::move(channel);  // first touch: never replaced afterwards
      SCRM_RETURN_IF_ERROR(internal::Emit(c.sinks, c.txn, customer.id, c.now_ms,
                                          ChannelAttributed{customer.channel}));
    }
  }

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
  const model::LifecycleStage from = customer.stage;
  customer.stage = transition.stage;
  customer.stage_reason = transition.reason;
  customer.stage_staff = transition.staff_userid;
  SCRM_RETURN_IF_ERROR(internal::Emit(c.sinks, c.txn, customer.id, c.now_ms,
                                      StageChanged{from, customer.stage, customer.stage_reason}));
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
    internal::TagDelta delta;
    delta.weight = a.weight;
    delta.at_ms = c.it.occurred_at_ms;
    delta.source = model::TagSource::kRule;
    delta.rule_id = match.rule_id;
    delta.rule_version = match.rule_version;
    delta.interaction_id = c.it.id;
    return internal::ApplyTagDelta(c.txn, c.sinks, c.customer.id, tag, delta, c.now_ms).status();
  }
  Status operator()(const model::RemoveTagAction& a) const {
    SCRM_ASSIGN_OR_RETURN(std::optional<model::TagDetail> tag,
                          c.txn.store.tags.Find(c.txn.write, a.tag.group, a.tag.name));
    if (!tag.has_value()) return core::OkStatus();
    if (c.sinks.empty()) {
      return c.txn.store.customer_tags.Delete(c.txn.write, c.customer.id, tag->tag.id).status();
    }
    SCRM_ASSIGN_OR_RETURN(const std::optional<model::CustomerTag> before,
                          c.txn.store.customer_tags.Get(c.txn.write, c.customer.id, tag->tag.id));
    if (!before.has_value()) return core::OkStatus();
    SCRM_RETURN_IF_ERROR(
        c.txn.store.customer_tags.Delete(c.txn.write, c.customer.id, tag->tag.id).status());
    return internal::Emit(c.sinks, c.txn, c.customer.id, c.now_ms,
                          TagScoreChanged{&*tag, &*before, nullptr, false});
  }
  Status operator()(const model::SetAttributeAction& a) const {
    bool changed = false;
    if (a.value.empty()) {
      changed = c.customer.attributes.erase(a.key) > 0;
    } else {
      std::string& value = c.customer.attributes[a.key];
      changed = value != a.value;
      value = a.value;
    }
    if (!changed) return core::OkStatus();
    return internal::Emit(c.sinks, c.txn, c.customer.id, c.now_ms,
                          AttributeChanged{a.key, a.value});
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
    const model::LifecycleStage from = c.customer.stage;
    c.customer.stage = a.stage;
    c.customer.stage_reason = "rule:" + std::to_string(match.rule_id);
    c.customer.stage_staff.clear();
    return internal::Emit(c.sinks, c.txn, c.customer.id, c.now_ms,
                          StageChanged{from, a.stage, c.customer.stage_reason});
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

}  // namespace

InteractionApplier::InteractionApplier(storage::ProfileStore& store, const RuleSetHolder& rules,
                                       const core::Clock& clock, const ChangeSinks& sinks,
                                       const IdentityService& identities,
                                       ProfileServiceOptions options)
    : store_(store),
      rules_(rules),
      clock_(clock),
      sinks_(sinks),
      identities_(identities),
      options_(std::move(options)) {
  // A summary budget below one CJK character and a few ASCII ones is a configuration bug.
  SCRM_CHECK(options_.summary_max_bytes >= 16);
}

Status InteractionApplier::Apply(storage::WriteTxn& write, const model::Interaction& it,
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

  SCRM_ASSIGN_OR_RETURN(const std::optional<model::Customer> resolved,
                        identities_.Resolve(write, *primary, MayCreateCustomer(it.kind), now_ms));
  if (!resolved.has_value()) return core::OkStatus();
  const model::Customer& customer = *resolved;
  ApplyContext context{txn, it, options_, sinks_, now_ms, customer};
  SCRM_RETURN_IF_ERROR(ApplyBuiltIn(context));
  SCRM_RETURN_IF_ERROR(ApplyRules(context, engine));
  if (context.customer == customer) return core::OkStatus();  // a replay changes nothing
  context.customer.updated_at_ms = now_ms;
  return txn.store.customers.Update(txn.write, context.customer);
}

StatusOr<size_t> InteractionApplier::ApplyChunkPrefix(std::span<const model::Interaction> chunk,
                                                      std::string_view cursor_name,
                                                      size_t min_before_yield) const {
  if (chunk.empty()) return size_t{0};
  SCRM_CHECK(min_before_yield >= 1);
  const std::shared_ptr<const tagger::RuleEngine> engine = rules_.engine();
  size_t applied = 0;
  SCRM_RETURN_IF_ERROR(internal::InTransaction(store_, [&](Txn& txn) -> Status {
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

Status InteractionApplier::ApplyChunk(std::span<const model::Interaction> chunk,
                                      const std::optional<CursorUpdate>& cursor) const {
  // Pinned for the whole chunk: a rule set swapped meanwhile applies from the next chunk on.
  const std::shared_ptr<const tagger::RuleEngine> engine = rules_.engine();
  return internal::InTransaction(store_, [&](Txn& txn) -> Status {
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

}  // namespace scrm::profiles
