#!/usr/bin/env bash
# Set-up, then the main job on a bundled real dataset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product winnow
.build/release/winnow run Recipes/noisy-labels/sama-fitted-correction.yaml "$@"
