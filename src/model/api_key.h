// API keys and roles of the REST API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scrm::model {

// What a key may do. Ordered by breadth only for display; rights are checked per route.
enum class Role { kAdmin, kMarketing, kSales, kReadonly };

// "admin", "marketing", "sales", "readonly".
std::string_view RoleName(Role role);
// Inverse of RoleName; nullopt for anything else.
std::optional<Role> ParseRole(std::string_view name);

// A stored API key. The secret itself is never kept: only its SHA-256 and a short prefix that
// lets operators recognise it in listings.
struct ApiKey {
  int64_t id = 0;
  std::string name;
  Role role = Role::kReadonly;
  std::string prefix;         // first characters of the secret, e.g. "scrm_1a2b3c"
  std::string secret_sha256;  // lower-case hex
  int64_t created_at_ms = 0;
  std::optional<int64_t> revoked_at_ms;
  std::optional<int64_t> last_used_at_ms;
};

}  // namespace scrm::model
