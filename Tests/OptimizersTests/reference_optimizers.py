#!/usr/bin/env python3
"""Reference trajectories for Winnow's optimizers (OptimizerReferenceTests.swift).

Implements PyTorch's documented SGD / Adam / AdamW algorithms in float64 NumPy, independently of the Swift
code, and prints the parameters after each of 5 steps as Swift array literals. Regenerate with:
    python3 Tests/OptimizersTests/reference_optimizers.py
"""
import numpy as np

THETA0 = np.array([0.5, -1.2, 2.0, 0.01])
STEPS = 5


def gradient(t):
    i = np.arange(4)
    return np.cos(1.3 * i + 0.7 * t) * (1 + 0.5 * i)


def sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    theta, buf, out = THETA0.copy(), None, []
    for t in range(STEPS):
        g = gradient(t) + weight_decay * theta
        if momentum > 0:
            buf = g.copy() if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        theta = theta - lr * g
        out.append(theta.copy())
    return out


def adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    theta, m, v, out = THETA0.copy(), np.zeros(4), np.zeros(4), []
    b1, b2 = betas
    for t in range(1, STEPS + 1):
        g = gradient(t - 1)
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps
        theta = theta - lr / (1 - b1 ** t) * m / denom
        out.append(theta.copy())
    return out


CASES = {
    "sgd": sgd(0.1),
    "sgdMomentumDecay": sgd(0.1, momentum=0.9, weight_decay=0.01),
    "sgdNesterov": sgd(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": adam(0.01),
    "adamL2": adam(0.01, weight_decay=0.1),
    "adamW": adam(0.01, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.1, decoupled=True),
}

for name, trajectory in CASES.items():
    rows = ", ".join("[" + ", ".join(f"{x:.9g}" for x in step) + "]" for step in trajectory)
    print(f'    "{name}": [{rows}],')
