// Reading and writing ids in /api/v1 JSON as the contract has them (docs/api.md "Ids are
// strings"): every id in a response is a string of decimal digits, never a JSON number.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace scrm::testing {

// The id a response carries; fails the test when it is not a string of decimal digits.
inline int64_t ApiId(const nlohmann::json& value) {
  INFO("id: " << value.dump());
  REQUIRE(value.is_string());
  const std::string& text = value.get_ref<const std::string&>();
  REQUIRE(!text.empty());
  REQUIRE(text.find_first_not_of("0123456789") == std::string::npos);
  return std::stoll(text);
}

// The id as a response writes it (compare with `body["id"] == IdStr(id)`).
inline std::string IdStr(int64_t id) { return std::to_string(id); }

}  // namespace scrm::testing
