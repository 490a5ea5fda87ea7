# Times PyTorch's fused scaled_dot_product_attention on the inputs mmant wrote, and compares its
# output with mmant's fused kernel. Run by `mmant bench attention`; prints one JSON object.
import json, sys, time
import numpy as np
import torch

folder, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
sizes = json.load(open(f"{folder}/sizes.json"))
out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": []}
with torch.no_grad():
    for t in sizes:
        q, k, v = (torch.from_numpy(np.load(f"{folder}/{n}_{t}.npy")) for n in "qkv")
        ours = np.load(f"{folder}/fused_{t}.npy")
        sdpa = torch.nn.functional.scaled_dot_product_attention
        for _ in range(2):
            o = sdpa(q, k, v)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            o = sdpa(q, k, v)
            times.append(time.perf_counter() - start)
        times.sort()
        diff = float(np.abs(o.numpy() - ours).max())
        out["results"].append({"t": t, "median_ms": 1000 * times[len(times) // 2], "max_abs_diff_vs_fused": diff})
print(json.dumps(out))
