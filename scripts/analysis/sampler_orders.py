#!/usr/bin/env python3
"""Base-batch orders for `first_order_reweighting.py --base-order FILE`, written as raw float32 sample indices.

`--scheme winnow` reproduces Winnow's `EpochSampler` bit for bit (xoshiro256** seeded through SplitMix64, one
generator per epoch seeded with seed + epoch * 0x9E3779B97F4A7C15, Fisher-Yates from the end with Lemire's
bounded integers, as Swift's `Int.random(in:using:)` draws them); `--scheme stream` draws every epoch's
permutation from one such generator; `--scheme numpy` uses numpy's default generator. It checks itself against
a `winnow bench meta --dump-problem` folder with `--check DIR` (that dump's train sampler seed is its seed + 2).

Usage: python3 scripts/analysis/sampler_orders.py --scheme winnow|stream|numpy --seed S --out FILE
           [--count 20000] [--epochs 10]
       python3 scripts/analysis/sampler_orders.py --check DIR --seed S+2
"""
import argparse
import os
import sys

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def splitmix_state(seed):
    s, words = seed & MASK, []
    for _ in range(4):
        s = (s + GOLDEN) & MASK
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        words.append(z ^ (z >> 31))
    return words


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256StarStar:
    def __init__(self, seed):
        self.s = splitmix_state(seed)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        """Lemire's nearly divisionless bounded integer, as Swift's `next(upperBound:)`."""
        product = self.next() * n
        if product & MASK < n:
            threshold = ((1 << 64) - n) % n
            while product & MASK < threshold:
                product = self.next() * n
        return product >> 64


def fisher_yates(generator, n):
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = generator.below(i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def orders(scheme, seed, count, epochs):
    if scheme == "winnow":
        return [fisher_yates(Xoshiro256StarStar((seed + e * GOLDEN) & MASK), count) for e in range(epochs)]
    if scheme == "stream":
        generator = Xoshiro256StarStar(seed)
        return [fisher_yates(generator, count) for _ in range(epochs)]
    rng = np.random.default_rng(seed)
    return [list(rng.permutation(count)) for _ in range(epochs)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scheme", choices=["winnow", "stream", "numpy"], default="winnow")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--out")
    p.add_argument("--check", metavar="DIR")
    args = p.parse_args()
    if args.check:
        path = os.path.join(args.check, "batches.f32")
        try:
            dumped = np.fromfile(path, dtype="<f4").astype(int)
        except OSError as error:
            sys.exit(f"error: {path}: {error.strerror}")
        epochs = max(1, min(2, len(dumped) // args.count))
        mine = np.concatenate(orders("winnow", args.seed, args.count, epochs))
        n = min(len(mine), len(dumped))
        same = np.array_equal(mine[:n], dumped[:n])
        print(f"{path}: the first {n} indices {'match' if same else 'DO NOT match'} Winnow's sampler with seed {args.seed}")
        sys.exit(0 if same else 1)
    if not args.out:
        sys.exit("error: give --out FILE (or --check DIR)")
    np.concatenate(orders(args.scheme, args.seed, args.count, args.epochs)).astype("<f4").tofile(args.out)


if __name__ == "__main__":
    main()
