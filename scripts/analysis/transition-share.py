#!/usr/bin/env python3
"""Counts the training cuts whose first future action is not the action in progress.

These are the samples L_act weights by --transition-weight; counted per class in progress, as
`mmant train` cuts them (α .2/.3/.5, stride τ). With --order A B: in the training videos that have both, whether B comes after or
before A.

    scripts/analysis/transition-share.py ../shared/data/breakfast 1 --stride 3 --order take_squeezer cut_orange
"""
import argparse
import collections
import os
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root")
    p.add_argument("split")
    p.add_argument("--stride", type=int, default=3)
    p.add_argument("--weight", type=float, default=10.0)
    p.add_argument("--order", nargs=2, action="append", default=[], metavar=("A", "B"))
    a = p.parse_args()
    bundle = os.path.join(a.root, "splits", f"train.split{a.split}.bundle")
    try:
        train = [l.strip() for l in open(bundle) if l.strip()]
    except OSError as e:
        sys.exit(f"{bundle}: expected a split bundle, {e.strerror}")
    cuts, trans, orders = collections.Counter(), collections.Counter(), []
    for v in train:
        path = os.path.join(a.root, "groundTruth", v if v.endswith(".txt") else v + ".txt")
        try:
            seq = [l.strip() for l in open(path) if l.strip()]
        except OSError as e:
            sys.exit(f"{path}: expected a ground-truth label file, {e.strerror}")
        n = len(seq)
        for alpha in (0.2, 0.3, 0.5):
            obs = int(alpha * n)
            frames = range(0, obs, a.stride)
            future = seq[obs:min(obs + int(0.5 * n), n)][:: a.stride]
            if not frames or not future:
                continue
            last = seq[frames[-1]]
            cuts[last] += 1
            trans[last] += last != future[0]
        orders.append([seq[0]] + [y for x, y in zip(seq, seq[1:]) if x != y])
    total, t = sum(cuts.values()), sum(trans.values())
    print(f"training cuts {total}, first future action ≠ action in progress {t} ({100 * t / total:.1f} %),"
          f" share of L_act's weight at ×{a.weight:g}: {100 * a.weight * t / (a.weight * t + total - t):.1f} %")
    for c in sorted((c for c in cuts if trans[c]), key=lambda c: -trans[c]):
        print(f"  {c}: {trans[c]} of {cuts[c]} cuts")
    for first, second in a.order:
        after = before = 0
        for segs in orders:
            if first in segs and second in segs:
                i = segs.index(first)
                after += any(k > i for k, s in enumerate(segs) if s == second)
                before += any(k < i for k, s in enumerate(segs) if s == second)
        print(f"{second} after {first} in {after} training videos, before it in {before}")


if __name__ == "__main__":
    main()
