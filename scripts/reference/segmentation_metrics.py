#!/usr/bin/env python3
"""Computes the MS-TCN segmentation metrics in numpy, independently of mmant.

Frame accuracy, edit and F1@{10,25,50}, written from the metric definitions, to produce the
golden numbers that tests/integration/golden_metrics.rs checks the Rust implementation against.

Usage: segmentation_metrics.py <dataset root> <predictions dir> <split>
"""
import sys
from pathlib import Path

import numpy as np


def runs(labels):
    """Half-open runs [start, end) of equal labels."""
    out = []
    for t, label in enumerate(labels):
        if out and out[-1][0] == label:
            out[-1][2] = t + 1
        else:
            out.append([label, t, t + 1])
    return out


def edit(p, y):
    p = [r[0] for r in runs(p)]
    y = [r[0] for r in runs(y)]
    d = np.arange(len(y) + 1, dtype=np.int64)
    for i in range(1, len(p) + 1):
        prev, d = d, np.empty_like(d)
        d[0] = i
        for j in range(1, len(y) + 1):
            d[j] = prev[j - 1] if p[i - 1] == y[j - 1] else 1 + min(prev[j], d[j - 1], prev[j - 1])
    return 100.0 * (1 - d[-1] / max(len(p), len(y)))


def f_counts(p, y, overlap):
    ps, ys = runs(p), runs(y)
    ystart = np.array([r[1] for r in ys])
    yend = np.array([r[2] for r in ys])
    ylab = [r[0] for r in ys]
    used = np.zeros(len(ys), dtype=bool)
    tp = fp = 0
    for lab, s, e in ps:
        inter = np.minimum(e, yend) - np.maximum(s, ystart)
        union = np.maximum(e, yend) - np.minimum(s, ystart)
        iou = inter / union * np.array([lab == l for l in ylab])
        k = int(np.argmax(iou))
        if iou[k] >= overlap and not used[k]:
            tp += 1
            used[k] = True
        else:
            fp += 1
    return tp, fp, len(ys) - int(used.sum())


def main():
    root, preds, split = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    videos = (root / "splits" / f"test.split{split}.bundle").read_text().split()
    correct = total = 0
    edits = []
    counts = np.zeros((3, 3))
    for v in videos:
        gt = (root / "groundTruth" / v).read_text().split("\n")[:-1]
        f = preds / v
        if not f.exists():
            f = preds / v[: -len(".txt")]
        rec = f.read_text().split("\n")[1].split()
        n = min(len(gt), len(rec))
        gt, rec = gt[:n], rec[:n]
        correct += sum(a == b for a, b in zip(gt, rec))
        total += n
        edits.append(edit(rec, gt))
        for k, o in enumerate((0.10, 0.25, 0.50)):
            counts[k] += f_counts(rec, gt, o)
    print(f"acc {100.0 * correct / total:.10f}")
    print(f"edit {np.mean(edits):.10f}")
    for k, o in enumerate((10, 25, 50)):
        tp, fp, fn = counts[k]
        prec, rec = tp / (tp + fp), tp / (tp + fn)
        print(f"f1_{o} {np.nan_to_num(200.0 * prec * rec / (prec + rec)):.10f}")


if __name__ == "__main__":
    main()
