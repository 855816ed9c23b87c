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
check_registered() {
  # A test name with an unbalanced '[' or ']' breaks CMake's list splitting in
  # catch_discover_tests and silently folds the tests after it into one: count both sides.
  local dir=$1 listed=0 exe
  for exe in "$dir"/tests/*_tests; do
    # Catch2 v2 exits with the number of tests listed: not an error here.
    listed=$((listed + $( ("$exe" --list-test-names-only || true) | grep -c .)))
  done
  local registered
  registered=$(ctest --test-dir "$dir" -N | grep -c 'Test *#')
  if [[ "$listed" -ne "$registered" ]]; then
    echo "test registration: executables list $listed tests but ctest registered $registered" >&2
    exit 1
  fi
}
check_registered build/debug
ctest --preset debug -j"$jobs"

if [[ "${1:-}" != "--no-asan" ]]; then
  echo "== build (asan+ubsan)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j"$jobs"
  echo "== test (asan+ubsan)"
  ctest --preset asan -j"$jobs"
fi
echo "== all tests passed"
