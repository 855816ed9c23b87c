// Tag scores: a customer's score on a tag decays exponentially with the half-life of the tag's
// group, and the tag is held while the decayed score is at or above the tag's threshold. A
// stored score is always "as of" its updated_at; callers pass times read from the injected
// core::Clock (or an interaction's time), never the machine clock.
#pragma once

#include <cstdint>

#include "src/core/clock.h"
#include "src/model/tag_rule.h"

namespace scrm::tagger {

// A customer's score on one tag as stored: the value as of updated_at_ms.
struct TagScore {
  double score = 0;
  int64_t updated_at_ms = 0;
};

// One change to a tag's score: add_tag's weight at the time of the interaction.
struct TagDelta {
  model::TagRef tag;
  double weight = 0;
  int64_t at_ms = 0;
};

// score * 0.5^((now - updated_at) / half_life). half_life_ms <= 0 means no decay; a `now`
// before updated_at (clock skew, a late event) does not decay either. Pure.
double DecayedScore(double score, int64_t updated_at_ms, int64_t now_ms, int64_t half_life_ms);

// DecayedScore of `stored` at the clock's current time.
double DecayedScoreNow(const TagScore& stored, int64_t half_life_ms, const core::Clock& clock);

// True while the decayed score is at or above the threshold.
bool IsHeld(double decayed_score, double threshold);

// The stored score after `delta`: decay first, then add, so the result is again "as of" its
// updated_at. A delta later than the stored time decays the stored score to delta.at_ms and
// adds the weight (updated_at becomes delta.at_ms); an earlier one (an interaction replayed or
// delivered late) decays the weight to the stored time instead and keeps updated_at. Either way
// the score at any later time is the sum of every weight decayed from its own time, whatever
// order the deltas arrive in. Pure.
TagScore ApplyDelta(const TagScore& stored, const TagDelta& delta, int64_t half_life_ms);

}  // namespace scrm::tagger
