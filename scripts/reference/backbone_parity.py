#!/usr/bin/env python3
"""Checks mmant's CNN backbones against PyTorch for parity and speed.

Optional, not part of the test suite; needs torch, torchvision and, for EfficientNet-Lite0, the pip package
efficientnet_lite_pytorch 0.1.0 as the independent reference implementation).

For ResNet-18/34/50 it builds torchvision models with random weights (seeded; batch-norm
statistics randomised too), for EfficientNet-Lite0 it loads the real ImageNet weights from
scripts/fetch-models' cache; it runs a batch of random images through each, writes weights,
input and outputs as safetensors into OUT, then runs the ignored test tests/integration/backbone_parity.rs,
which loads the same weights in candle, compares the outputs and prints both timings.

Usage: backbone_parity.py OUT   (then: MMANT_PARITY_DIR=OUT cargo test --release --test integration backbone_parity:: -- --ignored --nocapture)
"""
import os
import sys
import time

import torch
import torchvision
from safetensors.torch import save_file

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(os.cpu_count())
x = torch.rand(4, 3, 224, 224) * 4 - 2


def run(name, model, features):
    model.eval()
    with torch.no_grad():
        f = features(x)
        logits = model(x)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            features(x)
            times.append(time.perf_counter() - t)
    save_file({"input": x.contiguous(), "features": f.contiguous(), "logits": logits.contiguous(),
               "torch_ms": torch.tensor([min(times) * 1000.0])}, f"{out}/{name}.io.safetensors")
    print(f"{name}: torch {min(times) * 1000:.1f} ms per batch of {x.shape[0]}")


for name in ["resnet18", "resnet34", "resnet50"]:
    m = getattr(torchvision.models, name)()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.0)
            mod.bias.data.uniform_(-0.1, 0.1)
    sd = {k: v.contiguous() for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}
    save_file(sd, f"{out}/{name}.weights.safetensors")
    body = torch.nn.Sequential(*list(m.children())[:-1], torch.nn.Flatten())
    run(name, m, body)

try:
    from efficientnet_lite_pytorch import EfficientNet
    from safetensors.torch import load_file
    weights = os.path.expanduser(os.environ.get("MMANT_MODELS", "~/.cache/mmant/models")) + "/efficientnet-lite0/efficientnet-lite0.safetensors"
    m = EfficientNet.from_name("efficientnet-lite0")
    m.load_state_dict(load_file(weights))
    os.symlink(weights, f"{out}/efficientnet-lite0.weights.safetensors") if not os.path.exists(f"{out}/efficientnet-lite0.weights.safetensors") else None
    run("efficientnet-lite0", m, lambda t: m._avg_pooling(m.extract_features(t)).flatten(1))
except ImportError:
    print("efficientnet-lite0: skipped (pip install efficientnet_lite_pytorch==0.1.0 for the reference)")

# the candle side, in the same run
import subprocess
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
subprocess.run(["cargo", "test", "--release", "--test", "integration", "backbone_parity::", "--", "--ignored", "--nocapture"],
               cwd=root, env={**os.environ, "MMANT_PARITY_DIR": os.path.abspath(out)}, check=True)
