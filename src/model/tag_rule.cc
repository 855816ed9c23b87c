#include "src/model/tag_rule.h"

#include <array>
#include <utility>

namespace scrm::model {
namespace {

constexpr std::array<std::pair<LifecycleStage, std::string_view>, 6> kStageNames = {{
    {LifecycleStage::kNew, "new"},
    {LifecycleStage::kEngaged, "engaged"},
    {LifecycleStage::kCustomer, "customer"},
    {LifecycleStage::kRepeat, "repeat"},
    {LifecycleStage::kAtRisk, "at_risk"},
    {LifecycleStage::kLost, "lost"},
}};

struct ActionNameVisitor {
  std::string_view operator()(const AddTagAction&) const { return "add_tag"; }
  std::string_view operator()(const RemoveTagAction&) const { return "remove_tag"; }
  std::string_view operator()(const SetAttributeAction&) const { return "set_attribute"; }
  std::string_view operator()(const SetStageAction&) const { return "set_stage"; }
  std::string_view operator()(const CreateTaskAction&) const { return "create_task"; }
};

}  // namespace

std::string_view LifecycleStageName(LifecycleStage stage) {
  for (const auto& [s, name] : kStageNames) {
    if (s == stage) return name;
  }
  return "new";
}

std::optional<LifecycleStage> ParseLifecycleStage(std::string_view name) {
  for (const auto& [s, n] : kStageNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool StringMatch::Matches(std::string_view text) const {
  switch (mode) {
    case Mode::kEquals: return text == value;
    case Mode::kPrefix: return text.starts_with(value);
  }
  return false;
}

std::string_view RuleActionName(const RuleAction& action) {
  return std::visit(ActionNameVisitor{}, action);
}

}  // namespace scrm::model
