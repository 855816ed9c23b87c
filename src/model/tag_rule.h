// Tag rules as values: what a rule matches (RuleCondition), what it does (RuleAction), the
// order facts an order interaction carries, and the lifecycle stages a rule or the lifecycle
// rules can move a customer to. Parsed and validated by src/tagger/rule_json.h, evaluated by
// src/tagger/rule_engine.h; plain data here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "src/model/interaction.h"

namespace scrm::model {

// A tag inside its group ("兴趣" / "产品A"). Both names are UTF-8 and may be Chinese.
struct TagRef {
  std::string group;
  std::string name;

  friend bool operator==(const TagRef&, const TagRef&) = default;
};

// Where a customer is in the relationship; the rules that move it are in docs/tagging.md.
enum class LifecycleStage { kNew, kEngaged, kCustomer, kRepeat, kAtRisk, kLost };

// "new" | "engaged" | "customer" | "repeat" | "at_risk" | "lost". Stable: stored and in the API.
std::string_view LifecycleStageName(LifecycleStage stage);
std::optional<LifecycleStage> ParseLifecycleStage(std::string_view name);

// Compares a platform string with a configured value.
struct StringMatch {
  enum class Mode { kEquals, kPrefix };
  Mode mode = Mode::kEquals;
  std::string value;

  bool Matches(std::string_view text) const;
  friend bool operator==(const StringMatch&, const StringMatch&) = default;
};

// The facts of one order, handed to the engine next to the interaction that reports it (the
// order bridge fills it). Amounts are in the smallest currency unit (fen for CNY).
struct OrderFacts {
  std::string order_id;
  std::vector<std::string> skus;
  std::vector<std::string> categories;
  int64_t amount_cents = 0;  // order total, after discounts
  std::string currency = "CNY";
  bool paid = false;

  friend bool operator==(const OrderFacts&, const OrderFacts&) = default;
};

// Conditions on an order; every set member must hold. Absent bounds do not limit.
struct OrderCondition {
  std::vector<std::string> sku_any;         // one of the order's SKUs is in this list
  std::vector<std::string> category_any;    // one of the order's categories is in this list
  std::optional<int64_t> amount_min_cents;  // amount_cents >= min
  std::optional<int64_t> amount_max_cents;  // amount_cents <= max

  friend bool operator==(const OrderCondition&, const OrderCondition&) = default;
};

// "at least min_count interactions of these kinds in the last window_days days", the current
// interaction included.
struct WindowCountCondition {
  std::vector<InteractionKind> kinds;
  int64_t min_count = 1;
  int window_days = 7;

  friend bool operator==(const WindowCountCondition&, const WindowCountCondition&) = default;
};

// What a rule matches. Every member that is set must hold (AND); a rule needs at least one.
struct RuleCondition {
  std::vector<InteractionKind> kinds;        // the interaction's kind is one of these
  std::vector<std::string> keywords_any;     // message.text contains one of these (substring)
  std::optional<std::string> regex;          // message.text matches this RE2 pattern (unanchored)
  std::optional<StringMatch> qr_scene;       // QrScenePayload.scene (oa.subscribe, oa.scan)
  std::optional<StringMatch> contact_state;  // ContactChangePayload.state (contact.*)
  std::optional<std::string> menu_key;       // MenuPayload.event_key equals (oa.menu_*)
  // The clicked URL: LinkPayload.url (message.link) or MenuPayload.event_key of oa.menu_view.
  std::optional<StringMatch> link_url;
  std::optional<OrderCondition> order;  // matches only when the engine is given OrderFacts
  std::optional<WindowCountCondition> window_count;

  // True when the condition reads the message text (keywords or regex).
  bool HasText() const { return !keywords_any.empty() || regex.has_value(); }
  // True when at least one member is set.
  bool HasAny() const {
    return !kinds.empty() || HasText() || qr_scene || contact_state || menu_key || link_url ||
           order || window_count;
  }
  friend bool operator==(const RuleCondition&, const RuleCondition&) = default;
};

// Actions. Weight is added to the tag's decayed score (src/tagger/scoring.h).
struct AddTagAction {
  TagRef tag;
  double weight = 1.0;
  friend bool operator==(const AddTagAction&, const AddTagAction&) = default;
};
struct RemoveTagAction {
  TagRef tag;
  friend bool operator==(const RemoveTagAction&, const RemoveTagAction&) = default;
};
struct SetAttributeAction {
  std::string key;
  std::string value;
  friend bool operator==(const SetAttributeAction&, const SetAttributeAction&) = default;
};
struct SetStageAction {
  LifecycleStage stage = LifecycleStage::kEngaged;
  friend bool operator==(const SetStageAction&, const SetStageAction&) = default;
};
// A follow-up task for the customer's owner (the staff member who follows the customer).
struct CreateTaskAction {
  std::string title;
  int due_in_hours = 24;
  friend bool operator==(const CreateTaskAction&, const CreateTaskAction&) = default;
};

using RuleAction = std::variant<AddTagAction, RemoveTagAction, SetAttributeAction, SetStageAction,
                                CreateTaskAction>;

// "add_tag" | "remove_tag" | "set_attribute" | "set_stage" | "create_task": the JSON key.
std::string_view RuleActionName(const RuleAction& action);

// One rule. id 0 means "not stored yet"; storage assigns ids and bumps version on update.
struct TagRule {
  int64_t id = 0;
  int version = 1;
  std::string name;
  std::string description;
  bool enabled = true;
  int priority = 0;  // higher runs first; equal priorities run by ascending id
  RuleCondition condition;
  std::vector<RuleAction> actions;

  friend bool operator==(const TagRule&, const TagRule&) = default;
};

}  // namespace scrm::model
