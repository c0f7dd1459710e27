#!/usr/bin/env python3
"""Mean ± sample sd over seeds of the runs a sweep wrote (scripts/analysis/noisy_labels_sweep.sh RESULTS ...):
one Markdown row per recipe with the per-seed test accuracy.

usage: scripts/analysis/summarize_sweep.py RESULTS [METRIC ...]
  (default metrics: test_accuracy label_issue_auc corrected_label_accuracy labels_fixed_count labels_broken_count)
"""
import json
import pathlib
import re
import statistics
import sys

DEFAULT = ["test_accuracy", "label_issue_auc", "corrected_label_accuracy", "labels_fixed_count", "labels_broken_count"]
PERCENT = {"test_accuracy", "valid_accuracy", "corrected_label_accuracy", "suggested_label_accuracy"}


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    directory = pathlib.Path(argv[1])
    metrics = argv[2:] or DEFAULT
    runs = {}
    for path in sorted(directory.glob("*.seed*.json")):
        match = re.fullmatch(r"(.+)\.seed(\d+)\.json", path.name)
        if not match:
            continue
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            sys.exit(f"{path}: not JSON ({error})")
        if record.get("status") != "completed" or "metrics" not in record:
            sys.exit(f"{path}: the run did not complete (status {record.get('status')!r})")
        runs.setdefault(match.group(1), {})[int(match.group(2))] = record["metrics"]
    if not runs:
        sys.exit(f"{directory}: no <recipe>.seed<S>.json files")

    def cell(values, metric):
        values = [v for v in values if v is not None]
        if not values:
            return "–"
        scale = 100 if metric in PERCENT else 1
        digits = 1 if metric in PERCENT else (0 if metric.endswith("_count") else 3)
        mean = statistics.mean(values) * scale
        sd = statistics.stdev(values) * scale if len(values) > 1 else 0
        return f"{mean:.{digits}f} ± {sd:.{digits}f}"

    print("| recipe | seeds | test % per seed | " + " | ".join(metrics) + " |")
    print("|---|---:|---|" + "---:|" * len(metrics))
    for recipe, by_seed in runs.items():
        seeds = sorted(by_seed)
        per_seed = ", ".join(f"{by_seed[s]['test_accuracy'] * 100:.1f}" for s in seeds)
        cells = [cell([by_seed[s].get(m) for s in seeds], m) for m in metrics]
        print(f"| {recipe} | {len(seeds)} | {per_seed} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv)
