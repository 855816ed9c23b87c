// Shared by the libFuzzer targets in tests/fuzz: the invariant check that turns a violated
// property into a crash libFuzzer records (and saves the input for).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace scrm::fuzz {

// Prints which property failed and on what, then aborts; libFuzzer reports the abort as a
// crash and writes the input under -artifact_prefix.
[[noreturn]] inline void Violation(const char* file, int line, const char* condition,
                                   std::string_view context) {
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s [%.*s]\n", file, line, condition,
               static_cast<int>(context.size()), context.data());
  std::abort();
}

}  // namespace scrm::fuzz

// A property of the code under test (not of the input): aborts with `context` when it fails.
#define SCRM_FUZZ_REQUIRE(cond, context)                                      \
  do {                                                                        \
    if (!(cond)) ::scrm::fuzz::Violation(__FILE__, __LINE__, #cond, context); \
  } while (false)
