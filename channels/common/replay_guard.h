// ReplayGuard: remembers the signed (timestamp, nonce) pairs of one account's callbacks for as
// long as the timestamp window accepts them, so that a signature which does not cover the body
// (OA plaintext mode, PROTOCOL §1.3: sha1(sort([token, timestamp, nonce]))) cannot carry a second,
// different body.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace scrm::channels {

// A bounded memory of (timestamp, nonce) -> SHA-256 of the body first seen with it.
//
// Why bodies are compared rather than every second use refused: PROTOCOL §2 says the platform
// re-sends an unanswered callback ("重新发起请求", up to 3 times) and does not say whether a
// retry carries a fresh timestamp and nonce, so it may reuse them. A reuse with the same body
// is such a retry (or an identical replay, which the inbox dedupes to one row and acks again):
// admitted. A reuse with another body is what no platform sends: refused.
//
// Memory bound: at most `capacity` pairs, each kept 128-bit digests and an expiry (about
// 200 bytes with the two indexes: ~6 MiB at the default 32768). A pair is forgotten once its
// timestamp is out of the window (the window check refuses it from then on anyway). When the
// memory holds `capacity` live pairs, a new pair cannot be remembered and is refused (kFull:
// the platform retries later) rather than admitted unremembered: full must stay safe. Only
// callbacks whose signature verified reach the guard, so a forger cannot fill it.
//
// Thread-safe (one mutex; the work under it is a hash lookup and O(log n) bookkeeping).
class ReplayGuard {
 public:
  static constexpr size_t kDefaultCapacity = 32768;

  enum class Verdict {
    kFirstUse,  // remembered now: admit
    kSameBody,  // seen before with this very body (a platform retry): admit
    kReplayed,  // seen before with another body: refuse
    kFull,      // cannot be remembered (capacity live pairs): refuse for now
  };

  explicit ReplayGuard(size_t capacity = kDefaultCapacity);

  // `timestamp` has passed the window check; the pair is remembered until `expires_at_s` (the
  // timestamp plus the window). `now_s` drops the pairs that expired before it.
  Verdict Check(std::string_view timestamp, std::string_view nonce, std::string_view body,
                int64_t expires_at_s, int64_t now_s);

  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  using Digest = std::array<char, 32>;  // the first 32 hex digits (128 bits) of a SHA-256
  struct DigestHash {
    size_t operator()(const Digest& d) const {
      return std::hash<std::string_view>{}(std::string_view(d.data(), d.size()));
    }
  };
  struct Entry {
    Digest body;
    int64_t expires_at_s = 0;
  };

  void DropExpired(int64_t now_s);  // mu_ held

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<Digest, Entry, DigestHash> pairs_;  // guarded by mu_
  std::multimap<int64_t, Digest> expiries_;              // guarded by mu_: expiry -> pair
};

}  // namespace scrm::channels
