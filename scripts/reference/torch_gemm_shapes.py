"""PyTorch twin of examples/gemm_shapes.rs: the matrix products of one training step, median of 21.

Usage: python scripts/reference/torch_gemm_shapes.py [ROWS D]   (2 threads, as the Rust side here)
"""
import sys
import time

import torch



def shapes(rows, d):
    return [
        (rows, d, d, False),
        (rows, d, 4 * d, False),
        (rows, 4 * d, d, False),
        (d, rows, d, True),
        (4 * d, rows, d, True),
        (d, rows, 4 * d, True),
    ]


def main():
    torch.set_num_threads(2)
    rows, d = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) == 3 else (3728, 128)
    for m, k, n, lhs_transposed in shapes(rows, d):
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
