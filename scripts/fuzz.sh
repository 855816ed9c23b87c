#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang, coverage + ASan + UBSan) and fuzzes them.
# Usage: scripts/fuzz.sh [seconds=600]
#
# Every target runs for the full SECONDS of wall time; the targets run at the same time (one
# process each, under nice), so the whole run takes about SECONDS and each target gets SECONDS.
# Inputs: tests/fuzz/corpus/<target>/ (committed; hand-made seed-* files + what earlier runs
# kept). New inputs go to build/fuzz/work/<target>/; afterwards the corpus is re-minimized with
# -set_cover_merge=1 (libFuzzer's -merge=1 with a greedy set cover: seed-* files kept, then a
# near-minimal set of inputs covering the same edges), so it stays at a few hundred small files
# instead of the thousands a run generates. Mutations use the dictionary
# tests/fuzz/wechat.dict (XML / JSON syntax, PROTOCOL.md §3 names); inputs are at most 8192 bytes.
# Crashes, leaks, timeouts and invariant violations are saved as tests/fuzz/crashes/<target>-*
# (gitignored; it should stay empty). Exit status 1 when anything was saved there.
#
# Environment: FUZZ_TARGETS (default: both targets), FUZZ_NICE (default 10), FUZZ_MAX_LEN
# (default 8192). Reproduce a crash: build/fuzz/tests/fuzz/<target> tests/fuzz/crashes/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: scripts/fuzz.sh [seconds=600]" >&2
  exit 2
fi
targets=(${FUZZ_TARGETS:-fuzz_normalize fuzz_callback_decode})
niceness="${FUZZ_NICE:-10}"
max_len="${FUZZ_MAX_LEN:-8192}"

scripts/deps.sh --with-fuzz
cmake --preset fuzz >/dev/null
nice -n "$niceness" cmake --build --preset fuzz

bin_dir=build/fuzz/tests/fuzz
log_dir=build/fuzz/logs
crash_dir=tests/fuzz/crashes
mkdir -p "$log_dir" "$crash_dir"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "fuzz: ${targets[*]} for ${seconds}s each, concurrently (logs in $log_dir/)"
pids=()
for t in "${targets[@]}"; do
  work=build/fuzz/work/$t
  rm -rf "$work"
  mkdir -p "$work" "tests/fuzz/corpus/$t"
  # The first directory receives new inputs; the committed corpus is only read.
  nice -n "$niceness" "$bin_dir/$t" "$work" "tests/fuzz/corpus/$t" \
    -dict=tests/fuzz/wechat.dict -max_len="$max_len" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crash_dir/$t-" \
    >"$log_dir/$t.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done

echo
for t in "${targets[@]}"; do
  corpus=tests/fuzz/corpus/$t
  before=$(find "$corpus" -type f | wc -l)
  # Re-minimize from scratch: the seed-* files always stay, then a set cover of the edges (hit
  # counts ignored: -use_counters=0) of the old corpus and this run's inputs.
  merged=build/fuzz/merge/$t
  rm -rf "$merged"
  mkdir -p "$merged"
  find "$corpus" -maxdepth 1 -type f -name 'seed-*' -exec cp {} "$merged/" \;
  if nice -n "$niceness" "$bin_dir/$t" -set_cover_merge=1 -use_counters=0 -max_len="$max_len" \
      "$merged" "$corpus" "build/fuzz/work/$t" >"$log_dir/$t.merge.log" 2>&1; then
    find "$corpus" -maxdepth 1 -type f -delete
    cp "$merged"/* "$corpus/"
  else
    echo "fuzz: $t: merge failed (see $log_dir/$t.merge.log); corpus left as it was" >&2
    status=1
  fi
  after=$(find "$corpus" -type f | wc -l)
  bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  log="$log_dir/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1, ft \2/p' <<<"$last")
  echo "$t: ${execs:-?} executions (${rate:-?}/s), ${cov:-no coverage line}," \
    "corpus $before -> $after files ($bytes bytes)"
done

crashes=$(find "$crash_dir" -type f ! -name .gitkeep | sort)
if [[ -n "$crashes" ]]; then
  echo
  echo "fuzz: findings saved (reproduce with $bin_dir/<target> <file>; details in $log_dir/):"
  echo "$crashes"
  status=1
else
  echo "fuzz: no crashes"
fi
exit "$status"
