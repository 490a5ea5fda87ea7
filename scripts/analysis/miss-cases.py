#!/usr/bin/env python3
"""Prints what a checkpoint does at given test cuts, video by video.

Per video: the action in progress, what the model's segmentation head says over it, and the
first anticipated segments beside the truth.

Runs `mmant predict` on each video's ground-truth labels (ground-truth observation) and reads
the CSV it writes (tracks ground_truth, coarse = the segmentation head over the observed part,
and the anticipation).

    scripts/analysis/miss-cases.py runs/breakfast/futr-w10-s1/model ../shared/data/breakfast 0.2 \
        P14_cam01_P14_juice P07_cam01_P07_scrambledegg
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile


def segments(rows, track):
    return [(r["label"], int(r["start_frame"]), int(r["end_frame"])) for r in rows if r["track"] == track]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("root")
    p.add_argument("alpha")
    p.add_argument("videos", nargs="+")
    p.add_argument("--bin", default="target/release/mmant")
    a = p.parse_args()
    print("| video | in progress (frames seen) | segmentation head over it | anticipated first | truth next |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for v in a.videos:
            labels = os.path.join(a.root, "groundTruth", v + ".txt")
            out = os.path.join(tmp, v + ".csv")
            r = subprocess.run([a.bin, "predict", "--checkpoint", a.checkpoint, "--alpha", a.alpha, "--csv", out, labels], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{v}: mmant predict failed: {r.stderr.strip()}")
            rows = list(csv.DictReader(open(out)))
            seen = segments(rows, "coarse")
            if not seen:
                sys.exit(f"{out}: expected a 'coarse' track (the observed part), found none")
            cut = seen[-1][2]
            truth = segments(rows, "ground_truth")
            current = next(s for s in truth if s[1] < cut <= s[2])
            head = [f"{l} {min(e, cut) - max(s, current[1])}" for l, s, e in seen if e > current[1]]
            anticipated = [f"{l} {e - s}" for l, s, e in segments(rows, [t for t in {r["track"] for r in rows} if t not in ("coarse", "ground_truth")][0])][:2]
            after = [f"{l} {e - max(s, cut)}" for l, s, e in truth if e > cut][:2]
            print(f"| {v} | {current[0]} ({cut - current[1]}) | {', '.join(head)} | {', '.join(anticipated)} | {', '.join(after)} |")


if __name__ == "__main__":
    main()
