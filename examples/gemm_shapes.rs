//! The matrix products of one training step through candle's CPU matmul: median of 21 of each,
//! in ms and GFLOP/s. By default Breakfast's (batch 16 × 233 tokens = 3 728 rows, D 128, FFN
//! 512); `ROWS D` for others, e.g. `5096 512` for 50 Salads at D 512 (batch 8 × 637 tokens, FFN
//! 2048). Its PyTorch twin is `scripts/reference/torch_gemm_shapes.py` (same arguments);
//! BENCHMARKS.md compares the two (issue 29).
//!
//! `cargo run --release --example gemm_shapes [-- ROWS D]`

use candle_core::{Device, Tensor};
use std::time::Instant;

/// (m, k, n, lhs transposed) for `rows` tokens at width `d` (FFN 4d): the forward and
/// input-gradient shapes, then the weight-gradient ones (gradᵀ · x, whose left operand is a
/// transposed view).
fn shapes(rows: usize, d: usize) -> [(usize, usize, usize, bool); 6] {
    [
        (rows, d, d, false),
        (rows, d, 4 * d, false),
        (rows, 4 * d, d, false),
        (d, rows, d, true),
        (4 * d, rows, d, true),
        (d, rows, 4 * d, true),
    ]
}

fn main() -> anyhow::Result<()> {
    mmant::tune_allocator();
    let dev = Device::Cpu;
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let (rows, d) = match args[..] {
        [] => (3728, 128),
        [rows, d] => (rows, d),
        _ => anyhow::bail!("usage: gemm_shapes [ROWS D]"),
    };
    for (m, k, n, lhs_transposed) in shapes(rows, d) {
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
