#!/usr/bin/env python3
"""Optional parity and speed check of mmant's m&m-Ant or FUTR forward pass against an independent
PyTorch implementation written from ../shared/docs/model_spec.md §3 / §2 (torch.nn.MultiheadAttention,
adaptive_avg_pool1d for the query pooling), loading the same checkpoint's safetensors.
Not part of the test suite; needs torch and safetensors.

For S in {250, 1000, 2000} observed tokens it writes one-hot inputs and the PyTorch outputs (seg,
fine for m&m-Ant, action, duration) into OUT, then runs the ignored test tests/model_parity.rs, which runs
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
from torch import nn

stem, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
meta = json.load(open(stem + ".json"))
cfg = meta["model"]
assert cfg["kind"] == "futr" or (cfg["use_fine"] and cfg["use_text"]), "this reference covers FUTR and m&m-Ant with text"
torch.set_num_threads(os.cpu_count())


class EncoderLayer(nn.Module):
    """FUTR's post-norm layer: positions added to queries, keys and values."""

    def __init__(self, d, h, ff):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x, pos):
        u = x + pos
        x = self.norm1(x + self.self_attn(u, u, u, need_weights=False)[0])
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))


class DecoderLayer(nn.Module):
    def __init__(self, d, h, ff):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.multihead_attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, y, qpos, mem, mpos):
        q = y + qpos
        y = self.norm1(y + self.self_attn(q, q, q, need_weights=False)[0])
        kv = mem + mpos
        y = self.norm2(y + self.multihead_attn(y + qpos, kv, kv, need_weights=False)[0])
        return self.norm3(y + self.linear2(F.relu(self.linear1(y))))


class Stack(nn.Module):
    def __init__(self, layers, norm=None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        if norm is not None:
            self.norm = norm


class MmAnt(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, ff = c["d_model"], c["heads"], c["d_model"] * c["ffn_mult"]
        self.queries = c["queries"]
        self.use_sinusoid = c.get("input_sinusoid", True)  # checkpoints older than the switch have it
        self.input_embed = nn.Linear(c["input_dim"], d)
        self.pos_embedding = nn.Parameter(torch.zeros(1, c["max_pos_len"], d))
        self.encoder = Stack([EncoderLayer(d, h, ff) for _ in range(c["seg_layers"])])
        self.fc_seg = nn.Linear(d, c["num_classes"])
        self.fine_attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.fc_fine = nn.Linear(d, c["fine_classes"])
        self.register_buffer("text_table", torch.zeros(c["fine_classes"], c["text_dim"]))
        self.text_proj = nn.Linear(c["text_dim"], d)
        self.modality_embed = nn.Parameter(torch.zeros(2, d))
        self.fusion = EncoderLayer(d, h, ff)
        self.decoder = Stack([DecoderLayer(d, h, ff) for _ in range(c["ant_layers"])], nn.LayerNorm(d))
        self.fc = nn.Linear(d, c["num_classes"] + 1)
        self.fc_len = nn.Linear(d, 1)
        # sinusoidal table: sin at even, cos at odd channels, 10000^(2i/d)
        pe = torch.zeros(c["max_pos_len"], d, dtype=torch.float64)
        position = torch.arange(c["max_pos_len"], dtype=torch.float64).unsqueeze(1)
        div = torch.pow(10000.0, torch.arange(0, d, 2, dtype=torch.float64) / d)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(position / div), torch.cos(position / div)
        self.register_buffer("sinusoid", pe.float(), persistent=False)

    def forward(self, x):
        s = x.shape[1]
        pos = self.pos_embedding[:, :s]
        x0 = F.relu(self.input_embed(x))
        if self.use_sinusoid:
            x0 = x0 + self.sinusoid[:s]
        h = x0
        for layer in self.encoder.layers:
            h = layer(h, pos)
        seg = self.fc_seg(h)
        g = self.fine_attn(h, x0, x0, need_weights=False)[0]
        fine = self.fc_fine(g)
        vis = g + self.modality_embed[0]
        txt = self.text_proj(self.text_table[fine.argmax(-1)]) + self.modality_embed[1]
        z = self.fusion(torch.cat([vis, txt], 1), torch.cat([pos, pos], 1))
        z = (z[:, :s] + z[:, s:]) * 0.5
        qpos = F.adaptive_avg_pool1d(z.transpose(1, 2), self.queries).transpose(1, 2)
        y = torch.zeros_like(qpos)
        for layer in self.decoder.layers:
            y = layer(y, qpos, h, pos)
        y = self.decoder.norm(y)
        return {"seg": seg, "fine": fine, "action": self.fc(y), "duration": self.fc_len(y).squeeze(2)}


class Futr(nn.Module):
    """model_spec §2: learned queries Qe, tgt = 0, P added in every attention."""

    def __init__(self, c):
        super().__init__()
        d, h, ff = c["d_model"], c["heads"], c["d_model"] * c["ffn_mult"]
        self.input_embed = nn.Linear(c["input_dim"], d)
        self.pos_embedding = nn.Parameter(torch.zeros(1, c["max_pos_len"], d))
        self.encoder = Stack([EncoderLayer(d, h, ff) for _ in range(c["encoder_layers"])])
        self.query_embed = nn.Embedding(c["queries"], d)
        self.decoder = Stack([DecoderLayer(d, h, ff) for _ in range(c["decoder_layers"])], nn.LayerNorm(d))
        self.fc_seg = nn.Linear(d, c["num_classes"])
        self.fc = nn.Linear(d, c["num_classes"] + 1)
        self.fc_len = nn.Linear(d, 1)
        self.end_relative = c.get("end_relative_positions", False)

    def forward(self, x):
        pos = self.pos_embedding[:, : x.shape[1]]
        if self.end_relative:  # one unpadded example: the last token gets P[0]
            pos = pos.flip(1)
        h = F.relu(self.input_embed(x))
        for layer in self.encoder.layers:
            h = layer(h, pos)
        qe = self.query_embed.weight.unsqueeze(0).expand(x.shape[0], -1, -1)
        y = torch.zeros_like(qe)
        for layer in self.decoder.layers:
            y = layer(y, qe, h, pos)
        y = self.decoder.norm(y)
        return {"seg": self.fc_seg(h), "action": self.fc(y), "duration": self.fc_len(y).squeeze(2)}


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
subprocess.run(["cargo", "test", "--release", "--test", "model_parity", "--", "--ignored", "--nocapture"], cwd=root,
               env={**os.environ, "MMANT_PARITY_DIR": os.path.abspath(out), "MMANT_PARITY_CHECKPOINT": os.path.abspath(stem)}, check=True)
