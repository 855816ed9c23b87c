#include "src/core/hash_mix.h"

#include <catch2/catch.hpp>

namespace scrm::core {
namespace {

// Known values, computed independently from splitmix64's published finalizer (on disk through
// the inbox's dedupe hash: a change here is a change of file format).
TEST_CASE("Mix64 gives splitmix64's finalizer for known inputs", "[unit]") {
  CHECK(Mix64(0) == 0);
  CHECK(Mix64(1) == 0x5692161d100b05e5ULL);
  CHECK(Mix64(0x123456789abcdef0ULL) == 0x9629f58e8ec5b906ULL);
  static_assert(Mix64(1) == 0x5692161d100b05e5ULL, "usable at compile time");
}

}  // namespace
}  // namespace scrm::core
