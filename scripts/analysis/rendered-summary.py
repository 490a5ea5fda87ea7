#!/usr/bin/env python3
"""The rendered Breakfast benchmark's table (docs/results/rendered-breakfast.md) from the outputs
that scripts/experiments/rendered-breakfast writes: per run the MoC of α ∈ {.2, .3} × β ∈ {.1, .2,
.3, .5} and the mean of those eight cells, and for runs that observe features the recognition of
the observed frames (Acc, Edit, F1@50 at α = .2 and .3).

    scripts/analysis/rendered-summary.py docs/results/rendered-breakfast
"""
import glob
import json
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "docs/results/rendered-breakfast"
rows = []
for path in sorted(glob.glob(os.path.join(root, "*", "*_split-1*.json"))):
    if "_recognition_" in os.path.basename(path):
        continue
    run = os.path.basename(os.path.dirname(path))
    report = json.load(open(path))
    cells = {(c["alpha"], c["beta"]): c["moc"] for c in report["splits"][0]["cells"]}
    eight = [cells[(a, b)] for a in (0.2, 0.3) for b in (0.1, 0.2, 0.3, 0.5)]
    recognition = {}
    txt = os.path.join(root, f"{run}-recognition.txt")
    if os.path.exists(txt):
        for line in open(txt):
            m = re.match(r"\| (0\.\d+) \| ([\d.]+) \| ([\d.]+) \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|", line)
            if m:
                recognition[float(m.group(1))] = (m.group(2), m.group(3), m.group(4))
    rows.append((run, report["observation"], eight, sum(eight) / 8, recognition))

print("| run | observes | " + " | ".join(f"{a}/{b}" for a in (0.2, 0.3) for b in (0.1, 0.2, 0.3, 0.5))
      + " | mean of 8 | recognition Acc / Edit / F1@50 at α = .2; .3 |")
print("|---|---|" + "---|" * 8 + "---|---|")
for run, observation, eight, mean, rec in rows:
    r = "; ".join(" / ".join(rec[a]) for a in (0.2, 0.3) if a in rec) or "–"
    print(f"| {run} | {observation} | " + " | ".join(f"{x:.2f}" for x in eight) + f" | {mean:.2f} | {r} |")
