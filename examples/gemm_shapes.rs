//! The matrix products of one training step (batch 16 × 233 tokens = 3 728 rows, D 128, FFN 512)
//! through candle's CPU matmul: median of 21 of each, in ms and GFLOP/s. Its PyTorch twin is
//! `scripts/reference/torch_gemm_shapes.py`; BENCHMARKS.md compares the two (issue 29).
//!
//! `cargo run --release --example gemm_shapes`

use candle_core::{Device, Tensor};
use std::time::Instant;

/// (m, k, n, lhs transposed): the forward/input-gradient shapes, then the weight-gradient ones
/// (gradᵀ · x, whose left operand is a transposed view).
const SHAPES: [(usize, usize, usize, bool); 6] = [
    (3728, 128, 128, false),
    (3728, 128, 512, false),
    (3728, 512, 128, false),
    (128, 3728, 128, true),
    (512, 3728, 128, true),
    (128, 3728, 512, true),
];

fn main() -> anyhow::Result<()> {
    mmant::tune_allocator();
    let dev = Device::Cpu;
    for (m, k, n, lhs_transposed) in SHAPES {
        let a = if lhs_transposed {
            Tensor::randn(0f32, 1.0, (k, m), &dev)?.t()?
        } else {
            Tensor::randn(0f32, 1.0, (m, k), &dev)?
        };
        let b = Tensor::randn(0f32, 1.0, (k, n), &dev)?;
        for _ in 0..3 {
            a.matmul(&b)?;
        }
        let mut ms = Vec::with_capacity(21);
        for _ in 0..21 {
            let t = Instant::now();
            std::hint::black_box(a.matmul(&b)?);
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        let gflops = 2.0 * (m * k * n) as f64 / ms[10] / 1e6;
        let note = if lhs_transposed { " (lhs transposed)" } else { "" };
        println!("{m}x{k} · {k}x{n}{note}: {:.3} ms, {gflops:.0} GFLOP/s", ms[10]);
    }
    Ok(())
}
