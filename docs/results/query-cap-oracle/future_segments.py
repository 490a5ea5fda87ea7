"""Share of training cuts with at least M future segments (so no NONE target fits in M queries).

Cuts as `train::examples::cut`: observe floor(alpha*N) frames, the next floor(0.5*N) frames
sampled every tau-th frame, their segments. Usage:
  python3 docs/results/query-cap-oracle/future_segments.py ../shared/data/50salads 6
  python3 docs/results/query-cap-oracle/future_segments.py ../shared/data/breakfast 3
"""
import glob
import os
import sys


def segments(labels):
    n = 0
    prev = None
    for label in labels:
        if label != prev:
            n += 1
            prev = label
    return n


def main():
    root, stride = sys.argv[1], int(sys.argv[2])
    counts = []
    for bundle in sorted(glob.glob(os.path.join(root, "splits", "train.split*.bundle"))):
        for name in open(bundle).read().split():
            path = os.path.join(root, "groundTruth", name if name.endswith(".txt") else name + ".txt")
            labels = open(path).read().split()
            n = len(labels)
            for alpha in (0.2, 0.3, 0.5):
                obs, horizon = int(alpha * n), int(0.5 * n)
                future = labels[obs:min(obs + horizon, n)][::stride]
                if obs > 0 and future:
                    counts.append(segments(future))
    print(f"{root}: {len(counts)} training cuts over all splits' training lists (alphas 0.2, 0.3, 0.5, stride {stride})")
    for m in (8, 12, 16, 20):
        share = sum(c >= m for c in counts) / len(counts)
        print(f"  at least {m:2d} future segments: {100 * share:.1f} %")


if __name__ == "__main__":
    main()
