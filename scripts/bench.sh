#!/usr/bin/env bash
# Builds release and runs every benchmark program under bench/, printing one table.
# Figures depend on the machine and its load: compare ratios measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release -DSCRM_BUILD_BENCH=ON >/dev/null
cmake --build --preset release -j"$(nproc)" >/dev/null
echo "scrmd benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r)"
echo "| benchmark | figure | detail | conditions |"
echo "|---|---|---|---|"
for exe in build/release/bench/*_bench; do
  [[ -x "$exe" ]] || continue
  "$exe" | grep '^|' || echo "| $(basename "$exe") | FAILED | | |"
done
