#!/usr/bin/env bash
# Set-up, then the whole test suite in release mode (numeric tests are too slow in debug): every Swift test,
# the MPI checks with the binary that build made (one machine, then two hosts made as network namespaces), kill -9
# soaks (one process, then two ranks), the report rendering checks (a run's page, then a comparison of two runs), a
# short fuzz pass over the data readers, and the style check.
# WINNOW_TESTS=fast skips the suites tagged slow (see docs/ARCHITECTURE.md, "Tests").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup-browser.sh   # headless Chromium for the report rendering check
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
swift test -c release
bash scripts/test-mpi.sh .build/release/winnow
bash scripts/test-hosts.sh .build/release/winnow   # two hosts as network namespaces (says so and skips without root)
OPENBLAS_NUM_THREADS=1 python3 scripts/soak_kill.py --winnow .build/release/winnow --trials 3
# The same under mpirun -np 2, each trial killing rank 0 or rank 1.
OPENBLAS_NUM_THREADS=1 python3 scripts/soak_kill.py --winnow .build/release/winnow --trials 2 --ranks 2
python3 scripts/check-report-render.py --winnow .build/release/winnow
python3 scripts/check-report-render.py --winnow .build/release/winnow --compare   # winnow report --compare 1 2
bash scripts/fuzz.sh 30   # libFuzzer over the data readers, 30 s each
bash scripts/check-style.sh
