// ReplayGuard: the bounded (timestamp, nonce) memory behind OA plain mode's replay refusal.
#include "channels/common/replay_guard.h"

#include <catch2/catch.hpp>
#include <string>

namespace scrm::channels {
namespace {

using Verdict = ReplayGuard::Verdict;

TEST_CASE("ReplayGuard admits a pair once, again with the same body, never with another body",
          "[unit]") {
  ReplayGuard guard(8);
  CHECK(guard.Check("1000", "n1", "body-a", 1300, 1000) == Verdict::kFirstUse);
  CHECK(guard.Check("1000", "n1", "body-a", 1300, 1001) == Verdict::kSameBody);
  CHECK(guard.Check("1000", "n1", "body-b", 1300, 1002) == Verdict::kReplayed);
  CHECK(guard.Check("1000", "n2", "body-b", 1300, 1002) == Verdict::kFirstUse);
  CHECK(guard.Check("1001", "n1", "body-b", 1301, 1002) == Verdict::kFirstUse);
  // The separator keeps ("100", "0n1") apart from ("1000", "n1").
  CHECK(guard.Check("100", "0n1", "body-b", 1300, 1002) == Verdict::kFirstUse);
  CHECK(guard.size() == 4);
}

TEST_CASE(
    "ReplayGuard refuses a new pair when it holds capacity live pairs, and frees expired ones",
    "[unit]") {
  ReplayGuard guard(2);
  CHECK(guard.Check("1000", "a", "x", 1300, 1000) == Verdict::kFirstUse);
  CHECK(guard.Check("1010", "b", "x", 1310, 1000) == Verdict::kFirstUse);
  CHECK(guard.Check("1020", "c", "x", 1320, 1000) == Verdict::kFull);
  // Remembered pairs are still answered while full.
  CHECK(guard.Check("1000", "a", "y", 1300, 1000) == Verdict::kReplayed);
  CHECK(guard.size() == 2);
  // At 1301 the first pair's timestamp is out of the window: forgotten, room for one.
  CHECK(guard.Check("1020", "c", "x", 1320, 1301) == Verdict::kFirstUse);
  CHECK(guard.size() == 2);
  CHECK(guard.Check("1030", "d", "x", 1330, 1305) == Verdict::kFull);
}

}  // namespace
}  // namespace scrm::channels
