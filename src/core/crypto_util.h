// Small byte helpers shared by modules: SHA-256, SHA-1, HMAC as hex, constant-time comparison
// (hex itself: src/core/strings.h).
#pragma once

#include <string>
#include <string_view>

namespace scrm::core {

// Lower-case hex SHA-256 of `data` (API keys are stored as this, never in clear).
std::string Sha256Hex(std::string_view data);
// Lower-case hex SHA-1 of `data`.
std::string Sha1Hex(std::string_view data);
// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Equality in time independent of where the inputs differ (signatures, key hashes).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace scrm::core
