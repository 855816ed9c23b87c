#include "src/model/contact_channel.h"

namespace scrm::model {

std::string_view OwnerRuleName(OwnerRule rule) {
  switch (rule) {
    case OwnerRule::kAdder: return "adder";
    case OwnerRule::kFixed: return "fixed";
    case OwnerRule::kRoundRobin: return "round_robin";
  }
  return "adder";
}

std::optional<OwnerRule> ParseOwnerRule(std::string_view name) {
  for (OwnerRule rule : {OwnerRule::kAdder, OwnerRule::kFixed, OwnerRule::kRoundRobin}) {
    if (OwnerRuleName(rule) == name) return rule;
  }
  return std::nullopt;
}

}  // namespace scrm::model
