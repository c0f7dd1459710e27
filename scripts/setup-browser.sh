#!/usr/bin/env bash
# Installs headless Chromium (Debian's package) for the report rendering check, only when it is missing.
set -euo pipefail
command -v chromium >/dev/null && exit 0
echo "setup-browser: installing chromium" >&2
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
