#!/usr/bin/env bash
# Runs noisy-labels recipes over seeds, two at a time (one BLAS thread each), and writes each finished run's
# --json output to RESULTS/<recipe>.seed<S>.json. Resumable: a run whose file exists is skipped, and a file
# appears only when its run has finished. Summarise with scripts/analysis/summarize_sweep.py RESULTS.
#
# usage: scripts/analysis/noisy_labels_sweep.sh RESULTS DATABASE "SEEDS" RECIPE...
#   e.g. scripts/analysis/noisy_labels_sweep.sh Outputs/sweep Outputs/sweep.sqlite "0 1 2 3 4" \
#        finetune-weak baseline-clean sama-fitted-correction
# SETS="key=value ..." adds --set key=value to every run (e.g. SETS=dataset.archive=other.tar.gz).
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,10p "$0" >&2; exit 2; }
results=$1 database=$2 seeds=$3
shift 3
winnow=${WINNOW:-.build/release/winnow}
extra=()
for pair in ${SETS:-}; do extra+=(--set "$pair"); done
mkdir -p "$results"
one() {
    local recipe=$1 seed=$2
    local file="$results/$recipe.seed$seed.json"
    [ -s "$file" ] && return 0
    if OPENBLAS_NUM_THREADS=1 "$winnow" run "Recipes/noisy-labels/$recipe.yaml" --set "seed=$seed" "${extra[@]}" --db "$database" --json \
        > "$file.partial"; then
        mv "$file.partial" "$file"
        echo "sweep: $recipe seed $seed done" >&2
    else
        echo "sweep: $recipe seed $seed failed (output in $file.partial)" >&2
    fi
}
for recipe in "$@"; do
    [ -f "Recipes/noisy-labels/$recipe.yaml" ] || { echo "sweep: no recipe Recipes/noisy-labels/$recipe.yaml" >&2; exit 2; }
done
running=0
for recipe in "$@"; do
    for seed in $seeds; do
        one "$recipe" "$seed" &
        running=$((running + 1))
        if [ "$running" -ge 2 ]; then wait -n || true; running=$((running - 1)); fi
    done
done
wait
# A failed run leaves its .partial file (a later sweep runs it again): say so, and exit non-zero.
failed=$(find "$results" -maxdepth 1 -name '*.partial' | wc -l)
if [ "$failed" -gt 0 ]; then echo "sweep: $failed run(s) failed; their output is in $results/*.partial" >&2; exit 1; fi
