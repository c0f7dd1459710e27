#!/usr/bin/env python3
"""Reference numbers for Tests/DataIOTests (plain Python json over the bundled archives).

Run from the package root: python3 docs/dataio-reference-stats.py
"""
import collections, json, tarfile

def members(path):
    with tarfile.open(path) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}

rt = members("Datasets/rt-sentiment-weak.tar.gz")
for split in ["train", "valid", "test"]:
    d = json.loads(rt[f"rt-sentiment/{split}.json"])
    n = len(d)
    covered = decisive = ties = dec_correct = 0
    expected = 0.0
    for v in d.values():
        votes = [w for w in v["weak_labels"] if w != -1]
        if not votes:
            continue
        covered += 1
        c = collections.Counter(votes)
        top = max(c.values())
        tied = [k for k, x in c.items() if x == top]
        expected += (v["label"] in tied) / len(tied)
        if len(tied) == 1:
            decisive += 1
            dec_correct += tied[0] == v["label"]
        else:
            ties += 1
    print(f"{split}: n={n} classes={dict(collections.Counter(v['label'] for v in d.values()))} "
          f"coverage={covered/n:.4f} decisive={decisive/n:.4f} ties={ties} all_abstain={n-covered} "
          f"accuracy(decisive)={dec_correct/decisive:.4f} expected_accuracy(covered)={expected/covered:.4f}")
    if split == "train":
        for j in range(len(next(iter(d.values()))["weak_labels"])):
            fired = [v for v in d.values() if v["weak_labels"][j] != -1]
            acc = sum(v["weak_labels"][j] == v["label"] for v in fired) / max(1, len(fired))
            print(f"  LF {j}: coverage={len(fired)/n:.4f} accuracy={acc:.4f}")

digits = [json.loads(l) for l in members("Datasets/uci-digits.tar.gz")["uci-digits/digits.jsonl"].splitlines() if l.strip()]
px = [p for d in digits for p in d["pixels"]]
print(f"digits: n={len(digits)} len={set(len(d['pixels']) for d in digits)} min={min(px)} max={max(px)} "
      f"class0={sum(d['label'] == 0 for d in digits)}")
plots = [l for l in members("Datasets/rt-movie-corpus.tar.gz")["rt-movie-corpus/plots.jsonl"].splitlines() if l.strip()]
print(f"plots: n={len(plots)}")
