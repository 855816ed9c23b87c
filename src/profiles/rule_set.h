// RuleSetHolder: the tag rules in force, compiled into a tagger::RuleEngine that the ingest
// worker evaluates while the tag-rules API may swap in a new set.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/model/tag_rule.h"
#include "src/tagger/rule_engine.h"

namespace scrm::profiles {

// Thread-safe: engine() and rules() from any thread (the ingest worker pins the engine once per
// chunk), Replace from the API thread. Replacing never disturbs an evaluation in progress: the
// old engine lives until its last holder lets go of the shared_ptr.
class RuleSetHolder {
 public:
  // No rules: every interaction still gets its built-in effects (timeline, counters, stage).
  RuleSetHolder();
  // Compiles `rules` (RuleEngine::Compile's errors: InvalidArgument naming "rules[i]...").
  static core::StatusOr<std::unique_ptr<RuleSetHolder>> FromRules(
      std::vector<model::TagRule> rules, const tagger::RuleEngineOptions& options = {});
  // Loads a rules file ({"rules": [...]}, config/tag_rules.example.json); an empty path means no
  // rules. NotFound when the file cannot be opened, InvalidArgument (with the path) when it is
  // invalid.
  static core::StatusOr<std::unique_ptr<RuleSetHolder>> FromFile(
      const std::string& path, const tagger::RuleEngineOptions& options = {});

  // The engine in force. Shared with every caller that holds it (an evaluation in progress)
  // and with this holder until the next Replace.
  std::shared_ptr<const tagger::RuleEngine> engine() const;
  // The rules in force, as given (disabled ones included).
  std::vector<model::TagRule> rules() const;
  // Compiles `rules` and puts them in force; on error the current set stays.
  core::Status Replace(std::vector<model::TagRule> rules);

 private:
  explicit RuleSetHolder(tagger::RuleEngineOptions options);

  const tagger::RuleEngineOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const tagger::RuleEngine> engine_;  // guarded by mu_
  std::vector<model::TagRule> rules_;                 // guarded by mu_
};

}  // namespace scrm::profiles
