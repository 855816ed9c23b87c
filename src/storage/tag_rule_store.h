// TagRuleStore: the tag rules managed through /api/v1/tag-rules (migration 4): the latest
// version of each rule in tag_rules, and every version ever saved in tag_rule_versions, so that
// a tag's evidence "rule id + version" can still be explained after the rule changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/storage/database.h"

namespace scrm::storage {

// One version of a rule as stored. The rule itself is JSON text (tagger::TagRuleToJson, which
// storage does not interpret); id, version and enabled are kept as columns too, and the columns
// are what the store compares.
struct StoredTagRule {
  int64_t id = 0;
  int version = 1;
  bool enabled = true;
  std::string rule_json;
  int64_t saved_at_ms = 0;  // when this version was saved

  friend bool operator==(const StoredTagRule&, const StoredTagRule&) = default;
};

// Thread-safe (all access through Database). Does not own the Database. Calls may also fail
// with the codes of Database::WithWriter / WithReader.
class TagRuleStore {
 public:
  explicit TagRuleStore(Database& db) : db_(db) {}

  // The latest version of every rule, by id.
  core::StatusOr<std::vector<StoredTagRule>> List();
  // The latest version of one rule. NotFound.
  core::StatusOr<StoredTagRule> Get(int64_t id);
  // One saved version. NotFound.
  core::StatusOr<StoredTagRule> GetVersion(int64_t id, int version);
  // Every saved version of one rule, ascending (empty for an unknown id).
  core::StatusOr<std::vector<StoredTagRule>> ListVersions(int64_t id);
  // The highest id stored, 0 when there is none.
  core::StatusOr<int64_t> MaxId();

  // Saves a new version in one transaction: as the rule's latest version and in its history.
  // expected_version 0 inserts a new rule (AlreadyExists when the id is taken); otherwise the
  // stored latest version must be expected_version (NotFound when the rule is missing,
  // FailedPrecondition when another version was saved meanwhile) and rule.version must be
  // greater. InvalidArgument for id <= 0, version < 1 or empty JSON.
  core::Status Save(const StoredTagRule& rule, int expected_version);

 private:
  Database& db_;
};

}  // namespace scrm::storage
