#!/usr/bin/env bash
# Set-up, then the whole test suite in release mode (numeric tests are too slow in debug).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
swift build -c release --product winnow
bash scripts/test-mpi.sh .build/release/winnow
swift test -c release
