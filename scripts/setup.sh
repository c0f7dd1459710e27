#!/usr/bin/env bash
# Installs the system packages Winnow needs, only when they are missing (idempotent, Debian/Ubuntu).
set -euo pipefail
needed=(libopenblas-dev libopenmpi-dev openmpi-bin libarchive-dev libsqlite3-dev sqlite3 iproute2 pkg-config dataset-fashion-mnist)
missing=()
for pkg in "${needed[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: a Swift 6 toolchain must be on PATH (https://swift.org/install)" >&2; exit 1; }
bash "$(dirname "$0")/install-minilm.sh"
