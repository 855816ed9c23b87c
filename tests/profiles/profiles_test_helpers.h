// Helpers shared by the profile tests: a migrated SQLite file in a TempDir, a fake clock, the
// profile service over given rules, and interaction builders in the shapes the channel
// adapters produce (OA messages and events by openid, WeCom contact events by ExternalUserID).
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "src/core/clock.h"
#include "src/model/customer.h"
#include "src/model/interaction.h"
#include "src/profiles/profile_service.h"
#include "src/profiles/rule_set.h"
#include "src/storage/database.h"
#include "src/storage/profile_store.h"
#include "src/tagger/rule_json.h"
#include "tests/profiles/profile_wiring.h"
#include "tests/support/test_support.h"

namespace scrm::profiles::testing {

inline constexpr int64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z
inline constexpr int64_t kDay = int64_t{86400} * 1000;
inline constexpr int64_t kHour = int64_t{3600} * 1000;

// Spins (yielding) until pred() holds; false after 10 s. For states another thread reaches.
inline bool WaitUntil(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// The database file at path holding `schema`, migrated.
inline std::unique_ptr<storage::Database> OpenMigrated(
    const std::string& path, storage::Schema schema = storage::Schema::kMain) {
  storage::DatabaseOptions options;
  options.path = path;
  options.schema = schema;
  auto db = storage::Database::Open(options);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  auto applied = (*db)->Migrate(kT0);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  return std::move(db).value();
}

// The inbox file at path (Schema::kInbox), migrated.
inline std::unique_ptr<storage::Database> OpenInbox(const std::string& path) {
  return OpenMigrated(path, storage::Schema::kInbox);
}

inline std::unique_ptr<RuleSetHolder> Rules(std::string_view rules_json) {
  auto rules = tagger::ParseTagRules(rules_json);
  INFO(rules.status().ToString());
  REQUIRE(rules.ok());
  auto holder = RuleSetHolder::FromRules(std::move(rules).value());
  INFO(holder.status().ToString());
  REQUIRE(holder.ok());
  return std::move(holder).value();
}

inline std::unique_ptr<RuleSetHolder> ExampleRules() {
  auto holder = RuleSetHolder::FromFile(scrm::testing::SourcePath("config/tag_rules.example.json"));
  INFO(holder.status().ToString());
  REQUIRE(holder.ok());
  return std::move(holder).value();
}

// A database, the store, a fake clock and the service over `rules` (none by default).
// Members are initialised in declaration order.
struct Fixture {
  explicit Fixture(std::unique_ptr<RuleSetHolder> rule_set = std::make_unique<RuleSetHolder>(),
                   ServiceOptions service_options = {})
      : rules(std::move(rule_set)), options(std::move(service_options)) {}

  scrm::testing::TempDir dir;
  std::unique_ptr<storage::Database> db = OpenMigrated(dir.File("scrmd.db"));
  storage::ProfileStore store{*db};
  core::FakeClock clock{kT0};
  std::unique_ptr<RuleSetHolder> rules;
  ServiceOptions options;
  WiredProfiles wired{store, *rules, clock, options};
  ProfileService& service = wired.service;
  int64_t next_id = kT0 << 16;

  // A fresh interaction id (time-ordered like the inbox's).
  int64_t NextId() { return ++next_id; }

  // Applies the interactions in one chunk (no cursor); the test fails if it does not commit.
  void Apply(std::vector<model::Interaction> items) {
    const core::Status status = service.ingest.ApplyChunk(items, std::nullopt);
    INFO(status.ToString());
    REQUIRE(status.ok());
  }
  void Apply(const model::Interaction& it) { Apply(std::vector<model::Interaction>{it}); }

  std::optional<int64_t> Find(std::string_view platform, std::string_view account,
                              model::IdentityKind kind, std::string_view value) {
    auto found = service.queries.FindCustomer(platform, account, kind, value);
    INFO(found.status().ToString());
    REQUIRE(found.ok());
    return *found;
  }
  int64_t ByOpenid(std::string_view openid, std::string_view account = "oa1") {
    const auto id = Find("oa", account, model::IdentityKind::kOpenid, openid);
    REQUIRE(id.has_value());
    return *id;
  }
  int64_t ByExternal(std::string_view external_userid, std::string_view account = "corp1") {
    const auto id = Find("wecom", account, model::IdentityKind::kExternalUserid, external_userid);
    REQUIRE(id.has_value());
    return *id;
  }

  CustomerView View(int64_t customer_id) {
    auto view = service.queries.GetCustomer(customer_id);
    INFO(view.status().ToString());
    REQUIRE(view.ok());
    return std::move(view).value();
  }
  // A view that lives as long as the fixture, for pointers into it (FindTag).
  const CustomerView& KeptView(int64_t customer_id) {
    kept_views.push_back(View(customer_id));
    return kept_views.back();
  }
  std::deque<CustomerView> kept_views;  // deque: references stay valid as it grows
  std::vector<model::TimelineEntry> Timeline(int64_t customer_id) {
    auto entries = service.queries.ListTimeline(customer_id, 0, 1000);
    INFO(entries.status().ToString());
    REQUIRE(entries.ok());
    return std::move(entries).value();
  }

  // Builders. `at` defaults to the clock's now.
  model::Interaction OaText(std::string openid, std::string content, std::string unionid = "") {
    model::Interaction it =
        Base(model::Platform::kOfficialAccount, "oa1", model::InteractionKind::kMessageText);
    it.openid = std::move(openid);
    it.unionid = std::move(unionid);
    it.payload = model::TextPayload{std::move(content)};
    return it;
  }
  model::Interaction OaEvent(std::string openid, model::InteractionKind kind,
                             model::Payload payload = {}) {
    model::Interaction it = Base(model::Platform::kOfficialAccount, "oa1", kind);
    it.openid = std::move(openid);
    it.payload = std::move(payload);
    return it;
  }
  // A WeCom 客户联系 event: ExternalUserID `external`, staff member UserID `userid`.
  model::Interaction Contact(model::InteractionKind kind, std::string external, std::string userid,
                             std::string state = "", std::string unionid = "") {
    model::Interaction it = Base(model::Platform::kWecom, "corp1", kind);
    it.external_userid = std::move(external);
    it.userid = std::move(userid);
    it.unionid = std::move(unionid);
    model::ContactChangePayload payload;
    payload.state = std::move(state);
    it.payload = payload;
    return it;
  }
  // A WeCom app message from a member (staff): UserID only.
  model::Interaction MemberText(std::string userid, std::string content) {
    model::Interaction it =
        Base(model::Platform::kWecom, "corp1", model::InteractionKind::kMessageText);
    it.userid = std::move(userid);
    it.payload = model::TextPayload{std::move(content)};
    return it;
  }

 private:
  model::Interaction Base(model::Platform platform, std::string account,
                          model::InteractionKind kind) {
    model::Interaction it;
    it.id = NextId();
    it.platform = platform;
    it.account_id = std::move(account);
    it.kind = kind;
    it.dedupe_key = "k" + std::to_string(it.id);
    it.occurred_at_ms = clock.NowUnixMillis();
    it.received_at_ms = it.occurred_at_ms;
    it.raw_body = "<xml/>";
    return it;
  }
};

// The customer's tag `group/name`, or nullptr.
inline const TagView* FindTag(const CustomerView& view, std::string_view group,
                              std::string_view name) {
  for (const TagView& tag : view.tags) {
    if (tag.detail.tag.group.name == group && tag.detail.tag.tag.name == name) return &tag;
  }
  return nullptr;
}
// The pointer would dangle: keep the view in a variable.
const TagView* FindTag(CustomerView&& view, std::string_view group, std::string_view name) = delete;

// Every stored field of a profile, one line per row, so that a failed comparison shows the
// difference (Catch prints strings, not structs). Scores with all 17 digits.
inline std::string Describe(const model::CustomerProfile& p) {
  std::string out;
  const auto add = [&out](const std::string& line) { out += line + "\n"; };
  const model::Customer& c = p.customer;
  std::string attributes;
  for (const auto& [k, v] : c.attributes) attributes += k + "=" + v + ";";
  add("customer " + std::to_string(c.id) +
      " stage=" + std::string(model::LifecycleStageName(c.stage)) + " reason=" + c.stage_reason +
      " staff=" + c.stage_staff + " owner=" + c.owner_userid + " attrs=" + attributes +
      " first=" + std::to_string(c.first_interaction_at_ms) +
      " last=" + std::to_string(c.last_interaction_at_ms) +
      " n=" + std::to_string(c.counters.interactions) + "/" + std::to_string(c.counters.messages) +
      "/" + std::to_string(c.counters.events) + "/" + std::to_string(c.counters.orders) + "/" +
      std::to_string(c.counters.paid_orders) + " created=" + std::to_string(c.created_at_ms) +
      " updated=" + std::to_string(c.updated_at_ms) +
      " merged_into=" + (c.merged_into ? std::to_string(*c.merged_into) : "-"));
  for (const model::Identity& i : p.identities) {
    add("identity " + std::to_string(i.id) + " " + i.platform + "/" + i.account_id + "/" +
        std::string(model::IdentityKindName(i.kind)) + "/" + i.value +
        " customer=" + std::to_string(i.customer_id) + " at=" + std::to_string(i.created_at_ms));
  }
  for (const model::CustomerTagDetail& t : p.tags) {
    char score[64];
    std::snprintf(score, sizeof score, "%.17g", t.value.score);
    add("tag " + t.tag.group.name + "/" + t.tag.tag.name +
        " customer=" + std::to_string(t.value.customer_id) + " score=" + score +
        " at=" + std::to_string(t.value.updated_at_ms) +
        " source=" + std::string(model::TagSourceName(t.value.source)) +
        " rule=" + std::to_string(t.value.evidence_rule_id) + "v" +
        std::to_string(t.value.evidence_rule_version) +
        " interaction=" + std::to_string(t.value.evidence_interaction_id));
  }
  for (const model::Follower& fl : p.followers) {
    add("follower " + std::to_string(fl.id) + " " + fl.account_id + "/" + fl.userid + " " +
        std::string(model::FollowerStateName(fl.state)) +
        " customer=" + std::to_string(fl.customer_id) + " added=" + std::to_string(fl.added_at_ms) +
        " removed=" + std::to_string(fl.removed_at_ms) + " owner=" + (fl.is_owner ? "1" : "0"));
  }
  for (const model::FollowUpTask& t : p.tasks) {
    add("task " + std::to_string(t.id) + " " + t.title +
        " customer=" + std::to_string(t.customer_id) + " owner=" + t.owner_userid +
        " due=" + std::to_string(t.due_at_ms) + " src=" + std::to_string(t.source_interaction_id) +
        "/" + std::to_string(t.source_rule_id) + " " +
        std::string(model::TaskStatusName(t.status)) + " at=" + std::to_string(t.created_at_ms));
  }
  for (const model::MergeRecord& m : p.merges) {
    add("merge " + std::to_string(m.id) + " " + std::to_string(m.survivor_id) + "<-" +
        std::to_string(m.merged_id) +
        " undone=" + (m.undone_at_ms ? std::to_string(*m.undone_at_ms) : "-"));
  }
  return out;
}

inline std::string Describe(const CustomerView& v) {
  model::CustomerProfile p;
  p.customer = v.customer;
  p.identities = v.identities;
  for (const TagView& t : v.tags) p.tags.push_back(t.detail);
  p.followers = v.followers;
  p.tasks = v.tasks;
  p.merges = v.merges;
  return Describe(p);
}

// The view without its merge history (which an undo adds to), for before/after comparisons.
inline CustomerView WithoutMerges(CustomerView view) {
  view.merges.clear();
  return view;
}

}  // namespace scrm::profiles::testing
