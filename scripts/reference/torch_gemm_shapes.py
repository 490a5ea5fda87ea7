"""PyTorch twin of examples/gemm_shapes.rs: the matrix products of one training step, median of 21.

Usage: python scripts/reference/torch_gemm_shapes.py   (2 threads, as the Rust side uses here)
"""
import time

import torch

SHAPES = [
    (3728, 128, 128, False),
    (3728, 128, 512, False),
    (3728, 512, 128, False),
    (128, 3728, 128, True),
    (512, 3728, 128, True),
    (128, 3728, 512, True),
]


def main():
    torch.set_num_threads(2)
    for m, k, n, lhs_transposed in SHAPES:
        a = torch.randn(k, m).t() if lhs_transposed else torch.randn(m, k)
        b = torch.randn(k, n)
        for _ in range(3):
            a @ b
        ms = []
        for _ in range(21):
            t = time.perf_counter()
            a @ b
            ms.append((time.perf_counter() - t) * 1e3)
        ms.sort()
        gflops = 2.0 * m * k * n / ms[10] / 1e6
        note = " (lhs transposed)" if lhs_transposed else ""
        print(f"{m}x{k} · {k}x{n}{note}: {ms[10]:.3f} ms, {gflops:.0f} GFLOP/s")


if __name__ == "__main__":
    main()
