#!/usr/bin/env bash
# Fails, listing them, on Swift lines longer than 140 characters (the limit in .swift-format).
# Reformat with: swift format format --in-place --recursive Sources Tests
set -euo pipefail
cd "$(dirname "$0")/.."
long=$(LC_ALL=C.UTF-8 grep -rnP '^.{141,}' --include='*.swift' Sources Tests Package.swift || true)
if [ -n "$long" ]; then
    echo "check-style: Swift lines over 140 characters:" >&2
    echo "$long" | cut -c1-200 >&2
    exit 1
fi
echo "check-style: every Swift line is within 140 characters"
