// RuleEngine: a compiled, immutable set of tag rules that says which rules an interaction
// matches. Every rule's keywords and regex live in ONE RE2::Set, so a message text is scanned
// once whatever the number of rules; rules without text are indexed by interaction kind, so an
// event only looks at the rules that can apply to its kind.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/status.h"
#include "src/model/interaction.h"
#include "src/model/tag_rule.h"

namespace scrm::tagger {

// Counts one customer's interactions over a time window, for window_count conditions. The
// profile service implements it over storage for the customer being evaluated.
class WindowCounter {
 public:
  virtual ~WindowCounter() = default;
  // The customer's interactions whose kind is in `kinds` (never empty) and whose
  // occurred_at_ms >= since_ms, the interaction being evaluated included (whether or not it is
  // stored yet). Called only for rules whose other conditions already matched.
  virtual int64_t CountSince(std::span<const model::InteractionKind> kinds,
                             int64_t since_ms) const = 0;
};

// One matched rule. The name and actions are views into the engine: valid while the engine
// that returned them lives (hold the engine, e.g. its shared_ptr, while applying them).
struct RuleMatch {
  int64_t rule_id = 0;
  int rule_version = 0;
  std::string_view rule_name;
  std::span<const model::RuleAction> actions;
};

struct RuleEngineOptions {
  // RE2 memory budget of the set: its compiled program plus the DFA cache that matching fills
  // (shared by all threads). Too small a budget fails Compile (ResourceExhausted) or, under
  // pathological text, a scan (see text_scan_failures()).
  int64_t re2_max_mem_bytes = int64_t{256} << 20;
};

// Immutable after Compile. Thread-safe: Evaluate is const and reentrant, any number of threads
// may call it at once (RE2::Set::Match is thread-safe).
class RuleEngine {
 public:
  // Validates every enabled rule (ValidateTagRule, errors prefixed "rules[i]" with i the index
  // in `rules`), skips disabled ones, and compiles the text patterns into one RE2::Set:
  // keywords literal (RE2::QuoteMeta), case-insensitive when they hold an ASCII letter; regexes
  // as written (UTF-8, unanchored). Identical patterns are compiled once and shared.
  // InvalidArgument for an invalid rule, ResourceExhausted when the set exceeds the budget.
  static core::StatusOr<std::unique_ptr<RuleEngine>> Compile(std::vector<model::TagRule> rules,
                                                             const RuleEngineOptions& options = {});

  ~RuleEngine();
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  // The rules `interaction` matches, highest priority first (equal priorities by ascending id).
  // `order` carries the order facts when the interaction reports an order (rules with an order
  // condition match only then); nullptr otherwise. Keyword and regex conditions read
  // TextPayload.content of a message.text and never match other kinds. `counter` is asked only
  // for rules with a window_count whose other conditions hold, with
  // since_ms = interaction.occurred_at_ms - window_days * 86,400,000.
  std::vector<RuleMatch> Evaluate(const model::Interaction& interaction,
                                  const model::OrderFacts* order,
                                  const WindowCounter& counter) const;

  // Enabled rules compiled; distinct patterns in the set.
  std::size_t rule_count() const;
  std::size_t pattern_count() const { return pattern_count_; }
  // Message scans that the RE2 DFA gave up on (out of memory): their text conditions did not
  // match. Zero unless re2_max_mem_bytes is far too small; export it as a metric.
  int64_t text_scan_failures() const { return text_scan_failures_.load(std::memory_order_relaxed); }

 private:
  struct CompiledRule;
  struct PatternUse;
  class PatternSet;

  RuleEngine();
  bool ConditionsHold(const CompiledRule& rule, const model::Interaction& interaction,
                      const model::OrderFacts* order, const WindowCounter& counter) const;
  void AddTextCandidates(std::string_view text, std::vector<uint32_t>& candidates) const;

  std::vector<CompiledRule> rules_;  // priority order
  // by_kind_[k]: rules without text or order conditions that can apply to kind k (ascending).
  std::vector<std::vector<uint32_t>> by_kind_;
  std::vector<uint32_t> order_rules_;  // rules with an order condition and no text (ascending)
  std::unique_ptr<PatternSet> patterns_;
  // pattern_uses_[use_begin_[p] .. use_begin_[p + 1]) are the rules that use set pattern p.
  std::vector<PatternUse> pattern_uses_;
  std::vector<uint32_t> use_begin_;
  std::size_t pattern_count_ = 0;
  mutable std::atomic<int64_t> text_scan_failures_{0};
};

}  // namespace scrm::tagger
