#!/usr/bin/env bash
# Does the half of the corpus that SAMA weights highest help DAPT more than the lowest half or a random half?
# One SAMA run (meta learning rate 1e-3, seed 0) weights the corpus documents; DAPT then runs on the top, the
# bottom and a seeded random half, seeds 0-2, one JSON line per run appended to OUT/results.jsonl. Rerunnable:
# finished runs are skipped. Usage: bash scripts/analysis/corpus_halves.sh WINNOW_BINARY OUT_FOLDER
set -euo pipefail
cd "$(dirname "$0")/../.."
winnow=$1
out=$2
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1
if [ ! -f "$out/sama.json" ]; then
  # The recorded figures ran sama.yaml before it took auxiliary weight 0.1 and 300 warm-up steps: set them back.
  "$winnow" run Recipes/continued-pretraining/sama.yaml --set seed=0 --set meta.learning_rate=0.001 \
    --set training.auxiliary_weight=1 --set training.head_warmup_steps=100 \
    --db "$out/sama.sqlite" --json > "$out/sama.json.tmp" 2> "$out/sama.err"
  mv "$out/sama.json.tmp" "$out/sama.json"
fi
[ -f "$out/all.jsonl" ] || "$winnow" export manifest --run 1 --db "$out/sama.sqlite" --by weight --keep 1 --output "$out/all.jsonl"
[ -f "$out/random.tar.gz" ] || python3 scripts/analysis/corpus_halves.py Datasets/rt-movie-corpus.tar.gz "$out/all.jsonl" "$out"
for seed in 0 1 2; do
  for half in top bottom random; do
    result=$out/dapt-$half-$seed.json
    [ -f "$result" ] && continue
    "$winnow" run Recipes/continued-pretraining/dapt.yaml --set seed=$seed --set dataset.corpus="$out/$half.tar.gz" \
      --db "$out/dapt-$half-$seed.sqlite" --json > "$result.tmp" 2> "$out/dapt-$half-$seed.err"
    mv "$result.tmp" "$result"
    python3 -c "import json; d = json.load(open('$result')); \
print(json.dumps({'half': '$half', 'seed': $seed, 'test_accuracy': d['metrics']['test_accuracy']}))" >> "$out/results.jsonl"
  done
done
