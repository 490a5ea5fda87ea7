#!/usr/bin/env python3
"""Checks mmant's m&m-Ant or FUTR forward pass against an independent PyTorch implementation.

Optional parity and speed check. The PyTorch implementation is written from
../shared/docs/model_spec.md §3 / §2 (torch.nn.MultiheadAttention, adaptive_avg_pool1d for the
query pooling) and loads the same checkpoint's safetensors.
Not part of the test suite; needs torch and safetensors.

For S in {250, 1000, 2000} observed tokens it writes one-hot inputs and the PyTorch outputs (seg,
fine for m&m-Ant, action, duration) into OUT, then runs the ignored test tests/integration/model_parity.rs, which runs
mmant's forward on the same inputs, compares, and prints both timings.

Usage: model_parity.py CHECKPOINT_STEM OUT      (e.g. assets/demo/model /tmp/model-parity)
"""
import json
import math
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import Futr, MmAnt  # noqa: E402

stem, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
meta = json.load(open(stem + ".json"))
cfg = meta["model"]
assert cfg["kind"] == "futr" or (cfg["use_fine"] and cfg["use_text"]), "this reference covers FUTR and m&m-Ant with text"
torch.set_num_threads(os.cpu_count())

model = (Futr(cfg) if cfg["kind"] == "futr" else MmAnt(cfg)).eval()
missing, unexpected = model.load_state_dict(load_file(stem + ".safetensors"), strict=False)
assert not unexpected and set(missing) <= {"sinusoid"}, (missing, unexpected)
g = torch.Generator().manual_seed(0)
for s in [250, 1000, 2000]:
    # a plausible observed sequence: runs of random lengths of random classes, one-hot
    labels, cls = [], 0
    while len(labels) < s:
        cls = int(torch.randint(cfg["num_classes"], (1,), generator=g))
        labels += [cls] * int(torch.randint(5, 80, (1,), generator=g))
    x = F.one_hot(torch.tensor(labels[:s]), cfg["input_dim"]).float().unsqueeze(0)
    with torch.no_grad():
        o = model(x)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    save_file({"input": x.contiguous(), **{k: v.contiguous() for k, v in o.items()}, "torch_ms": torch.tensor([min(times) * 1000])}, f"{out}/s{s}.safetensors")
    print(f"S={s}: torch {min(times) * 1000:.1f} ms")

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
subprocess.run(["cargo", "test", "--release", "--test", "integration", "model_parity::", "--", "--ignored", "--nocapture"], cwd=root,
               env={**os.environ, "MMANT_PARITY_DIR": os.path.abspath(out), "MMANT_PARITY_CHECKPOINT": os.path.abspath(stem)}, check=True)
