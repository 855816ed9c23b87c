// The value types of the profile services (src/profiles): their options, the views and pages the
// API reads, the changes it asks for, and the queries it filters by — so that callers (the REST
// routes, the jobs) never name a storage filter struct or the transaction type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/model/customer.h"

namespace scrm::profiles {

// The largest page any list read returns (limits are 1..kMaxPageSize).
inline constexpr size_t kMaxPageSize = 1000;

struct ProfileServiceOptions {
  // Half-life and threshold of a tag group that a rule (or a manual tag) creates on first use;
  // name and mapping are ignored. Change a group afterwards with ConfigureTagGroup.
  model::TagGroup default_tag_group;
  // Timeline summaries are cut to this many bytes (on a UTF-8 boundary); >= 16.
  size_t summary_max_bytes = 200;
  // A lost-customer alert (流失提醒) is due this long after the leave event.
  int64_t lost_alert_due_ms = int64_t{24} * 3600 * 1000;
};

// A customer's tag as the API shows it: the stored row and definition, the score decayed to the
// clock's now, and whether the tag is held (decayed score >= threshold).
struct TagView {
  model::CustomerTagDetail detail;
  double decayed_score = 0;
  bool held = false;
  // Set by AddManualTag alone: the customer held the manual tag already and nothing changed.
  bool unchanged = false;

  friend bool operator==(const TagView&, const TagView&) = default;
};

// GET /api/v1/customers/{id}: the profile with decayed scores. Follower::is_owner is derived
// from customer.owner_userid so that it stays right across merges.
struct CustomerView {
  model::Customer customer;
  std::vector<model::Identity> identities;
  std::vector<TagView> tags;
  std::vector<model::Follower> followers;
  std::vector<model::FollowUpTask> tasks;
  std::vector<model::MergeRecord> merges;

  friend bool operator==(const CustomerView&, const CustomerView&) = default;
};

// Which customers a tag filter keeps (ProfileQueries::ListCustomers).
enum class TagMatch { kHeld, kFaded, kAny };

// ProfileQueries::ListCustomers: every member that is set must hold. Results ascend by id: page
// by passing the last id seen as after_id. Merged customers are left out.
struct CustomerQuery {
  std::optional<int64_t> tag_id;     // has a score on this tag ...
  TagMatch match = TagMatch::kHeld;  // ... held now, faded below the threshold, or any
  std::optional<model::LifecycleStage> stage;
  std::optional<std::string> owner_userid;
  // An identity value equal to it (openid, external_userid, unionid, phone, ERP number), or a
  // substring of an attribute key or value.
  std::optional<std::string> query;
  std::optional<int64_t> updated_after_ms;  // updated_at_ms > this
  int64_t after_id = 0;
  size_t limit = 50;  // 1..kMaxPageSize
};

// ProfileQueries::ListTags: a page of tags by id, of one group when set.
struct TagQuery {
  std::optional<std::string> group;  // the group's name
  int64_t after_id = 0;
  size_t limit = 50;  // 1..kMaxPageSize
};

// ProfileQueries::ListTasks: the tasks of one owner, of one status when set, by id.
struct TaskQuery {
  std::string owner_userid;
  std::optional<model::TaskStatus> status;
  int64_t after_id = 0;
  size_t limit = 50;  // 1..kMaxPageSize
};

// A change of a tag's platform mapping: a member that is set replaces the stored value ("" / 0
// unmaps), one that is unset keeps it.
struct TagMappingChange {
  std::optional<std::string> wecom_tag_id;  // WeCom corp tag id ("et..."), <= 128 bytes
  std::optional<int64_t> oa_tag_id;         // OA tag id, 0..2^31-1
};

// The tag after a mapping change, and how many customers who hold it got a tag push queued.
struct MappedTag {
  model::TagDetail tag;
  int64_t pushes_queued = 0;
};

// A change of a tag group's decay: a member that is set replaces the stored value.
struct TagGroupChange {
  std::optional<int> half_life_days;  // 0..3650, 0 = no decay
  std::optional<double> threshold;    // finite
};

// An identity as stored (see model::Identity), by view: what an interaction or a backfill names.
struct IdentityKey {
  std::string_view platform;
  std::string_view account_id;
  model::IdentityKind kind = model::IdentityKind::kOpenid;
  std::string_view value;
};

// Where the ingest worker's cursor goes when a chunk commits.
struct CursorUpdate {
  std::string name;
  int64_t last_id = 0;
};

// The tag's half-life in milliseconds (0 = no decay).
int64_t HalfLifeMs(const model::TagGroup& group);
// The half-life of a customer's score (CustomerTag::decays): the group's, or 0 for a manual tag
// held until removed (docs/tagging.md "Manual tags").
int64_t HalfLifeMs(const model::TagGroup& group, bool decays);
// Whether the row's score, decayed to at_ms, reaches the tag's threshold (false for no row).
bool IsHeldAt(const model::CustomerTag* row, const model::TagDetail& tag, int64_t at_ms);

}  // namespace scrm::profiles
