#!/usr/bin/env python3
"""Where the query that makes the first anticipated segment looks, under ground-truth observation.

For every test video of a split, cut at each α: runs the checkpoint's forward pass in the PyTorch
reference of torch_models.py (parity-checked against mmant: docs/results/parity/model-parity.txt), finds
the query whose segment comes first in FUTR's decoding (model_spec §2.9), and splits that
query's cross-attention in the last decoder layer (mean over heads) into the tokens of the action
in progress (the run of equal labels that ends the observation), of the action before it, and of
everything earlier. Hits (first segment = action in progress) and misses are reported apart.

It tells two readings of the misses apart: a query that looks at the action before (it does not
find the end of the observation) against one that looks at the action in progress and still
names another (it does not read the class out). For each miss it also intervenes: the same
forward pass with the last decoder layer's cross-attention restricted to the tokens of the action
in progress (the encoder unchanged), and counts the misses whose query then names that action;
the hits under the same intervention are the control. The first-segment counts it prints must equal
`mmant eval --diagnose`'s for the same checkpoint: that checks the reference against mmant.

    /opt/torchenv/bin/python scripts/reference/first-query-attention.py \
        runs/breakfast/futr-w10-s1/model ../shared/data/breakfast --split 1 --alphas 0.2,0.3

Not part of the test suite; needs torch and safetensors.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import Futr, MmAnt  # noqa: E402


def read_lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def load_videos(root, split):
    ids = {}
    for n, line in enumerate(read_lines(os.path.join(root, "mapping.txt")), 1):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            sys.exit(f"{root}/mapping.txt line {n}: expected '<id> <name>', found {line!r}")
        ids[parts[1]] = int(parts[0])
    bundle = os.path.join(root, "splits", f"test.split{split}.bundle")
    videos = []
    for name in read_lines(bundle):
        path = os.path.join(root, "groundTruth", name)
        labels = []
        for n, label in enumerate(read_lines(path), 1):
            if label not in ids:
                sys.exit(f"{path} line {n}: label {label!r} is not in mapping.txt")
            labels.append(ids[label])
        videos.append((name.removesuffix(".txt"), labels))
    return videos


def first_segment_query(action, duration, classes, future):
    """Index of the query whose segment comes first in FUTR's decoding (mmant's decode.rs), or None
    when the future is all NONE."""
    labels = action.argmax(-1).tolist()
    k = labels.index(classes) if classes in labels else len(labels)
    if k == 0 or future == 0:
        return None
    p = torch.softmax(duration[:k].double(), 0).tolist()
    start = 0
    for i in range(k):
        end = future if i == k - 1 else min(start + int(0.5 + future * p[i]), future)
        if end > start:
            return i
        start = end
    return None


def runs_at_end(tokens):
    """(start of the last run, start of the run before it) in token indices."""
    cur = len(tokens) - 1
    while cur > 0 and tokens[cur - 1] == tokens[-1]:
        cur -= 1
    prev = cur - 1
    while prev > 0 and tokens[prev - 1] == tokens[cur - 1]:
        prev -= 1
    return cur, max(prev, 0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="checkpoint stem (model.json + model.safetensors)")
    p.add_argument("root", help="dataset root (mapping.txt, groundTruth/, splits/)")
    p.add_argument("--split", default="1")
    p.add_argument("--alphas", default="0.2,0.3")
    a = p.parse_args()
    meta = json.load(open(a.checkpoint + ".json"))
    cfg = meta["model"]
    if meta["input"]["kind"] != "gt-labels":
        sys.exit(f"{a.checkpoint}.json: this diagnostic observes ground-truth labels; the checkpoint observes {meta['input']['kind']}")
    model = Futr(cfg) if cfg["kind"] == "futr" else MmAnt(cfg)
    missing, unexpected = model.load_state_dict(load_file(a.checkpoint + ".safetensors"), strict=False)
    if unexpected or not set(missing) <= {"sinusoid"}:
        sys.exit(f"{a.checkpoint}.safetensors does not fit the reference: missing {missing}, unexpected {unexpected}")
    model.eval()
    last_layer = model.decoder.layers[-1]
    last_layer.keep_weights = True
    classes, stride = cfg["num_classes"], meta["stride"]
    videos = load_videos(a.root, a.split)
    print(f"{a.checkpoint} ({cfg['kind']}), split {a.split}: {len(videos)} test videos; attention of the first segment's query "
          "in the last decoder layer, mean over heads")
    print()
    print("| α | first segment | videos | on the action in progress | on the action before | earlier | tokens in progress (median) |")
    print("|---|---|---|---|---|---|---|")
    for alpha in [float(x) for x in a.alphas.split(",")]:
        rows, none_first = {True: [], False: []}, 0
        for name, labels in videos:
            observed = int(alpha * len(labels))  # the frames `mmant eval` observes
            if observed == 0 or observed >= len(labels):
                continue
            tokens = labels[:observed:stride]
            x = F.one_hot(torch.tensor(tokens), cfg["input_dim"]).float().unsqueeze(0)
            with torch.no_grad():
                out = model(x)
            q = first_segment_query(out["action"][0], out["duration"][0], classes, int(0.5 * len(labels)))
            if q is None:
                none_first += 1
                continue
            w = last_layer.weights[0, q]
            cur, prev = runs_at_end(tokens)
            hit = int(out["action"][0, q].argmax()) == labels[observed - 1]
            # the intervention: let the cross-attention see only the action in progress
            last_layer.memory_mask = torch.arange(len(tokens)).unsqueeze(0) < cur
            with torch.no_grad():
                forced = model(x)
            last_layer.memory_mask = None
            fixed = int(forced["action"][0, q].argmax()) == labels[observed - 1]
            rows[hit].append((w[cur:].sum().item(), w[prev:cur].sum().item(), w[:prev].sum().item(), len(tokens) - cur, fixed))
        for hit in (True, False):
            r = rows[hit]
            if not r:
                continue
            mean = lambda i: 100 * sum(x[i] for x in r) / len(r)  # noqa: E731
            lengths = sorted(x[3] for x in r)
            print(f"| {alpha} | {'the action in progress' if hit else 'another action'} | {len(r)} | {mean(0):.1f}% | {mean(1):.1f}% "
                  f"| {mean(2):.1f}% | {lengths[len(lengths) // 2]} |")
        misses = rows[False]
        looked = sum(1 for x in misses if x[0] > x[1] + x[2])
        print(f"| {alpha} | misses with most of the attention on the action in progress | {looked} of {len(misses)} | | | | |")
        fixed = sum(1 for x in misses if x[4])
        print(f"| {alpha} | misses whose query names the action in progress when it may attend only to it | {fixed} of {len(misses)} | | | | |")
        kept = sum(1 for x in rows[True] if x[4])
        print(f"| {alpha} | (control) hits whose query still names it when it may attend only to it | {kept} of {len(rows[True])} | | | | |")
        if none_first:
            print(f"| {alpha} | NONE (no attention to split) | {none_first} | | | | |")


if __name__ == "__main__":
    main()
