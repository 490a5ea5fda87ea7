//! Layer normalisation over the last dimension as one candle op with its own backward pass.
//!
//! Composed of candle ops, a training LayerNorm is nine forward ops and about twenty backward
//! ones, each a pass over the activations plus candle's zero-fill-then-add for every gradient it
//! accumulates; the backward pass of a training step was twice PyTorch's (issue 29). Here the
//! forward is one pass per row and the backward one pass per row plus a reduction of the weight
//! and bias gradients over fixed blocks of rows (fixed, so the sums do not depend on the thread
//! count). Mean and variance are recomputed in the backward pass (a row is D floats: cheaper
//! than saving them as another tensor of the graph).

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::custom_op::{f32_slice, with_f32};

/// Rows per block of the weight and bias gradient reduction.
const ROWS_PER_BLOCK: usize = 64;

/// y = (x − mean) / √(var + eps) · weight + bias over the last dimension of `x` (f32, CPU; a
/// non-contiguous `x` is copied first). Differentiable in all three arguments.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f32) -> Result<Tensor> {
    let d = x.dim(candle_core::D::Minus1)?;
    if weight.dims() != [d] || bias.dims() != [d] {
        bail!(
            "layer norm: expected weight and bias of shape [{d}], found {:?} and {:?}",
            weight.dims(),
            bias.dims()
        );
    }
    x.contiguous()?.apply_op3(&weight.contiguous()?, &bias.contiguous()?, LayerNormOp { eps })
}

struct LayerNormOp {
    eps: f32,
}

/// Sum of a slice with eight independent accumulators (vectorises; the order is fixed).
#[inline(always)]
fn sum8(v: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for x in rest {
        s += x;
    }
    s
}

/// Σ (v − m)², eight accumulators.
#[inline(always)]
fn sum_sq_dev8(v: &[f32], m: f32) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            let t = c[i] - m;
            acc[i] += t * t;
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for x in rest {
        s += (x - m) * (x - m);
    }
    s
}

/// Mean and 1/√(var + eps) of a row (two passes: the variance of the centred values).
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = sum8(row) / n;
    let var = sum_sq_dev8(row, mean) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

#[inline(always)]
fn forward_rows(x: &[f32], w: &[f32], b: &[f32], y: &mut [f32], eps: f32) {
    let d = w.len();
    for (xr, yr) in x.chunks_exact(d).zip(y.chunks_exact_mut(d)) {
        let (mean, rstd) = moments(xr, eps);
        for i in 0..d {
            yr[i] = (xr[i] - mean) * rstd * w[i] + b[i];
        }
    }
}

/// dx of a block of rows, and the block's partial dweight, dbias (added into `dw`, `db`).
#[inline(always)]
fn backward_rows(
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    dw: &mut [f32],
    db: &mut [f32],
    eps: f32,
) {
    let d = w.len();
    let n = d as f32;
    for ((xr, dyr), dxr) in x.chunks_exact(d).zip(dy.chunks_exact(d)).zip(dx.chunks_exact_mut(d)) {
        let (mean, rstd) = moments(xr, eps);
        // a = mean(dy·w), c = mean(dy·w·x̂), with eight accumulators each
        let (mut a8, mut c8) = ([0f32; 8], [0f32; 8]);
        let full = d / 8 * 8;
        for j in (0..full).step_by(8) {
            for i in 0..8 {
                let k = j + i;
                let xhat = (xr[k] - mean) * rstd;
                let g = dyr[k] * w[k];
                a8[i] += g;
                c8[i] += g * xhat;
                dw[k] += dyr[k] * xhat;
                db[k] += dyr[k];
            }
        }
        let fold = |v: [f32; 8]| ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
        let (mut a, mut c) = (fold(a8), fold(c8));
        for k in full..d {
            let xhat = (xr[k] - mean) * rstd;
            let g = dyr[k] * w[k];
            a += g;
            c += g * xhat;
            dw[k] += dyr[k] * xhat;
            db[k] += dyr[k];
        }
        let (a, c) = (a / n, c / n);
        for k in 0..d {
            let xhat = (xr[k] - mean) * rstd;
            dxr[k] = rstd * (dyr[k] * w[k] - a - xhat * c);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn forward_rows_avx2(x: &[f32], w: &[f32], b: &[f32], y: &mut [f32], eps: f32) {
    forward_rows(x, w, b, y, eps)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn backward_rows_avx2(
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    dw: &mut [f32],
    db: &mut [f32],
    eps: f32,
) {
    backward_rows(x, w, dy, dx, dw, db, eps)
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The forward pass over all rows of `x` ([rows·d]), blocks of rows in parallel.
pub fn forward(x: &[f32], w: &[f32], b: &[f32], eps: f32) -> Vec<f32> {
    let d = w.len();
    let mut y = vec![0f32; x.len()];
    let avx2 = has_avx2();
    let block = ROWS_PER_BLOCK * d;
    y.par_chunks_mut(block).zip(x.par_chunks(block)).for_each(|(yb, xb)| {
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            unsafe { forward_rows_avx2(xb, w, b, yb, eps) };
            return;
        }
        let _ = avx2;
        forward_rows(xb, w, b, yb, eps)
    });
    y
}

/// dx [rows·d], dweight [d], dbias [d] for the output gradient `dy`.
pub fn backward(x: &[f32], w: &[f32], dy: &[f32], eps: f32) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let d = w.len();
    let mut dx = vec![0f32; x.len()];
    let avx2 = has_avx2();
    let block = ROWS_PER_BLOCK * d;
    let partial: Vec<(Vec<f32>, Vec<f32>)> = dx
        .par_chunks_mut(block)
        .zip(x.par_chunks(block).zip(dy.par_chunks(block)))
        .map(|(dxb, (xb, dyb))| {
            let (mut dw, mut db) = (vec![0f32; d], vec![0f32; d]);
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                unsafe { backward_rows_avx2(xb, w, dyb, dxb, &mut dw, &mut db, eps) };
                return (dw, db);
            }
            let _ = avx2;
            backward_rows(xb, w, dyb, dxb, &mut dw, &mut db, eps);
            (dw, db)
        })
        .collect();
    // blocks summed in order: the same result on any number of threads
    let (mut dw, mut db) = (vec![0f32; d], vec![0f32; d]);
    for (pw, pb) in &partial {
        for k in 0..d {
            dw[k] += pw[k];
            db[k] += pb[k];
        }
    }
    (dx, dw, db)
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "mmant-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let op = "layer norm";
        let x = f32_slice(s1, l1, op, "the input")?;
        let (w, b) = (f32_slice(s2, l2, op, "the weight")?, f32_slice(s3, l3, op, "the bias")?);
        Ok((CpuStorage::F32(forward(x, w, b, self.eps)), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, db) = with_f32(x, "layer norm", "the input", |xs| {
            with_f32(weight, "layer norm", "the weight", |ws| {
                with_f32(grad_res, "layer norm", "the output gradient", |gs| {
                    Ok(backward(xs, ws, gs, self.eps))
                })
            })
        })?;
        let dev = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), dev)?),
            Some(Tensor::from_vec(dw, weight.shape(), dev)?),
            Some(Tensor::from_vec(db, weight.shape(), dev)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{D, Device, Var};

    fn rand(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
        crate::model::init::uniform_tensor(shape, lo, hi, seed).unwrap()
    }

    /// The composed candle ops (the reference: what training used before).
    fn composed(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> Tensor {
        let mean = x.mean_keepdim(D::Minus1).unwrap();
        let c = x.broadcast_sub(&mean).unwrap();
        let var = c.sqr().unwrap().mean_keepdim(D::Minus1).unwrap();
        let n = c.broadcast_div(&(var + eps).unwrap().sqrt().unwrap()).unwrap();
        n.broadcast_mul(w).unwrap().broadcast_add(b).unwrap()
    }

    fn max_rel(a: &Tensor, b: &Tensor) -> f32 {
        let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(a.len(), b.len());
        let scale = b.iter().map(|v| v.abs()).fold(0f32, f32::max).max(1e-12);
        a.iter().zip(&b).map(|(x, y)| (x - y).abs() / scale).fold(0f32, f32::max)
    }

    /// Odd widths (the remainder loops), several blocks of rows, an offset mean.
    #[test]
    fn forward_and_gradients_equal_the_composed_ops() {
        for (shape, seed) in
            [(&[2usize, 5, 128][..], 1u64), (&[3, 70, 13][..], 2), (&[130, 9][..], 3)]
        {
            let d = *shape.last().unwrap();
            let x = Var::from_tensor(&(rand(shape, -2.0, 2.0, seed) + 0.7).unwrap()).unwrap();
            let w = Var::from_tensor(&rand(&[d], 0.5, 1.5, seed + 10)).unwrap();
            let b = Var::from_tensor(&rand(&[d], -0.5, 0.5, seed + 20)).unwrap();
            let g = rand(shape, -1.0, 1.0, seed + 30);
            let ours = layer_norm(&x, &w, &b, 1e-5).unwrap();
            let reference = composed(&x, &w, &b, 1e-5);
            assert!(max_rel(&ours, &reference) < 1e-5, "{shape:?} forward");
            let go = (&ours * &g).unwrap().sum_all().unwrap().backward().unwrap();
            let gr = (&reference * &g).unwrap().sum_all().unwrap().backward().unwrap();
            for (v, what) in [(&x, "dx"), (&w, "dweight"), (&b, "dbias")] {
                let (a, r) = (go.get(v.as_tensor()).unwrap(), gr.get(v.as_tensor()).unwrap());
                let e = max_rel(a, r);
                assert!(e < 1e-5, "{shape:?} {what}: max relative difference {e}");
            }
        }
    }

    /// The analytic gradients against f64 central differences of the f64 formula.
    #[test]
    fn gradients_match_central_differences() {
        let (rows, d, eps) = (3usize, 11usize, 1e-5f64);
        let x: Vec<f32> = rand(&[rows * d], -2.0, 2.0, 7).to_vec1().unwrap();
        let w: Vec<f32> = rand(&[d], 0.5, 1.5, 8).to_vec1().unwrap();
        let b: Vec<f32> = rand(&[d], -0.5, 0.5, 9).to_vec1().unwrap();
        let g: Vec<f32> = rand(&[rows * d], -1.0, 1.0, 10).to_vec1().unwrap();
        // L = Σ g · LN(x), in f64
        let loss = |x: &[f64], w: &[f64], b: &[f64]| -> f64 {
            let mut l = 0.0;
            for r in 0..rows {
                let row = &x[r * d..(r + 1) * d];
                let m = row.iter().sum::<f64>() / d as f64;
                let v = row.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / d as f64;
                for k in 0..d {
                    l += g[r * d + k] as f64 * ((row[k] - m) / (v + eps).sqrt() * w[k] + b[k]);
                }
            }
            l
        };
        let f64s = |v: &[f32]| v.iter().map(|&t| t as f64).collect::<Vec<_>>();
        let (x64, w64, b64) = (f64s(&x), f64s(&w), f64s(&b));
        let (dx, dw, db) = backward(&x, &w, &g, eps as f32);
        let h = 1e-6;
        let numeric = |which: usize, i: usize| {
            let (mut xp, mut wp, mut bp) = (x64.clone(), w64.clone(), b64.clone());
            let (mut xm, mut wm, mut bm) = (x64.clone(), w64.clone(), b64.clone());
            match which {
                0 => (xp[i] += h, xm[i] -= h),
                1 => (wp[i] += h, wm[i] -= h),
                _ => (bp[i] += h, bm[i] -= h),
            };
            (loss(&xp, &wp, &bp) - loss(&xm, &wm, &bm)) / (2.0 * h)
        };
        for (which, analytic) in [(0, &dx), (1, &dw), (2, &db)] {
            for (i, &a) in analytic.iter().enumerate() {
                let n = numeric(which, i);
                assert!(
                    (a as f64 - n).abs() <= 1e-4 * (1.0 + n.abs()),
                    "part {which} [{i}]: {a} vs {n}"
                );
            }
        }
    }

    /// The portable rows and the AVX2 rows give the same values (both paths run wherever AVX2 is).
    #[test]
    fn portable_and_avx2_paths_agree() {
        let (rows, d) = (67usize, 37usize);
        let x: Vec<f32> = rand(&[rows * d], -3.0, 3.0, 11).to_vec1().unwrap();
        let w: Vec<f32> = rand(&[d], 0.5, 1.5, 12).to_vec1().unwrap();
        let b: Vec<f32> = rand(&[d], -0.5, 0.5, 13).to_vec1().unwrap();
        let g: Vec<f32> = rand(&[rows * d], -1.0, 1.0, 14).to_vec1().unwrap();
        let mut y = vec![0f32; rows * d];
        forward_rows(&x, &w, &b, &mut y, 1e-5);
        let (mut dx, mut dw, mut db) = (vec![0f32; rows * d], vec![0f32; d], vec![0f32; d]);
        backward_rows(&x, &w, &g, &mut dx, &mut dw, &mut db, 1e-5);
        if !has_avx2() {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let mut y2 = vec![0f32; rows * d];
            // SAFETY: AVX2 and FMA are present (checked above).
            unsafe { forward_rows_avx2(&x, &w, &b, &mut y2, 1e-5) };
            let (mut dx2, mut dw2, mut db2) = (vec![0f32; rows * d], vec![0f32; d], vec![0f32; d]);
            unsafe { backward_rows_avx2(&x, &w, &g, &mut dx2, &mut dw2, &mut db2, 1e-5) };
            let close = |a: &[f32], b: &[f32]| {
                a.iter().zip(b).all(|(p, q)| (p - q).abs() <= 1e-5 * (1.0 + q.abs()))
            };
            assert!(close(&y, &y2) && close(&dx, &dx2) && close(&dw, &dw2) && close(&db, &db2));
        }
    }

    #[test]
    fn a_weight_of_the_wrong_size_is_refused() {
        let x = Tensor::zeros((2, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
        let w = Tensor::ones(3, candle_core::DType::F32, &Device::Cpu).unwrap();
        let err = layer_norm(&x, &w, &w, 1e-5).unwrap_err().to_string();
        assert!(err.contains("expected weight and bias of shape [4]"), "{err}");
    }
}
