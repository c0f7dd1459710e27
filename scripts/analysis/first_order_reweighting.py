#!/usr/bin/env python3
"""Does a first-order hypergradient reweight the synthetic noisy-label problem of `winnow bench meta`?

An independent numpy reference, sharing no code with Winnow: the same problem (10 Gaussian classes in 784
dimensions, means from N(0, 0.12^2 I), 20,000 training samples with 40% of the labels flipped, 1,000 clean
meta samples, 5,000 test samples; the same distribution, not the same draws), the same base model (MLP
784-512-512-10, ReLU, Adam lr 1e-3, batch 100) and Meta-Weight-Net (1-100-1, ReLU, sigmoid, Adam lr 1e-3),
one meta step after every base step, the base loss sum(w l)/sum(w) (or mean(w l) with --norm mean).

--difference exact (default): the exact first-order hypergradient, with the weight net's input (the
per-sample loss) taken at theta and detached:

    dL_meta/dw_j = -(d/dw_j) <grad_theta L_base(theta, w), x>,   x = g_meta          (--method darts)
                                                                  x = A (.) g_meta    (--method sama)

where A is Adam's diagonal adaptation (docs/ALGORITHMS.md section 3). For the base loss sum(w l)/sum(w) that is
-(a_j - sum_i w_i a_i / sum w) / sum w with a_j = <grad l_j, x>, computed per layer as delta_j^T X h_j.

--difference frozen | recomputed [--alpha A]: SAMA's central difference instead, (g- - g+)/(2 eps) with
eps = A/||x|| and theta restored afterwards (Winnow's `--no-base-update`; `--base-update` leaves it at
theta - eps x), the weight net reading the loss
at theta (`--freeze-meta-inputs`) or recomputing it at theta +- eps x (the default of Winnow and the paper).

Prints test accuracy and the mean weight of clean and corrupted samples every 500 steps (--report-every).

--from-dump DIR replays Winnow's own draws instead of the script's (data, initial parameters, batch order,
from `winnow bench meta --dump-problem DIR --seed S`), so the two start from the same point and see the same
batches; they then differ only by rounding, which this unstable problem can amplify over a run.

Usage: python3 scripts/analysis/first_order_reweighting.py --method darts|sama|finetune [--seed S]
       [--steps N] [--norm weightSum|mean] [--meta-batch M] [--difference exact|frozen|recomputed]
       [--alpha A] [--base-update] [--darts-scale S] [--report-every K] [--from-dump DIR] [--base-order FILE]
                                                       (needs numpy; 20-80 s per run with one BLAS thread, more with two)
"""
import argparse
import os
import sys
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--method", choices=["finetune", "darts", "sama"], default="darts")
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--norm", choices=["weightSum", "mean"], default="weightSum")
p.add_argument("--meta-lr", type=float, default=1e-3)
p.add_argument("--meta-batch", type=int, default=100)
p.add_argument("--difference", choices=["exact", "frozen", "recomputed"], default="exact",
               help="exact products, or SAMA's central difference with the weight net's input frozen at theta or recomputed at theta +- eps v")
p.add_argument("--alpha", type=float, default=0.1)
p.add_argument("--darts-scale", type=float, default=1e-3,
               help="darts: x = scale * g_meta (1e-3, the base learning rate, as a one-step look-ahead would; the scale only matters through meta Adam's eps)")
p.add_argument("--report-every", type=int, default=500)
p.add_argument("--base-order", metavar="FILE",
               help="base batches from this file of float32 sample indices (scripts/analysis/sampler_orders.py), "
                    "in place of the script's own or the dump's order")
p.add_argument("--from-dump", metavar="DIR",
               help="replay Winnow's own draws: the data, initial parameters and batch order written by "
                    "`winnow bench meta --dump-problem DIR` (same --seed and --hidden there)")
p.add_argument("--base-update", action="store_true", help="with --difference: leave theta at theta - eps x (the paper's SAMA)")
p.add_argument("--hidden", type=int, nargs="+", default=[512, 512])
args = p.parse_args()

rng = np.random.default_rng(args.seed)
C, D = 10, 784
means = rng.normal(0, 0.12, (C, D)).astype(np.float32)
def sample(n):
    y = rng.integers(0, C, n)
    return (means[y] + rng.normal(0, 1, (n, D))).astype(np.float32), y
Xtr, ytr_true = sample(20000)
corrupt = rng.uniform(size=20000) < 0.4
ytr = ytr_true.copy()
ytr[corrupt] = (ytr[corrupt] + 1 + rng.integers(0, C - 1, corrupt.sum())) % C
Xm, ym = sample(1000)
Xte, yte = sample(5000)

def linear_init(fan_in, fan_out):
    b = 1 / np.sqrt(fan_in)
    return [rng.uniform(-b, b, (fan_in, fan_out)).astype(np.float32), rng.uniform(-b, b, fan_out).astype(np.float32)]

widths = [D] + args.hidden + [C]
theta = sum((linear_init(a, b) for a, b in zip(widths[:-1], widths[1:])), [])
lam = linear_init(1, 100) + linear_init(100, 1)
if args.from_dump:
    def raw(name, shape):
        path = os.path.join(args.from_dump, name + ".f32")
        try:
            a = np.fromfile(path, dtype="<f4")
        except OSError as error:
            sys.exit(f"error: {path}: {error.strerror} (write the folder with `winnow bench meta --dump-problem`)")
        expected = int(np.prod([n for n in shape if n != -1]))
        if a.size == 0 or a.size % expected != 0 or (-1 not in shape and a.size != expected):
            sys.exit(f"error: {path}: {a.size} floats, expected shape {shape} (another --hidden or a truncated file?)")
        if not np.isfinite(a).all():
            sys.exit(f"error: {path}: non-finite value at float {int(np.flatnonzero(~np.isfinite(a))[0])}")
        return a.reshape(shape)

    Xtr, ytr = raw("trainX", (-1, D)), raw("trainY", (-1,)).astype(int)
    corrupt = raw("corrupted", (-1,)) > 0
    Xm, ym = raw("metaX", (-1, D)), raw("metaY", (-1,)).astype(int)
    Xte, yte = raw("testX", (-1, D)), raw("testY", (-1,)).astype(int)
    for name, rows, labels in (("train", Xtr, ytr), ("corrupted", Xtr, corrupt), ("meta", Xm, ym), ("test", Xte, yte)):
        if len(rows) != len(labels):
            sys.exit(f"error: {args.from_dump}: {len(rows)} {name if name != 'corrupted' else 'train'} samples but "
                     f"{len(labels)} entries in {name if name == 'corrupted' else name + 'Y'}.f32 (a truncated file?)")
    theta = []  # Winnow stores weights as [out, in]
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        theta += [raw(f"theta.layers.{i}.weight", (b, a)).T.copy(), raw(f"theta.layers.{i}.bias", (b,)).copy()]
    lam = [raw("lambda.net.layers.0.weight", (100, 1)).T.copy(), raw("lambda.net.layers.0.bias", (100,)).copy(),
           raw("lambda.net.layers.1.weight", (1, 100)).T.copy(), raw("lambda.net.layers.1.bias", (1,)).copy()]
    if args.meta_batch != 100:
        sys.exit(f"error: --from-dump replays Winnow's meta batches of 100; --meta-batch {args.meta_batch} does not apply")
    dumped_batches = raw("batches", (-1, 100)).astype(int)
    dumped_meta_batches = raw("metaBatches", (-1, 100)).astype(int)
    for name, table in (("base", dumped_batches), ("meta", dumped_meta_batches)):
        if len(table) < args.steps:
            sys.exit(f"error: {args.from_dump}: {len(table)} {name} batches for --steps {args.steps} (dump with --quality-steps {args.steps})")

def forward(params, x):
    hs, zs = [x], []
    h = x
    n = len(params) // 2
    for l in range(n):
        z = h @ params[2 * l] + params[2 * l + 1]
        zs.append(z)
        h = np.maximum(z, 0) if l < n - 1 else z
        hs.append(h)
    return hs, zs

def softmax_ce(logits, y):
    m = logits - logits.max(1, keepdims=True)
    e = np.exp(m); pr = e / e.sum(1, keepdims=True)
    loss = -np.log(pr[np.arange(len(y)), y] + 1e-30)
    d = pr.copy(); d[np.arange(len(y)), y] -= 1
    return loss, d  # d = dl_i/dlogits_i (per sample)

def backward(params, hs, zs, dlogits):
    """Returns per-layer deltas (dl_i/dz, per sample) and the gradient of sum_i of the rows' losses."""
    n = len(params) // 2
    deltas = [None] * n
    d = dlogits
    for l in reversed(range(n)):
        deltas[l] = d
        if l > 0:
            d = (d @ params[2 * l].T) * (zs[l - 1] > 0)
    grads = []
    for l in range(n):
        grads += [hs[l].T @ deltas[l], deltas[l].sum(0)]
    return deltas, grads

def mwn(lam, s):
    z1 = s @ lam[0] + lam[1]; h = np.maximum(z1, 0)
    z2 = h @ lam[2] + lam[3]
    w = 1 / (1 + np.exp(-z2))
    return w[:, 0], (s, z1, h, w)

def mwn_backward(lam, cache, dw):
    s, z1, h, w = cache
    dz2 = (dw * w[:, 0] * (1 - w[:, 0]))[:, None]
    g = [None] * 4
    g[2] = h.T @ dz2; g[3] = dz2.sum(0)
    dz1 = (dz2 @ lam[2].T) * (z1 > 0)
    g[0] = s.T @ dz1; g[1] = dz1.sum(0)
    return g

class Adam:
    def __init__(self, params, lr):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, 0.9, 0.999, 1e-8, 0
        self.m = [np.zeros_like(q) for q in params]; self.s = [np.zeros_like(q) for q in params]
    def step(self, params, grads):
        self.t += 1
        self.prev = ([m.copy() for m in self.m], [s.copy() for s in self.s], [g.copy() for g in grads])
        for q, g, m, s in zip(params, grads, self.m, self.s):
            m *= self.b1; m += (1 - self.b1) * g
            s *= self.b2; s += (1 - self.b2) * g * g
            mh = m / (1 - self.b1 ** self.t); sh = s / (1 - self.b2 ** self.t)
            q -= self.lr * mh / (np.sqrt(sh) + self.eps)
    def adapt(self, x):
        m0, s0, g = self.prev
        out = []
        bc = np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        epsp = self.eps * np.sqrt(1 - self.b2 ** self.t)
        for xi, mp, sp, gi, s in zip(x, m0, s0, g, self.s):
            A = ((1 - self.b1) * self.b2 * sp - self.b1 * (1 - self.b2) * gi * mp) / (np.sqrt(s) + epsp) ** 3
            out.append(self.lr * bc * A * xi)
        return out

base_opt = Adam(theta, 1e-3); meta_opt = Adam(lam, args.meta_lr)
def batches(n, bs, seed):
    r = np.random.default_rng(seed)
    while True:
        perm = r.permutation(n)
        for i in range(0, n - bs + 1, bs):
            yield perm[i:i + bs]
tr_it = batches(20000, 100, args.seed + 2); me_it = batches(1000, args.meta_batch, args.seed + 3)
if args.from_dump:
    tr_it, me_it = iter(dumped_batches), iter(dumped_meta_batches)
if args.base_order:
    try:
        order = np.fromfile(args.base_order, dtype="<f4").astype(int)
    except OSError as error:
        sys.exit(f"error: {args.base_order}: {error.strerror}")
    if len(order) < 100 * args.steps or order.min() < 0 or order.max() >= len(Xtr):
        sys.exit(f"error: {args.base_order}: {len(order)} indices in [{order.min()}, {order.max()}]; "
                 f"need {100 * args.steps} in [0, {len(Xtr)})")
    tr_it = iter(order[:100 * args.steps].reshape(-1, 100))

def accuracy(X, y):
    hs, _ = forward(theta, X)
    return (hs[-1].argmax(1) == y).mean()

def weights_all():
    hs, _ = forward(theta, Xtr)
    l, _ = softmax_ce(hs[-1], ytr)
    w, _ = mwn(lam, l[:, None].astype(np.float32))
    return w

t0 = time.time()
for step in range(1, args.steps + 1):
    idx = next(tr_it)
    x, y = Xtr[idx], ytr[idx]
    hs, zs = forward(theta, x)
    l, dlog = softmax_ce(hs[-1], y)
    w, cache = mwn(lam, l[:, None].astype(np.float32))
    if args.method == "finetune":
        coef = np.full(len(y), 1 / len(y), np.float32)
    elif args.norm == "weightSum":
        coef = w / (w.sum() + 1e-8)
    else:
        coef = w / len(y)
    _, grads = backward(theta, hs, zs, dlog * coef[:, None])
    base_opt.step(theta, grads)
    if args.method == "finetune":
        continue
    # meta gradient at theta (after the base step)
    mi = next(me_it)
    hm, zm = forward(theta, Xm[mi])
    _, dm = softmax_ce(hm[-1], ym[mi])
    _, gmeta = backward(theta, hm, zm, dm / len(mi))
    x_vec = base_opt.adapt(gmeta) if args.method == "sama" else [g * args.darts_scale for g in gmeta]
    if not any(v.any() for v in x_vec):  # Adam's adaptation is zero after its first step: nothing to learn from
        continue
    if args.difference == "exact":
        # per-sample a_j = grad l_j(theta) . x on the last base batch, at the current theta
        hs, zs = forward(theta, x)
        l, dlog = softmax_ce(hs[-1], y)
        w, cache = mwn(lam, l[:, None].astype(np.float32))
        deltas, _ = backward(theta, hs, zs, dlog)
        a = np.zeros(len(y), np.float64)
        n = len(theta) // 2
        for li in range(n):
            a += ((hs[li] @ x_vec[2 * li]) * deltas[li]).sum(1) + deltas[li] @ x_vec[2 * li + 1]
        # dL_meta/dw_j = -(d/dw_j)(grad L_base . x)
        if args.norm == "weightSum":
            S = w.sum()
            abar = (w * a).sum() / S
            dw = -(a - abar) / S
        else:
            dw = -a / len(y)
        meta_grad = mwn_backward(lam, cache, dw.astype(np.float32))
    else:
        norm = np.sqrt(sum(float((v.astype(np.float64) ** 2).sum()) for v in x_vec))
        eps = args.alpha / norm
        l0 = softmax_ce(forward(theta, x)[0][-1], y)[0]
        def lam_grad(sign):
            shifted = [q + sign * eps * v for q, v in zip(theta, x_vec)]
            l = softmax_ce(forward(shifted, x)[0][-1], y)[0]
            w, cache = mwn(lam, (l0 if args.difference == "frozen" else l)[:, None].astype(np.float32))
            if args.norm == "weightSum":
                S = w.sum(); dw = (l - (w * l).sum() / S) / S
            else:
                dw = l / len(y)
            return mwn_backward(lam, cache, dw.astype(np.float32))
        gp, gm = lam_grad(1), lam_grad(-1)
        if args.base_update:
            for q, v in zip(theta, x_vec):
                q -= eps * v
        meta_grad = [(b - a_) / (2 * eps) for a_, b in zip(gp, gm)]
    meta_opt.step(lam, meta_grad)
    if step % args.report_every == 0:
        wa = weights_all()
        print(f"step {step}: test {accuracy(Xte, yte):.4f}  w clean {wa[~corrupt].mean():.4f}  corrupt {wa[corrupt].mean():.4f}  ({time.time()-t0:.0f}s)", flush=True)

wa = weights_all()
print(f"{args.method} {('dump ' + args.from_dump) if args.from_dump else 'seed ' + str(args.seed)}: test {accuracy(Xte, yte):.4f} w clean {wa[~corrupt].mean():.4f} corrupt {wa[corrupt].mean():.4f}")
