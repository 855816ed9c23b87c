// Mix64: the finalizer of splitmix64 (https://prng.di.unimi.it/splitmix64.c), a bijection on 64-bit
// values whose every output bit depends on every input bit. It is on disk: the inbox's dedupe hash
// (storage::DedupeHash) ends with it, so changing it needs a migration that rewrites dedupe_hash.
// Also spreads the HTTP edge's request-id counter.
#pragma once

#include <cstdint>

namespace scrm::core {

constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace scrm::core
