# PyTorch's side of `mmant bench extract`: the same backbone with the same weights on the same
# input batch, timed at its best. Prints one JSON object.
#
#   torch_extract.py FOLDER BACKBONE THREADS REPEATS
#
# FOLDER holds weights.safetensors (the file mmant loaded), input.npy (a preprocessed
# N×3×224×224 batch) and ours.npy (mmant's features of it). ResNets are torchvision's models,
# EfficientNet-Lite0 is the pip package efficientnet_lite_pytorch 0.1.0 (the reference our
# implementation was checked against). Both memory layouts are timed, NCHW and channels-last,
# each after one warm-up pass, under torch.inference_mode(); the faster one is PyTorch's figure.
import json
import statistics
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file

folder, backbone, threads, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
weights = load_file(f"{folder}/weights.safetensors")

if backbone.startswith("resnet"):
    import torchvision

    model = getattr(torchvision.models, backbone)()
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"{backbone} weights do not match torchvision's: missing {missing}, unexpected {unexpected}")
    body = torch.nn.Sequential(*list(model.children())[:-1], torch.nn.Flatten())
elif backbone == "efficientnet-lite0":
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(weights)

    class Lite0Features(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m._avg_pooling(self.m.extract_features(x)).flatten(1)

    body = Lite0Features(model)
else:
    sys.exit(f"unknown backbone {backbone}")
body.eval()

x = torch.from_numpy(np.load(f"{folder}/input.npy"))
ours = torch.from_numpy(np.load(f"{folder}/ours.npy"))
timings = {}
features = None
with torch.inference_mode():
    for layout, fmt in [("nchw", torch.contiguous_format), ("channels_last", torch.channels_last)]:
        net = body.to(memory_format=fmt)
        xin = x.contiguous(memory_format=fmt)
        f = net(xin)  # warm-up: allocations, oneDNN's kernel choice
        if features is None:
            features = f.float().contiguous()
        ms = []
        for _ in range(repeats):
            t = time.perf_counter()
            net(xin)
            ms.append((time.perf_counter() - t) * 1000.0)
        timings[layout] = statistics.median(ms)

best = min(timings, key=timings.get)
scale = ours.abs().max().clamp_min(1e-12)
print(json.dumps({
    "torch_version": torch.__version__,
    "threads": torch.get_num_threads(),
    "ms": timings,
    "best_layout": best,
    "frames_per_s": x.shape[0] / (timings[best] / 1000.0),
    # the same network? largest difference relative to the largest feature
    "max_rel_diff": float((features - ours).abs().max() / scale),
}))
