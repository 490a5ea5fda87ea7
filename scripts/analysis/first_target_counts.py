#!/usr/bin/env python3
"""Counts how often each class is the action in progress at a training cut.

That action is the first future target. Counted over a split's training videos at
α ∈ {0.2, 0.3, 0.5}, as `mmant train` cuts them.

Usage: first_target_counts.py DATASET_ROOT SPLIT CLASS [CLASS …]
"""
import collections
import os
import sys

root, split, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
videos = [l.strip() for l in open(os.path.join(root, "splits", f"train.split{split}.bundle")) if l.strip()]
first_target, present = collections.Counter(), collections.Counter()
for v in videos:
    gt = open(os.path.join(root, "groundTruth", v if v.endswith(".txt") else v + ".txt")).read().split("\n")[:-1]
    present.update(set(gt))
    for alpha in (0.2, 0.3, 0.5):
        first_target[gt[int(alpha * len(gt))]] += 1
total = sum(first_target.values())
print(f"{len(videos)} training videos, {total} cuts")
print("| class | cuts where it is in progress | training videos containing it |")
print("|---|---|---|")
for c in wanted:
    print(f"| {c} | {first_target[c]} ({100 * first_target[c] / total:.2f} %) | {present[c]} |")
