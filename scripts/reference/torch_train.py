#!/usr/bin/env python3
"""PyTorch training reference for `mmant bench train`: the same training step as mmant's, timed.

What it is: an independent PyTorch twin of one training step of mmant (FUTR or m&m-Ant, ground-truth
label observation), run over batches that mmant wrote, so that training speed can be compared
side by side (issue 29) and the first steps' losses checked against ours. It mirrors:
  - the forward passes with padding: src/model/futr.rs (Futr::forward), src/model/mmant.rs
    (MmAnt::forward, pool_matrix), src/model/blocks.rs (EncoderLayer, DecoderLayer,
    MultiHeadAttention, Dropout placement, SegmentationQueries, sinusoidal_table, valid_lengths);
  - the losses: src/train/mod.rs (batch_losses), src/train/losses.rs (weighted_cross_entropy,
    focal, duration), src/train/tcl.rs (temporal_consistency, vectorised the same way);
  - the optimizer: src/train/optim.rs (AdamW, torch semantics, every parameter but text_table);
  - the batch layout: src/train/examples.rs (collate).
Parameter names are those of scripts/reference/torch_models.py (the eval-only, batch-1 twins), so
mmant's safetensors load with load_state_dict. What this file adds to them: key_padding_mask in
every attention over tokens, dropout, per-sample pooling of padded batches, the losses and AdamW.

Input, written by mmant into DIR:
  DIR/config.json            {"model": <checkpoint model config>, "train": {"lr", "weight_decay",
                              "dropout", "tcl_weight", "use_tcl", "duration_weight", "threads"}}
  DIR/weights.safetensors    the initial weights under mmant's names (text_table for m&m-Ant)
  DIR/batches/NNNN/*.npy     float32: x [B,S,C], mask [B,S] (1 = padding), past, past_fine,
                              past_valid [B,S], target, target_valid, duration, duration_valid
                              [B,M], weight [B]

Usage: torch_train.py DIR [--steps-check N] [--passes P]
  --steps-check N  first, with dropout 0, one optimizer step on each of the first N batches,
                   recording the loss parts [total, seg, act, dur, fine, intra, inter] per step;
                   then the initial weights and a fresh optimizer are restored for the timing.
  --passes P       timed passes over all batches (default 1), dropout = train.dropout.
Prints one JSON object on stdout: {"torch_version", "threads", "examples", "seconds",
"examples_per_s", "check_losses"}; anything else goes to stderr.

Needs torch, numpy and safetensors. Run by `mmant bench train`; not part of the test suite.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

INTER_EPS = 1e-2  # src/train/tcl.rs INTER_EPS


def log(*a):
    print(*a, file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Blocks (src/model/blocks.rs). Post-norm, LayerNorm eps 1e-5, torch.nn.MultiheadAttention
# (scale 1/sqrt(D/H), in_proj_weight/in_proj_bias/out_proj as mmant names them).


class Stack(nn.Module):
    def __init__(self, layers, norm=None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        if norm is not None:
            self.norm = norm


def attend(mha, q, k, v, mask):
    return mha(q, k, v, key_padding_mask=mask, need_weights=False)[0]


class EncoderLayer(nn.Module):
    """blocks.rs EncoderLayer: positions added to queries, keys and values; dropout after the
    attention output, after the FFN's ReLU and after the FFN's output."""

    def __init__(self, d, h, ff):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout = nn.Dropout(0.0)

    def forward(self, x, pos, mask):
        u = x + pos
        x = self.norm1(x + self.dropout(attend(self.self_attn, u, u, u, mask)))
        f = self.linear2(self.dropout(F.relu(self.linear1(x))))
        return self.norm2(x + self.dropout(f))


class DecoderLayer(nn.Module):
    """blocks.rs DecoderLayer: self-attention over the queries (q = k = v = y + query_pos, no
    mask); cross-attention with query y + query_pos and key = value = memory + memory_pos, masked
    by the memory's padding; FFN. Dropout after both attentions, the FFN's ReLU and output."""

    def __init__(self, d, h, ff):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.multihead_attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout = nn.Dropout(0.0)

    def forward(self, y, qpos, mem, mpos, mask):
        q = y + qpos
        y = self.norm1(y + self.dropout(attend(self.self_attn, q, q, q, None)))
        kv = mem + mpos
        y = self.norm2(y + self.dropout(attend(self.multihead_attn, y + qpos, kv, kv, mask)))
        f = self.linear2(self.dropout(F.relu(self.linear1(y))))
        return self.norm3(y + self.dropout(f))


def segmentation_queries(proj, seg, lengths, m):
    """blocks.rs SegmentationQueries: softmax of the detached segmentation logits at each
    example's last valid token, projected, the same for every query → [B,M,D]."""
    b = seg.shape[0]
    last = (lengths.clamp(min=1) - 1)
    reading = F.softmax(seg.detach()[torch.arange(b), last], -1)
    return proj(reading).unsqueeze(1).expand(b, m, -1)


def sinusoidal_table(n, d):
    """blocks.rs sinusoidal_table: sin at even, cos at odd channels, angle pos / 10000^(i/d)."""
    pos = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    i = torch.arange(0, d, 2, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, i / d)
    pe = torch.zeros(n, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)[:, : d // 2]
    return pe.float()


def pool_matrix(lengths, s, m):
    """mmant.rs pool_matrix: row i of sample b averages the valid tokens
    [floor(i·L/M), max(min(ceil((i+1)·L/M), L), lo+1)); zero for L = 0. → [B,M,S]."""
    L = lengths.unsqueeze(1)  # [B,1]
    i = torch.arange(m).unsqueeze(0)  # [1,M]
    lo = (i * L) // m
    hi = torch.maximum(torch.minimum(-((-(i + 1) * L) // m), L), lo + 1)
    t = torch.arange(s).view(1, 1, s)
    inside = (t >= lo.unsqueeze(2)) & (t < hi.unsqueeze(2)) & (L > 0).unsqueeze(2)
    return inside.float() / (hi - lo).unsqueeze(2).float()


# ---------------------------------------------------------------------------------------------
# Models (src/model/futr.rs, src/model/mmant.rs). forward(x, mask, lengths) → dict of outputs;
# mask [B,S] bool (True = padding) or None where the batch has no padding.


class FutrTrain(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, ff = c["d_model"], c["heads"], c["d_model"] * c["ffn_mult"]
        self.queries, self.max_pos_len = c["queries"], c["max_pos_len"]
        self.input_embed = nn.Linear(c["input_dim"], d)
        self.pos_embedding = nn.Parameter(torch.zeros(1, c["max_pos_len"], d))
        self.encoder = Stack([EncoderLayer(d, h, ff) for _ in range(c["encoder_layers"])])
        self.query_embed = nn.Embedding(c["queries"], d)
        self.decoder = Stack([DecoderLayer(d, h, ff) for _ in range(c["decoder_layers"])], nn.LayerNorm(d))
        self.fc_seg = nn.Linear(d, c["num_classes"])
        self.fc = nn.Linear(d, c["num_classes"] + 1)
        self.fc_len = nn.Linear(d, 1)
        self.end_relative = c.get("end_relative_positions", False)
        self.seg_to_query = nn.Linear(c["num_classes"], d) if c.get("queries_from_segmentation") else None

    def positions(self, lengths, s):
        """futr.rs positions: [1,S,D] from the start, or [B,S,D] counted back from each example's
        last valid token (padding gets P[0])."""
        if not self.end_relative:
            return self.pos_embedding[:, :s]
        idx = (lengths.unsqueeze(1) - 1 - torch.arange(s).unsqueeze(0)).clamp(min=0)
        return self.pos_embedding[0][idx]

    def forward(self, x, mask, lengths):
        b, s, _ = x.shape
        if s > self.max_pos_len:
            raise ValueError(f"{s} observed tokens exceed the model's {self.max_pos_len} positions")
        pos = self.positions(lengths, s)
        h = F.relu(self.input_embed(x))
        for layer in self.encoder.layers:
            h = layer(h, pos, mask)
        seg = self.fc_seg(h)
        qe = self.query_embed.weight.unsqueeze(0).expand(b, -1, -1)
        if self.seg_to_query is None:
            y = torch.zeros_like(qe)
        else:
            y = segmentation_queries(self.seg_to_query, seg, lengths, self.queries)
        for layer in self.decoder.layers:
            y = layer(y, qe, h, pos, mask)
        y = self.decoder.norm(y)
        return {"seg": seg, "action": self.fc(y), "duration": self.fc_len(y).squeeze(2), "fine": None}


class MmAntTrain(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, ff = c["d_model"], c["heads"], c["d_model"] * c["ffn_mult"]
        self.queries, self.max_pos_len = c["queries"], c["max_pos_len"]
        self.use_fine = c.get("use_fine", True)
        self.use_text = self.use_fine and c.get("use_text", True)
        self.input_embed = nn.Linear(c["input_dim"], d)
        self.pos_embedding = nn.Parameter(torch.zeros(1, c["max_pos_len"], d))
        self.encoder = Stack([EncoderLayer(d, h, ff) for _ in range(c["seg_layers"])])
        self.fc_seg = nn.Linear(d, c["num_classes"])
        if self.use_fine:
            self.fine_attn = nn.MultiheadAttention(d, h, batch_first=True)
            self.fc_fine = nn.Linear(d, c["fine_classes"])
            self.modality_embed = nn.Parameter(torch.zeros(2, d))
            self.fusion = EncoderLayer(d, h, ff)
        if self.use_text:
            # frozen label-name embeddings: a buffer, saved and loaded, never trained
            self.register_buffer("text_table", torch.zeros(c["fine_classes"], c["text_dim"]))
            self.text_proj = nn.Linear(c["text_dim"], d)
        self.query_embed = nn.Embedding(c["queries"], d) if (not self.use_fine or c.get("query_slots")) else None
        self.decoder = Stack([DecoderLayer(d, h, ff) for _ in range(c["ant_layers"])], nn.LayerNorm(d))
        self.fc = nn.Linear(d, c["num_classes"] + 1)
        self.fc_len = nn.Linear(d, 1)
        self.seg_to_query = nn.Linear(c["num_classes"], d) if c.get("queries_from_segmentation") else None
        self.use_sinusoid = c.get("input_sinusoid", True)
        self.register_buffer("sinusoid", sinusoidal_table(c["max_pos_len"], d), persistent=False)

    def forward(self, x, mask, lengths):
        b, s, _ = x.shape
        if s > self.max_pos_len:
            raise ValueError(f"{s} observed tokens exceed the model's {self.max_pos_len} positions")
        m = self.queries
        pos = self.pos_embedding[:, :s]
        x0 = F.relu(self.input_embed(x))
        if self.use_sinusoid:
            x0 = x0 + self.sinusoid[:s]
        h = x0
        for layer in self.encoder.layers:
            h = layer(h, pos, mask)
        seg = self.fc_seg(h)
        fine = None
        if self.use_fine:
            # fine generator: no positions, no residual, no norm, no dropout
            g = attend(self.fine_attn, h, x0, x0, mask)
            fine = self.fc_fine(g)
            vis = g + self.modality_embed[0]
            if self.use_text:
                # the predicted fine label of each token, as text (argmax: no gradient)
                txt = self.text_proj(self.text_table[fine.argmax(-1)]) + self.modality_embed[1]
                zmask = None if mask is None else torch.cat([mask, mask], 1)
                z = self.fusion(torch.cat([vis, txt], 1), torch.cat([pos, pos], 1), zmask)
                z = (z[:, :s] + z[:, s:]) * 0.5
            else:
                z = self.fusion(vis, pos, mask)
            qpos = torch.bmm(pool_matrix(lengths, s, m), z)
            if self.query_embed is not None:  # query_slots
                qpos = qpos + self.query_embed.weight.unsqueeze(0)
        else:
            qpos = self.query_embed.weight.unsqueeze(0).expand(b, -1, -1)
        if self.seg_to_query is None:
            y = torch.zeros_like(qpos)
        else:
            y = segmentation_queries(self.seg_to_query, seg, lengths, m)
        for layer in self.decoder.layers:
            y = layer(y, qpos, h, pos, mask)
        y = self.decoder.norm(y)
        return {"seg": seg, "action": self.fc(y), "duration": self.fc_len(y).squeeze(2), "fine": fine}


def build_model(cfg):
    return FutrTrain(cfg) if cfg["kind"] == "futr" else MmAntTrain(cfg)


def set_dropout(model, p):
    for mod in model.modules():
        if isinstance(mod, nn.Dropout):
            mod.p = p


# ---------------------------------------------------------------------------------------------
# Losses (src/train/losses.rs, src/train/tcl.rs, src/train/mod.rs batch_losses)


def nll(logits, target):
    return -F.log_softmax(logits, -1).gather(-1, target.unsqueeze(-1)).squeeze(-1)


def weighted_cross_entropy(logits, target, weight):
    return (nll(logits, target) * weight).sum() / weight.sum().clamp(min=1e-12)


def focal(logits, target, valid):
    ce = nll(logits, target)
    p = torch.exp(-ce)
    return ((1 - p) ** 2 * ce * valid).sum() / valid.sum().clamp(min=1e-12)


def duration_loss(logits, target, valid):
    masked = logits * valid + (valid - 1) * 1e30
    mx = masked.max(-1, keepdim=True)[0].detach()
    e = torch.exp(masked - mx) * valid
    p = e / (e.sum(-1, keepdim=True) + 1e-12)
    return ((p - target) ** 2 * valid).sum() / valid.sum().clamp(min=1e-12)


def temporal_consistency(z, labels, valid):
    """tcl.rs: intervals are the maximal runs of equal ground-truth fine labels over each
    sample's valid tokens, numbered over the whole batch; vectorised with cumsum / index_add.
    z [B,S,K] raw fine logits, labels [B,S] long, valid [B,S] bool → (intra, inter)."""
    b, s, k = z.shape
    zero = z.new_zeros(())
    begins = torch.ones_like(valid)
    begins[:, 1:] = (labels[:, 1:] != labels[:, :-1]) | ~valid[:, :-1]
    begins = (begins & valid).reshape(-1)
    tokens = valid.reshape(-1).nonzero().squeeze(1)  # flat b·S + t of every valid token
    g = int(begins.sum())
    if g == 0:
        return zero, zero
    ids = (begins.long().cumsum(0) - 1)[tokens]  # interval of every valid token
    counts = torch.bincount(ids, minlength=g).to(z.dtype).unsqueeze(1)  # [G,1]
    zv = z.reshape(b * s, k).index_select(0, tokens)  # [N,K]
    centroids = z.new_zeros(g, k).index_add(0, ids, zv) / counts  # [G,K]
    dev_sq = (zv - centroids.index_select(0, ids)).pow(2).mean(-1, keepdim=True)  # [N,1]
    intra = (z.new_zeros(g, 1).index_add(0, ids, dev_sq) / counts).mean()
    sample = begins.nonzero().squeeze(1) // s  # sample of each interval
    pair = (sample.unsqueeze(1) == sample.unsqueeze(0)).triu(1)  # same sample, i < j
    pairs = int(pair.sum())
    if pairs == 0:
        return intra, zero
    sq = centroids.pow(2).sum(1, keepdim=True)
    d2 = F.relu(sq + sq.t() - 2 * centroids @ centroids.t())
    inv = 1.0 / (torch.sqrt(d2 + 1e-12) + INTER_EPS)
    inter = (inv * pair).sum() / pairs
    return intra, inter


def batch_losses(model, bt, tr):
    """mod.rs batch_losses → (total, [total, seg, act, dur, fine, intra, inter] as tensors)."""
    out = model(bt["x"], bt["kpm"], bt["lengths"])
    seg = weighted_cross_entropy(out["seg"], bt["past"], bt["past_valid"])
    act_w = bt["target_valid"] * bt["weight"].unsqueeze(1)
    act = weighted_cross_entropy(out["action"], bt["target"], act_w)
    dur = duration_loss(out["duration"], bt["duration"], bt["duration_valid"])
    total = seg + act + tr["duration_weight"] * dur
    zero = seg.new_zeros(())
    fine_l, intra, inter = zero, zero, zero
    if out["fine"] is not None:
        fine_l = focal(out["fine"], bt["past_fine"], bt["past_valid"])
        total = total + fine_l
        if tr["use_tcl"] and tr["tcl_weight"] > 0:
            intra, inter = temporal_consistency(out["fine"], bt["past_fine"], bt["past_valid_bool"])
            total = total + (intra + inter) * tr["tcl_weight"]
    return total, [total, seg, act, dur, fine_l, intra, inter]


# ---------------------------------------------------------------------------------------------
# Input


def load_batches(folder):
    root = os.path.join(folder, "batches")
    out = []
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isdir(d):
            continue
        a = {k: torch.from_numpy(np.load(os.path.join(d, k + ".npy")).astype(np.float32))
             for k in ["x", "mask", "past", "past_fine", "past_valid", "target", "target_valid",
                       "duration", "duration_valid", "weight"]}
        mask = a["mask"] > 0.5
        bt = {
            "x": a["x"].contiguous(),
            # all-valid batches attend without a mask: the same numbers, PyTorch's fast path
            "kpm": mask if bool(mask.any()) else None,
            "lengths": (~mask).sum(1),
            "past": a["past"].round().long(),
            "past_fine": a["past_fine"].round().long(),
            "past_valid": a["past_valid"],
            "past_valid_bool": a["past_valid"] > 0.5,
            "target": a["target"].round().long(),
            "target_valid": a["target_valid"],
            "duration": a["duration"],
            "duration_valid": a["duration_valid"],
            "weight": a["weight"],
        }
        out.append(bt)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--steps-check", type=int, default=0)
    ap.add_argument("--passes", type=int, default=1)
    args = ap.parse_args()

    from safetensors.torch import load_file

    conf = json.load(open(os.path.join(args.dir, "config.json")))
    cfg, tr = conf["model"], conf["train"]
    tr = {"lr": float(tr["lr"]), "weight_decay": float(tr.get("weight_decay", 0.0)),
          "dropout": float(tr.get("dropout", 0.0)), "tcl_weight": float(tr.get("tcl_weight", 0.0)),
          "use_tcl": bool(tr.get("use_tcl", False)), "duration_weight": float(tr.get("duration_weight", 1.0)),
          "threads": int(tr.get("threads") or os.cpu_count())}
    torch.set_num_threads(tr["threads"])
    torch.manual_seed(0)

    model = build_model(cfg)
    initial = load_file(os.path.join(args.dir, "weights.safetensors"))
    missing, unexpected = model.load_state_dict(initial, strict=False)
    if missing or unexpected:
        sys.exit(f"torch_train.py: weights do not fit the model: missing {missing}, unexpected {unexpected}")
    model.train()
    batches = load_batches(args.dir)
    if not batches:
        sys.exit("torch_train.py: no batches under " + os.path.join(args.dir, "batches"))

    def optimizer():
        params = [p for p in model.parameters() if p.requires_grad]  # text_table is a buffer
        kw = dict(lr=tr["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=tr["weight_decay"])
        try:
            return torch.optim.AdamW(params, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError) as e:
            log(f"torch_train.py: fused AdamW unavailable ({e}); using the default")
            return torch.optim.AdamW(params, **kw)

    def step(opt, bt, parts_out=None):
        opt.zero_grad(set_to_none=True)
        total, parts = batch_losses(model, bt, tr)
        total.backward()
        opt.step()
        if parts_out is not None:
            parts_out.append([float(p.detach()) for p in parts])

    check = []
    if args.steps_check > 0:
        n = min(args.steps_check, len(batches))
        if n < args.steps_check:
            log(f"torch_train.py: only {n} batches for --steps-check {args.steps_check}")
        set_dropout(model, 0.0)
        opt = optimizer()
        for bt in batches[:n]:
            step(opt, bt, check)
        model.load_state_dict(initial, strict=False)

    set_dropout(model, tr["dropout"])
    opt = optimizer()
    examples = 0
    start = time.perf_counter()
    for _ in range(max(args.passes, 1)):
        for bt in batches:
            step(opt, bt)
            examples += bt["x"].shape[0]
    seconds = time.perf_counter() - start
    print(json.dumps({
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "examples": examples,
        "seconds": seconds,
        "examples_per_s": examples / seconds if seconds > 0 else None,
        "check_losses": check,
    }))


if __name__ == "__main__":
    main()
