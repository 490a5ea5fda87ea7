# Times PyTorch's fused scaled_dot_product_attention on the inputs mmant wrote, and compares its
# result with mmant's fused kernel. Run by `mmant bench attention`; prints one JSON object.
# Mode "forward": the output, under no_grad. Mode "backward": forward + backward of
# L = sum(o * g), as training runs it; the compared values are dL/dq.
import json, sys, time
import numpy as np
import torch

folder, threads, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "forward"
torch.set_num_threads(threads)
sizes = json.load(open(f"{folder}/sizes.json"))
out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": []}
sdpa = torch.nn.functional.scaled_dot_product_attention


def load(name, t):
    return torch.from_numpy(np.load(f"{folder}/{name}_{t}.npy"))


for t in sizes:
    q, k, v = (load(n, t) for n in "qkv")
    ours = np.load(f"{folder}/fused_{t}.npy")
    if mode == "backward":
        g = load("g", t)
        q, k, v = (x.requires_grad_(True) for x in (q, k, v))

        def run():
            for x in (q, k, v):
                x.grad = None
            (sdpa(q, k, v) * g).sum().backward()
            return q.grad

    else:

        def run():
            with torch.no_grad():
                return sdpa(q, k, v)

    for _ in range(2):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    times.sort()
    diff = float(np.abs(result.detach().numpy() - ours).max())
    out["results"].append({"t": t, "median_ms": 1000 * times[len(times) // 2], "max_abs_diff_vs_fused": diff})
print(json.dumps(out))
