// Validation of a model::TagRule: the limits and consistency checks every rule passes before it
// is stored or compiled, with errors that name the field ("condition.regex: invalid pattern:
// ..."). Shared by the JSON parser (rule_json.h) and the engine (rule_engine.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "src/core/status.h"
#include "src/model/interaction.h"
#include "src/model/tag_rule.h"

namespace scrm::tagger {

// A set of interaction kinds: bit i stands for the InteractionKind whose value is i.
using KindMask = uint64_t;
inline constexpr std::size_t kKindCount =
    static_cast<std::size_t>(model::InteractionKind::kOtherEvent) + 1;
static_assert(kKindCount <= 64, "KindMask holds one bit per InteractionKind");
inline constexpr KindMask kAllKinds =
    kKindCount == 64 ? ~KindMask{0} : (KindMask{1} << kKindCount) - 1;

constexpr KindMask KindBit(model::InteractionKind kind) {
  const auto index = static_cast<std::size_t>(kind);
  return index < kKindCount ? KindMask{1} << index : 0;
}

// The interaction kinds on which every member of `condition` can hold: `kinds` when given,
// narrowed by the kinds whose payload each other member reads (text → message.text, qr_scene →
// oa.subscribe/oa.scan, contact_state → contact.*, menu_key → oa.menu_click/oa.menu_view,
// link_url → message.link/oa.menu_view). A rule with only a window_count applies to the kinds it
// counts. An order condition does not narrow (order facts come next to any interaction).
KindMask ApplicableKinds(const model::RuleCondition& condition);

// Inclusive integer ranges, shared by the parser and the validator so that both say the same.
struct IntRange {
  int64_t min = 0;
  int64_t max = 0;
};
inline constexpr IntRange kIdRange{0, std::numeric_limits<int64_t>::max()};
inline constexpr IntRange kVersionRange{1, std::numeric_limits<int32_t>::max()};
inline constexpr IntRange kPriorityRange{-1000000, 1000000};
inline constexpr IntRange kWindowDaysRange{1, 365};
inline constexpr IntRange kMinCountRange{1, 100000};
inline constexpr IntRange kDueInHoursRange{0, 8760};               // up to a year
inline constexpr IntRange kAmountCentsRange{0, 1000000000000000};  // 10^13 CNY
inline constexpr double kMaxAbsWeight = 1000;

// Limits in bytes of UTF-8 (a Chinese character is 3 bytes) and in entries.
inline constexpr std::size_t kMaxRuleNameBytes = 128;
inline constexpr std::size_t kMaxDescriptionBytes = 2000;
inline constexpr std::size_t kMaxTagNameBytes = 64;  // group and name
inline constexpr std::size_t kMaxKeywords = 200;
inline constexpr std::size_t kMaxKeywordBytes = 100;
inline constexpr std::size_t kMaxRegexBytes = 1024;
inline constexpr std::size_t kMaxMatchValueBytes = 512;  // scene, state, menu key, url, sku
inline constexpr std::size_t kMaxListEntries = 200;      // kinds, skus, categories
inline constexpr std::size_t kMaxActions = 32;
inline constexpr std::size_t kMaxAttributeKeyBytes = 64;
inline constexpr std::size_t kMaxAttributeValueBytes = 1024;
inline constexpr std::size_t kMaxTaskTitleBytes = 256;

// OK, or InvalidArgument "<path>.<field>: <reason>" for the first problem found. `path` is the
// rule's own path ("rules[3]"), empty for a lone rule. Compiles the regex (RE2, UTF-8) to check
// it. Thread-safe.
core::Status ValidateTagRule(const model::TagRule& rule, std::string_view path = {});

// ("", "name") → "name"; ("rules[3]", "name") → "rules[3].name".
std::string FieldPath(std::string_view parent, std::string_view key);
// ("actions", 2) → "actions[2]".
std::string IndexPath(std::string_view parent, std::size_t index);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace scrm::tagger
