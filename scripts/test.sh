#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: installs what is missing, builds, runs the whole
# test suite with ctest (warnings are errors), then the same suite under ASan+UBSan.
# Usage: scripts/test.sh [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
jobs=$(nproc)

echo "== build (debug, -Werror)"
cmake --preset debug >/dev/null
cmake --build --preset debug -j"$jobs"
echo "== test (debug)"
ctest --preset debug -j"$jobs"

if [[ "${1:-}" != "--no-asan" ]]; then
  echo "== build (asan+ubsan)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j"$jobs"
  echo "== test (asan+ubsan)"
  ctest --preset asan -j"$jobs"
fi
echo "== all tests passed"
