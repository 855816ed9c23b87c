#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: installs what is missing, builds, runs the whole
# test suite with ctest (warnings are errors), then the same suite under ASan+UBSan.
# Each stage's wall time goes to $SCRM_CI_STAGES (.ci/run sets it; else build/test-stages.tsv) and
# ctest's per-test times to build/<preset>/ctest-junit.xml; scripts/ci_timing.py prints the table
# (.ci/run at its end, this script at its end when run alone).
# Usage: scripts/test.sh [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
jobs=$(nproc)
# Most tests wait (on a child process, a socket, an fsync) far more than they compute: run
# three per core (docs/ci.md has the measurement behind the figure).
test_jobs=$((jobs * 3))
mkdir -p build
stages=${SCRM_CI_STAGES:-build/test-stages.tsv}
if [[ -z "${SCRM_CI_STAGES:-}" ]]; then
  : >"$stages"
  trap 'python3 scripts/ci_timing.py "$stages" build/debug build/asan || true' EXIT
fi

# stage <name> <command...>: runs the command and appends "<name>\t<seconds>" to $stages.
stage() {
  local name=$1 start end
  shift
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  printf '%s\t%s\n' "$name" "$((end - start))" >>"$stages"
}

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

build() {
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j"$jobs"
}

run_tests() {
  ctest --preset "$1" -j"$test_jobs" --output-junit "$PWD/build/$1/ctest-junit.xml"
}

echo "== build (debug, -Werror)"
stage "build (debug)" build debug
echo "== test (debug)"
check_registered build/debug
stage "test (debug)" run_tests debug

if [[ "${1:-}" != "--no-asan" ]]; then
  echo "== build (asan+ubsan)"
  stage "build (asan+ubsan, -O1)" build asan
  echo "== test (asan+ubsan)"
  stage "test (asan+ubsan)" run_tests asan
fi
echo "== all tests passed"
