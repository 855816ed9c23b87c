#include "src/core/random.h"

#include <openssl/rand.h>

#include <array>
#include <cstring>

#include "src/core/status.h"
#include "src/core/strings.h"

namespace scrm::core {

uint64_t Random::NextU64() {
  std::array<uint8_t, 8> bytes{};
  Fill(bytes);
  uint64_t v = 0;
  std::memcpy(&v, bytes.data(), sizeof v);
  return v;
}

std::string Random::HexString(size_t bytes) {
  std::string raw(bytes, '\0');
  Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(raw.data()), raw.size()));
  return HexEncode(raw);
}

void SecureRandom::Fill(std::span<uint8_t> out) {
  // RAND_bytes only fails when the OS entropy source is broken; continuing would hand out
  // predictable keys, so this is an invariant, not an input error.
  SCRM_CHECK(RAND_bytes(out.data(), static_cast<int>(out.size())) == 1);
}

void FakeRandom::Fill(std::span<uint8_t> out) {
  std::lock_guard lock(mu_);
  size_t i = 0;
  while (i < out.size()) {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<uint8_t>(z >> (8 * b));
    }
  }
}

int64_t IdGenerator::Next() {
  const int64_t candidate = clock_.NowUnixMillis() << 16;
  std::lock_guard lock(mu_);
  last_ = candidate > last_ ? candidate : last_ + 1;
  return last_;
}

}  // namespace scrm::core
