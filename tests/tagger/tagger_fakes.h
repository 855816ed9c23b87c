// Test helpers for the tagger tests: a fake WindowCounter, interaction builders and a rule
// parser that REQUIREs success.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/model/interaction.h"
#include "src/model/tag_rule.h"
#include "src/tagger/rule_engine.h"
#include "src/tagger/rule_json.h"

namespace scrm::tagger::testing {

// Answers every CountSince with `count` and records the calls.
class FakeWindowCounter final : public WindowCounter {
 public:
  struct Call {
    std::vector<model::InteractionKind> kinds;
    int64_t since_ms = 0;
  };

  explicit FakeWindowCounter(int64_t count = 0) : count_(count) {}
  int64_t CountSince(std::span<const model::InteractionKind> kinds,
                     int64_t since_ms) const override {
    calls_.push_back(Call{{kinds.begin(), kinds.end()}, since_ms});
    return count_;
  }
  const std::vector<Call>& calls() const { return calls_; }

 private:
  int64_t count_;
  mutable std::vector<Call> calls_;  // tests are single-threaded
};

// 2026-01-01T00:00:00Z.
inline constexpr int64_t kT0 = 1767225600000;

inline model::Interaction Text(std::string content, int64_t at_ms = kT0) {
  model::Interaction in;
  in.kind = model::InteractionKind::kMessageText;
  in.occurred_at_ms = at_ms;
  in.payload = model::TextPayload{std::move(content)};
  return in;
}

inline model::Interaction Event(model::InteractionKind kind, model::Payload payload = {},
                                int64_t at_ms = kT0) {
  model::Interaction in;
  in.kind = kind;
  in.occurred_at_ms = at_ms;
  in.payload = std::move(payload);
  return in;
}

// A rule from JSON text; the test fails if it does not parse.
inline model::TagRule Rule(std::string_view json_text) {
  core::StatusOr<model::TagRule> rule = ParseTagRule(json_text);
  INFO(rule.status().ToString());
  REQUIRE(rule.ok());
  return std::move(rule).value();
}

inline std::unique_ptr<RuleEngine> Engine(std::vector<model::TagRule> rules) {
  core::StatusOr<std::unique_ptr<RuleEngine>> engine = RuleEngine::Compile(std::move(rules));
  INFO(engine.status().ToString());
  REQUIRE(engine.ok());
  return std::move(engine).value();
}

// The ids of the matched rules, in match order.
inline std::vector<int64_t> Ids(const std::vector<RuleMatch>& matches) {
  std::vector<int64_t> ids;
  for (const RuleMatch& m : matches) ids.push_back(m.rule_id);
  return ids;
}

// The tag names the matches add, in match order.
inline std::vector<std::string> AddedTags(const std::vector<RuleMatch>& matches) {
  std::vector<std::string> tags;
  for (const RuleMatch& m : matches) {
    for (const model::RuleAction& action : m.actions) {
      if (const auto* add = std::get_if<model::AddTagAction>(&action)) {
        tags.push_back(add->tag.group + "/" + add->tag.name);
      }
    }
  }
  return tags;
}

// `{"id": <id>, "name": "r<id>", "condition": <condition>, "actions": [add_tag g/t<id>]}`
// with an optional priority.
inline std::string RuleJson(int64_t id, std::string_view condition, int priority = 0) {
  const std::string ids = std::to_string(id);
  return R"({"id": )" + ids + R"(, "name": "r)" + ids + R"(", "priority": )" +
         std::to_string(priority) + R"(, "condition": )" + std::string(condition) +
         R"(, "actions": [{"add_tag": {"tag": {"group": "g", "name": "t)" + ids + R"("}}}]})";
}

}  // namespace scrm::tagger::testing
