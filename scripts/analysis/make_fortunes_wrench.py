#!/usr/bin/env python3
"""Builds a held-out WRENCH-format topic archive from Debian's `fortunes` package, with keyword labeling functions.

The noisy-labels recipes were designed on Rotten Tomatoes sentiment (2 classes). This archive checks that the generic
recipe (`Recipes/noisy-labels/wrench.yaml`) works unchanged on another WRENCH archive: 12 topics of very different
sizes, short texts, and keyword rules written once, before any run, and never tuned on a result.

- Gold label: the fortune file a quotation comes from (computers, politics, work, ...).
- Weak labels: one labeling function per keyword (whole words, with the listed stems); each votes its topic or abstains
  (-1), WRENCH's convention.
- Splits: seeded (seed 0) 70% train, 10% valid (the clean split), 20% test, stratified by topic.

usage: scripts/analysis/make_fortunes_wrench.py OUTPUT.tar.gz [--fortunes /usr/share/games/fortunes]
(`apt-get install fortunes` provides the files.)
"""
import argparse, io, json, os, random, re, sys, tarfile

# Topic → keywords. A keyword ending in '*' matches any word that starts with it.
KEYWORDS = {
    "computers": ["computer*", "program*", "software", "bug*", "unix", "byte*", "hacker*", "code"],
    "politics": ["government*", "politic*", "president*", "vote*", "congress*", "democra*", "senator*"],
    "work": ["work*", "job*", "boss*", "office", "employ*", "manage*", "meeting*"],
    "science": ["scien*", "physic*", "theory", "experiment*", "universe", "mathemati*", "atom*"],
    "art": ["art", "artist*", "paint*", "music*", "beauty", "poet*", "novel*"],
    "law": ["law", "laws", "lawyer*", "court*", "judge*", "legal", "crime*", "jury"],
    "education": ["school*", "teach*", "student*", "college*", "educat*", "universit*", "exam*"],
    "food": ["food", "eat*", "cook*", "dinner", "wine", "bread", "meal*"],
    "sports": ["game*", "team*", "baseball", "football", "golf", "sport*", "player*"],
    "startrek": ["kirk", "spock", "enterprise", "captain", "starship", "vulcan*", "mccoy"],
    "drugs": ["drug*", "marijuana", "cocaine", "lsd", "alcohol*", "drunk*", "high"],
    "love": ["love*", "heart*", "kiss*", "romance", "romantic", "marr*"],
}


def labeling_functions():
    """(topic index, compiled pattern) per keyword, in a fixed order."""
    functions = []
    for index, (_, words) in enumerate(KEYWORDS.items()):
        for word in words:
            stem = word.rstrip("*")
            pattern = r"\b" + re.escape(stem) + (r"\w*" if word.endswith("*") else r"\b")
            functions.append((index, re.compile(pattern, re.IGNORECASE)))
    return functions


def read_fortunes(path):
    """The quotations of one fortune file, whitespace-normalised, empty ones dropped."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    return [" ".join(block.split()) for block in text.split("\n%\n") if block.strip() and block.strip() != "%"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--fortunes", default="/usr/share/games/fortunes")
    args = parser.parse_args()
    if os.path.exists(args.output):
        sys.exit(f"{args.output} exists; choose a new file (nothing is overwritten)")
    functions = labeling_functions()
    rng = random.Random(0)
    splits = {"train": {}, "valid": {}, "test": {}}
    for label, topic in enumerate(KEYWORDS):
        path = os.path.join(args.fortunes, topic)
        if not os.path.exists(path):
            sys.exit(f"{path}: missing (apt-get install fortunes)")
        texts = sorted(set(read_fortunes(path)))
        rng.shuffle(texts)
        cut_valid, cut_test = int(0.7 * len(texts)), int(0.8 * len(texts))
        for position, text in enumerate(texts):
            split = "train" if position < cut_valid else "valid" if position < cut_test else "test"
            votes = [index if pattern.search(text) else -1 for index, pattern in functions]
            splits[split][f"{topic}-{position}"] = {"label": label, "weak_labels": votes, "data": {"text": text}}
    members = {f"fortunes-topics/{name}.json": payload for name, payload in splits.items()}
    members["fortunes-topics/label.json"] = {str(index): topic for index, topic in enumerate(KEYWORDS)}
    partial = args.output + ".partial"
    with tarfile.open(partial, "w:gz") as archive:
        for name, payload in members.items():
            data = json.dumps(payload).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    os.replace(partial, args.output)
    for name, rows in splits.items():
        covered = [row for row in rows.values() if any(vote >= 0 for vote in row["weak_labels"])]
        print(f"{name}: {len(rows)} texts, {len(covered)} with a vote", file=sys.stderr)


if __name__ == "__main__":
    main()
