#!/usr/bin/env bash
# Fails when a C++ file of the project is not clang-formatted (.clang-format: Google, 100 cols).
# Usage: scripts/check_format.sh [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.h' '*.cc' | grep -v '^tests/fixtures/')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f"
    bad=1
  fi
done
if ((bad)); then
  echo "format: run scripts/check_format.sh --fix"
  exit 1
fi
echo "format: ok (${#files[@]} files)"
