#!/usr/bin/env bash
# Installs the Debian 12 packages scrmd builds and tests with, only those that are missing.
# Non-interactive (CI has no standard input). Usage: scripts/deps.sh [--with-fuzz]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config python3
  libcpp-httplib-dev nlohmann-json3-dev libsqlitecpp-dev libsqlite3-dev libspdlog-dev catch2
  libcurl4-openssl-dev libssl-dev libpugixml-dev libkainjow-mustache-dev libroaring-dev
  libre2-dev libcli11-dev libmicrohttpd-dev libjemalloc-dev sqlite3 curl clang-format mold
)
if [[ "${1:-}" == "--with-fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
