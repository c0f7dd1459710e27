#!/usr/bin/env python3
"""How well could a meta-learned weight find the wrong weak labels of the bundled Rotten Tomatoes data?

Trains a softmax head with Adam on the frozen all-MiniLM-L6-v2 embeddings that a `sentence_embedding`
noisy-labels run caches (`<db dir>/cache/minilm-*.f32`), on the majority vote of the weak labels (ties and
all-abstain samples dropped), and at a few steps computes each training sample's one-step meta-gradient
signal s_i = <grad l_i, grad L_meta> against the clean `valid` split. Gradient descent on a per-sample weight
w_i raises it where s_i > 0, so s_i is what any meta net, whatever its inputs, is trained towards. Prints the
ROC-AUC of the loss and of s_i for flagging wrong weak labels (gold labels used only here), and corr(s_i, loss).
It also sums s_i every 10 steps over the whole run, plainly and with Adam's adaptation (<grad l_i, A grad L_meta>
with A = du/dg of the step just taken, docs/ALGORITHMS.md section 3, as in SAMA's v): the total a free per-sample weight would have received from
first-order meta learning over the run, and prints that total's ROC-AUC too.

Last, the exact long-horizon version: at the minimiser of the (L2-damped) weak-label loss, found by Newton's
method, the implicit-function hypergradient of a per-sample weight is dL_meta/dw_i = -<grad l_i, H^-1 grad L_meta>/N,
so s_i = <grad l_i, H^-1 grad L_meta> (an influence function) is what an exact hypergradient method pushes a free
weight towards. It prints s_i's ROC-AUC and that of its mean over each decile of the loss: the best that a weight
computed from the loss alone can be pushed towards.

Usage: python3 scripts/analysis/per_sample_meta_gradient.py Datasets/rt-sentiment-weak.tar.gz CACHE.f32
(needs numpy and scipy; the cache comes from e.g.
 `winnow run Recipes/noisy-labels/minilm-finetune-weak.yaml --db /tmp/mini/w.sqlite`).
"""
import collections
import functools
import json
import sys
import tarfile

import numpy as np
from scipy.stats import rankdata


@functools.lru_cache(maxsize=None)
def splits(archive):
    with tarfile.open(archive) as tar:
        def load(name):
            member = next((m for m in tar.getmembers() if m.name.endswith(f"/{name}.json")), None)
            if member is None:
                sys.exit(f"error: {archive}: no */{name}.json member (a WRENCH-layout archive is expected)")
            try:
                data = json.load(tar.extractfile(member))
            except json.JSONDecodeError as error:
                sys.exit(f"error: {archive}:{member.name}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}")
            if not isinstance(data, dict):
                sys.exit(f"error: {archive}:{member.name}: expected an object keyed by sample id")
            for key, record in data.items():
                problem = record_problem(record)
                if problem:
                    sys.exit(f"error: {archive}:{member.name}: sample {key!r}: {problem}")
            return [data[key] for key in data]
        return load("train"), load("valid"), load("test")


def record_problem(record):
    """What is wrong with a WRENCH record (None if nothing): a gold `label` ≥ 0, `weak_labels` of integers ≥ -1
    (-1: abstain), and `data.text`."""
    is_int = lambda v: isinstance(v, int) and not isinstance(v, bool)
    if not isinstance(record, dict):
        return "not an object"
    if not is_int(record.get("label")) or record["label"] < 0:
        return f"'label' must be a class index ≥ 0, got {record.get('label')!r}"
    votes = record.get("weak_labels")
    if not isinstance(votes, list) or not all(is_int(v) and v >= -1 for v in votes):
        return f"'weak_labels' must be a list of class indices or -1, got {votes!r}"
    if not isinstance(record.get("data"), dict) or not isinstance(record["data"].get("text"), str):
        return "'data.text' must be a string"
    return None


def majority(record):
    votes = [v for v in record["weak_labels"] if v >= 0]
    if not votes:
        return None
    counts = collections.Counter(votes).most_common()
    return None if len(counts) > 1 and counts[0][1] == counts[1][1] else counts[0][0]


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def auc_low_means_wrong(score, wrong):
    """ROC-AUC of `score` ranking the right weak labels above the `wrong` ones (average ranks for ties)."""
    ranks = rankdata(score)
    nw, nr = wrong.sum(), (~wrong).sum()
    return 1 - (ranks[wrong].sum() - nw * (nw + 1) / 2) / (nw * nr)


def adam_step(param, grad, m, s, t, lr):
    """Adam's step t (β 0.9 / 0.999, ε 1e-8) on `param`, moments `m` and `s` updated in place. Returns
    A = du/dg of this step (docs/ALGORITHMS.md section 3), from the state before it and its gradient."""
    eps_prime = 1e-8 * np.sqrt(1 - 0.999 ** t)
    s_after = 0.999 * s + 0.001 * grad * grad
    adaptation = (lr * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
                  * (0.1 * 0.999 * s - 0.9 * 0.001 * grad * m) / (np.sqrt(s_after) + eps_prime) ** 3)
    m[...] = 0.9 * m + 0.1 * grad
    s[...] = s_after
    param -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t)) + 1e-8)
    return adaptation


def load_embedded_splits(archive, cache):
    """Cached embeddings of the decisively voted training samples, their majority votes and whether each is
    wrong, and the embeddings and gold labels of the valid and test splits."""
    train, valid, test = splits(archive)
    rows = {}
    for text in (r["data"]["text"] for r in train + valid + test):  # the cache's row order: distinct texts
        rows.setdefault(text, len(rows))
    table = np.fromfile(cache, dtype=np.float32)
    if table.size != len(rows) * 384:
        sys.exit(f"error: {cache}: {table.size} floats, expected {len(rows)} texts × 384 (a cache of another dataset, or truncated)")
    if not np.isfinite(table).all():
        sys.exit(f"error: {cache}: non-finite values")
    table = table.reshape(-1, 384).astype(np.float64)
    features = lambda records: np.stack([table[rows[r["data"]["text"]]] for r in records])
    kept = [r for r in train if majority(r) is not None]
    y = np.array([majority(r) for r in kept])
    wrong = y != np.array([r["label"] for r in kept])
    return (features(kept), y, wrong, features(valid), np.array([r["label"] for r in valid]),
            features(test), np.array([r["label"] for r in test]))


def vote_margins(archive):
    """For the decisively voted training samples (the order of `load_embedded_splits`): votes for the majority
    label minus the other non-abstaining votes."""
    train = splits(archive)[0]
    return np.array([2 * r["weak_labels"].count(majority(r)) - sum(v >= 0 for v in r["weak_labels"])
                     for r in train if majority(r) is not None])


def main(archive, cache, steps=3000, lr=1e-2, batch=32, seed=0):
    x, y, wrong, xv, yv, xt, yt = load_embedded_splits(archive, cache)
    classes = int(max(y.max(), yv.max())) + 1
    targets, valid_targets = np.eye(classes)[y], np.eye(classes)[yv]
    auc = functools.partial(auc_low_means_wrong, wrong=wrong)

    rng = np.random.default_rng(seed)
    w, b = np.zeros((x.shape[1], classes)), np.zeros(classes)
    state = [np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)]
    print(f"{len(y)} training samples, {wrong.mean():.1%} with a wrong majority vote")
    total, adapted_total = np.zeros(len(y)), np.zeros(len(y))
    for t in range(1, steps + 1):
        pick = rng.integers(0, len(y), batch)
        d = softmax(x[pick] @ w + b) - targets[pick]
        adaptation = [adam_step(param, grad, state[2 * i], state[2 * i + 1], t, lr)
                      for i, (param, grad) in enumerate([(w, x[pick].T @ d / batch), (b, d.mean(0))])]
        if t % 10 == 0 or t in (30, 300, steps):
            p = softmax(x @ w + b)
            dv = softmax(xv @ w + b) - valid_targets
            meta_w, meta_b = xv.T @ dv / len(yv), dv.mean(0)
            d = p - targets
            signal = ((x @ meta_w) * d).sum(1) + (d * meta_b).sum(1)
        if t % 10 == 0:
            total += signal
            adapted_total += ((x @ (meta_w * adaptation[0])) * d).sum(1) + (d * (meta_b * adaptation[1])).sum(1)
        if t in (30, 300, steps):
            loss = -np.log(p[np.arange(len(y)), y])
            accuracy = (softmax(xt @ w + b).argmax(1) == yt).mean()
            print(f"step {t}: test accuracy {accuracy:.3f}, loss AUC {auc(-loss):.3f}, "
                  f"meta-gradient signal AUC {auc(signal):.3f}, corr(signal, loss) "
                  f"{np.corrcoef(signal, loss)[0, 1]:+.2f}, signal summed so far AUC {auc(total):.3f} "
                  f"(Adam-adapted {auc(adapted_total):.3f})")

    influence_bound(x, targets, xv, valid_targets, wrong, vote_margins(archive))


def influence_bound(x, targets, xv, valid_targets, wrong, margins, damping=1e-3):
    """Exact implicit hypergradients of per-sample weights at the damped weak-label optimum (see the docstring)."""
    auc = functools.partial(auc_low_means_wrong, wrong=wrong)
    n, classes = targets.shape
    xa, xva = np.hstack([x, np.ones((n, 1))]), np.hstack([xv, np.ones((len(xv), 1))])
    d = xa.shape[1]
    theta = np.zeros((d, classes))
    for _ in range(25):  # Newton's method on the convex softmax regression
        p = softmax(xa @ theta)
        gradient = (xa.T @ (p - targets) / n + damping * theta).reshape(-1, order="F")
        hessian = np.empty((d * classes, d * classes))
        for c in range(classes):
            for e in range(classes):
                curvature = p[:, c] * ((c == e) - p[:, e])
                hessian[c * d:(c + 1) * d, e * d:(e + 1) * d] = (xa * curvature[:, None]).T @ xa / n
        hessian += damping * np.eye(d * classes)
        step = np.linalg.solve(hessian, gradient)
        theta -= step.reshape((d, classes), order="F")
        if np.abs(step).max() < 1e-9:
            break
    p = softmax(xa @ theta)
    meta = (xva.T @ (softmax(xva @ theta) - valid_targets) / len(xva)).reshape(-1, order="F")
    direction = np.linalg.solve(hessian, meta).reshape((d, classes), order="F")
    signal = ((xa @ direction) * (p - targets)).sum(1)
    loss = -np.log((p * targets).sum(1))
    deciles = np.minimum((rankdata(loss, method="ordinal") - 1) * 10 // n, 9)
    by_loss = np.array([signal[deciles == k].mean() for k in range(10)])
    print(f"at the weak-label optimum (damping {damping:g}): loss AUC {auc(-loss):.3f}, exact "
          f"hypergradient signal AUC {auc(signal):.3f}, its mean per loss decile (lowest loss first) "
          f"{' '.join(f'{v:+.2g}' for v in by_loss)}, AUC of that mean {auc(by_loss[deciles]):.3f}")
    cells = deciles * 100 + np.clip(margins, 0, 99)  # a weight net on the loss and the labeling functions' vote margin
    cell_mean = {cell: signal[cells == cell].mean() for cell in np.unique(cells)}
    print(f"  its mean per (loss decile, vote margin) cell: AUC {auc(np.array([cell_mean[c] for c in cells])):.3f} "
          f"(vote margin alone {auc(margins):.3f})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        main(sys.argv[1], sys.argv[2])
    except (tarfile.TarError, EOFError) as error:
        sys.exit(f"error: {sys.argv[1]}: unreadable archive ({error})")
    except (OSError, KeyError) as error:
        sys.exit(f"error: {error}")
