#include "src/tagger/scoring.h"

#include <cmath>

namespace scrm::tagger {

double DecayedScore(double score, int64_t updated_at_ms, int64_t now_ms, int64_t half_life_ms) {
  if (half_life_ms <= 0 || now_ms <= updated_at_ms) return score;
  // dt in half-lives; doubles keep the ratio exact enough for any span of int64 milliseconds.
  const double half_lives = (static_cast<double>(now_ms) - static_cast<double>(updated_at_ms)) /
                            static_cast<double>(half_life_ms);
  return score * std::exp2(-half_lives);
}

double DecayedScoreNow(const TagScore& stored, int64_t half_life_ms, const core::Clock& clock) {
  return DecayedScore(stored.score, stored.updated_at_ms, clock.NowUnixMillis(), half_life_ms);
}

bool IsHeld(double decayed_score, double threshold) { return decayed_score >= threshold; }

TagScore ApplyDelta(const TagScore& stored, const TagDelta& delta, int64_t half_life_ms) {
  if (delta.at_ms >= stored.updated_at_ms) {
    return TagScore{
        DecayedScore(stored.score, stored.updated_at_ms, delta.at_ms, half_life_ms) + delta.weight,
        delta.at_ms};
  }
  return TagScore{
      stored.score + DecayedScore(delta.weight, delta.at_ms, stored.updated_at_ms, half_life_ms),
      stored.updated_at_ms};
}

}  // namespace scrm::tagger
