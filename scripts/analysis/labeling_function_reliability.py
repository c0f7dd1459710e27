#!/usr/bin/env python3
"""How much a vote weighted by each labeling function's reliability could add over the majority vote.

Reads a WRENCH archive (default: the bundled Rotten Tomatoes data), fits a logistic regression on the labeling
functions' votes (one indicator per function and class, plus a bias) to the clean `valid` split's gold labels, and
reports on the train split (gold labels used only to measure): the majority vote's accuracy, the fitted vote's, and
how well the fitted vote's confidence in the majority label flags wrong majority labels (ROC-AUC). NumPy only.

    python3 scripts/analysis/labeling_function_reliability.py [Datasets/rt-sentiment-weak.tar.gz]
"""
import json
import sys
import tarfile

import numpy as np


def load(archive, split):
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(f"/{split}.json"))
        data = json.load(tar.extractfile(member))
    votes = np.array([v["weak_labels"] for v in data.values()])
    gold = np.array([v["label"] for v in data.values()])
    return votes, gold


def indicators(votes, classes):
    columns = [(votes[:, j] == c).astype(float) for j in range(votes.shape[1]) for c in range(classes)]
    return np.column_stack(columns + [np.ones(len(votes))])


def majority(votes, classes):
    counts = np.stack([(votes == c).sum(1) for c in range(classes)], 1)
    best = counts.argmax(1)
    tied = (counts == counts.max(1, keepdims=True)).sum(1) > 1
    return np.where(tied | (counts.max(1) == 0), -1, best)


def auc(scores, positive):
    ranks = np.argsort(np.argsort(scores)) + 1
    n1, n0 = positive.sum(), (~positive).sum()
    return (ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def main():
    archive = sys.argv[1] if len(sys.argv) > 1 else "Datasets/rt-sentiment-weak.tar.gz"
    train_votes, train_gold = load(archive, "train")
    valid_votes, valid_gold = load(archive, "valid")
    classes = 2
    x, w = indicators(valid_votes, classes), np.zeros(2 * train_votes.shape[1] + 1)
    for _ in range(5000):  # L2-regularised logistic regression by gradient descent
        p = 1 / (1 + np.exp(-x @ w))
        w -= 1.0 * (x.T @ (p - valid_gold) / len(valid_gold) + 1e-3 * w)
    fitted = 1 / (1 + np.exp(-indicators(train_votes, classes) @ w))
    vote = majority(train_votes, classes)
    decisive = vote >= 0
    print(f"train: {len(train_gold)} samples, {decisive.mean():.3f} with a decisive majority vote")
    print(f"majority vote accuracy on decisive samples: {(vote[decisive] == train_gold[decisive]).mean():.4f}")
    predicted = (fitted > 0.5).astype(int)
    print(f"reliability-weighted vote (fitted on valid): {(predicted[decisive] == train_gold[decisive]).mean():.4f} "
          f"on decisive samples, {(predicted == train_gold).mean():.4f} on all")
    confidence = np.where(vote == 1, fitted, 1 - fitted)
    wrong = decisive & (vote != train_gold)
    print(f"ROC-AUC of low confidence for wrong majority labels: {auc(-confidence[decisive], wrong[decisive]):.3f}")


if __name__ == "__main__":
    main()
