#include "channels/common/replay_guard.h"

#include <algorithm>
#include <string>

#include "src/core/crypto_util.h"

namespace scrm::channels {
namespace {

ReplayGuard::Verdict Admit(bool same) {
  return same ? ReplayGuard::Verdict::kSameBody : ReplayGuard::Verdict::kReplayed;
}

template <typename Digest>
Digest DigestOf(std::string_view data) {
  const std::string hex = core::Sha256Hex(data);
  Digest digest{};
  std::copy_n(hex.begin(), digest.size(), digest.begin());
  return digest;
}

}  // namespace

ReplayGuard::ReplayGuard(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

ReplayGuard::Verdict ReplayGuard::Check(std::string_view timestamp, std::string_view nonce,
                                        std::string_view body, int64_t expires_at_s,
                                        int64_t now_s) {
  // The unit separator cannot occur in a decimal timestamp: ("1", "2x") and ("12", "x") differ.
  std::string pair_text(timestamp);
  pair_text.push_back('\x1f');
  pair_text.append(nonce);
  const Digest pair = DigestOf<Digest>(pair_text);
  const Digest body_digest = DigestOf<Digest>(body);

  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now_s);
  if (const auto it = pairs_.find(pair); it != pairs_.end()) {
    return Admit(it->second.body == body_digest);
  }
  if (pairs_.size() >= capacity_) return Verdict::kFull;
  pairs_.emplace(pair, Entry{body_digest, expires_at_s});
  expiries_.emplace(expires_at_s, pair);
  return Verdict::kFirstUse;
}

size_t ReplayGuard::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pairs_.size();
}

void ReplayGuard::DropExpired(int64_t now_s) {
  auto it = expiries_.begin();
  while (it != expiries_.end() && it->first < now_s) {
    pairs_.erase(it->second);
    it = expiries_.erase(it);
  }
}

}  // namespace scrm::channels
