"""How much any reweighting or label correction could gain on a WRENCH archive, with oracle knowledge of the
wrong weak labels, for a TF-IDF (uni+bigram) logistic regression trained on the majority vote plus the clean
split (clean samples weighted ×10, about N_weak / N_clean on Rotten Tomatoes).

Prints test accuracy for: weak + clean; the wrong weak labels removed (the best any reweighting can do);
wrong labels flipped (perfect correction); tied / unlabeled samples given their gold label; and the same
removals and flips driven by a real label-issue score (5-fold cross-validated probability of the weak label).

Needs scikit-learn (`python3 -m venv /tmp/venv && /tmp/venv/bin/pip install scikit-learn`).
Usage: /tmp/venv/bin/python scripts/analysis/label_cleaning_ceiling.py Datasets/rt-sentiment-weak.tar.gz
"""
import json
import sys
import tarfile

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold


def load(archive):
    with tarfile.open(archive) as tar:
        def split(name):
            member = next((m for m in tar.getmembers() if m.name.endswith(f"/{name}.json")), None)
            if member is None:
                sys.exit(f"error: {archive}: no */{name}.json member (a WRENCH-layout archive is expected)")
            records = list(json.load(tar.extractfile(member)).values())
            return ([r["data"]["text"] for r in records], np.array([r["label"] for r in records]),
                    np.array([r["weak_labels"] for r in records]))
        return split("train"), split("valid"), split("test")


def majority(votes, classes):
    counts = np.stack([(votes == c).sum(1) for c in range(classes)], 1)
    top = counts.max(1)
    decisive = (top > 0) & ((counts == top[:, None]).sum(1) == 1)
    return np.where(decisive, counts.argmax(1), -1)


def main(archive, clean_weight=10.0):
    train, valid, test = load(archive)
    classes = int(max(train[1].max(), valid[1].max(), test[1].max())) + 1
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(train[0] + valid[0])
    x, xv, xt = (vectorizer.transform(s[0]) for s in (train, valid, test))
    weak = majority(train[2], classes)
    covered = weak >= 0
    wrong = covered & (weak != train[1])

    def accuracy(rows, labels):
        rows = np.where(rows)[0]
        model = LogisticRegression(max_iter=3000).fit(
            sp.vstack([x[rows], xv]), np.r_[labels[rows], valid[1]],
            sample_weight=np.r_[np.ones(len(rows)), clean_weight * np.ones(len(valid[1]))])
        return 100 * (model.predict(xt) == test[1]).mean()

    print(f"weak + clean ×{clean_weight:g}: {accuracy(covered, weak):.1f}%")
    print(f"oracle: wrong weak labels removed (any reweighting's best): {accuracy(covered & ~wrong, weak):.1f}%")
    flipped = np.where(wrong, train[1], weak)
    print(f"oracle: wrong weak labels corrected: {accuracy(covered, flipped):.1f}%")
    print(f"oracle: tied / unlabeled samples given their gold label: "
          f"{accuracy(np.ones(len(weak), bool), np.where(covered, weak, train[1])):.1f}%")
    # A real label-issue score: the cross-validated probability of the weak label.
    quality = np.zeros(len(weak))
    rows = np.where(covered)[0]
    for fit_part, held_out in KFold(5, shuffle=True, random_state=0).split(rows):
        a, b = rows[fit_part], rows[held_out]
        model = LogisticRegression(max_iter=3000).fit(
            sp.vstack([x[a], xv]), np.r_[weak[a], valid[1]],
            sample_weight=np.r_[np.ones(len(a)), clean_weight * np.ones(len(valid[1]))])
        quality[b] = model.predict_proba(x[b])[np.arange(len(b)), weak[b]]
    print(f"cross-validated label-issue score flags wrong weak labels with ROC-AUC "
          f"{roc_auc_score(wrong[covered], -quality[covered]):.3f}")
    for fraction in (0.05, 0.1, 0.2):
        threshold = np.quantile(quality[covered], fraction)
        suspect = covered & (quality <= threshold)
        # Two classes: the only other label; with more, the model's most likely other class would be needed.
        other = 1 - weak if classes == 2 else weak
        print(f"the {fraction:.0%} most suspect (precision {wrong[suspect].mean():.2f}): removed "
              f"{accuracy(covered & ~suspect, weak):.1f}%, flipped {accuracy(covered, np.where(suspect, other, weak)):.1f}%")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
