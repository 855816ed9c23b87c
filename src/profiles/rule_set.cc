#include "src/profiles/rule_set.h"

#include <utility>

#include "src/tagger/rule_json.h"

namespace scrm::profiles {
namespace {

// RuleEngine::Compile of an empty list cannot fail: there is nothing to validate or compile.
std::shared_ptr<const tagger::RuleEngine> EmptyEngine(const tagger::RuleEngineOptions& options) {
  core::StatusOr<std::unique_ptr<tagger::RuleEngine>> engine =
      tagger::RuleEngine::Compile({}, options);
  SCRM_CHECK(engine.ok());
  return std::shared_ptr<const tagger::RuleEngine>(std::move(engine).value());
}

}  // namespace

RuleSetHolder::RuleSetHolder() : RuleSetHolder(tagger::RuleEngineOptions{}) {}

RuleSetHolder::RuleSetHolder(tagger::RuleEngineOptions options)
    : options_(options), engine_(EmptyEngine(options_)) {}

core::StatusOr<std::unique_ptr<RuleSetHolder>> RuleSetHolder::FromRules(
    std::vector<model::TagRule> rules, const tagger::RuleEngineOptions& options) {
  std::unique_ptr<RuleSetHolder> holder(new RuleSetHolder(options));
  SCRM_RETURN_IF_ERROR(holder->Replace(std::move(rules)));
  return holder;
}

core::StatusOr<std::unique_ptr<RuleSetHolder>> RuleSetHolder::FromFile(
    const std::string& path, const tagger::RuleEngineOptions& options) {
  if (path.empty()) return std::unique_ptr<RuleSetHolder>(new RuleSetHolder(options));
  SCRM_ASSIGN_OR_RETURN(std::vector<model::TagRule> rules, tagger::LoadTagRulesFile(path));
  core::StatusOr<std::unique_ptr<RuleSetHolder>> holder = FromRules(std::move(rules), options);
  if (!holder.ok()) {
    return core::Status(holder.status().code(), path + ": " + holder.status().message());
  }
  return holder;
}

std::shared_ptr<const tagger::RuleEngine> RuleSetHolder::engine() const {
  std::lock_guard<std::mutex> lock(mu_);
  return engine_;
}

std::vector<model::TagRule> RuleSetHolder::rules() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rules_;
}

core::Status RuleSetHolder::Replace(std::vector<model::TagRule> rules) {
  // Compiled outside the lock: a large set takes a while and readers must not wait for it.
  SCRM_ASSIGN_OR_RETURN(std::unique_ptr<tagger::RuleEngine> engine,
                        tagger::RuleEngine::Compile(rules, options_));
  std::shared_ptr<const tagger::RuleEngine> compiled(std::move(engine));
  std::lock_guard<std::mutex> lock(mu_);
  engine_ = std::move(compiled);
  rules_ = std::move(rules);
  return core::OkStatus();
}

}  // namespace scrm::profiles
