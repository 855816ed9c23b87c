#include "src/tagger/scoring.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <vector>

#include "src/core/clock.h"

namespace scrm::tagger {
namespace {

constexpr int64_t kT0Scoring = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr int64_t kDay = 86400000;

TEST_CASE("DecayedScore follows the half-life when time passes", "[unit]") {
  struct Case {
    double score;
    int64_t updated_at_ms;
    int64_t now_ms;
    int64_t half_life_ms;
    double expected;
  };
  const std::vector<Case> cases = {
      {8, kT0Scoring, kT0Scoring + 30 * kDay, 30 * kDay, 4},  // one half-life: half
      {8, kT0Scoring, kT0Scoring + 60 * kDay, 30 * kDay, 2},  // two: a quarter
      {8, kT0Scoring, kT0Scoring + 15 * kDay, 30 * kDay,
       5.656854249492381},                                    // half a half-life: 1/sqrt(2)
      {8, kT0Scoring, kT0Scoring, 30 * kDay, 8},              // no time: unchanged
      {8, kT0Scoring, kT0Scoring + 365 * kDay, 0, 8},         // half-life 0: no decay
      {8, kT0Scoring, kT0Scoring + 365 * kDay, -1, 8},        // negative half-life: no decay
      {8, kT0Scoring, kT0Scoring - 10 * kDay, 30 * kDay, 8},  // now before updated_at: no decay
      {-4, kT0Scoring, kT0Scoring + 7 * kDay, 7 * kDay, -2},  // negative scores decay toward 0 too
  };
  for (const Case& c : cases) {
    INFO("dt=" << c.now_ms - c.updated_at_ms << " half_life=" << c.half_life_ms);
    CHECK(DecayedScore(c.score, c.updated_at_ms, c.now_ms, c.half_life_ms) ==
          Approx(c.expected).epsilon(1e-12));
  }
}

TEST_CASE("IsHeld holds the tag when the decayed score is at or above the threshold", "[unit]") {
  CHECK(IsHeld(2.0, 2.0));
  CHECK(IsHeld(2.5, 2.0));
  CHECK_FALSE(IsHeld(1.9999999, 2.0));
  // Score 4 with a 30-day half-life against threshold 2: held on day 30, not a minute after.
  const double on_boundary = DecayedScore(4, kT0Scoring, kT0Scoring + 30 * kDay, 30 * kDay);
  const double after = DecayedScore(4, kT0Scoring, kT0Scoring + 30 * kDay + 60000, 30 * kDay);
  CHECK(IsHeld(on_boundary, 2.0));
  CHECK_FALSE(IsHeld(after, 2.0));
}

TEST_CASE("DecayedScoreNow reads the injected clock", "[unit]") {
  core::FakeClock clock(kT0Scoring);
  const TagScore stored{6, kT0Scoring};
  CHECK(DecayedScoreNow(stored, 10 * kDay, clock) == 6);
  clock.Advance(std::chrono::milliseconds(10 * kDay));
  CHECK(DecayedScoreNow(stored, 10 * kDay, clock) == Approx(3));
}

TEST_CASE("ApplyDelta decays the stored score first and then adds the weight", "[unit]") {
  const TagScore stored{4, kT0Scoring};
  const TagScore after =
      ApplyDelta(stored, TagDelta{{"兴趣", "产品A"}, 2, kT0Scoring + 7 * kDay}, 7 * kDay);
  CHECK(after.score == Approx(4));  // 4 → 2 after one half-life, + 2
  CHECK(after.updated_at_ms == kT0Scoring + 7 * kDay);
}

TEST_CASE("ApplyDelta adds the weight undecayed when there is no half-life", "[unit]") {
  const TagScore after =
      ApplyDelta(TagScore{1, kT0Scoring}, TagDelta{{"g", "t"}, 2, kT0Scoring + kDay}, 0);
  CHECK(after.score == 3);
  CHECK(after.updated_at_ms == kT0Scoring + kDay);
}

TEST_CASE("ApplyDelta gives the same score whatever order late deltas arrive in", "[unit]") {
  const int64_t half_life = 5 * kDay;
  const TagDelta a{{"g", "t"}, 3, kT0Scoring + 1 * kDay};
  const TagDelta b{{"g", "t"}, 1, kT0Scoring + 4 * kDay};
  const TagDelta c{{"g", "t"}, 2, kT0Scoring + 9 * kDay};
  const TagScore in_order =
      ApplyDelta(ApplyDelta(ApplyDelta({}, a, half_life), b, half_life), c, half_life);
  const TagScore late =
      ApplyDelta(ApplyDelta(ApplyDelta({}, c, half_life), a, half_life), b, half_life);
  CHECK(in_order.updated_at_ms == kT0Scoring + 9 * kDay);
  CHECK(late.updated_at_ms == kT0Scoring + 9 * kDay);
  CHECK(late.score == Approx(in_order.score).epsilon(1e-12));
  const double expected = 3 * std::exp2(-8.0 / 5) + 1 * std::exp2(-5.0 / 5) + 2;
  CHECK(in_order.score == Approx(expected).epsilon(1e-12));
}

}  // namespace
}  // namespace scrm::tagger
