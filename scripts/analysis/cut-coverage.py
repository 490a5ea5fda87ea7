#!/usr/bin/env python3
"""How often each action is in progress at a training cut, beside the test cuts where it is.

A model can only learn to continue an action it has seen in progress at a cut. For the given
classes this prints, per class: the training cuts (α of --train-alphas, the cuts `mmant train`
makes) at which it is in progress, and each test cut (α of --test-alphas) at which it is: the
video, the frames of it observed and the frames left. Breakfast records each session with up to
five cameras under the same labels, so test videos come in groups; the recording
(P03_..._cereals) is printed too.

    scripts/analysis/cut-coverage.py ../shared/data/breakfast 1 take_squeezer take_plate

With --random-range LO,HI it also gives, per class, what `mmant train --random-cuts` draws:
the expected number of cuts per epoch at which the class is in progress (as many uniform draws
in [LO, HI] per video as --train-alphas lists) and the training videos where it can be.
"""
import argparse
import collections
import os
import sys


def labels(root, video):
    path = os.path.join(root, "groundTruth", video if video.endswith(".txt") else video + ".txt")
    try:
        return [l.strip() for l in open(path) if l.strip()]
    except OSError as e:
        sys.exit(f"{path}: expected a ground-truth label file, {e.strerror}")


def bundle(root, name):
    path = os.path.join(root, "splits", name)
    try:
        return [l.strip() for l in open(path) if l.strip()]
    except OSError as e:
        sys.exit(f"{path}: expected a split bundle, {e.strerror}")


def in_progress(seq, alpha):
    """The action at the last observed frame, how many frames of it were observed and how many remain."""
    n = len(seq)
    cut = int(alpha * n)
    if cut < 1:
        return None
    action = seq[cut - 1]
    start = cut - 1
    while start > 0 and seq[start - 1] == action:
        start -= 1
    end = cut
    while end < n and seq[end] == action:
        end += 1
    return action, cut - start, end - cut


def recording(video):
    # P03_cam01_P03_cereals.txt -> P03_cereals
    parts = video.removesuffix(".txt").split("_")
    return f"{parts[0]}_{parts[-1]}" if len(parts) >= 3 else video


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root")
    p.add_argument("split")
    p.add_argument("classes", nargs="+")
    p.add_argument("--train-alphas", default="0.2,0.3,0.5")
    p.add_argument("--test-alphas", default="0.2,0.3")
    p.add_argument("--random-range", help="LO,HI: also the coverage of cuts drawn uniformly in [LO, HI]")
    a = p.parse_args()
    train_alphas = [float(x) for x in a.train_alphas.split(",")]
    test_alphas = [float(x) for x in a.test_alphas.split(",")]
    train = bundle(a.root, f"train.split{a.split}.bundle")
    test = bundle(a.root, f"test.split{a.split}.bundle")
    counts = collections.Counter()
    videos = collections.defaultdict(set)
    total = 0
    share = collections.Counter()
    random_videos = collections.defaultdict(set)
    lo_hi = None
    if a.random_range:
        try:
            lo_hi = tuple(float(x) for x in a.random_range.split(","))
            assert len(lo_hi) == 2 and 0 < lo_hi[0] < lo_hi[1] <= 1
        except (ValueError, AssertionError):
            sys.exit(f"--random-range: expected LO,HI with 0 < LO < HI <= 1, found '{a.random_range}'")
    for v in train:
        seq = labels(a.root, v)
        for alpha in train_alphas:
            c = in_progress(seq, alpha)
            if c:
                counts[c[0]] += 1
                videos[c[0]].add(v)
                total += 1
        if lo_hi:
            # mmant cuts at int(α·n) with α uniform in [LO, HI): the cut frames and their shares
            n = len(seq)
            cuts = collections.Counter(seq[t - 1] for t in range(max(1, int(lo_hi[0] * n)), int(lo_hi[1] * n) + 1))
            width = sum(cuts.values())
            for cls, k in cuts.items():
                share[cls] += len(train_alphas) * k / width
                random_videos[cls].add(v)
    print(f"training cuts: {total} (split {a.split}, α {a.train_alphas})")
    if lo_hi:
        print(f"random cuts: {len(train_alphas)} per video and epoch, α uniform in [{lo_hi[0]}, {lo_hi[1]}]")
    for cls in a.classes:
        rows = []
        for v in test:
            seq = labels(a.root, v)
            for alpha in test_alphas:
                c = in_progress(seq, alpha)
                if c and c[0] == cls:
                    rows.append((alpha, recording(v), v.removesuffix(".txt"), c[1], c[2]))
        recs = len({(r[0], r[1]) for r in rows})
        print(f"\n{cls}: in progress at {counts[cls]} training cuts of {len(videos[cls])} videos; at {len(rows)} test cuts ({recs} recordings)")
        if lo_hi:
            print(f"  random cuts: {share[cls]:.1f} expected per epoch, from {len(random_videos[cls])} training videos")
        for alpha, rec, v, seen, left in rows:
            print(f"  α={alpha}  {v}  observed {seen} frames of it, {left} left")


if __name__ == "__main__":
    main()
