"""A FUTR checkpoint as the official code (github.com/gongda0e/FUTR) saves one, for
`mmant import-checkpoint`'s test: our PyTorch reference FUTR (torch_models.Futr, built like the
official model/futr.py) with small random weights, its state dict renamed to the official module
tree (`nn.DataParallel`'s `module.` prefix, the DETR-style `transformer.encoder/decoder`, the
unused sinusoid buffer `pos_enc.pos_table` [1, 3000, D]) and written with torch.save as
train.py does; beside it the reference's outputs on a fixed input (JSON).

    $MMANT_PYTHON scripts/reference/official_futr_fixture.py tests/fixtures/futr_official
"""
import json
import math
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from torch_models import Futr  # noqa: E402

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/futr_official")
out.mkdir(parents=True, exist_ok=True)
torch.manual_seed(7)
c = dict(input_dim=6, num_classes=4, d_model=16, heads=8, encoder_layers=2, decoder_layers=2,
         queries=5, ffn_mult=4, max_pos_len=40)
model = Futr(c).eval()
with torch.no_grad():
    for p in model.parameters():  # not the zeros/ones of a fresh LayerNorm or pos table
        p.copy_(torch.randn_like(p) * 0.3)


def official(name):
    if name.startswith(("encoder.", "decoder.")):
        name = "transformer." + name
    return "module." + name


state = {official(k): v.clone() for k, v in model.state_dict().items()}
# model/extras/position.py: a persistent buffer of 3000 sinusoid rows, never used in forward
pe = torch.zeros(3000, c["d_model"])
position = torch.arange(0, 3000).unsqueeze(1).float()
div = torch.exp(torch.arange(0, c["d_model"], 2).float() * (-math.log(10000.0) / c["d_model"]))
pe[:, 0::2], pe[:, 1::2] = torch.sin(position * div), torch.cos(position * div)
state["module.pos_enc.pos_table"] = pe.unsqueeze(0)
torch.save(state, out / "futr_official.ckpt")

x = torch.randn(1, 11, c["input_dim"])
with torch.no_grad():
    y = model(x)
expected = {"config": c, "input": x[0].tolist(),
            **{k: v[0].tolist() for k, v in y.items()}}
(out / "expected.json").write_text(json.dumps(expected))
print(f"wrote {out}/futr_official.ckpt ({len(state)} tensors) and expected.json")
