#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: installs what is missing, builds release and runs
# `scrmd serve` (embedded defaults: SQLite under ./var, http://127.0.0.1:8080). Extra
# arguments go to `scrmd serve`, e.g. scripts/run.sh --config config/example.json
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target scrmd
bin=build/release/src/app/scrmd

cat >&2 <<MSG
scrmd built: $bin
An admin API key (printed once):   $bin keys create --role admin --name admin
Then:   curl -H "Authorization: Bearer <key>" http://127.0.0.1:8080/api/v1/me
MSG
exec "$bin" serve "$@"
