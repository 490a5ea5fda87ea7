#!/usr/bin/env python3
"""Checks mmant's sentence encoder against Hugging Face transformers.

Optional, not part of the test suite; needs torch and transformers. Recomputes all-MiniLM-L6-v2 mean-pooled,
L2-normalised embeddings of a mapping file's label names and compares them with a table written
by `mmant embed-labels`.

Usage: text_parity.py <model dir> <mapping.txt> <embeddings.safetensors>
Recorded (2026-11-25, breakfast mapping): max abs diff 2.2e-07.
"""
import array
import json
import struct
import sys

import torch
from transformers import AutoModel, AutoTokenizer

model_dir, mapping, table = sys.argv[1:4]
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir).eval()
names = [line.split(maxsplit=1)[1].strip() for line in open(mapping) if line.strip()]
with torch.no_grad():
    rows = []
    for name in names:
        enc = tok(" ".join(name.replace("_", " ").split()), return_tensors="pt")
        v = model(**enc).last_hidden_state[0].mean(0)
        rows.append(v / v.norm())
ref = torch.stack(rows)
raw = open(table, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8 : 8 + n])
values = array.array("f")
values.frombytes(raw[8 + n :])
ours = torch.tensor(values).reshape(header["embeddings"]["shape"])
print(f"{len(names)} labels, max abs diff {(ours - ref).abs().max().item():.2e}")
