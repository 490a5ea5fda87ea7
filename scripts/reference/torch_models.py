"""PyTorch reference implementations of FUTR and m&m-Ant (model_spec §2 / §3).

Written independently of mmant's candle code, loading mmant's checkpoints (same tensor names).
Shared by model_parity.py (numerical parity) and first-query-attention.py (a diagnostic).
Needs torch."""
import torch
import torch.nn.functional as F
from torch import nn


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
        # diagnostics: keep the cross-attention weights; hide memory tokens from the cross-attention
        self.keep_weights, self.weights, self.memory_mask = False, None, None

    def forward(self, y, qpos, mem, mpos):
        q = y + qpos
        y = self.norm1(y + self.self_attn(q, q, q, need_weights=False)[0])
        kv = mem + mpos
        a, w = self.multihead_attn(y + qpos, kv, kv, key_padding_mask=self.memory_mask, need_weights=self.keep_weights)
        self.weights = w  # [B, queries, tokens], mean over heads, when keep_weights is set
        y = self.norm2(y + a)
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
        self.seg_to_query = nn.Linear(c["num_classes"], d) if c.get("queries_from_segmentation") else None
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
        if self.seg_to_query is not None:  # one unpadded example: its last token is the last
            y = self.seg_to_query(F.softmax(seg[:, -1].detach(), -1)).unsqueeze(1).expand_as(qpos)
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
        # variant: the queries start from the segmentation head's reading of the last token
        self.seg_to_query = nn.Linear(c["num_classes"], d) if c.get("queries_from_segmentation") else None

    def forward(self, x):
        pos = self.pos_embedding[:, : x.shape[1]]
        if self.end_relative:  # one unpadded example: the last token gets P[0]
            pos = pos.flip(1)
        h = F.relu(self.input_embed(x))
        for layer in self.encoder.layers:
            h = layer(h, pos)
        seg = self.fc_seg(h)
        qe = self.query_embed.weight.unsqueeze(0).expand(x.shape[0], -1, -1)
        y = torch.zeros_like(qe)
        if self.seg_to_query is not None:  # one unpadded example: its last token is the last
            y = self.seg_to_query(F.softmax(seg[:, -1].detach(), -1)).unsqueeze(1).expand_as(qe)
        for layer in self.decoder.layers:
            y = layer(y, qe, h, pos)
        y = self.decoder.norm(y)
        return {"seg": seg, "action": self.fc(y), "duration": self.fc_len(y).squeeze(2)}
