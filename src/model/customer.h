// Customer profiles as values: the customer, the identities that resolve to it (PROTOCOL §5),
// tag groups / tags and a customer's scored tags with their evidence, the timeline, follow-up
// tasks, the staff members following a WeCom customer, and merge records. Plain data; the
// profile service (src/profiles) decides, src/storage persists.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/model/tag_rule.h"

namespace scrm::model {

// How an identity names a person (PROTOCOL §5). Names (IdentityKindName) are stored.
enum class IdentityKind {
  kOpenid,          // "openid": one WeChat user x one OA / mini program (AppID)
  kExternalUserid,  // "external_userid": one customer x one WeCom corp (ExternalUserID)
  kUnionid,         // "unionid": one WeChat user x one open-platform account; spans accounts
  kPhone,           // "phone": a phone number (imports, forms)
  kExternal,        // "external": an id in an external system (ERP customer number, ...)
};

std::string_view IdentityKindName(IdentityKind kind);
std::optional<IdentityKind> ParseIdentityKind(std::string_view name);

// Platform names of identities that do not come from a channel: unionids span every OA and
// corp bound to one open-platform account, so they are stored under "wechat" with account "".
inline constexpr std::string_view kUnionidPlatform = "wechat";

// One way to recognise a customer. (platform, account_id, kind, value) is unique: it resolves to
// exactly one customer. openid: platform "oa", account_id = the configured OA account;
// external_userid: platform "wecom", account_id = the configured corp account; unionid: platform
// "wechat", account_id ""; phone: platform "", account_id ""; external: platform = the system
// ("erp"), account_id = its instance (may be "").
struct Identity {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string platform;
  std::string account_id;
  IdentityKind kind = IdentityKind::kOpenid;
  std::string value;
  int64_t created_at_ms = 0;

  friend bool operator==(const Identity&, const Identity&) = default;
};

// What a customer has done, counted once per interaction (replays do not count again).
struct CustomerCounters {
  int64_t interactions = 0;  // every interaction attributed to the customer
  int64_t messages = 0;      // message.* kinds
  int64_t events = 0;        // everything else
  int64_t orders = 0;        // orders reported (the order bridge)
  int64_t paid_orders = 0;   // orders paid (lifecycle L3)

  friend bool operator==(const CustomerCounters&, const CustomerCounters&) = default;
};

struct Customer {
  int64_t id = 0;
  LifecycleStage stage = LifecycleStage::kNew;
  std::string stage_reason;  // StageTransition::reason, "rule:<id>", or "manual"
  std::string stage_staff;   // UserID of the staff member in a leave event
  std::string owner_userid;  // the WeCom member responsible (first follower unless set)
  // The channel the customer came through, first touch only: the QR scene of an OA subscribe /
  // SCAN (EventKey without "qrscene_") or the State of a WeCom add_external_contact (联系我
  // state). "" until one is known.
  std::string channel;
  std::map<std::string, std::string> attributes;
  int64_t first_interaction_at_ms = 0;  // 0 = none yet
  int64_t last_interaction_at_ms = 0;
  CustomerCounters counters;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<int64_t> merged_into;  // set while this customer is merged into another

  friend bool operator==(const Customer&, const Customer&) = default;
};

// A tag group: its tags share the decay half-life and the default threshold.
struct TagGroup {
  int64_t id = 0;
  std::string name;            // UTF-8, may be Chinese ("兴趣")
  int half_life_days = 30;     // 0 = scores never decay
  double threshold = 1.0;      // a tag is held while its decayed score >= threshold
  std::string wecom_group_id;  // WeCom corp tag group id ("et..."), "" when not mapped

  friend bool operator==(const TagGroup&, const TagGroup&) = default;
};

struct Tag {
  int64_t id = 0;
  int64_t group_id = 0;
  std::string name;                 // unique in its group; UTF-8
  std::optional<double> threshold;  // overrides the group's when set
  std::string wecom_tag_id;         // WeCom corp tag id ("et..."), "" when not mapped
  int64_t oa_tag_id = 0;            // Official Account tag id (tags/create), 0 when not mapped

  friend bool operator==(const Tag&, const Tag&) = default;
};

// A tag with its group, as the profile service needs it (half-life, threshold, names).
struct TagDetail {
  Tag tag;
  TagGroup group;

  double Threshold() const { return tag.threshold.value_or(group.threshold); }
  friend bool operator==(const TagDetail&, const TagDetail&) = default;
};

// Where a customer's tag came from last.
enum class TagSource { kRule, kManual, kPlatform, kImport };

// "rule" | "manual" | "platform" | "import". Stored.
std::string_view TagSourceName(TagSource source);
std::optional<TagSource> ParseTagSource(std::string_view name);

// A customer's score on a tag, "as of" updated_at_ms (src/tagger/scoring.h), with the evidence of
// the last change: the rule (and its version) and the interaction that moved it. Evidence ids
// are 0 when the source was not a rule (manual, platform, import).
struct CustomerTag {
  int64_t customer_id = 0;
  int64_t tag_id = 0;
  double score = 0;
  int64_t updated_at_ms = 0;
  TagSource source = TagSource::kRule;
  int64_t evidence_rule_id = 0;
  int evidence_rule_version = 0;
  int64_t evidence_interaction_id = 0;
  // Whether the score decays with the group's half-life: false for a manual tag, held until
  // removed unless its caller asked for decay (docs/tagging.md "Manual tags").
  bool decays = true;

  friend bool operator==(const CustomerTag&, const CustomerTag&) = default;
};

// A customer tag with its definition, for views.
struct CustomerTagDetail {
  CustomerTag value;
  TagDetail tag;

  friend bool operator==(const CustomerTagDetail&, const CustomerTagDetail&) = default;
};

// One line of a customer's history. kind is the interaction kind ("message.text") for the entry
// an interaction adds, or a system kind: "stage" (a lifecycle move), "stage.rule" (a rule's
// set_stage).
struct TimelineEntry {
  int64_t id = 0;
  int64_t customer_id = 0;
  int64_t interaction_id = 0;
  std::string kind;
  int64_t at_ms = 0;
  std::string summary;  // short, human-readable; UTF-8

  friend bool operator==(const TimelineEntry&, const TimelineEntry&) = default;
};

inline constexpr std::string_view kTimelineStageKind = "stage";
inline constexpr std::string_view kTimelineRuleStageKind = "stage.rule";

enum class TaskStatus { kOpen, kDone, kCancelled };

// "open" | "done" | "cancelled". Stored.
std::string_view TaskStatusName(TaskStatus status);
std::optional<TaskStatus> ParseTaskStatus(std::string_view name);

// A follow-up task for a staff member. Tasks from an interaction are unique per (interaction,
// rule, title): source_rule_id 0 for the built-in ones (流失提醒).
struct FollowUpTask {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string owner_userid;  // "" when the customer has no owner yet
  std::string title;
  int64_t due_at_ms = 0;
  int64_t source_interaction_id = 0;  // 0 = created by hand
  int64_t source_rule_id = 0;         // 0 = built-in or by hand
  TaskStatus status = TaskStatus::kOpen;
  int64_t created_at_ms = 0;

  friend bool operator==(const FollowUpTask&, const FollowUpTask&) = default;
};

// The relation between a customer and one who reaches them: a WeCom member (userid) who has the
// customer as external contact, or (userid "") the customer's subscription to an Official
// Account. Unique per (customer, account, userid).
enum class FollowerState {
  kActive,             // "active": add_external_contact / subscribe
  kHalf,               // "half": add_half_external_contact (customer added, member to confirm)
  kDeletedByStaff,     // "deleted_by_staff": del_external_contact
  kDeletedByCustomer,  // "deleted_by_customer": del_follow_user
  kUnsubscribed,       // "unsubscribed": OA unsubscribe
};

std::string_view FollowerStateName(FollowerState state);
std::optional<FollowerState> ParseFollowerState(std::string_view name);
// True for active and half: the relation still reaches the customer.
bool IsConnected(FollowerState state);

struct Follower {
  int64_t id = 0;
  int64_t customer_id = 0;
  std::string account_id;
  std::string userid;  // WeCom UserID; "" for an OA subscription
  FollowerState state = FollowerState::kActive;
  int64_t added_at_ms = 0;
  int64_t removed_at_ms = 0;  // 0 while connected
  bool is_owner = false;

  friend bool operator==(const Follower&, const Follower&) = default;
};

// A merge of `merged_id` into `survivor_id`. undone_at_ms is set once undone.
struct MergeRecord {
  int64_t id = 0;
  int64_t survivor_id = 0;
  int64_t merged_id = 0;
  int64_t at_ms = 0;
  std::string reason;  // "unionid", or the reason given to the API
  std::optional<int64_t> undone_at_ms;

  friend bool operator==(const MergeRecord&, const MergeRecord&) = default;
};

// What UndoMerge needs to reverse a merge, kept with the record: both customers and the
// survivor's tags before and right after the merge, the merged customer's tags, and the ids of
// the rows that moved to the survivor.
struct MergeUndoState {
  Customer survivor_before;
  Customer survivor_after;
  Customer merged_before;
  std::vector<CustomerTag> survivor_tags_before;  // the survivor's rows for tags both had
  std::vector<CustomerTag> survivor_tags_after;   // the survivor's rows for every merged tag
  std::vector<CustomerTag> merged_tags;           // every tag of the merged customer
  std::vector<int64_t> identity_ids;
  std::vector<int64_t> timeline_ids;
  std::vector<int64_t> task_ids;
  std::vector<int64_t> follower_ids;

  friend bool operator==(const MergeUndoState&, const MergeUndoState&) = default;
};

// Everything known about one customer, as stored.
struct CustomerProfile {
  Customer customer;
  std::vector<Identity> identities;     // by id
  std::vector<CustomerTagDetail> tags;  // by tag id
  std::vector<Follower> followers;      // by id
  std::vector<FollowUpTask> tasks;      // by id
  std::vector<MergeRecord> merges;      // as survivor or merged, by id

  friend bool operator==(const CustomerProfile&, const CustomerProfile&) = default;
};

// A tag that comes with a WeCom contact (externalcontact/get follow_user[].tags[]):
// {"group_name","tag_name","tag_id","type"}; type 1 企业标签, 2 用户自定义, 3 规则组标签.
struct PlatformTag {
  std::string group_name;
  std::string tag_name;
  std::string tag_id;
  int type = 1;
};

}  // namespace scrm::model
