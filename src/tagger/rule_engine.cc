// RuleEngine: compile (validate, order by priority, index by kind, build the RE2::Set) and
// evaluate (one set scan for text, then the remaining conditions of each candidate rule).
#include "src/tagger/rule_engine.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <limits>
#include <map>
#include <utility>
#include <variant>

#include "src/core/strings.h"
#include "src/tagger/rule_validation.h"

namespace scrm::tagger {
namespace {

constexpr int64_t kMillisPerDay = 86400000;
// Capacity reserved up front for the set's hits and the candidate rules of one message, so a
// typical evaluation allocates each vector once (the allocations showed in profiles).
constexpr std::size_t kExpectedPatternHits = 16;
constexpr std::size_t kExpectedCandidates = 32;

bool HasAsciiLetter(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); });
}

// A keyword as a set pattern: a literal substring. Keywords with Latin letters ("VIP", "iPhone")
// match in any ASCII case; (?i) is left off the others, where it would only enlarge the program
// (Chinese has no case).
std::string KeywordPattern(std::string_view keyword) {
  if (!HasAsciiLetter(keyword)) return RE2::QuoteMeta(keyword);
  return "(?i)" + RE2::QuoteMeta(core::AsciiLower(keyword));
}

bool AnyIn(const std::vector<std::string>& values, const std::vector<std::string>& wanted) {
  for (const std::string& value : values) {
    if (std::find(wanted.begin(), wanted.end(), value) != wanted.end()) return true;
  }
  return false;
}

bool OrderMatches(const model::OrderCondition& c, const model::OrderFacts& order) {
  if (!c.sku_any.empty() && !AnyIn(order.skus, c.sku_any)) return false;
  if (!c.category_any.empty() && !AnyIn(order.categories, c.category_any)) return false;
  if (c.amount_min_cents && order.amount_cents < *c.amount_min_cents) return false;
  if (c.amount_max_cents && order.amount_cents > *c.amount_max_cents) return false;
  return true;
}

// The clicked URL of a tracked link: a link message's Url or a VIEW menu's EventKey.
const std::string* ClickedUrl(const model::Interaction& interaction) {
  if (const auto* link = std::get_if<model::LinkPayload>(&interaction.payload)) return &link->url;
  if (interaction.kind == model::InteractionKind::kMenuView) {
    if (const auto* menu = std::get_if<model::MenuPayload>(&interaction.payload)) {
      return &menu->event_key;
    }
  }
  return nullptr;
}

int64_t WindowStart(int64_t occurred_at_ms, int window_days) {
  const int64_t window_ms = int64_t{window_days} * kMillisPerDay;  // <= 365 days: no overflow
  if (occurred_at_ms < std::numeric_limits<int64_t>::min() + window_ms) {
    return std::numeric_limits<int64_t>::min();
  }
  return occurred_at_ms - window_ms;
}

}  // namespace

struct RuleEngine::CompiledRule {
  model::TagRule rule;
  KindMask kinds = kAllKinds;  // ApplicableKinds of the condition
  bool needs_keyword = false;  // one of keywords_any must be among the set's matches
  bool needs_regex = false;    // the regex must be among the set's matches
};

struct RuleEngine::PatternUse {
  uint32_t rule = 0;
  bool is_regex = false;
};

class RuleEngine::PatternSet {
 public:
  explicit PatternSet(const RE2::Options& options) : set(options, RE2::UNANCHORED) {}
  RE2::Set set;
};

RuleEngine::RuleEngine() = default;
RuleEngine::~RuleEngine() = default;

std::size_t RuleEngine::rule_count() const { return rules_.size(); }

core::StatusOr<std::unique_ptr<RuleEngine>> RuleEngine::Compile(std::vector<model::TagRule> rules,
                                                                const RuleEngineOptions& options) {
  std::unique_ptr<RuleEngine> engine(new RuleEngine());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i].enabled) continue;
    SCRM_RETURN_IF_ERROR(ValidateTagRule(rules[i], IndexPath("rules", i)));
    CompiledRule compiled;
    compiled.kinds = ApplicableKinds(rules[i].condition);
    compiled.needs_keyword = !rules[i].condition.keywords_any.empty();
    compiled.needs_regex = rules[i].condition.regex.has_value();
    compiled.rule = std::move(rules[i]);
    engine->rules_.push_back(std::move(compiled));
  }
  if (engine->rules_.size() > std::numeric_limits<uint32_t>::max() / 2) {
    return core::ResourceExhaustedError("rules: too many rules");
  }
  std::stable_sort(engine->rules_.begin(), engine->rules_.end(),
                   [](const CompiledRule& a, const CompiledRule& b) {
                     if (a.rule.priority != b.rule.priority) {
                       return a.rule.priority > b.rule.priority;
                     }
                     return a.rule.id < b.rule.id;
                   });

  // Index: text rules by pattern, order rules in one list, the rest by kind.
  std::map<std::string, uint32_t> pattern_index;
  std::vector<std::vector<PatternUse>> uses;
  auto add_pattern = [&](std::string pattern, PatternUse use) {
    const auto [it, inserted] =
        pattern_index.emplace(std::move(pattern), static_cast<uint32_t>(uses.size()));
    if (inserted) uses.emplace_back();
    uses[it->second].push_back(use);
  };
  engine->by_kind_.resize(kKindCount);
  for (std::size_t r = 0; r < engine->rules_.size(); ++r) {
    const CompiledRule& compiled = engine->rules_[r];
    const model::RuleCondition& c = compiled.rule.condition;
    const auto rule_index = static_cast<uint32_t>(r);
    if (c.HasText()) {
      for (const std::string& keyword : c.keywords_any) {
        add_pattern(KeywordPattern(keyword), PatternUse{rule_index, false});
      }
      if (c.regex) add_pattern(*c.regex, PatternUse{rule_index, true});
    } else if (c.order) {
      engine->order_rules_.push_back(rule_index);
    } else {
      for (std::size_t k = 0; k < kKindCount; ++k) {
        if ((compiled.kinds & (KindMask{1} << k)) != 0) engine->by_kind_[k].push_back(rule_index);
      }
    }
  }

  if (!pattern_index.empty()) {
    RE2::Options re2_options;
    re2_options.set_log_errors(false);
    re2_options.set_max_mem(options.re2_max_mem_bytes);
    engine->patterns_ = std::make_unique<PatternSet>(re2_options);
    // Set indices must equal our pattern numbers: add in number order.
    std::vector<const std::string*> by_number(uses.size());
    for (const auto& [pattern, number] : pattern_index) by_number[number] = &pattern;
    for (std::size_t p = 0; p < by_number.size(); ++p) {
      std::string error;
      const int index = engine->patterns_->set.Add(*by_number[p], &error);
      if (index != static_cast<int>(p)) {
        // Validation compiled every regex already; only an RE2 limit can land here.
        return core::InvalidArgumentError("rules: pattern \"" + *by_number[p] +
                                          "\" rejected by RE2: " + error);
      }
    }
    if (!engine->patterns_->set.Compile()) {
      return core::ResourceExhaustedError(
          "rules: the keyword and regex patterns exceed the RE2 memory budget (" +
          std::to_string(options.re2_max_mem_bytes >> 20) + " MiB)");
    }
    engine->pattern_count_ = uses.size();
    engine->use_begin_.reserve(uses.size() + 1);
    for (const std::vector<PatternUse>& pattern_uses : uses) {
      engine->use_begin_.push_back(static_cast<uint32_t>(engine->pattern_uses_.size()));
      engine->pattern_uses_.insert(engine->pattern_uses_.end(), pattern_uses.begin(),
                                   pattern_uses.end());
    }
    engine->use_begin_.push_back(static_cast<uint32_t>(engine->pattern_uses_.size()));
  }
  return engine;
}

void RuleEngine::AddTextCandidates(std::string_view text, std::vector<uint32_t>& candidates) const {
  std::vector<int> matched;
  matched.reserve(kExpectedPatternHits);
  RE2::Set::ErrorInfo error{RE2::Set::kNoError};
  if (!patterns_->set.Match(text, &matched, &error)) {
    if (error.kind != RE2::Set::kNoError) {
      text_scan_failures_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  // Rules with both keywords and a regex need one hit of each: collect (rule, role) pairs.
  candidates.reserve(candidates.size() + matched.size() * 2);
  std::vector<uint32_t> both;
  for (const int p : matched) {
    const auto pattern = static_cast<std::size_t>(p);
    for (uint32_t u = use_begin_[pattern]; u < use_begin_[pattern + 1]; ++u) {
      const PatternUse& use = pattern_uses_[u];
      const CompiledRule& rule = rules_[use.rule];
      if (rule.needs_keyword && rule.needs_regex) {
        both.push_back(use.rule * 2 + (use.is_regex ? 1u : 0u));
      } else {
        candidates.push_back(use.rule);
      }
    }
  }
  if (both.empty()) return;
  std::sort(both.begin(), both.end());
  both.erase(std::unique(both.begin(), both.end()), both.end());
  for (std::size_t i = 0; i + 1 < both.size(); ++i) {
    if (both[i] % 2 == 0 && both[i + 1] == both[i] + 1) candidates.push_back(both[i] / 2);
  }
}

bool RuleEngine::ConditionsHold(const CompiledRule& compiled, const model::Interaction& interaction,
                                const model::OrderFacts* order,
                                const WindowCounter& counter) const {
  if ((compiled.kinds & KindBit(interaction.kind)) == 0) return false;
  const model::RuleCondition& c = compiled.rule.condition;
  if (c.qr_scene) {
    const auto* qr = std::get_if<model::QrScenePayload>(&interaction.payload);
    if (qr == nullptr || !c.qr_scene->Matches(qr->scene)) return false;
  }
  if (c.contact_state) {
    const auto* contact = std::get_if<model::ContactChangePayload>(&interaction.payload);
    if (contact == nullptr || !c.contact_state->Matches(contact->state)) return false;
  }
  if (c.menu_key) {
    const auto* menu = std::get_if<model::MenuPayload>(&interaction.payload);
    if (menu == nullptr || menu->event_key != *c.menu_key) return false;
  }
  if (c.link_url) {
    const std::string* url = ClickedUrl(interaction);
    if (url == nullptr || !c.link_url->Matches(*url)) return false;
  }
  if (c.order) {
    if (order == nullptr || !OrderMatches(*c.order, *order)) return false;
  }
  if (c.window_count) {
    // Last: it is the one condition that costs a storage read.
    const int64_t since_ms = WindowStart(interaction.occurred_at_ms, c.window_count->window_days);
    if (counter.CountSince(c.window_count->kinds, since_ms) < c.window_count->min_count) {
      return false;
    }
  }
  return true;
}

std::vector<RuleMatch> RuleEngine::Evaluate(const model::Interaction& interaction,
                                            const model::OrderFacts* order,
                                            const WindowCounter& counter) const {
  std::vector<RuleMatch> matches;
  auto consider = [&](uint32_t r) {
    if (!ConditionsHold(rules_[r], interaction, order, counter)) return;
    const model::TagRule& rule = rules_[r].rule;
    matches.push_back(RuleMatch{rule.id, rule.version, rule.name, rule.actions});
  };
  const auto kind_index = static_cast<std::size_t>(interaction.kind);
  const std::vector<uint32_t>* by_kind =
      kind_index < by_kind_.size() ? &by_kind_[kind_index] : nullptr;
  const std::string* text = nullptr;
  if (patterns_ && interaction.kind == model::InteractionKind::kMessageText) {
    if (const auto* payload = std::get_if<model::TextPayload>(&interaction.payload)) {
      text = &payload->content;
    }
  }
  if (text == nullptr && (order == nullptr || order_rules_.empty())) {
    // An event: its kind's list is already in priority order.
    if (by_kind != nullptr) std::for_each(by_kind->begin(), by_kind->end(), consider);
    return matches;
  }
  // Text hits, the kind's rules and the order rules, merged back into priority order.
  std::vector<uint32_t> candidates;
  candidates.reserve(kExpectedCandidates);
  if (text != nullptr) AddTextCandidates(*text, candidates);
  if (by_kind != nullptr) candidates.insert(candidates.end(), by_kind->begin(), by_kind->end());
  if (order != nullptr) {
    candidates.insert(candidates.end(), order_rules_.begin(), order_rules_.end());
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  matches.reserve(candidates.size());
  std::for_each(candidates.begin(), candidates.end(), consider);
  return matches;
}

}  // namespace scrm::tagger
