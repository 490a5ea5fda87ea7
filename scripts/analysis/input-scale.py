#!/usr/bin/env python3
"""Prints how loud the label content of one-hot-input checkpoints is against their position signals.

For each checkpoint (model.safetensors of a `--input gt-labels` run) prints, over the embedded
one-hot inputs e_c = ReLU(W[:, c] + b): their rms, the spread between classes (the std over
classes, averaged over channels: the part that tells labels apart), and beside them the rms of the
learnable positions P added inside attention and of the sinusoidal table m&m-Ant adds to its
inputs (0.707 for any D: half its channels are sines, half cosines; "none" where the model.json
beside the weights says the model adds none). Standard library only.

    scripts/analysis/input-scale.py runs/query-ablation-d128/*/model.safetensors
"""
import json
import math
import struct
import sys


def load(path, names):
    with open(path, "rb") as f:
        blob = f.read()
    try:
        (n,) = struct.unpack("<Q", blob[:8])
        header = json.loads(blob[8 : 8 + n])
    except (struct.error, ValueError):
        sys.exit(f"{path}: not a safetensors file (expected an 8-byte length and a JSON header)")
    out = {}
    for name in names:
        if name not in header:
            sys.exit(f"{path}: no tensor {name}; expected a FUTR or m&m-Ant checkpoint")
        info = header[name]
        if info["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {info['dtype']}, expected F32")
        lo, hi = info["data_offsets"]
        raw = blob[8 + n + lo : 8 + n + hi]
        out[name] = (list(struct.unpack(f"<{(hi - lo) // 4}f", raw)), info["shape"])
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| checkpoint | D | classes | content rms | between-class std | P rms | sinusoid rms |")
    print("|---|---|---|---|---|---|---|")
    for path in sys.argv[1:]:
        t = load(path, ["input_embed.weight", "input_embed.bias", "pos_embedding"])
        w, (d, c) = t["input_embed.weight"]
        b, _ = t["input_embed.bias"]
        emb = [[max(w[i * c + k] + b[i], 0.0) for i in range(d)] for k in range(c)]
        rms = math.sqrt(sum(v * v for row in emb for v in row) / (c * d))
        spread = 0.0
        for i in range(d):
            col = [emb[k][i] for k in range(c)]
            mean = sum(col) / c
            spread += math.sqrt(sum((v - mean) ** 2 for v in col) / c)
        p, _ = t["pos_embedding"]
        p_rms = math.sqrt(sum(v * v for v in p) / len(p))
        with open(path.removesuffix(".safetensors") + ".json") as f:
            model = json.load(f)["model"]
        has_table = model["kind"] == "mmant" and model.get("input_sinusoid", True)
        table = f"{math.sqrt(0.5):.3f}" if has_table else "none"
        print(f"| {path} | {d} | {c} | {rms:.3f} | {spread / d:.3f} | {p_rms:.4f} | {table} |")


if __name__ == "__main__":
    main()
