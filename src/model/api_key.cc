#include "src/model/api_key.h"

namespace scrm::model {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kMarketing: return "marketing";
    case Role::kSales: return "sales";
    case Role::kReadonly: return "readonly";
  }
  return "readonly";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kAdmin, Role::kMarketing, Role::kSales, Role::kReadonly}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

}  // namespace scrm::model
