#!/usr/bin/env python3
"""Corpus halves by SAMA document weight, for the continued-pretraining ranking check.

From a manifest of every weighted corpus document (`winnow export manifest --by weight --keep 1`), writes
top.tar.gz (the N highest weights), bottom.tar.gz (the N lowest) and random.tar.gz (N drawn with seed 0 from the
weighted ones), N = half the weighted documents. Each archive has the source's one member and line format, so a
recipe reads it as `dataset.corpus`. Prints the mean weight of each half.

Usage: python3 scripts/analysis/corpus_halves.py SOURCE_CORPUS.tar.gz MANIFEST.jsonl OUTDIR
"""
import io
import json
import random
import sys
import tarfile


def main():
    source, manifest, outdir = sys.argv[1:4]
    with tarfile.open(source) as archive:
        member = next(m for m in archive.getmembers() if m.isfile())
        lines = archive.extractfile(member).read().decode().splitlines()
    line_by_id = {json.loads(line)["id"]: line for line in lines if line.strip()}
    rows = sorted((json.loads(line) for line in open(manifest)), key=lambda row: -row["weight"])
    half = len(rows) // 2
    halves = {"top": rows[:half], "bottom": rows[-half:], "random": random.Random(0).sample(rows, half)}
    for name, chosen in halves.items():
        ids = {row["sample"] for row in chosen}
        kept = [line for record_id, line in line_by_id.items() if record_id in ids]
        data = ("\n".join(kept) + "\n").encode()
        with tarfile.open(f"{outdir}/{name}.tar.gz", "w:gz") as archive:
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        weights = [row["weight"] for row in chosen]
        print(f"{name}: {len(kept)} of {len(line_by_id)} documents, mean weight {sum(weights) / len(weights):.4f}")


if __name__ == "__main__":
    main()
