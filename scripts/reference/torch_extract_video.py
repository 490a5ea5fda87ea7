#!/usr/bin/env python3
"""PyTorch's end-to-end feature extraction of one video, as `mmant extract` does it: decode every
frame (PyAV, FFmpeg's decoders), take every STRIDE-th, resize its shorter side to 256 with
swscale's bilinear filter (what mmant's decoder uses), centre-crop 224, scale to [0, 1] and
normalise, run the backbone in batches of BATCH under torch.inference_mode() in channels-last
(its faster layout for these networks in `mmant bench extract`), 2 threads. Decoding and the
network run one after the other on the same thread, as a plain script would.

The features are not mmant's to 1e-4: PyAV sets up swscale's colour conversion otherwise than
FFmpeg's defaults, which mmant keeps (on a 320×240 test pattern its frames differ from
`ffmpeg -vf scale=341:256:flags=bilinear` by 1.8 levels on average, and the Lite0 features by
0.13 of the largest; mmant's features equal that ffmpeg command's frames through this script's
crop and network to 3e-6, checked by hand). The comparison is of speed; the networks alone agree to 1e-5
(`mmant bench extract`).

Run by scripts/experiments/bench-extract-video; prints one JSON object.

  torch_extract_video.py VIDEO BACKBONE WEIGHTS.safetensors STRIDE BATCH OUT.npy
"""
import json
import sys
import time

import av
import numpy as np
import torch
from safetensors.torch import load_file

video, backbone, weights, stride, batch, out = sys.argv[1:7]
stride, batch = int(stride), int(batch)
torch.set_num_threads(2)
started = time.perf_counter()

if backbone.startswith("resnet"):
    import torchvision

    model = getattr(torchvision.models, backbone)()
    model.load_state_dict(load_file(weights), strict=False)
    body = torch.nn.Sequential(*list(model.children())[:-1], torch.nn.Flatten())
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
else:
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(load_file(weights))
    body = lambda x: model._avg_pooling(model.extract_features(x)).flatten(1)  # noqa: E731
    mean, std = [127.0 / 255.0] * 3, [128.0 / 255.0] * 3
if hasattr(body, "eval"):
    body.eval()
model.eval().to(memory_format=torch.channels_last)
mean = torch.tensor(mean).view(1, 3, 1, 1)
std = torch.tensor(std).view(1, 3, 1, 1)

features, pending, frames = [], [], 0


def flush():
    x = torch.from_numpy(np.stack(pending)).permute(0, 3, 1, 2).float().div_(255.0)
    x = ((x - mean) / std).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        features.append(body(x).float())
    pending.clear()


with av.open(video) as container:
    s = container.streams.video[0]
    s.thread_type = "AUTO"
    for i, frame in enumerate(container.decode(s)):
        frames += 1
        if i % stride:
            continue
        w, h = frame.width, frame.height
        if w <= h:
            size = (256, 256 * h // w)
        else:
            size = (256 * w // h, 256)
        rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1],
                               interpolation="BILINEAR")
        # torchvision's CenterCrop rounds the offset to the nearest pixel, halves up (as mmant;
        # Python's round() would take 58.5 to 58)
        top, left = int((size[1] - 224) / 2 + 0.5), int((size[0] - 224) / 2 + 0.5)
        pending.append(rgb[top:top + 224, left:left + 224])
        if len(pending) == batch:
            flush()
if pending:
    flush()
f = torch.cat(features)
seconds = time.perf_counter() - started
np.save(out, f.numpy().T)  # C×T, as mmant writes
print(json.dumps({"torch_version": torch.__version__, "av_version": av.__version__,
                  "frames": frames, "sampled": f.shape[0], "seconds": seconds}))
