#!/usr/bin/env bash
# Data parallelism end to end under `mpirun -np 2` (run by scripts/test.sh before the unit tests):
#   1. bench ddp --check: 2 ranks agree bit for bit and match one process on SAMA to float rounding;
#   2. `winnow run` of the quickstart recipe on 2 ranks: exit 0 and the same test accuracy as one process;
#   3. the noisy-label quickstart on 2 ranks: every sample's weight on rank 0; a failed run resumed to the
#      uninterrupted result;
#   4. fault injection (rank 1 throws at epoch 2): the job exits non-zero within 30 s, names the rank,
#      and the run is marked failed in the store.
set -euo pipefail
cd "$(dirname "$0")/.."
winnow=${1:-.build/release/winnow}
export OPENBLAS_NUM_THREADS=1
mpirun=(mpirun --allow-run-as-root --oversubscribe -np 2)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test-mpi: FAILED: $*" >&2; exit 1; }

"$winnow" bench ddp --check 2>/dev/null || fail "bench ddp --check"

accuracy() { sed -n 's/.*"test_accuracy": *\([0-9.]*\).*/\1/p' "$1" | head -1; }
"$winnow" run Recipes/classify/digits.yaml --set training.epochs=4 --db "$tmp/one.sqlite" --json > "$tmp/one.json" 2>/dev/null \
    || fail "one-process run"
"${mpirun[@]}" "$winnow" run Recipes/classify/digits.yaml --set training.epochs=4 --db "$tmp/two.sqlite" --json > "$tmp/two.json" 2>/dev/null \
    || fail "2-rank run exited non-zero"
[ "$(accuracy "$tmp/one.json")" = "$(accuracy "$tmp/two.json")" ] && [ -n "$(accuracy "$tmp/one.json")" ] \
    || fail "2-rank test accuracy $(accuracy "$tmp/two.json") differs from one process $(accuracy "$tmp/one.json")"
echo "test-mpi: 2-rank run matches one process (test accuracy $(accuracy "$tmp/two.json"))"

# The noisy-label quickstart on 2 ranks for two epochs: rank 0 records a weight for every sample both ranks saw.
noisy=(Recipes/noisy-labels/sama-reweight-correct.yaml --set training.epochs=2)
"${mpirun[@]}" "$winnow" run "${noisy[@]}" --db "$tmp/noisy.sqlite" --json > "$tmp/noisy.json" 2>/dev/null \
    || fail "2-rank noisy-labels run exited non-zero"
train=$(sed -n 's/.*"train_samples": *\([0-9]*\).*/\1/p' "$tmp/noisy.json" | head -1)
weights=$("$winnow" weights --run 1 --step 2 --db "$tmp/noisy.sqlite" --format csv --top 1000000 2>/dev/null | tail -n +2 | wc -l)
# An epoch of whole global batches of 32 (a last partial batch is left for the next epoch).
[ -n "$train" ] && [ "$weights" -ge $(( train / 32 * 32 )) ] && [ "$weights" -le "$train" ] \
    || fail "2-rank noisy-labels: $weights weights recorded in epoch 2 for $train training samples"
echo "test-mpi: 2-rank noisy-labels run recorded $weights weights in epoch 2 (test accuracy $(accuracy "$tmp/noisy.json"))"

# Rank 1 fails in epoch 2; the job ends, the run is marked failed, and resuming it on 2 ranks from its
# epoch-1 checkpoint ends exactly where the uninterrupted run ended.
set +e
WINNOW_FAULT_RANK=1 WINNOW_FAULT_STEP=2 timeout 60 "${mpirun[@]}" "$winnow" run "${noisy[@]}" --db "$tmp/resume.sqlite" \
    > /dev/null 2> "$tmp/resume-fault.err"
status=$?
set -e
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "noisy-labels fault injection: status $status"
"${mpirun[@]}" "$winnow" run --resume 1 --db "$tmp/resume.sqlite" --json > "$tmp/resumed.json" 2>/dev/null \
    || fail "2-rank resume exited non-zero"
[ "$(accuracy "$tmp/resumed.json")" = "$(accuracy "$tmp/noisy.json")" ] \
    || fail "resumed run's test accuracy $(accuracy "$tmp/resumed.json") differs from the uninterrupted $(accuracy "$tmp/noisy.json")"
echo "test-mpi: a 2-rank run failed in epoch 2 and resumed to the uninterrupted result (test accuracy $(accuracy "$tmp/resumed.json"))"

start=$(date +%s)
set +e
WINNOW_FAULT_RANK=1 WINNOW_FAULT_STEP=2 timeout 60 "${mpirun[@]}" "$winnow" run Recipes/classify/digits.yaml --set training.epochs=50 \
    --db "$tmp/fault.sqlite" > "$tmp/fault.out" 2> "$tmp/fault.err"
status=$?
set -e
elapsed=$(( $(date +%s) - start ))
[ "$status" -ne 0 ] || fail "fault injection: exit status 0"
[ "$status" -ne 124 ] || fail "fault injection: the job hung (killed by timeout after 60 s)"
[ "$elapsed" -le 30 ] || fail "fault injection: took ${elapsed}s (limit 30 s)"
grep -q "error: rank 1: .*injected fault on rank 1" "$tmp/fault.err" || fail "fault injection: no error line naming rank 1"
"$winnow" runs --db "$tmp/fault.sqlite" 2>/dev/null | grep -q "failed" || fail "fault injection: run not marked failed"
echo "test-mpi: injected fault on rank 1 ended the job in ${elapsed}s with status $status; run marked failed"
echo "test-mpi: all data-parallel checks passed"
