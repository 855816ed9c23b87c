#include "src/tagger/rule_validation.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <variant>
#include <vector>

namespace scrm::tagger {
namespace {

using model::InteractionKind;

constexpr KindMask MaskOf(std::initializer_list<InteractionKind> kinds) {
  KindMask mask = 0;
  for (InteractionKind kind : kinds) mask |= KindBit(kind);
  return mask;
}

// The kinds whose payload each condition member reads (see model/interaction.h).
constexpr KindMask kTextKinds = MaskOf({InteractionKind::kMessageText});
constexpr KindMask kQrSceneKinds = MaskOf({InteractionKind::kSubscribe, InteractionKind::kScan});
constexpr KindMask kContactKinds =
    MaskOf({InteractionKind::kContactAdd, InteractionKind::kContactAddHalf,
            InteractionKind::kContactEdit, InteractionKind::kContactDelete,
            InteractionKind::kFollowUserDelete, InteractionKind::kContactTransferFail});
constexpr KindMask kMenuKinds = MaskOf({InteractionKind::kMenuClick, InteractionKind::kMenuView});
constexpr KindMask kLinkKinds = MaskOf({InteractionKind::kMessageLink, InteractionKind::kMenuView});

core::Status FieldError(std::string_view path, std::string_view reason) {
  return core::InvalidArgumentError(std::string(path) + ": " + std::string(reason));
}

std::string RangeText(IntRange range) {
  return "must be in " + std::to_string(range.min) + ".." + std::to_string(range.max);
}

core::Status CheckRange(int64_t value, IntRange range, std::string_view path) {
  if (value < range.min || value > range.max) return FieldError(path, RangeText(range));
  return core::OkStatus();
}

// A bounded UTF-8 string; `required` rejects the empty string.
core::Status CheckText(std::string_view text, std::size_t max_bytes, bool required,
                       std::string_view path) {
  if (required && text.empty()) return FieldError(path, "required");
  if (text.size() > max_bytes) {
    return FieldError(path, "must be at most " + std::to_string(max_bytes) + " bytes");
  }
  if (!IsValidUtf8(text)) return FieldError(path, "must be valid UTF-8");
  return core::OkStatus();
}

// A name shown to people: also free of control characters.
core::Status CheckName(std::string_view text, std::size_t max_bytes, std::string_view path) {
  SCRM_RETURN_IF_ERROR(CheckText(text, max_bytes, /*required=*/true, path));
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return FieldError(path, "must not contain control characters");
  }
  return core::OkStatus();
}

core::Status CheckStringList(const std::vector<std::string>& values, std::size_t max_entries,
                             std::size_t max_bytes, std::string_view path) {
  if (values.size() > max_entries) {
    return FieldError(path, "must have at most " + std::to_string(max_entries) + " entries");
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string entry_path = IndexPath(path, i);
    SCRM_RETURN_IF_ERROR(CheckText(values[i], max_bytes, /*required=*/true, entry_path));
    if (std::find(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values[i]) !=
        values.begin() + static_cast<std::ptrdiff_t>(i)) {
      return FieldError(entry_path, "duplicate \"" + values[i] + "\"");
    }
  }
  return core::OkStatus();
}

core::Status CheckKinds(const std::vector<InteractionKind>& kinds, std::string_view path) {
  if (kinds.size() > kMaxListEntries) {
    return FieldError(path, "must have at most " + std::to_string(kMaxListEntries) + " entries");
  }
  KindMask seen = 0;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const KindMask bit = KindBit(kinds[i]);
    if (bit == 0) return FieldError(IndexPath(path, i), "unknown kind");
    if ((seen & bit) != 0) {
      return FieldError(IndexPath(path, i),
                        "duplicate \"" + std::string(model::KindName(kinds[i])) + "\"");
    }
    seen |= bit;
  }
  return core::OkStatus();
}

core::Status CheckStringMatch(const model::StringMatch& match, std::string_view path) {
  const char* key = match.mode == model::StringMatch::Mode::kEquals ? "equals" : "prefix";
  return CheckText(match.value, kMaxMatchValueBytes, /*required=*/true, FieldPath(path, key));
}

core::Status CheckRegex(const std::string& pattern, std::string_view path) {
  SCRM_RETURN_IF_ERROR(CheckText(pattern, kMaxRegexBytes, /*required=*/true, path));
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 re(pattern, options);
  if (!re.ok()) return FieldError(path, "invalid pattern: " + re.error());
  return core::OkStatus();
}

core::Status CheckOrder(const model::OrderCondition& order, std::string_view path) {
  if (order.sku_any.empty() && order.category_any.empty() && !order.amount_min_cents &&
      !order.amount_max_cents) {
    return FieldError(path,
                      "must have one of sku_any, category_any, amount_min_cents, amount_max_cents");
  }
  SCRM_RETURN_IF_ERROR(CheckStringList(order.sku_any, kMaxListEntries, kMaxMatchValueBytes,
                                       FieldPath(path, "sku_any")));
  SCRM_RETURN_IF_ERROR(CheckStringList(order.category_any, kMaxListEntries, kMaxMatchValueBytes,
                                       FieldPath(path, "category_any")));
  if (order.amount_min_cents) {
    SCRM_RETURN_IF_ERROR(CheckRange(*order.amount_min_cents, kAmountCentsRange,
                                    FieldPath(path, "amount_min_cents")));
  }
  if (order.amount_max_cents) {
    SCRM_RETURN_IF_ERROR(CheckRange(*order.amount_max_cents, kAmountCentsRange,
                                    FieldPath(path, "amount_max_cents")));
  }
  if (order.amount_min_cents && order.amount_max_cents &&
      *order.amount_max_cents < *order.amount_min_cents) {
    return FieldError(FieldPath(path, "amount_max_cents"), "must be >= amount_min_cents");
  }
  return core::OkStatus();
}

core::Status CheckWindow(const model::WindowCountCondition& window, std::string_view path) {
  const std::string kinds_path = FieldPath(path, "kinds");
  if (window.kinds.empty()) return FieldError(kinds_path, "must not be empty");
  SCRM_RETURN_IF_ERROR(CheckKinds(window.kinds, kinds_path));
  SCRM_RETURN_IF_ERROR(CheckRange(window.min_count, kMinCountRange, FieldPath(path, "min_count")));
  return CheckRange(window.window_days, kWindowDaysRange, FieldPath(path, "window_days"));
}

core::Status CheckCondition(const model::RuleCondition& c, std::string_view path) {
  if (!c.HasAny()) return FieldError(path, "must have at least one condition");
  SCRM_RETURN_IF_ERROR(CheckKinds(c.kinds, FieldPath(path, "kinds")));
  SCRM_RETURN_IF_ERROR(CheckStringList(c.keywords_any, kMaxKeywords, kMaxKeywordBytes,
                                       FieldPath(path, "keywords_any")));
  if (c.regex) SCRM_RETURN_IF_ERROR(CheckRegex(*c.regex, FieldPath(path, "regex")));
  if (c.qr_scene) SCRM_RETURN_IF_ERROR(CheckStringMatch(*c.qr_scene, FieldPath(path, "qr_scene")));
  if (c.contact_state) {
    SCRM_RETURN_IF_ERROR(CheckStringMatch(*c.contact_state, FieldPath(path, "contact_state")));
  }
  if (c.menu_key) {
    SCRM_RETURN_IF_ERROR(CheckText(*c.menu_key, kMaxMatchValueBytes, /*required=*/true,
                                   FieldPath(path, "menu_key")));
  }
  if (c.link_url) SCRM_RETURN_IF_ERROR(CheckStringMatch(*c.link_url, FieldPath(path, "link_url")));
  if (c.order) SCRM_RETURN_IF_ERROR(CheckOrder(*c.order, FieldPath(path, "order")));
  if (c.window_count) {
    SCRM_RETURN_IF_ERROR(CheckWindow(*c.window_count, FieldPath(path, "window_count")));
  }
  if (ApplicableKinds(c) == 0) {
    // E.g. kinds ["oa.subscribe"] with keywords: the rule could never fire; say so on save.
    return FieldError(path,
                      "can never match: no interaction kind satisfies every member (kinds, "
                      "keywords_any/regex → message.text, qr_scene → oa.subscribe/oa.scan, "
                      "contact_state → contact.*, menu_key → oa.menu_*, link_url → "
                      "message.link/oa.menu_view)");
  }
  return core::OkStatus();
}

core::Status CheckTag(const model::TagRef& tag, std::string_view path) {
  SCRM_RETURN_IF_ERROR(CheckName(tag.group, kMaxTagNameBytes, FieldPath(path, "group")));
  return CheckName(tag.name, kMaxTagNameBytes, FieldPath(path, "name"));
}

// Checks one action; `path` is "actions[i]".
struct ActionChecker {
  std::string path;

  core::Status operator()(const model::AddTagAction& a) const {
    const std::string base = FieldPath(path, "add_tag");
    SCRM_RETURN_IF_ERROR(CheckTag(a.tag, FieldPath(base, "tag")));
    if (!std::isfinite(a.weight) || a.weight == 0 || std::fabs(a.weight) > kMaxAbsWeight) {
      return FieldError(FieldPath(base, "weight"), "must be non-zero and in -1000..1000");
    }
    return core::OkStatus();
  }
  core::Status operator()(const model::RemoveTagAction& a) const {
    return CheckTag(a.tag, FieldPath(FieldPath(path, "remove_tag"), "tag"));
  }
  core::Status operator()(const model::SetAttributeAction& a) const {
    const std::string base = FieldPath(path, "set_attribute");
    SCRM_RETURN_IF_ERROR(CheckName(a.key, kMaxAttributeKeyBytes, FieldPath(base, "key")));
    return CheckText(a.value, kMaxAttributeValueBytes, /*required=*/false,
                     FieldPath(base, "value"));
  }
  core::Status operator()(const model::SetStageAction& a) const {
    switch (a.stage) {
      case model::LifecycleStage::kEngaged:
      case model::LifecycleStage::kCustomer:
      case model::LifecycleStage::kRepeat:
      case model::LifecycleStage::kAtRisk:
      case model::LifecycleStage::kLost: return core::OkStatus();
      case model::LifecycleStage::kNew: break;  // only a first interaction makes a customer new
    }
    return FieldError(FieldPath(FieldPath(path, "set_stage"), "stage"),
                      "must be one of engaged, customer, repeat, at_risk, lost");
  }
  core::Status operator()(const model::CreateTaskAction& a) const {
    const std::string base = FieldPath(path, "create_task");
    SCRM_RETURN_IF_ERROR(CheckName(a.title, kMaxTaskTitleBytes, FieldPath(base, "title")));
    return CheckRange(a.due_in_hours, kDueInHoursRange, FieldPath(base, "due_in_hours"));
  }
};

}  // namespace

KindMask ApplicableKinds(const model::RuleCondition& c) {
  KindMask mask = kAllKinds;
  if (!c.kinds.empty()) {
    KindMask listed = 0;
    for (InteractionKind kind : c.kinds) listed |= KindBit(kind);
    mask &= listed;
  }
  if (c.HasText()) mask &= kTextKinds;
  if (c.qr_scene) mask &= kQrSceneKinds;
  if (c.contact_state) mask &= kContactKinds;
  if (c.menu_key) mask &= kMenuKinds;
  if (c.link_url) mask &= kLinkKinds;
  const bool only_window = c.window_count && c.kinds.empty() && !c.HasText() && !c.qr_scene &&
                           !c.contact_state && !c.menu_key && !c.link_url && !c.order;
  if (only_window) {
    // The count changes only when an interaction it counts arrives.
    KindMask counted = 0;
    for (InteractionKind kind : c.window_count->kinds) counted |= KindBit(kind);
    mask &= counted;
  }
  return mask;
}

core::Status ValidateTagRule(const model::TagRule& rule, std::string_view path) {
  SCRM_RETURN_IF_ERROR(CheckRange(rule.id, kIdRange, FieldPath(path, "id")));
  SCRM_RETURN_IF_ERROR(CheckRange(rule.version, kVersionRange, FieldPath(path, "version")));
  SCRM_RETURN_IF_ERROR(CheckName(rule.name, kMaxRuleNameBytes, FieldPath(path, "name")));
  SCRM_RETURN_IF_ERROR(CheckText(rule.description, kMaxDescriptionBytes, /*required=*/false,
                                 FieldPath(path, "description")));
  SCRM_RETURN_IF_ERROR(CheckRange(rule.priority, kPriorityRange, FieldPath(path, "priority")));
  SCRM_RETURN_IF_ERROR(CheckCondition(rule.condition, FieldPath(path, "condition")));
  const std::string actions_path = FieldPath(path, "actions");
  if (rule.actions.empty()) return FieldError(actions_path, "must not be empty");
  if (rule.actions.size() > kMaxActions) {
    return FieldError(actions_path,
                      "must have at most " + std::to_string(kMaxActions) + " entries");
  }
  for (std::size_t i = 0; i < rule.actions.size(); ++i) {
    SCRM_RETURN_IF_ERROR(std::visit(ActionChecker{IndexPath(actions_path, i)}, rule.actions[i]));
  }
  return core::OkStatus();
}

std::string FieldPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out;
  out.reserve(parent.size() + 1 + key.size());
  out.append(parent).append(".").append(key);
  return out;
}

std::string IndexPath(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;  // continuation byte, C0/C1 overlong lead, or above U+10FFFF
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace scrm::tagger
