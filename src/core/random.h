// Random: the injected source of randomness, and IdGenerator for time-ordered 64-bit ids.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>

#include "src/core/clock.h"

namespace scrm::core {

// Fills buffers with random bytes. Implementations are thread-safe.
class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;

  uint64_t NextU64();
  // `bytes` random bytes as lower-case hex (2*bytes characters).
  std::string HexString(size_t bytes);
};

// Cryptographically secure bytes from OpenSSL's RAND_bytes (keys, AES frame prefixes).
class SecureRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Deterministic splitmix64 stream for tests. Thread-safe.
class FakeRandom final : public Random {
 public:
  explicit FakeRandom(uint64_t seed = 42) : state_(seed) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mutex mu_;
  uint64_t state_;
};

// Time-ordered positive 64-bit ids: milliseconds since the Unix epoch in the high 47 bits and a
// 16-bit sequence in the low bits. Strictly increasing per generator even if the clock steps
// back, so SQLite appends to the right edge of its b-trees (random keys are ~5x slower).
// Thread-safe.
class IdGenerator {
 public:
  explicit IdGenerator(const Clock& clock) : clock_(clock) {}
  int64_t Next();
  // Millisecond timestamp embedded in an id from Next().
  static int64_t UnixMillisOf(int64_t id) { return id >> 16; }
  // The smallest id Next() can return at `unix_millis` (>= 0) or later: every id generated when
  // the clock read unix_millis or more is >= this (ids never run behind the clock).
  static int64_t FirstIdAt(int64_t unix_millis) { return unix_millis << 16; }

 private:
  const Clock& clock_;
  std::mutex mu_;
  int64_t last_ = 0;
};

}  // namespace scrm::core
