#!/usr/bin/env python3
"""Issue 30's screen, summarised: per variant the mean of the 8 cells (α .2/.3 × β .1/.2/.3/.5)
per split, the mean over splits (± the standard deviation over seeds where there are several),
and the paired difference to a reference variant per split (the same split, the same seed).

Reads what scripts/experiments/screen-mmant writes: <dir>/<variant>[-seed<N>]/<dataset>_<method>_
<level>_split-<k>.json (`mmant eval` result files). Seed 13452 (the papers') has no suffix.

    scripts/analysis/screen-summary.py docs/results/screen-d128-e30 [--reference mmant]

A difference is worth reading only where it exceeds the seed noise printed at the end (the
standard deviation over seeds of the reference's split means); with one seed there is none.
"""
import glob
import json
import os
import re
import statistics
import sys
from collections import defaultdict


def mean8(path):
    grid = json.load(open(path))
    cells = [c["moc"] for c in grid["splits"][0]["cells"] if c["alpha"] in (0.2, 0.3) and c["moc"] is not None]
    return sum(cells) / len(cells) if len(cells) == 8 else None


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    root = args[0]
    reference = args[args.index("--reference") + 1] if "--reference" in args else "mmant"
    # scores[variant][seed][split] = mean of the 8 cells
    scores = defaultdict(lambda: defaultdict(dict))
    for path in glob.glob(os.path.join(root, "*", "*_split-*.json")):
        folder = os.path.basename(os.path.dirname(path))
        m = re.fullmatch(r"(.+?)(?:-seed(\d+))?", folder)
        variant, seed = m.group(1), m.group(2) or "13452"
        split = re.search(r"_split-([^_.]+)", os.path.basename(path)).group(1)
        value = mean8(path)
        if value is not None:
            scores[variant][seed][split] = value
    if not scores:
        sys.exit(f"{root}: no eval result files (<variant>/<...>_split-<k>.json)")
    splits = sorted({s for v in scores.values() for d in v.values() for s in d}, key=lambda s: (len(s), s))
    print(f"| variant | seeds | " + " | ".join(f"split {s}" for s in splits) + " | mean over splits | Δ vs " + reference + " (paired, splits in both) |")
    print("|---|---|" + "---|" * len(splits) + "---|---|")
    ref = scores.get(reference, {})
    for variant in sorted(scores, key=lambda v: (v != reference, v)):
        seeds = scores[variant]
        per_split = []
        for s in splits:
            vals = [d[s] for d in seeds.values() if s in d]
            per_split.append(f"{statistics.mean(vals):.2f}" + (f" ± {statistics.stdev(vals):.2f}" if len(vals) > 1 else "") if vals else "–")
        # mean over the splits every seed of this variant has
        full = [d for d in seeds.values() if all(s in d for s in splits)]
        means = [statistics.mean(d.values()) for d in full]
        over = (f"{statistics.mean(means):.2f}" + (f" ± {statistics.stdev(means):.2f}" if len(means) > 1 else "")) if means else "incomplete"
        diffs = [d[s] - ref[seed][s] for seed, d in seeds.items() if seed in ref for s in d if s in ref[seed]]
        delta = f"{statistics.mean(diffs):+.2f} over {len(diffs)} (split, seed) pairs" if diffs and variant != reference else ""
        print(f"| {variant} | {len(seeds)} | " + " | ".join(per_split) + f" | {over} | {delta} |")
    noise = [statistics.stdev([ref[seed][s] for seed in ref if s in ref[seed]]) for s in splits if sum(s in ref[seed] for seed in ref) > 1]
    if noise:
        print(f"\nseed noise of {reference}: std over seeds of a split's mean, averaged over {len(noise)} splits: {statistics.mean(noise):.2f}")
    else:
        print(f"\nseed noise: not measured ({reference} has one seed per split)")


if __name__ == "__main__":
    main()
