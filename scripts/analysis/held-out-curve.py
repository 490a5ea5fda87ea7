#!/usr/bin/env python3
"""The held-out score of training runs, epoch by epoch, as one Markdown table.

Reads `held_out` from each `mmant train` log (log.jsonl): the mean MoC of α .2/.3 × β .1/.2/.3/.5
on the split's held-out videos, and how often the first anticipated segment is the action in
progress. One column per log; a row per epoch that any log scored.

    scripts/analysis/held-out-curve.py docs/results/breakfast/futr-w10-s1-log.jsonl docs/results/breakfast/mmant-12ep-s1-log.jsonl
"""
import json
import os
import sys


def curve(path):
    scores = {}
    for n, line in enumerate(open(path), 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"{path} line {n}: expected a JSON epoch record, found {line[:60]!r} ({e})")
        h = rec.get("held_out")
        if h and h.get("moc") is not None:
            scores[rec["epoch"]] = (h["moc"], h["first_is_current"], h.get("last_observed_moc"))
    if not scores:
        sys.exit(f"{path}: expected epochs with a held-out score (train with --held-out-every N), found none")
    return scores


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    paths = sys.argv[1:]
    curves = [curve(p) for p in paths]
    names = [os.path.basename(p).removesuffix(".jsonl").removesuffix("-log") for p in paths]
    print("| epoch | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for epoch in sorted(set().union(*curves)):
        cells = [f"{c[epoch][0]:.2f} ({100 * c[epoch][1]:.0f} %)" if epoch in c else "" for c in curves]
        print(f"| {epoch} | " + " | ".join(cells) + " |")
    floors = {round(s[2], 2) for c in curves for s in c.values() if s[2] is not None}
    if floors:
        print("\n(MoC mean (first = current); last-observed on the same videos: " + ", ".join(f"{f:.2f}" for f in sorted(floors)) + ")")


if __name__ == "__main__":
    main()
