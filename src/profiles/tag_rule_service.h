// TagRuleService: the tag rules as the /api/v1/tag-rules routes manage them — validated on save,
// persisted with every version (storage::TagRuleStore), and put in force for the ingest worker
// through RuleSetHolder::Replace after each change. At startup it merges the rules file
// (config tag_rules_file) with the stored rules: the stored rules win.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "src/core/clock.h"
#include "src/core/status.h"
#include "src/model/tag_rule.h"
#include "src/profiles/rule_set.h"
#include "src/storage/tag_rule_store.h"

namespace scrm::profiles {

// A rule with when its current version was saved.
struct StoredRule {
  model::TagRule rule;
  int64_t saved_at_ms = 0;

  friend bool operator==(const StoredRule&, const StoredRule&) = default;
};

// What LoadAndSeed did.
struct SeedReport {
  int stored_before = 0;  // rules already in the database
  int seeded = 0;         // rules of the file stored now (new to the database)
  int kept_stored = 0;    // rules of the file the database already had (the stored one won)
};

// Thread-safe: changes are serialised on one mutex so that the stored rules and the set in
// force move together; reads go to the store. Does not own the store, holder or clock, which
// must outlive it.
class TagRuleService {
 public:
  TagRuleService(storage::TagRuleStore& store, RuleSetHolder& holder, const core::Clock& clock);

  // Startup. Stores each rule of the file that the database does not have yet — matched by id,
  // or for a rule without id (0) by name, which then gets the next free id — as given (its
  // version and enabled flag), and puts every stored rule in force. A file rule whose id (or
  // name) is stored already is left as stored: the API's changes survive a restart with an
  // unchanged file. InvalidArgument when the set does not compile.
  core::StatusOr<SeedReport> LoadAndSeed(std::span<const model::TagRule> file_rules);

  // The latest version of every rule (disabled ones too), by id.
  core::StatusOr<std::vector<StoredRule>> List() const;
  // NotFound.
  core::StatusOr<StoredRule> Get(int64_t id) const;
  core::StatusOr<StoredRule> GetVersion(int64_t id, int version) const;
  // Every saved version, ascending. NotFound for an unknown rule.
  core::StatusOr<std::vector<StoredRule>> ListVersions(int64_t id) const;

  // Stores a new rule (version 1, a fresh id) and puts it in force. InvalidArgument naming the
  // field (tagger::ValidateTagRule) when invalid or when rule.id is set (ids are assigned).
  core::StatusOr<StoredRule> Create(model::TagRule rule);
  // Replaces rule `id` with `rule` as version + 1 and puts it in force. rule.id must be 0 or
  // `id`; when expected_version is set the stored version must equal it (FailedPrecondition
  // otherwise: someone else saved meanwhile). NotFound; InvalidArgument when invalid.
  core::StatusOr<StoredRule> Update(int64_t id, model::TagRule rule,
                                    std::optional<int> expected_version);
  // Enables or disables rule `id` as a new version (a no-op when it already is so). A disabled
  // rule stays stored and never runs. NotFound.
  core::StatusOr<StoredRule> SetEnabled(int64_t id, bool enabled);

 private:
  // Validates `rule`, puts the stored set with `rule` in it in force, then stores it; when the
  // store fails the previous set is put back. Called with mu_ held.
  core::StatusOr<StoredRule> SaveLocked(model::TagRule rule, int expected_version);

  storage::TagRuleStore& store_;
  RuleSetHolder& holder_;
  const core::Clock& clock_;
  std::mutex mu_;  // serialises changes (and LoadAndSeed)
};

}  // namespace scrm::profiles
