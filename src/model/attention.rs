//! Multi-head attention's core, shared by every model: softmax(scale·Q·Kᵀ + key mask)·V.
//!
//! On the CPU in f32 it runs the fused kernel of [`super::attention_kernel`] as a candle
//! `CustomOp3` (forward and backward), so no T×T tensor is ever built. Elsewhere (CUDA, other
//! dtypes) it runs [`attention_chunked`]: candle ops over blocks of queries, with the scores
//! recomputed block by block in the backward pass, so only one block's scores exist at a time
//! (the explicit ops keep [B, H, T, T] tensors for the backward pass, which ran a 139 GB GPU out
//! of memory). The explicit candle ops of [`attention_explicit`] define the semantics: masked
//! keys get probability 0, and a query whose keys are all masked outputs zeros.

use std::sync::Arc;

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp3, DType, Device, Layout, Result, Shape, Tensor, bail};

use super::attention_kernel::{self as kernel, Dims};
use crate::custom_op::f32_slice;

/// Which implementation [`attention`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttentionImpl {
    /// Fused kernel on the CPU (f32), explicit ops elsewhere.
    #[default]
    Auto,
    /// Always the explicit, differentiable candle ops (the reference).
    Explicit,
    /// Candle ops over blocks of queries, scores recomputed in the backward pass (any device).
    Chunked,
    /// Explicit candle ops with candle's fused softmax, which has no backward: the fastest
    /// candle 0.11 offers for inference without our kernel (the "before" of the benchmarks).
    ExplicitNoGrad,
}

fn dims_of(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Dims> {
    let (batch, heads, tq, d) = q.dims4()?;
    let (kb, kh, tk, kd) = k.dims4()?;
    let (vb, vh, vt, dv) = v.dims4()?;
    if (kb, kh, kd) != (batch, heads, d) || (vb, vh, vt) != (batch, heads, tk) {
        bail!(
            "attention: q {:?}, k {:?}, v {:?} do not fit [B,H,Tq,d] / [B,H,Tk,d] / [B,H,Tk,dv]",
            q.dims(),
            k.dims(),
            v.dims()
        );
    }
    Ok(Dims { batch, heads, tq, tk, d, dv })
}

/// Key-padding mask as per-key validity: `mask` is [B, Tk] with 1 (or true) for keys to ignore,
/// as PyTorch's `key_padding_mask`.
fn key_valid(mask: &Tensor, batch: usize, tk: usize) -> Result<Vec<bool>> {
    if mask.dims() != [batch, tk] {
        bail!(
            "attention: key padding mask must be [B, Tk] = [{batch}, {tk}], found {:?}",
            mask.dims()
        );
    }
    Ok(mask
        .to_dtype(DType::U8)?
        .flatten_all()?
        .to_vec1::<u8>()?
        .into_iter()
        .map(|m| m == 0)
        .collect())
}

/// softmax(scale·q·kᵀ + mask)·v for q [B,H,Tq,d], k [B,H,Tk,d], v [B,H,Tk,dv] → [B,H,Tq,dv].
/// `key_padding_mask` is [B, Tk], nonzero = ignore that key.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    key_padding_mask: Option<&Tensor>,
    scale: f64,
    how: AttentionImpl,
) -> Result<Tensor> {
    let dims = dims_of(q, k, v)?;
    let fused = how == AttentionImpl::Auto
        && matches!(q.device(), Device::Cpu)
        && [q.dtype(), k.dtype(), v.dtype()].iter().all(|d| *d == DType::F32);
    if !fused {
        return match how {
            AttentionImpl::Explicit => explicit(q, k, v, key_padding_mask, scale, true),
            AttentionImpl::ExplicitNoGrad => explicit(q, k, v, key_padding_mask, scale, false),
            AttentionImpl::Auto | AttentionImpl::Chunked => {
                attention_chunked(q, k, v, key_padding_mask, scale, BLOCK_ELEMENTS)
            }
        };
    }
    let valid = key_padding_mask.map(|m| key_valid(m, dims.batch, dims.tk)).transpose()?;
    let op = FusedAttention { scale: scale as f32, valid: valid.map(Arc::new), dims };
    q.contiguous()?.apply_op3_arc(&k.contiguous()?, &v.contiguous()?, Arc::new(Box::new(op)))
}

/// The same computation with explicit, differentiable candle ops (builds the [B,H,Tq,Tk] scores).
pub fn attention_explicit(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    key_padding_mask: Option<&Tensor>,
    scale: f64,
) -> Result<Tensor> {
    explicit(q, k, v, key_padding_mask, scale, true)
}

/// Explicit ops with candle's fused `softmax_last_dim`, which is faster but has no backward:
/// the best candle 0.11 offers for inference, and the "before" of `mmant bench attention`.
pub fn attention_explicit_inference(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    key_padding_mask: Option<&Tensor>,
    scale: f64,
) -> Result<Tensor> {
    explicit(q, k, v, key_padding_mask, scale, false)
}

fn explicit(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    key_padding_mask: Option<&Tensor>,
    scale: f64,
    differentiable: bool,
) -> Result<Tensor> {
    let dims = dims_of(q, k, v)?;
    let valid = key_padding_mask.map(|m| valid_keys(m, dims, q.device())).transpose()?;
    masked_probs(q, k, valid.as_ref(), scale, differentiable)?.matmul(v)
}

/// [B, 1, 1, Tk] key validity (1 = attend) on q's device, from a [B, Tk] padding mask.
fn valid_keys(mask: &Tensor, dims: Dims, dev: &Device) -> Result<Tensor> {
    let valid: Vec<u8> = key_valid(mask, dims.batch, dims.tk)?.into_iter().map(u8::from).collect();
    Tensor::from_vec(valid, (dims.batch, 1, 1, dims.tk), dev)
}

/// softmax(scale·q·kᵀ + mask): masked keys get 0 and a row whose keys are all masked is all
/// zeros. `differentiable` false uses candle's fused softmax, which has no backward.
fn masked_probs(
    q: &Tensor,
    k: &Tensor,
    valid: Option<&Tensor>,
    scale: f64,
    differentiable: bool,
) -> Result<Tensor> {
    let softmax = |s: &Tensor| {
        if differentiable {
            candle_nn::ops::softmax(s, candle_core::D::Minus1)
        } else {
            candle_nn::ops::softmax_last_dim(s)
        }
    };
    // scaling q (T·d values) is cheaper than scaling the T×T scores
    let scores = (q * scale)?.matmul(&k.t()?)?;
    let Some(valid) = valid else { return softmax(&scores) };
    // a large finite negative keeps all-masked rows finite (uniform); they are zeroed below
    let neg = Tensor::new(-1e30f32, q.device())?
        .to_dtype(scores.dtype())?
        .broadcast_as(scores.shape())?;
    let probs = softmax(&valid.broadcast_as(scores.shape())?.where_cond(&scores, &neg)?)?;
    probs.broadcast_mul(&valid.max_keepdim(3)?.to_dtype(probs.dtype())?)
}

/// Scores per block of [`attention_chunked`]: 2²⁶ f32 = 256 MiB, of which the backward pass
/// holds about four at once.
const BLOCK_ELEMENTS: usize = 1 << 26;

/// Query blocks of at most `block_elements` scores each: (start, len) along Tq.
fn query_blocks(dims: Dims, block_elements: usize) -> impl Iterator<Item = (usize, usize)> {
    let rows =
        (block_elements / (dims.batch * dims.heads * dims.tk).max(1)).clamp(1, dims.tq.max(1));
    (0..dims.tq).step_by(rows).map(move |start| (start, rows.min(dims.tq - start)))
}

/// The same result as [`attention_explicit`], computed over blocks of queries with at most
/// `block_elements` scores each. The forward pass builds no graph; a custom op attaches the
/// backward, which recomputes each block's probabilities (FlashAttention's recomputation, as
/// plain candle ops), so the memory kept for training is q, k, v and the output.
pub fn attention_chunked(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    key_padding_mask: Option<&Tensor>,
    scale: f64,
    block_elements: usize,
) -> Result<Tensor> {
    let dims = dims_of(q, k, v)?;
    let valid = key_padding_mask.map(|m| valid_keys(m, dims, q.device())).transpose()?;
    let (qd, kd, vd) = (q.detach(), k.detach(), v.detach());
    let blocks = query_blocks(dims, block_elements)
        .map(|(start, len)| {
            masked_probs(&qd.narrow(2, start, len)?, &kd, valid.as_ref(), scale, false)?.matmul(&vd)
        })
        .collect::<Result<Vec<_>>>()?;
    let out = Tensor::cat(&blocks, 2)?;
    if !(q.track_op() || k.track_op() || v.track_op()) {
        return Ok(out);
    }
    let op = ChunkedAttention {
        out: std::sync::Mutex::new(Some(out)),
        valid,
        scale,
        block_elements,
        dims,
    };
    q.contiguous()?.apply_op3_arc(&k.contiguous()?, &v.contiguous()?, Arc::new(Box::new(op)))
}

/// Hands candle the output [`attention_chunked`] computed, and supplies its backward.
struct ChunkedAttention {
    /// Taken by the forward call, so the op does not keep a second copy alive in the graph.
    out: std::sync::Mutex<Option<Tensor>>,
    valid: Option<Tensor>,
    scale: f64,
    block_elements: usize,
    dims: Dims,
}

impl ChunkedAttention {
    fn take_out(&self) -> Result<(Tensor, Shape)> {
        let out = self
            .out
            .lock()
            .map_err(|_| candle_core::Error::Msg("chunked attention: poisoned".into()))?
            .take();
        let out = out.ok_or_else(|| {
            candle_core::Error::Msg("chunked attention: forward called twice".into())
        })?;
        let shape = out.shape().clone();
        let out = out.contiguous()?;
        // the backends' try_clone copies the whole buffer, so it must be exactly this tensor
        if out.layout().contiguous_offsets() != Some((0, shape.elem_count())) {
            // a unary op writes a fresh buffer of exactly this size
            return Ok((out.affine(1.0, 0.0)?, shape));
        }
        Ok((out, shape))
    }
}

impl CustomOp3 for ChunkedAttention {
    fn name(&self) -> &'static str {
        "chunked-attention"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (out, shape) = self.take_out()?;
        let (storage, layout) = out.storage_and_layout();
        match &*storage {
            candle_core::Storage::Cpu(s) => Ok((s.try_clone(layout)?, shape)),
            _ => bail!("chunked attention: the output is not on the CPU"),
        }
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        _: &candle_core::CudaStorage,
        _: &Layout,
        _: &candle_core::CudaStorage,
        _: &Layout,
        _: &candle_core::CudaStorage,
        _: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        let (out, shape) = self.take_out()?;
        let (storage, layout) = out.storage_and_layout();
        match &*storage {
            candle_core::Storage::Cuda(s) => Ok((s.try_clone(layout)?, shape)),
            _ => bail!("chunked attention: the output is not on the GPU"),
        }
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (q, k, v, out, grad) =
            (q.detach(), k.detach(), v.detach(), res.detach(), grad_res.detach());
        // rowsum(dO ∘ O) = Σⱼ pᵢⱼ·(dOᵢ·vⱼ), the softmax backward's subtrahend
        let delta = (&grad * &out)?.sum_keepdim(3)?;
        let mut dq = Vec::new();
        let mut dk = k.zeros_like()?;
        let mut dv = v.zeros_like()?;
        for (start, len) in query_blocks(self.dims, self.block_elements) {
            let qb = q.narrow(2, start, len)?;
            let gb = grad.narrow(2, start, len)?;
            let p = masked_probs(&qb, &k, self.valid.as_ref(), self.scale, false)?;
            dv = (dv + p.t()?.matmul(&gb)?)?;
            let ds = (p * gb.matmul(&v.t()?)?.broadcast_sub(&delta.narrow(2, start, len)?)?)?;
            dq.push((ds.matmul(&k)? * self.scale)?);
            dk = (dk + (ds.t()?.matmul(&qb)? * self.scale)?)?;
        }
        Ok((Some(Tensor::cat(&dq, 2)?), Some(dk), Some(dv)))
    }
}

struct FusedAttention {
    scale: f32,
    valid: Option<Arc<Vec<bool>>>,
    dims: Dims,
}

impl CustomOp3 for FusedAttention {
    fn name(&self) -> &'static str {
        "fused-attention"
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
        let op = "fused attention";
        let (q, k, v) =
            (f32_slice(s1, l1, op, "q")?, f32_slice(s2, l2, op, "k")?, f32_slice(s3, l3, op, "v")?);
        let d = self.dims;
        let out = kernel::forward(q, k, v, self.valid.as_deref().map(Vec::as_slice), self.scale, d);
        Ok((CpuStorage::F32(out), Shape::from((d.batch, d.heads, d.tq, d.dv))))
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let flat =
            |t: &Tensor| -> Result<Vec<f32>> { t.contiguous()?.flatten_all()?.to_vec1::<f32>() };
        let g = kernel::backward(
            &flat(q)?,
            &flat(k)?,
            &flat(v)?,
            &flat(res)?,
            &flat(grad_res)?,
            self.valid.as_deref().map(Vec::as_slice),
            self.scale,
            self.dims,
        );
        let dev = q.device();
        Ok((
            Some(Tensor::from_vec(g.dq, q.shape(), dev)?),
            Some(Tensor::from_vec(g.dk, k.shape(), dev)?),
            Some(Tensor::from_vec(g.dv, v.shape(), dev)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    fn rand(shape: &[usize], seed: u64) -> Tensor {
        crate::model::init::uniform_tensor(shape, -2.0, 2.0, seed).unwrap()
    }

    /// Every |a − b| within `rel` of (|b| + the mean |b|): relative, without blowing up near zero.
    fn assert_close(a: &Tensor, b: &Tensor, rel: f32, what: &str) {
        let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(a.len(), b.len());
        assert!(a.iter().all(|x| x.is_finite()), "{what}: non-finite output");
        let mean = b.iter().map(|x| x.abs()).sum::<f32>() / b.len().max(1) as f32;
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= rel * (y.abs() + mean),
                "{what}: element {i}: {x} vs {y} (mean |ref| {mean})"
            );
        }
    }

    fn mask(batch: usize, tk: usize, masked: impl Fn(usize, usize) -> bool) -> Tensor {
        let m: Vec<u8> = (0..batch * tk).map(|i| masked(i / tk, i % tk) as u8).collect();
        Tensor::from_vec(m, (batch, tk), &Device::Cpu).unwrap()
    }

    #[test]
    fn fused_equals_explicit_over_sizes_heads_and_masks() {
        let cases = [
            // (batch, heads, tq, tk, d, dv)
            (1, 1, 1, 1, 16, 16),
            (1, 8, 3, 5, 16, 16),
            (2, 8, 17, 63, 16, 16),
            (2, 2, 65, 64, 16, 8),
            (1, 8, 250, 250, 16, 16),
            (3, 1, 33, 129, 64, 64),
            (1, 1, 7, 1000, 20, 12),
            (1, 1, 97, 4096, 16, 16),
        ];
        for (i, &(b, h, tq, tk, d, dv)) in cases.iter().enumerate() {
            let q = rand(&[b, h, tq, d], 3 * i as u64 + 1);
            let k = rand(&[b, h, tk, d], 3 * i as u64 + 2);
            let v = rand(&[b, h, tk, dv], 3 * i as u64 + 3);
            let scale = 1.0 / (d as f64).sqrt();
            let what = format!("case {:?}", cases[i]);
            let fused = attention(&q, &k, &v, None, scale, AttentionImpl::Auto).unwrap();
            let explicit = attention_explicit(&q, &k, &v, None, scale).unwrap();
            assert_close(&fused, &explicit, 1e-5, &what);
            // blocks of a few query rows, so that most cases are cut into several
            let chunked = attention_chunked(&q, &k, &v, None, scale, 3 * b * h * tk).unwrap();
            assert_close(&chunked, &explicit, 1e-5, &format!("{what} chunked"));
            // partly masked keys; batch item 0 (when b > 1) masks every key
            let m = mask(b, tk, |bi, j| (b > 1 && bi == 0) || j % 3 == 1);
            let fused = attention(&q, &k, &v, Some(&m), scale, AttentionImpl::Auto).unwrap();
            let explicit = attention_explicit(&q, &k, &v, Some(&m), scale).unwrap();
            assert_close(&fused, &explicit, 1e-5, &format!("{what} masked"));
            let chunked = attention_chunked(&q, &k, &v, Some(&m), scale, 3 * b * h * tk).unwrap();
            assert_close(&chunked, &explicit, 1e-5, &format!("{what} masked, chunked"));
            if b > 1 {
                let first = fused
                    .get(0)
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap();
                assert_eq!(first, 0.0, "{what}: all-masked rows must be zero");
            }
        }
    }

    fn grads(
        how: AttentionImpl,
        q: &Var,
        k: &Var,
        v: &Var,
        m: Option<&Tensor>,
        w: &Tensor,
    ) -> Vec<Tensor> {
        let o = match how {
            AttentionImpl::Auto => {
                attention(q.as_tensor(), k.as_tensor(), v.as_tensor(), m, 0.25, how).unwrap()
            }
            // two query rows per block: the backward runs over several blocks
            AttentionImpl::Chunked => {
                let (b, h, _, _) = q.dims4().unwrap();
                attention_chunked(
                    q.as_tensor(),
                    k.as_tensor(),
                    v.as_tensor(),
                    m,
                    0.25,
                    2 * b * h * k.dim(2).unwrap(),
                )
                .unwrap()
            }
            _ => attention_explicit(q.as_tensor(), k.as_tensor(), v.as_tensor(), m, 0.25).unwrap(),
        };
        // a weighted sum makes every output element's gradient different
        let loss = (o * w).unwrap().sum_all().unwrap();
        let g = loss.backward().unwrap();
        [q, k, v]
            .iter()
            .enumerate()
            .map(|(i, x)| {
                g.get(x.as_tensor())
                    .unwrap_or_else(|| {
                        panic!("no gradient for input {i} ({how:?}, masked={})", m.is_some())
                    })
                    .clone()
            })
            .collect()
    }

    #[test]
    fn fused_backward_equals_explicit_backward() {
        for &(b, h, tq, tk, d, dv) in
            &[(1, 1, 5, 7, 16, 16), (2, 3, 9, 70, 16, 8), (2, 2, 33, 31, 24, 17)]
        {
            let q = Var::from_tensor(&rand(&[b, h, tq, d], 11)).unwrap();
            let k = Var::from_tensor(&rand(&[b, h, tk, d], 12)).unwrap();
            let v = Var::from_tensor(&rand(&[b, h, tk, dv], 13)).unwrap();
            let w = rand(&[b, h, tq, dv], 14);
            let m = mask(b, tk, |bi, j| (b > 1 && bi == 0) || j % 4 == 0);
            for m in [None, Some(&m)] {
                let explicit = grads(AttentionImpl::Explicit, &q, &k, &v, m, &w);
                for how in [AttentionImpl::Auto, AttentionImpl::Chunked] {
                    let got = grads(how, &q, &k, &v, m, &w);
                    for (name, (a, e)) in ["dq", "dk", "dv"].iter().zip(got.iter().zip(&explicit)) {
                        assert_close(
                            a,
                            e,
                            1e-4,
                            &format!(
                                "{name} of {:?} masked={} {how:?}",
                                (b, h, tq, tk, d, dv),
                                m.is_some()
                            ),
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fused_gradients_match_finite_differences_in_f64() {
        // the explicit version in f64 gives accurate central differences of the same function
        let (b, h, tq, tk, d, dv) = (1, 2, 3, 5, 4, 3);
        let q = rand(&[b, h, tq, d], 21);
        let k = rand(&[b, h, tk, d], 22);
        let v = rand(&[b, h, tk, dv], 23);
        let w = rand(&[b, h, tq, dv], 24);
        let m = mask(b, tk, |_, j| j == 2);
        let (qv, kv, vv) = (
            Var::from_tensor(&q).unwrap(),
            Var::from_tensor(&k).unwrap(),
            Var::from_tensor(&v).unwrap(),
        );
        let analytic = grads(AttentionImpl::Auto, &qv, &kv, &vv, Some(&m), &w);
        let f64s = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
        let loss = |q: &Tensor, k: &Tensor, v: &Tensor| -> f64 {
            let o = attention_explicit(q, k, v, Some(&m), 0.25).unwrap();
            (o * f64s(&w)).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap()
        };
        let inputs = [f64s(&q), f64s(&k), f64s(&v)];
        let eps = 1e-6;
        for which in 0..3 {
            let flat = inputs[which].flatten_all().unwrap().to_vec1::<f64>().unwrap();
            let got = analytic[which].flatten_all().unwrap().to_vec1::<f32>().unwrap();
            for i in 0..flat.len() {
                let bump = |delta: f64| {
                    let mut x = flat.clone();
                    x[i] += delta;
                    let x = Tensor::from_vec(x, inputs[which].shape(), &Device::Cpu).unwrap();
                    let mut args = inputs.clone();
                    args[which] = x;
                    loss(&args[0], &args[1], &args[2])
                };
                let numeric = (bump(eps) - bump(-eps)) / (2.0 * eps);
                assert!(
                    (got[i] as f64 - numeric).abs() < 1e-4 * (1.0 + numeric.abs()),
                    "input {which} element {i}: {} vs {numeric}",
                    got[i]
                );
            }
        }
    }

    #[test]
    fn chunked_attention_keeps_no_graph_without_gradients_and_blocks_cover_every_query() {
        let q = rand(&[2, 3, 10, 4], 31);
        let k = rand(&[2, 3, 7, 4], 32);
        let out = attention_chunked(&q, &k, &k, None, 0.5, 1).unwrap();
        assert!(!out.track_op(), "inference must not attach the backward op");
        let dims = dims_of(&q, &k, &k).unwrap();
        for elements in [1, 2 * 3 * 7, 3 * 2 * 3 * 7, usize::MAX] {
            let blocks: Vec<_> = query_blocks(dims, elements).collect();
            assert_eq!(blocks.iter().map(|b| b.1).sum::<usize>(), 10, "{elements}: {blocks:?}");
            assert!(blocks.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0));
        }
    }

    #[test]
    fn rejects_mismatched_shapes() {
        let q = rand(&[1, 2, 3, 4], 1);
        let k = rand(&[1, 2, 5, 3], 2);
        let v = rand(&[1, 2, 5, 4], 3);
        let e = attention(&q, &k, &v, None, 1.0, AttentionImpl::Auto).unwrap_err().to_string();
        assert!(e.contains("do not fit"), "{e}");
        let k = rand(&[1, 2, 5, 4], 2);
        let m = mask(2, 5, |_, _| false);
        assert!(
            attention(&q, &k, &v, Some(&m), 1.0, AttentionImpl::Auto)
                .unwrap_err()
                .to_string()
                .contains("mask must be [B, Tk]")
        );
    }
}
