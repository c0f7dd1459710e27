#!/usr/bin/env python3
"""What does first-order meta learning teach a weight net that reads the loss, or the loss and the feature?

A NumPy model of SAMA-style reweighting on the frozen all-MiniLM-L6-v2 embeddings that a `sentence_embedding`
noisy-labels run caches: a logistic-regression head (two classes) trained with Adam on the weak majority votes
(ties and all-abstain samples dropped), its loss Σ wᵢℓᵢ / Σ wᵢ, and every `--unroll` steps one Adam step on the
weight net with the first-order hypergradient dL_meta/dwᵢ = −⟨∇ℓᵢ, A·∇L_meta⟩ (A: Adam's adaptation of the
step just taken, docs/ALGORITHMS.md section 3; with `--exact-inverse D`, (H + D·I)⁻¹ of the whole weak-label loss
instead) on a clean batch of the `valid` split. Weight nets:
  loss                 w = σ(a·ℓ + b)
  loss_feature_label   w = σ(s(ỹ)·(u·x + c) + a·ℓ + b), s(ỹ) = ±1 by the weak class: for a linear head
                       ∇ℓᵢ = xᵢ·(pᵢ − ỹᵢ), so this can follow the sign of the hypergradient per region of x
Prints test accuracy, the loss's and the weights' ROC-AUC for flagging wrong weak labels (gold labels used
only here), and the mean weight of wrong and right weak labels.

Usage: python3 scripts/analysis/weight_net_inputs.py Datasets/rt-sentiment-weak.tar.gz CACHE.f32
           [--inputs loss|loss_feature_label] [--seed S] [--steps N] [--meta-lr R] [--unroll K]
           [--meta-batch M] [--exact-inverse D]          (needs numpy and scipy; seconds per run)
"""
import argparse
import tarfile

import numpy as np

from per_sample_meta_gradient import adam_step, auc_low_means_wrong, load_embedded_splits

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("archive"), parser.add_argument("cache")
parser.add_argument("--inputs", choices=["loss", "loss_feature_label"], default="loss_feature_label")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--steps", type=int, default=3000)
parser.add_argument("--meta-lr", type=float, default=1e-3)
parser.add_argument("--unroll", type=int, default=10)
parser.add_argument("--meta-batch", type=int, default=32)
parser.add_argument("--exact-inverse", type=float, default=None, metavar="DAMPING")
args = parser.parse_args()
for option, value in [("--steps", args.steps), ("--unroll", args.unroll), ("--meta-batch", args.meta_batch)]:
    if value < 1:
        parser.error(f"{option} must be at least 1, got {value}")
for option, value in [("--meta-lr", args.meta_lr), ("--exact-inverse", args.exact_inverse)]:
    if value is not None and not (np.isfinite(value) and value > 0):
        parser.error(f"{option} must be a positive number, got {value}")

try:
    x, y, wrong, xv, yv, xt, yt = load_embedded_splits(args.archive, args.cache)
except (tarfile.TarError, EOFError) as error:
    raise SystemExit(f"error: {args.archive}: unreadable archive ({error})")
except (OSError, KeyError) as error:
    raise SystemExit(f"error: {error}")
if y.max() > 1 or yv.max() > 1:
    raise SystemExit("error: this model handles two classes only")
sigmoid = lambda z: 1 / (1 + np.exp(-z))
augment = lambda a: np.hstack([a, np.ones((len(a), 1))])
X, XV, XT, t = augment(x), augment(xv), augment(xt), y.astype(float)
d = X.shape[1]
feature_net = args.inputs == "loss_feature_label"
lam = np.zeros(d + 2 if feature_net else 2)  # [u, c,] a, b
theta, m, v = np.zeros(d), np.zeros(d), np.zeros(d)
lam_m, lam_v = np.zeros_like(lam), np.zeros_like(lam)
lr, batch, rng = 1e-2, 32, np.random.default_rng(args.seed)


def weights(rows, p):
    loss = -np.log(np.where(t[rows] == 1, p, 1 - p))
    z = lam[-2] * loss + lam[-1] + ((2 * t[rows] - 1) * (X[rows] @ lam[:d]) if feature_net else 0)
    return sigmoid(z), loss


for step in range(1, args.steps + 1):
    rows = rng.integers(0, len(t), batch)
    p = sigmoid(X[rows] @ theta)
    w, loss = weights(rows, p)
    per_sample = X[rows] * (p - t[rows])[:, None]
    g = (w[:, None] * per_sample).sum(0) / w.sum()
    adaptation = adam_step(theta, g, m, v, step, lr)
    if step % args.unroll:
        continue
    clean = rng.integers(0, len(yv), args.meta_batch)
    meta = XV[clean].T @ (sigmoid(XV[clean] @ theta) - yv[clean]) / args.meta_batch
    if args.exact_inverse is None:
        direction = adaptation * meta
    else:
        q = sigmoid(X @ theta)
        direction = np.linalg.solve((X * (q * (1 - q))[:, None]).T @ X / len(X) + args.exact_inverse * np.eye(d), meta)
    a = per_sample @ direction
    d_weight = -(a - (w * a).sum() / w.sum()) / w.sum()  # dL_meta/dwᵢ under Σ wℓ / Σ w, up to the step size
    d_logit = d_weight * w * (1 - w)
    grad = np.array([d_logit @ loss, d_logit.sum()])
    if feature_net:
        grad = np.concatenate([X[rows].T @ (d_logit * (2 * t[rows] - 1)), grad])
    adam_step(lam, grad, lam_m, lam_v, step // args.unroll, args.meta_lr)

w, loss = weights(np.arange(len(t)), sigmoid(X @ theta))
auc = lambda score: auc_low_means_wrong(score, wrong)
print(f"{args.inputs} seed {args.seed}: test accuracy {((XT @ theta > 0) == yt).mean():.3f}, loss AUC {auc(-loss):.3f}, "
      f"weight AUC {auc(w):.3f}, mean weight wrong {w[wrong].mean():.3f} / right {w[~wrong].mean():.3f}")
