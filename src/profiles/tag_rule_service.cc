#include "src/profiles/tag_rule_service.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "src/tagger/rule_json.h"
#include "src/tagger/rule_validation.h"

namespace scrm::profiles {
namespace {

// The stored row's columns are authoritative for id, version and enabled: they are what the
// store compares and what the history is keyed by.
core::StatusOr<StoredRule> FromStored(const storage::StoredTagRule& stored) {
  core::StatusOr<model::TagRule> parsed = tagger::ParseTagRule(stored.rule_json);
  if (!parsed.ok()) {
    // Only validated rules are stored: a row that no longer parses is corruption (or a newer
    // binary's format), not the caller's mistake.
    return core::InternalError("stored tag rule " + std::to_string(stored.id) + " version " +
                               std::to_string(stored.version) +
                               " does not parse: " + parsed.status().message());
  }
  StoredRule out{std::move(parsed).value(), stored.saved_at_ms};
  out.rule.id = stored.id;
  out.rule.version = stored.version;
  out.rule.enabled = stored.enabled;
  return out;
}

storage::StoredTagRule ToStored(const model::TagRule& rule, int64_t now_ms) {
  storage::StoredTagRule stored;
  stored.id = rule.id;
  stored.version = rule.version;
  stored.enabled = rule.enabled;
  stored.rule_json =
      tagger::TagRuleToJson(rule).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  stored.saved_at_ms = now_ms;
  return stored;
}

}  // namespace

TagRuleService::TagRuleService(storage::TagRuleStore& store, RuleSetHolder& holder,
                               const core::Clock& clock)
    : store_(store), holder_(holder), clock_(clock) {}

core::StatusOr<SeedReport> TagRuleService::LoadAndSeed(std::span<const model::TagRule> file_rules) {
  std::lock_guard lock(mu_);
  SCRM_ASSIGN_OR_RETURN(std::vector<storage::StoredTagRule> stored, store_.List());
  SeedReport report;
  report.stored_before = static_cast<int>(stored.size());
  std::set<int64_t> stored_ids;
  std::set<std::string> stored_names;
  std::vector<model::TagRule> in_force;
  int64_t max_id = 0;
  for (const auto& row : stored) {
    SCRM_ASSIGN_OR_RETURN(StoredRule rule, FromStored(row));
    stored_ids.insert(rule.rule.id);
    stored_names.insert(rule.rule.name);
    max_id = std::max(max_id, rule.rule.id);
    in_force.push_back(std::move(rule.rule));
  }
  for (const auto& rule : file_rules) max_id = std::max(max_id, rule.id);

  const int64_t now_ms = clock_.NowUnixMillis();
  std::vector<model::TagRule> to_seed;
  for (model::TagRule rule : file_rules) {
    const bool known =
        rule.id != 0 ? stored_ids.count(rule.id) > 0 : stored_names.count(rule.name) > 0;
    if (known) {
      ++report.kept_stored;
      continue;
    }
    if (rule.id == 0) rule.id = ++max_id;
    stored_ids.insert(rule.id);
    stored_names.insert(rule.name);
    to_seed.push_back(rule);
    in_force.push_back(std::move(rule));
  }
  std::sort(in_force.begin(), in_force.end(),
            [](const model::TagRule& a, const model::TagRule& b) { return a.id < b.id; });
  // Compiled before anything is stored: a file that does not compile with the stored rules
  // leaves the database as it was.
  SCRM_RETURN_IF_ERROR(holder_.Replace(in_force));
  for (const auto& rule : to_seed) {
    SCRM_RETURN_IF_ERROR(store_.Save(ToStored(rule, now_ms), /*expected_version=*/0));
    ++report.seeded;
  }
  return report;
}

core::StatusOr<std::vector<StoredRule>> TagRuleService::List() const {
  SCRM_ASSIGN_OR_RETURN(std::vector<storage::StoredTagRule> stored, store_.List());
  std::vector<StoredRule> out;
  out.reserve(stored.size());
  for (const auto& row : stored) {
    SCRM_ASSIGN_OR_RETURN(StoredRule rule, FromStored(row));
    out.push_back(std::move(rule));
  }
  return out;
}

core::StatusOr<StoredRule> TagRuleService::Get(int64_t id) const {
  SCRM_ASSIGN_OR_RETURN(storage::StoredTagRule stored, store_.Get(id));
  return FromStored(stored);
}

core::StatusOr<StoredRule> TagRuleService::GetVersion(int64_t id, int version) const {
  SCRM_ASSIGN_OR_RETURN(storage::StoredTagRule stored, store_.GetVersion(id, version));
  return FromStored(stored);
}

core::StatusOr<std::vector<StoredRule>> TagRuleService::ListVersions(int64_t id) const {
  SCRM_ASSIGN_OR_RETURN(std::vector<storage::StoredTagRule> stored, store_.ListVersions(id));
  if (stored.empty()) return core::NotFoundError("no tag rule with id " + std::to_string(id));
  std::vector<StoredRule> out;
  for (const auto& row : stored) {
    SCRM_ASSIGN_OR_RETURN(StoredRule rule, FromStored(row));
    out.push_back(std::move(rule));
  }
  return out;
}

core::StatusOr<StoredRule> TagRuleService::Create(model::TagRule rule) {
  if (rule.id != 0) return core::InvalidArgumentError("id: assigned by the server, leave it out");
  std::lock_guard lock(mu_);
  SCRM_ASSIGN_OR_RETURN(const int64_t max_stored, store_.MaxId());
  int64_t max_id = max_stored;
  for (const auto& in_force : holder_.rules()) max_id = std::max(max_id, in_force.id);
  rule.id = max_id + 1;
  rule.version = 1;
  return SaveLocked(std::move(rule), /*expected_version=*/0);
}

core::StatusOr<StoredRule> TagRuleService::Update(int64_t id, model::TagRule rule,
                                                  std::optional<int> expected_version) {
  if (rule.id != 0 && rule.id != id) {
    return core::InvalidArgumentError("id: does not match the rule in the path");
  }
  std::lock_guard lock(mu_);
  SCRM_ASSIGN_OR_RETURN(const storage::StoredTagRule current, store_.Get(id));
  if (expected_version.has_value() && *expected_version != current.version) {
    return core::FailedPreconditionError("version: the rule is at version " +
                                         std::to_string(current.version) + ", not " +
                                         std::to_string(*expected_version));
  }
  rule.id = id;
  rule.version = current.version + 1;
  return SaveLocked(std::move(rule), current.version);
}

core::StatusOr<StoredRule> TagRuleService::SetEnabled(int64_t id, bool enabled) {
  std::lock_guard lock(mu_);
  SCRM_ASSIGN_OR_RETURN(const storage::StoredTagRule current, store_.Get(id));
  SCRM_ASSIGN_OR_RETURN(StoredRule rule, FromStored(current));
  if (rule.rule.enabled == enabled) return rule;
  rule.rule.enabled = enabled;
  rule.rule.version = current.version + 1;
  return SaveLocked(std::move(rule.rule), current.version);
}

core::StatusOr<StoredRule> TagRuleService::SaveLocked(model::TagRule rule, int expected_version) {
  SCRM_RETURN_IF_ERROR(tagger::ValidateTagRule(rule));
  const std::vector<model::TagRule> previous = holder_.rules();
  std::vector<model::TagRule> next = previous;
  auto it = std::find_if(next.begin(), next.end(),
                         [&](const model::TagRule& r) { return r.id == rule.id; });
  if (it != next.end()) {
    *it = rule;
  } else {
    next.push_back(rule);
    std::sort(next.begin(), next.end(),
              [](const model::TagRule& a, const model::TagRule& b) { return a.id < b.id; });
  }
  // In force first: a set that does not compile is refused before anything is stored.
  SCRM_RETURN_IF_ERROR(holder_.Replace(std::move(next)));
  const storage::StoredTagRule stored = ToStored(rule, clock_.NowUnixMillis());
  if (core::Status saved = store_.Save(stored, expected_version); !saved.ok()) {
    // The previous set compiled when it was put in force, so putting it back cannot fail on
    // validation; an error here would leave the new rule running unsaved, so it is reported.
    core::Status restored = holder_.Replace(previous);
    if (!restored.ok()) {
      return core::InternalError(
          "saving the rule failed (" + saved.ToString() +
          ") and the previous rules could not be restored: " + restored.ToString());
    }
    return saved;
  }
  return StoredRule{std::move(rule), stored.saved_at_ms};
}

}  // namespace scrm::profiles
