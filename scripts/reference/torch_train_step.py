#!/usr/bin/env python3
"""Times PyTorch's phases of one training step (forward + losses, backward, AdamW) on one batch,
repeated: the twin of `examples/train_step.rs`, which writes DIR (config.json,
weights.safetensors, batches/0000) in the layout of torch_train.py and reuses its model, losses
and optimizer. A development tool for issue 29, not part of the test suite.

Usage: torch_train_step.py DIR [STEPS]
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_train as tt  # noqa: E402


def main():
    folder = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    from safetensors.torch import load_file

    conf = json.load(open(os.path.join(folder, "config.json")))
    cfg, tr = conf["model"], conf["train"]
    tr = {"lr": float(tr["lr"]), "weight_decay": float(tr["weight_decay"]),
          "dropout": float(tr["dropout"]), "tcl_weight": float(tr["tcl_weight"]),
          "use_tcl": bool(tr["use_tcl"]), "duration_weight": float(tr["duration_weight"]),
          "threads": int(tr["threads"])}
    torch.set_num_threads(tr["threads"])
    torch.manual_seed(0)
    model = tt.build_model(cfg)
    model.load_state_dict(load_file(os.path.join(folder, "weights.safetensors")), strict=False)
    model.train()
    tt.set_dropout(model, tr["dropout"])
    bt = tt.load_batches(folder)[0]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=tr["lr"], betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=tr["weight_decay"], fused=True)
    times = []
    for step in range(steps + 3):
        opt.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        total, _ = tt.batch_losses(model, bt, tr)
        t1 = time.perf_counter()
        total.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if step >= 3:
            times.append((t1 - t0, t2 - t1, t3 - t2))
    med = [sorted(x)[len(x) // 2] * 1e3 for x in zip(*times)]
    b = bt["x"].shape[0]
    total_ms = sum(med)
    print(f"PyTorch {torch.__version__}, batch {b}, median of {steps} steps: forward+losses {med[0]:.1f} ms, "
          f"backward {med[1]:.1f} ms, AdamW {med[2]:.1f} ms, total {total_ms:.1f} ms "
          f"({b / (total_ms / 1e3):.1f} examples/s)")


if __name__ == "__main__":
    main()
