// JSON form of tag rules: one rule (the /api/v1/tag-rules body) or a rules file
// ({"rules": [...]}, config/tag_rules.example.json). The format is documented for marketers in
// docs/tagging.md. Parsing validates (rule_validation.h); serializing round-trips.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/core/status.h"
#include "src/model/tag_rule.h"

namespace scrm::tagger {

// Rule text larger than this is refused before parsing (a rules file of 10,000 rules is ~5 MiB).
inline constexpr std::size_t kMaxRulesJsonBytes = std::size_t{16} << 20;
inline constexpr std::size_t kMaxRulesPerFile = 20000;

// One rule from a JSON object, validated. `path` prefixes every error ("rules[3]"); empty for a
// lone rule. Missing members keep the TagRule defaults (id 0, version 1, enabled, priority 0);
// null is the same as missing; unknown members are errors. InvalidArgument
// "<path>.<field>: <reason>", e.g. "condition.regex: invalid pattern: missing ): 预算(" or
// "actions[0].add_tag.tag.name: required". Never throws.
core::StatusOr<model::TagRule> TagRuleFromJson(const nlohmann::json& json,
                                               std::string_view path = {});

// TagRuleFromJson of JSON text (an API request body). Never throws.
core::StatusOr<model::TagRule> ParseTagRule(std::string_view text);

// A rules file: an object with one member "rules", an array of rules. Errors name the rule
// ("rules[3].condition.regex: ..."); two rules with the same non-zero id are an error. Never
// throws.
core::StatusOr<std::vector<model::TagRule>> TagRulesFromJson(const nlohmann::json& json);
core::StatusOr<std::vector<model::TagRule>> ParseTagRules(std::string_view text);

// Reads and parses a rules file. NotFound when it cannot be opened, InvalidArgument (prefixed
// with the path) when it is too large or invalid.
core::StatusOr<std::vector<model::TagRule>> LoadTagRulesFile(const std::string& file_path);

// The rule as a JSON object: id, version, name, description, enabled, priority, condition (only
// the members that are set) and actions. TagRuleFromJson(TagRuleToJson(r)) == r for a valid r.
// Strings are copied as they are: dump with nlohmann::json::error_handler_t::replace if the rule
// was not validated. Never throws.
nlohmann::json TagRuleToJson(const model::TagRule& rule);

// {"rules": [...]} and its text, pretty-printed with 2 spaces (invalid UTF-8 replaced).
nlohmann::json TagRulesToJson(std::span<const model::TagRule> rules);
std::string TagRulesToText(std::span<const model::TagRule> rules);

}  // namespace scrm::tagger
