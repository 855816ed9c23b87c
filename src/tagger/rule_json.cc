// Rule JSON: a strict reader (every member typed and known, errors carry the field path) that
// builds a TagRule and then runs ValidateTagRule on it, and the matching writer.
#include "src/tagger/rule_json.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_set>
#include <utility>
#include <variant>

#include "src/core/strings.h"
#include "src/tagger/rule_validation.h"

namespace scrm::tagger {
namespace {

using model::InteractionKind;
using nlohmann::json;

core::Status FieldError(std::string_view path, std::string_view reason) {
  return core::InvalidArgumentError(std::string(path) + ": " + std::string(reason));
}

// A member name from untrusted JSON, made safe for a one-line message.
std::string PrintableKey(std::string_view key) {
  constexpr std::size_t kMaxShown = 64;
  return core::Printable(key, kMaxShown);
}

// `json` must be an object whose members are all in `allowed`.
core::Status CheckObject(const json& j, std::string_view path,
                         std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) return FieldError(path, "must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return FieldError(FieldPath(path, PrintableKey(it.key())), "unknown key");
    }
  }
  return core::OkStatus();
}

// The member `key` of an object, or nullptr when it is missing or null.
const json* Member(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

core::StatusOr<std::string> ReadString(const json& j, std::string_view path) {
  if (!j.is_string()) return FieldError(path, "must be a string");
  return j.get<std::string>();
}

core::StatusOr<bool> ReadBool(const json& j, std::string_view path) {
  if (!j.is_boolean()) return FieldError(path, "must be true or false");
  return j.get<bool>();
}

core::StatusOr<double> ReadNumber(const json& j, std::string_view path) {
  if (!j.is_number()) return FieldError(path, "must be a number");
  return j.get<double>();
}

core::StatusOr<int64_t> ReadInt(const json& j, std::string_view path, IntRange range) {
  const std::string range_text =
      "must be in " + std::to_string(range.min) + ".." + std::to_string(range.max);
  if (!j.is_number_integer()) return FieldError(path, "must be an integer");
  if (j.is_number_unsigned() &&
      j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return FieldError(path, range_text);
  }
  const auto value = j.get<int64_t>();
  if (value < range.min || value > range.max) return FieldError(path, range_text);
  return value;
}

// An int field whose range fits in int.
core::StatusOr<int> ReadSmallInt(const json& j, std::string_view path, IntRange range) {
  SCRM_ASSIGN_OR_RETURN(const int64_t value, ReadInt(j, path, range));
  return static_cast<int>(value);
}

core::StatusOr<std::vector<std::string>> ReadStringArray(const json& j, std::string_view path) {
  if (!j.is_array()) return FieldError(path, "must be an array of strings");
  std::vector<std::string> out;
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    SCRM_ASSIGN_OR_RETURN(std::string value, ReadString(j[i], IndexPath(path, i)));
    out.push_back(std::move(value));
  }
  return out;
}

core::StatusOr<std::vector<InteractionKind>> ReadKinds(const json& j, std::string_view path) {
  if (!j.is_array()) return FieldError(path, "must be an array of interaction kinds");
  std::vector<InteractionKind> out;
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string entry_path = IndexPath(path, i);
    SCRM_ASSIGN_OR_RETURN(const std::string name, ReadString(j[i], entry_path));
    const std::optional<InteractionKind> kind = model::ParseKind(name);
    if (!kind) {
      return FieldError(entry_path, "unknown interaction kind \"" + PrintableKey(name) +
                                        "\" (e.g. \"message.text\", \"oa.subscribe\")");
    }
    out.push_back(*kind);
  }
  return out;
}

// {"equals": "..."} or {"prefix": "..."}.
core::StatusOr<model::StringMatch> ReadStringMatch(const json& j, std::string_view path) {
  SCRM_RETURN_IF_ERROR(CheckObject(j, path, {"equals", "prefix"}));
  const json* equals = Member(j, "equals");
  const json* prefix = Member(j, "prefix");
  if ((equals == nullptr) == (prefix == nullptr)) {
    return FieldError(path, "must have exactly one of equals, prefix");
  }
  model::StringMatch match;
  match.mode =
      equals != nullptr ? model::StringMatch::Mode::kEquals : model::StringMatch::Mode::kPrefix;
  const char* key = equals != nullptr ? "equals" : "prefix";
  SCRM_ASSIGN_OR_RETURN(match.value,
                        ReadString(equals != nullptr ? *equals : *prefix, FieldPath(path, key)));
  return match;
}

core::StatusOr<model::OrderCondition> ReadOrder(const json& j, std::string_view path) {
  SCRM_RETURN_IF_ERROR(
      CheckObject(j, path, {"sku_any", "category_any", "amount_min_cents", "amount_max_cents"}));
  model::OrderCondition order;
  if (const json* m = Member(j, "sku_any")) {
    SCRM_ASSIGN_OR_RETURN(order.sku_any, ReadStringArray(*m, FieldPath(path, "sku_any")));
  }
  if (const json* m = Member(j, "category_any")) {
    SCRM_ASSIGN_OR_RETURN(order.category_any, ReadStringArray(*m, FieldPath(path, "category_any")));
  }
  if (const json* m = Member(j, "amount_min_cents")) {
    SCRM_ASSIGN_OR_RETURN(order.amount_min_cents,
                          ReadInt(*m, FieldPath(path, "amount_min_cents"), kAmountCentsRange));
  }
  if (const json* m = Member(j, "amount_max_cents")) {
    SCRM_ASSIGN_OR_RETURN(order.amount_max_cents,
                          ReadInt(*m, FieldPath(path, "amount_max_cents"), kAmountCentsRange));
  }
  return order;
}

core::StatusOr<model::WindowCountCondition> ReadWindow(const json& j, std::string_view path) {
  SCRM_RETURN_IF_ERROR(CheckObject(j, path, {"kinds", "min_count", "window_days"}));
  model::WindowCountCondition window;
  if (const json* m = Member(j, "kinds")) {
    SCRM_ASSIGN_OR_RETURN(window.kinds, ReadKinds(*m, FieldPath(path, "kinds")));
  }
  if (const json* m = Member(j, "min_count")) {
    SCRM_ASSIGN_OR_RETURN(window.min_count,
                          ReadInt(*m, FieldPath(path, "min_count"), kMinCountRange));
  }
  if (const json* m = Member(j, "window_days")) {
    SCRM_ASSIGN_OR_RETURN(window.window_days,
                          ReadSmallInt(*m, FieldPath(path, "window_days"), kWindowDaysRange));
  }
  return window;
}

core::StatusOr<model::RuleCondition> ReadCondition(const json& j, std::string_view path) {
  SCRM_RETURN_IF_ERROR(CheckObject(j, path,
                                   {"kinds", "keywords_any", "regex", "qr_scene", "contact_state",
                                    "menu_key", "link_url", "order", "window_count"}));
  model::RuleCondition c;
  if (const json* m = Member(j, "kinds")) {
    SCRM_ASSIGN_OR_RETURN(c.kinds, ReadKinds(*m, FieldPath(path, "kinds")));
  }
  if (const json* m = Member(j, "keywords_any")) {
    SCRM_ASSIGN_OR_RETURN(c.keywords_any, ReadStringArray(*m, FieldPath(path, "keywords_any")));
  }
  if (const json* m = Member(j, "regex")) {
    SCRM_ASSIGN_OR_RETURN(c.regex, ReadString(*m, FieldPath(path, "regex")));
  }
  if (const json* m = Member(j, "qr_scene")) {
    SCRM_ASSIGN_OR_RETURN(c.qr_scene, ReadStringMatch(*m, FieldPath(path, "qr_scene")));
  }
  if (const json* m = Member(j, "contact_state")) {
    SCRM_ASSIGN_OR_RETURN(c.contact_state, ReadStringMatch(*m, FieldPath(path, "contact_state")));
  }
  if (const json* m = Member(j, "menu_key")) {
    SCRM_ASSIGN_OR_RETURN(c.menu_key, ReadString(*m, FieldPath(path, "menu_key")));
  }
  if (const json* m = Member(j, "link_url")) {
    SCRM_ASSIGN_OR_RETURN(c.link_url, ReadStringMatch(*m, FieldPath(path, "link_url")));
  }
  if (const json* m = Member(j, "order")) {
    SCRM_ASSIGN_OR_RETURN(c.order, ReadOrder(*m, FieldPath(path, "order")));
  }
  if (const json* m = Member(j, "window_count")) {
    SCRM_ASSIGN_OR_RETURN(c.window_count, ReadWindow(*m, FieldPath(path, "window_count")));
  }
  return c;
}

core::StatusOr<model::TagRef> ReadTag(const json& j, std::string_view path) {
  SCRM_RETURN_IF_ERROR(CheckObject(j, path, {"group", "name"}));
  model::TagRef tag;
  if (const json* m = Member(j, "group")) {
    SCRM_ASSIGN_OR_RETURN(tag.group, ReadString(*m, FieldPath(path, "group")));
  }
  if (const json* m = Member(j, "name")) {
    SCRM_ASSIGN_OR_RETURN(tag.name, ReadString(*m, FieldPath(path, "name")));
  }
  return tag;
}

// The tag of add_tag / remove_tag; a missing tag is reported on its fields.
core::StatusOr<model::TagRef> ReadActionTag(const json& j, std::string_view path) {
  const std::string tag_path = FieldPath(path, "tag");
  const json* m = Member(j, "tag");
  if (m == nullptr) return FieldError(tag_path, "required");
  return ReadTag(*m, tag_path);
}

core::StatusOr<model::RuleAction> ReadAction(const json& j, std::string_view path) {
  SCRM_RETURN_IF_ERROR(
      CheckObject(j, path, {"add_tag", "remove_tag", "set_attribute", "set_stage", "create_task"}));
  if (j.size() != 1) {
    return FieldError(path,
                      "must have exactly one of add_tag, remove_tag, set_attribute, set_stage, "
                      "create_task");
  }
  const std::string name = j.begin().key();
  const json& body = j.begin().value();
  const std::string body_path = FieldPath(path, name);
  if (name == "add_tag") {
    SCRM_RETURN_IF_ERROR(CheckObject(body, body_path, {"tag", "weight"}));
    model::AddTagAction a;
    SCRM_ASSIGN_OR_RETURN(a.tag, ReadActionTag(body, body_path));
    if (const json* m = Member(body, "weight")) {
      SCRM_ASSIGN_OR_RETURN(a.weight, ReadNumber(*m, FieldPath(body_path, "weight")));
    }
    return model::RuleAction(std::move(a));
  }
  if (name == "remove_tag") {
    SCRM_RETURN_IF_ERROR(CheckObject(body, body_path, {"tag"}));
    model::RemoveTagAction a;
    SCRM_ASSIGN_OR_RETURN(a.tag, ReadActionTag(body, body_path));
    return model::RuleAction(std::move(a));
  }
  if (name == "set_attribute") {
    SCRM_RETURN_IF_ERROR(CheckObject(body, body_path, {"key", "value"}));
    model::SetAttributeAction a;
    if (const json* m = Member(body, "key")) {
      SCRM_ASSIGN_OR_RETURN(a.key, ReadString(*m, FieldPath(body_path, "key")));
    }
    if (const json* m = Member(body, "value")) {
      SCRM_ASSIGN_OR_RETURN(a.value, ReadString(*m, FieldPath(body_path, "value")));
    }
    return model::RuleAction(std::move(a));
  }
  if (name == "set_stage") {
    SCRM_RETURN_IF_ERROR(CheckObject(body, body_path, {"stage"}));
    const std::string stage_path = FieldPath(body_path, "stage");
    const json* m = Member(body, "stage");
    if (m == nullptr) return FieldError(stage_path, "required");
    SCRM_ASSIGN_OR_RETURN(const std::string stage_name, ReadString(*m, stage_path));
    const std::optional<model::LifecycleStage> stage = model::ParseLifecycleStage(stage_name);
    if (!stage) {
      return FieldError(stage_path, "unknown stage \"" + PrintableKey(stage_name) +
                                        "\" (engaged, customer, repeat, at_risk, lost)");
    }
    return model::RuleAction(model::SetStageAction{*stage});
  }
  // create_task (CheckObject allowed nothing else).
  SCRM_RETURN_IF_ERROR(CheckObject(body, body_path, {"title", "due_in_hours"}));
  model::CreateTaskAction a;
  if (const json* m = Member(body, "title")) {
    SCRM_ASSIGN_OR_RETURN(a.title, ReadString(*m, FieldPath(body_path, "title")));
  }
  if (const json* m = Member(body, "due_in_hours")) {
    SCRM_ASSIGN_OR_RETURN(a.due_in_hours,
                          ReadSmallInt(*m, FieldPath(body_path, "due_in_hours"), kDueInHoursRange));
  }
  return model::RuleAction(std::move(a));
}

// The rule without ValidateTagRule.
core::StatusOr<model::TagRule> ReadRule(const json& j, std::string_view path) {
  const std::string object_path = path.empty() ? std::string("rule") : std::string(path);
  if (!j.is_object()) return FieldError(object_path, "must be an object");
  SCRM_RETURN_IF_ERROR(CheckObject(
      j, path,
      {"id", "version", "name", "description", "enabled", "priority", "condition", "actions"}));
  model::TagRule rule;
  if (const json* m = Member(j, "id")) {
    SCRM_ASSIGN_OR_RETURN(rule.id, ReadInt(*m, FieldPath(path, "id"), kIdRange));
  }
  if (const json* m = Member(j, "version")) {
    SCRM_ASSIGN_OR_RETURN(rule.version,
                          ReadSmallInt(*m, FieldPath(path, "version"), kVersionRange));
  }
  if (const json* m = Member(j, "name")) {
    SCRM_ASSIGN_OR_RETURN(rule.name, ReadString(*m, FieldPath(path, "name")));
  }
  if (const json* m = Member(j, "description")) {
    SCRM_ASSIGN_OR_RETURN(rule.description, ReadString(*m, FieldPath(path, "description")));
  }
  if (const json* m = Member(j, "enabled")) {
    SCRM_ASSIGN_OR_RETURN(rule.enabled, ReadBool(*m, FieldPath(path, "enabled")));
  }
  if (const json* m = Member(j, "priority")) {
    SCRM_ASSIGN_OR_RETURN(rule.priority,
                          ReadSmallInt(*m, FieldPath(path, "priority"), kPriorityRange));
  }
  if (const json* m = Member(j, "condition")) {
    SCRM_ASSIGN_OR_RETURN(rule.condition, ReadCondition(*m, FieldPath(path, "condition")));
  }
  if (const json* m = Member(j, "actions")) {
    const std::string actions_path = FieldPath(path, "actions");
    if (!m->is_array()) return FieldError(actions_path, "must be an array");
    if (m->size() > kMaxActions) {
      return FieldError(actions_path,
                        "must have at most " + std::to_string(kMaxActions) + " entries");
    }
    for (std::size_t i = 0; i < m->size(); ++i) {
      SCRM_ASSIGN_OR_RETURN(model::RuleAction action,
                            ReadAction((*m)[i], IndexPath(actions_path, i)));
      rule.actions.push_back(std::move(action));
    }
  }
  return rule;
}

// The one wrapper around nlohmann's parser, which reports errors by exception.
core::StatusOr<json> ParseJsonText(std::string_view text) {
  if (text.size() > kMaxRulesJsonBytes) {
    return core::InvalidArgumentError("rule JSON: larger than " +
                                      std::to_string(kMaxRulesJsonBytes >> 20) + " MiB");
  }
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return core::InvalidArgumentError(std::string("rule JSON: ") + e.what());
  }
}

json StringMatchToJson(const model::StringMatch& match) {
  const char* key = match.mode == model::StringMatch::Mode::kEquals ? "equals" : "prefix";
  return json{{key, match.value}};
}

json KindsToJson(const std::vector<InteractionKind>& kinds) {
  json out = json::array();
  for (InteractionKind kind : kinds) out.push_back(std::string(model::KindName(kind)));
  return out;
}

json TagToJson(const model::TagRef& tag) { return json{{"group", tag.group}, {"name", tag.name}}; }

struct ActionToJsonVisitor {
  json operator()(const model::AddTagAction& a) const {
    return json{{"add_tag", {{"tag", TagToJson(a.tag)}, {"weight", a.weight}}}};
  }
  json operator()(const model::RemoveTagAction& a) const {
    return json{{"remove_tag", {{"tag", TagToJson(a.tag)}}}};
  }
  json operator()(const model::SetAttributeAction& a) const {
    return json{{"set_attribute", {{"key", a.key}, {"value", a.value}}}};
  }
  json operator()(const model::SetStageAction& a) const {
    return json{{"set_stage", {{"stage", std::string(model::LifecycleStageName(a.stage))}}}};
  }
  json operator()(const model::CreateTaskAction& a) const {
    return json{{"create_task", {{"title", a.title}, {"due_in_hours", a.due_in_hours}}}};
  }
};

json ConditionToJson(const model::RuleCondition& c) {
  json out = json::object();
  if (!c.kinds.empty()) out["kinds"] = KindsToJson(c.kinds);
  if (!c.keywords_any.empty()) out["keywords_any"] = c.keywords_any;
  if (c.regex) out["regex"] = *c.regex;
  if (c.qr_scene) out["qr_scene"] = StringMatchToJson(*c.qr_scene);
  if (c.contact_state) out["contact_state"] = StringMatchToJson(*c.contact_state);
  if (c.menu_key) out["menu_key"] = *c.menu_key;
  if (c.link_url) out["link_url"] = StringMatchToJson(*c.link_url);
  if (c.order) {
    json order = json::object();
    if (!c.order->sku_any.empty()) order["sku_any"] = c.order->sku_any;
    if (!c.order->category_any.empty()) order["category_any"] = c.order->category_any;
    if (c.order->amount_min_cents) order["amount_min_cents"] = *c.order->amount_min_cents;
    if (c.order->amount_max_cents) order["amount_max_cents"] = *c.order->amount_max_cents;
    out["order"] = std::move(order);
  }
  if (c.window_count) {
    out["window_count"] = {{"kinds", KindsToJson(c.window_count->kinds)},
                           {"min_count", c.window_count->min_count},
                           {"window_days", c.window_count->window_days}};
  }
  return out;
}

}  // namespace

core::StatusOr<model::TagRule> TagRuleFromJson(const json& j, std::string_view path) {
  SCRM_ASSIGN_OR_RETURN(model::TagRule rule, ReadRule(j, path));
  SCRM_RETURN_IF_ERROR(ValidateTagRule(rule, path));
  return rule;
}

core::StatusOr<model::TagRule> ParseTagRule(std::string_view text) {
  SCRM_ASSIGN_OR_RETURN(const json j, ParseJsonText(text));
  return TagRuleFromJson(j);
}

core::StatusOr<std::vector<model::TagRule>> TagRulesFromJson(const json& j) {
  if (!j.is_object()) return FieldError("rules file", "must be an object with a \"rules\" array");
  SCRM_RETURN_IF_ERROR(CheckObject(j, "", {"rules"}));
  const json* rules_json = Member(j, "rules");
  if (rules_json == nullptr) return FieldError("rules", "required");
  if (!rules_json->is_array()) return FieldError("rules", "must be an array");
  if (rules_json->size() > kMaxRulesPerFile) {
    return FieldError("rules", "must have at most " + std::to_string(kMaxRulesPerFile) + " rules");
  }
  std::vector<model::TagRule> rules;
  rules.reserve(rules_json->size());
  std::unordered_set<int64_t> ids;
  for (std::size_t i = 0; i < rules_json->size(); ++i) {
    const std::string path = IndexPath("rules", i);
    SCRM_ASSIGN_OR_RETURN(model::TagRule rule, TagRuleFromJson((*rules_json)[i], path));
    if (rule.id != 0 && !ids.insert(rule.id).second) {
      return FieldError(FieldPath(path, "id"), "duplicate id " + std::to_string(rule.id));
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

core::StatusOr<std::vector<model::TagRule>> ParseTagRules(std::string_view text) {
  SCRM_ASSIGN_OR_RETURN(const json j, ParseJsonText(text));
  return TagRulesFromJson(j);
}

core::StatusOr<std::vector<model::TagRule>> LoadTagRulesFile(const std::string& file_path) {
  std::ifstream in(file_path, std::ios::binary);
  if (!in) return core::NotFoundError(file_path + ": cannot open rules file");
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxRulesJsonBytes) {
      return core::InvalidArgumentError(file_path + ": larger than " +
                                        std::to_string(kMaxRulesJsonBytes >> 20) + " MiB");
    }
  }
  core::StatusOr<std::vector<model::TagRule>> rules = ParseTagRules(text);
  if (!rules.ok()) return core::InvalidArgumentError(file_path + ": " + rules.status().message());
  return rules;
}

json TagRuleToJson(const model::TagRule& rule) {
  json actions = json::array();
  for (const model::RuleAction& action : rule.actions) {
    actions.push_back(std::visit(ActionToJsonVisitor{}, action));
  }
  return json{{"id", rule.id},
              {"version", rule.version},
              {"name", rule.name},
              {"description", rule.description},
              {"enabled", rule.enabled},
              {"priority", rule.priority},
              {"condition", ConditionToJson(rule.condition)},
              {"actions", std::move(actions)}};
}

json TagRulesToJson(std::span<const model::TagRule> rules) {
  json array = json::array();
  for (const model::TagRule& rule : rules) array.push_back(TagRuleToJson(rule));
  return json{{"rules", std::move(array)}};
}

std::string TagRulesToText(std::span<const model::TagRule> rules) {
  return TagRulesToJson(rules).dump(2, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

}  // namespace scrm::tagger
