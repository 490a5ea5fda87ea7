#!/usr/bin/env python3
"""The table of docs/results/query-ablation.md from the files scripts/experiments/query-ablation writes.

For each run name (as in <dir>/<name>-eval.txt and <name>-log.jsonl) prints one Markdown row:
MoC at α = .2 and .3 × β = .1/.2/.3/.5 (from the eval's grid), their mean over the eight cells,
how often the first anticipated segment is the action in progress at α = .2 / .3 (from the
--diagnose table) and the anticipation cross-entropy of the last training epoch ("–" where there
is no <name>-log.jsonl: a baseline scored with `mmant eval --baseline`).

    scripts/analysis/ablation-table.py docs/results/query-ablation-d128 futr-split1 mmant-split1 ...

With --oracle, the cells are those of the --diagnose table's last column instead: the MoC with the
first anticipated segment relabelled to the action in progress and given the truth's length.
"""
import json
import sys


def cells(line):
    return [c.strip().strip("*") for c in line.strip().strip("|").split("|")]


def grid(path):
    """The eval's MoC grid keyed "α=a β=b": the mean's rows when there are several splits, else
    the one split's. Reads both layouts `mmant eval` has printed: α rows × β columns
    ("| split | α | β=0.1 | …", since December 2026) and one row per split ("| split | α=0.1 β=0.1 | …")."""
    lines = open(path).read().splitlines()
    header = next((i for i, l in enumerate(lines) if l.startswith("| split | α")), None)
    if header is None or header + 2 >= len(lines):
        sys.exit(f"{path}: expected a MoC grid (a '| split | α…' header and a row), found none")
    cols = cells(lines[header])
    if cols[1] != "α":  # one row per split, a column per (α, β)
        return dict(zip(cols, cells(lines[header + 2])))
    rows = [cells(l) for l in lines[header + 2:] if l.startswith("| ")]
    split = "mean" if any(r[0] == "mean" for r in rows) else rows[0][0]
    return {f"α={r[1]} {beta}": value for r in rows if r[0] == split for beta, value in zip(cols[2:], r[2:])}


def first_is_current(path):
    out = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] in ("0.2", "0.3") and cells[3].endswith("%"):
            out.setdefault(cells[0], cells[3])
    return f"{out.get('0.2', '–')} / {out.get('0.3', '–')}"


def oracle(path):
    """The --diagnose rows "| α | a → b → c | …": the last value of each cell, keyed as the grid."""
    out = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in ("0.2", "0.3") and all(c.count("→") == 2 for c in cells[1:]):
            for beta, cell in zip(("0.1", "0.2", "0.3", "0.5"), cells[1:]):
                out[f"α={cells[0]} β={beta}"] = cell.split("→")[-1].strip()
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--oracle"]
    if len(args) < 2:
        sys.exit(__doc__)
    folder, names = args[0], args[1:]
    wanted = [f"α={a} β={b}" for a in ("0.2", "0.3") for b in ("0.1", "0.2", "0.3", "0.5")]
    print("| run | " + " | ".join(w.replace("α=0.", ".").replace(" β=0", "/") for w in wanted) + " | mean | first = current | train CE |")
    print("|---|" + "---|" * (len(wanted) + 3))
    for name in names:
        g = oracle(f"{folder}/{name}-eval.txt") if "--oracle" in sys.argv else grid(f"{folder}/{name}-eval.txt")
        missing = [w for w in wanted if w not in g]
        if missing:
            sys.exit(f"{folder}/{name}-eval.txt: the grid has no {', '.join(missing)} column")
        cells = [float(g[w]) for w in wanted]
        # a baseline's eval (mmant eval --baseline …) has no training log
        try:
            ce = f'{json.loads(open(f"{folder}/{name}-log.jsonl").read().splitlines()[-1])["action"]:.2f}'
        except FileNotFoundError:
            ce = "–"

        row = " | ".join(f"{c:.2f}" for c in cells)
        print(f"| {name} | {row} | {sum(cells) / len(cells):.2f} | {first_is_current(f'{folder}/{name}-eval.txt')} | {ce} |")


if __name__ == "__main__":
    main()
