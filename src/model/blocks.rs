//! Transformer blocks shared by FUTR and m&m-Ant, with PyTorch's parameter names
//! (`in_proj_weight`, `out_proj.weight`, `linear1`, `norm1`, …) so that checkpoints map 1:1.

use std::sync::Mutex;

use candle_core::{D, DType, Device, Module, Result, Tensor};
use candle_nn::{Init, VarBuilder};

use super::attention::{AttentionImpl, attention};
use super::init::xavier_uniform;

/// Dropout with its own seeded generator (candle's CPU generator cannot be seeded).
/// `None` where a `&Dropout` is optional means evaluation: no dropout.
pub struct Dropout {
    pub p: f32,
    rng: Mutex<super::init::SeededRng>,
}

impl Dropout {
    pub fn new(p: f32, seed: u64) -> Self {
        Dropout { p, rng: Mutex::new(super::init::seeded_rng(seed, "dropout")) }
    }

    /// How far the CPU generator has gone, in 32-bit words: with [`Dropout::set_position`] a
    /// resumed run draws the masks an uninterrupted one would have.
    pub fn position(&self) -> u128 {
        self.rng.lock().unwrap().get_word_pos()
    }

    pub fn set_position(&self, words: u128) {
        self.rng.lock().unwrap().set_word_pos(words);
    }

    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        if self.p <= 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - self.p;
        if !x.device().is_cpu() {
            // a host-drawn mask would cross the bus at every layer; the device's generator is
            // seeded once per run (Device::set_seed), so runs on one GPU still repeat
            let mask = Tensor::rand(0f32, 1f32, x.shape(), x.device())?
                .lt(keep as f64)?
                .to_dtype(x.dtype())?;
            return (x * mask)? / keep as f64;
        }
        match self.cpu_mask(x)? {
            Some(mask) => x * mask,
            None => Ok(x.clone()),
        }
    }

    /// The next mask for a tensor shaped as `x`, drawn from the CPU generator (values 1/keep
    /// or 0); None when nothing is dropped. Used by [`Dropout::apply`] and by fused ops.
    pub fn cpu_mask(&self, x: &Tensor) -> Result<Option<Tensor>> {
        if self.p <= 0.0 {
            return Ok(None);
        }
        let mask = keep_mask(&mut self.rng.lock().unwrap(), x.elem_count(), 1.0 - self.p);
        Ok(Some(Tensor::from_vec(mask, x.shape(), x.device())?))
    }
}

/// The dropout mask of `n` elements: 1/keep where the generator's next uniform f32 is below
/// `keep`, else 0. The same masks, and the same generator position, as drawing
/// `rng.random::<f32>()` once per element (rand's f32 is the top 24 bits of one u32 × 2⁻²⁴),
/// but from one bulk fill of the generator's words and a loop that vectorises: the per-element
/// draw was 5 % of a training step.
fn keep_mask(rng: &mut super::init::SeededRng, n: usize, keep: f32) -> Vec<f32> {
    // `fill` draws the same words as `fill_bytes` (little-endian), into a buffer that the
    // map below reuses in place for the f32 mask
    let mut words = vec![0u32; n];
    rand::Rng::fill(rng, words.as_mut_slice());
    let scale = 1.0 / keep;
    words
        .into_iter()
        .map(|u| if (u >> 8) as f32 * (1.0 / 16_777_216.0) < keep { scale } else { 0.0 })
        .collect()
}

pub fn dropout(x: &Tensor, drop: Option<&Dropout>) -> Result<Tensor> {
    match drop {
        Some(d) => d.apply(x),
        None => Ok(x.clone()),
    }
}

/// Whether [`add_rows`] and [`mul_rows`] repeat rows by a product (the default) or broadcast,
/// leaving the gradient sums to candle. Only `mmant bench model` turns it off, to time both ways in
/// one run; the two give the same values and gradients equal to rounding (tested below).
pub static ROWS_BY_PRODUCT: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(true);

/// `b` repeated over `x`'s leading dimensions, as a product with a column of ones, when `b` is a
/// suffix of `x`'s shape (leading 1s aside); `None` otherwise. The values are those of a
/// broadcast, exactly; what changes is the backward pass: the gradient of `b` becomes a matrix
/// product, where candle 0.11 sums a gradient over leading dimensions on one CPU thread with two
/// integer divisions per element (31 % of the main thread of a FUTR training step, perf).
fn repeat_rows(x: &Tensor, b: &Tensor) -> Result<Option<Tensor>> {
    if !b.track_op() || !ROWS_BY_PRODUCT.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(None); // no gradient to sum: the plain broadcast is cheaper
    }
    let tail = b.dims().iter().skip_while(|&&d| d == 1).copied().collect::<Vec<_>>();
    let xd = x.dims();
    if tail.len() > xd.len() || xd[xd.len() - tail.len()..] != tail[..] {
        return Ok(None);
    }
    let n = b.elem_count();
    let rows = x.elem_count() / n.max(1);
    if rows <= 1 {
        return Ok(None);
    }
    let ones = Tensor::ones((rows, 1), b.dtype(), b.device())?;
    Ok(Some(ones.matmul(&b.reshape((1, n))?)?.reshape(xd)?))
}

/// `x + b`, `b` broadcast over `x`'s leading dimensions (see [`repeat_rows`]).
pub fn add_rows(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    match repeat_rows(x, b)? {
        Some(r) => x + r,
        None => x.broadcast_add(b),
    }
}

/// `x · b`, `b` broadcast over `x`'s leading dimensions (see [`repeat_rows`]).
pub fn mul_rows(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    match repeat_rows(x, b)? {
        Some(r) => x * r,
        None => x.broadcast_mul(b),
    }
}

/// A linear layer that flattens its leading dimensions into one matrix product: candle-nn's
/// `Linear` broadcasts the weight over the batch for 3-D inputs, which costs a batched product
/// and, in training, a per-sample weight gradient that is then summed.
#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Linear { weight, bias }
    }

    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims();
        let (last, lead) = dims
            .split_last()
            .ok_or_else(|| candle_core::Error::Msg("linear: scalar input".into()))?;
        let rows: usize = lead.iter().product();
        let y = x.reshape((rows, *last))?.matmul(&self.weight.t()?)?;
        let y = match &self.bias {
            Some(b) => add_rows(&y, b)?,
            None => y,
        };
        let mut out = lead.to_vec();
        out.push(self.weight.dim(0)?);
        y.reshape(out)
    }
}

/// Linear with Xavier-uniform weight; bias zero (`zero_bias`) or PyTorch's default uniform.
pub fn linear_xavier(
    in_dim: usize,
    out_dim: usize,
    zero_bias: bool,
    vb: VarBuilder,
) -> Result<Linear> {
    let w = vb.get_with_hints((out_dim, in_dim), "weight", xavier_uniform(&[out_dim, in_dim]))?;
    let bound = 1.0 / (in_dim as f64).sqrt();
    let b_init = if zero_bias { Init::Const(0.0) } else { Init::Uniform { lo: -bound, up: bound } };
    let b = vb.get_with_hints(out_dim, "bias", b_init)?;
    Ok(Linear::new(w, Some(b)))
}

/// Layer normalisation over the last dimension: our fused op with its backward pass on the CPU
/// (f32); elsewhere candle-nn's fused op for evaluation (it has no backward pass) and composed,
/// differentiable candle ops for training.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub fn new(size: usize, vb: VarBuilder) -> Result<Self> {
        Ok(LayerNorm {
            weight: vb.get_with_hints(size, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(size, "bias", Init::Const(0.0))?,
            eps: 1e-5,
        })
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if x.device().is_cpu() && x.dtype() == DType::F32 && self.weight.dtype() == DType::F32 {
            return super::layer_norm::layer_norm(x, &self.weight, &self.bias, self.eps as f32);
        }
        if !train && x.is_contiguous() && x.dtype() == DType::F32 {
            return candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps as f32);
        }
        let mean = x.mean_keepdim(D::Minus1)?;
        let centered = x.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centered.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        add_rows(&mul_rows(&normed, &self.weight)?, &self.bias)
    }
}

/// PyTorch's `nn.MultiheadAttention` (batch first), attention core from [`attention`].
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    q: Linear,
    k: Linear,
    v: Linear,
    out_proj: Linear,
    heads: usize,
    dim: usize,
    pub how: AttentionImpl,
}

impl MultiHeadAttention {
    pub fn new(dim: usize, heads: usize, vb: VarBuilder) -> Result<Self> {
        if !dim.is_multiple_of(heads) {
            candle_core::bail!("model dimension {dim} is not a multiple of {heads} heads");
        }
        let w =
            vb.get_with_hints((3 * dim, dim), "in_proj_weight", xavier_uniform(&[3 * dim, dim]))?;
        let b = vb.get_with_hints(3 * dim, "in_proj_bias", Init::Const(0.0))?;
        let part = |i: usize| -> Result<Linear> {
            Ok(Linear::new(w.narrow(0, i * dim, dim)?, Some(b.narrow(0, i * dim, dim)?)))
        };
        let out_w =
            vb.pp("out_proj").get_with_hints((dim, dim), "weight", xavier_uniform(&[dim, dim]))?;
        let out_b = vb.pp("out_proj").get_with_hints(dim, "bias", Init::Const(0.0))?;
        Ok(MultiHeadAttention {
            q: part(0)?,
            k: part(1)?,
            v: part(2)?,
            out_proj: Linear::new(out_w, Some(out_b)),
            heads,
            dim,
            how: AttentionImpl::Auto,
        })
    }

    fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        x.reshape((b, t, self.heads, self.dim / self.heads))?.transpose(1, 2)?.contiguous()
    }

    /// q [B,Tq,D], k and v [B,Tk,D]; `key_padding_mask` [B,Tk] u8, 1 = ignore.
    pub fn forward(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        key_padding_mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (b, tq, _) = q.dims3()?;
        let qh = self.split_heads(&self.q.forward(q)?)?;
        let kh = self.split_heads(&self.k.forward(k)?)?;
        let vh = self.split_heads(&self.v.forward(v)?)?;
        let scale = 1.0 / ((self.dim / self.heads) as f64).sqrt();
        let o = attention(&qh, &kh, &vh, key_padding_mask, scale, self.how)?;
        let o = o.transpose(1, 2)?.reshape((b, tq, self.dim))?;
        self.out_proj.forward(&o)
    }
}

#[derive(Debug, Clone)]
pub struct FeedForward {
    linear1: Linear,
    linear2: Linear,
}

impl FeedForward {
    pub fn new(dim: usize, hidden: usize, vb: VarBuilder) -> Result<Self> {
        Ok(FeedForward {
            linear1: linear_xavier(dim, hidden, false, vb.pp("linear1"))?,
            linear2: linear_xavier(hidden, dim, false, vb.pp("linear2"))?,
        })
    }

    pub fn forward(&self, x: &Tensor, drop: Option<&Dropout>) -> Result<Tensor> {
        let h = super::relu::relu_dropout(&self.linear1.forward(x)?, drop)?;
        self.linear2.forward(&h)
    }
}

/// FUTR's post-norm encoder layer; the positional embedding is added to the attention's
/// queries, keys and values (DETR style, values included, as FUTR does).
#[derive(Debug, Clone)]
pub struct EncoderLayer {
    pub self_attn: MultiHeadAttention,
    ffn: FeedForward,
    norm1: LayerNorm,
    norm2: LayerNorm,
}

impl EncoderLayer {
    pub fn new(dim: usize, heads: usize, ffn_hidden: usize, vb: VarBuilder) -> Result<Self> {
        Ok(EncoderLayer {
            self_attn: MultiHeadAttention::new(dim, heads, vb.pp("self_attn"))?,
            ffn: FeedForward::new(dim, ffn_hidden, vb.clone())?,
            norm1: LayerNorm::new(dim, vb.pp("norm1"))?,
            norm2: LayerNorm::new(dim, vb.pp("norm2"))?,
        })
    }

    pub fn set_attention(&mut self, how: AttentionImpl) {
        self.self_attn.how = how;
    }

    pub fn forward(
        &self,
        x: &Tensor,
        pos: &Tensor,
        mask: Option<&Tensor>,
        drop: Option<&Dropout>,
    ) -> Result<Tensor> {
        let train = drop.is_some();
        let u = add_rows(x, pos)?;
        let a = self.self_attn.forward(&u, &u, &u, mask)?;
        let x = self.norm1.forward_t(&(x + dropout(&a, drop)?)?, train)?;
        let f = self.ffn.forward(&x, drop)?;
        self.norm2.forward_t(&(&x + dropout(&f, drop)?)?, train)
    }
}

/// FUTR's post-norm decoder layer: self-attention over the queries, cross-attention to the
/// encoder output (plus its positions), feed-forward.
#[derive(Debug, Clone)]
pub struct DecoderLayer {
    pub self_attn: MultiHeadAttention,
    pub cross_attn: MultiHeadAttention,
    ffn: FeedForward,
    norm1: LayerNorm,
    norm2: LayerNorm,
    norm3: LayerNorm,
}

impl DecoderLayer {
    pub fn new(dim: usize, heads: usize, ffn_hidden: usize, vb: VarBuilder) -> Result<Self> {
        Ok(DecoderLayer {
            self_attn: MultiHeadAttention::new(dim, heads, vb.pp("self_attn"))?,
            cross_attn: MultiHeadAttention::new(dim, heads, vb.pp("multihead_attn"))?,
            ffn: FeedForward::new(dim, ffn_hidden, vb.clone())?,
            norm1: LayerNorm::new(dim, vb.pp("norm1"))?,
            norm2: LayerNorm::new(dim, vb.pp("norm2"))?,
            norm3: LayerNorm::new(dim, vb.pp("norm3"))?,
        })
    }

    pub fn set_attention(&mut self, how: AttentionImpl) {
        self.self_attn.how = how;
        self.cross_attn.how = how;
    }

    /// y, query_pos [B,M,D]; memory, memory_pos [B,S,D] (memory_pos may broadcast).
    pub fn forward(
        &self,
        y: &Tensor,
        query_pos: &Tensor,
        memory: &Tensor,
        memory_pos: &Tensor,
        mask: Option<&Tensor>,
        drop: Option<&Dropout>,
    ) -> Result<Tensor> {
        let train = drop.is_some();
        let q = (y + query_pos)?;
        let a = self.self_attn.forward(&q, &q, &q, None)?;
        let y = self.norm1.forward_t(&(y + dropout(&a, drop)?)?, train)?;
        let q = (&y + query_pos)?;
        let kv = add_rows(memory, memory_pos)?;
        let a = self.cross_attn.forward(&q, &kv, &kv, mask)?;
        let y = self.norm2.forward_t(&(&y + dropout(&a, drop)?)?, train)?;
        let f = self.ffn.forward(&y, drop)?;
        self.norm3.forward_t(&(&y + dropout(&f, drop)?)?, train)
    }
}

/// The sinusoidal position table [len, dim] (10000^(2i/dim)).
pub fn sinusoidal_table(len: usize, dim: usize, dev: &Device) -> Result<Tensor> {
    let mut data = vec![0f32; len * dim];
    for pos in 0..len {
        for i in (0..dim).step_by(2) {
            let angle = pos as f64 / 10000f64.powf(i as f64 / dim as f64);
            data[pos * dim + i] = angle.sin() as f32;
            if i + 1 < dim {
                data[pos * dim + i + 1] = angle.cos() as f32;
            }
        }
    }
    Tensor::from_vec(data, (len, dim), dev)
}

/// Valid tokens per example from a [B,S] u8 padding mask (1 = padding; padding follows them).
pub fn valid_lengths(mask: Option<&Tensor>, b: usize, s: usize) -> Result<Vec<usize>> {
    match mask {
        None => Ok(vec![s; b]),
        Some(m) => Ok(m
            .to_dtype(DType::U32)?
            .sum(1)?
            .to_vec1::<u32>()?
            .into_iter()
            .map(|p| s - p as usize)
            .collect()),
    }
}

/// A variant in neither paper: the anticipation decoder's queries start from the segmentation
/// head's reading of each example's last observed token (its class probabilities, projected to
/// D, the same for every query) instead of from zeros, so that the first query is handed what
/// the head reads as the action in progress (docs/results/anticipation-breakfast.md). The
/// reading is detached: L_seg alone trains the head.
#[derive(Debug, Clone)]
pub struct SegmentationQueries {
    proj: Linear,
}

impl SegmentationQueries {
    pub fn new(num_classes: usize, d_model: usize, vb: VarBuilder) -> Result<Self> {
        Ok(SegmentationQueries { proj: linear_xavier(num_classes, d_model, true, vb)? })
    }

    /// seg [B,S,C] segmentation logits, `lengths` the valid tokens of each example → [B,M,D].
    pub fn forward(&self, seg: &Tensor, lengths: &[usize], queries: usize) -> Result<Tensor> {
        let (b, s, c) = seg.dims3()?;
        let last: Vec<u32> =
            lengths.iter().enumerate().map(|(i, &n)| (i * s + n.max(1) - 1) as u32).collect();
        let last = Tensor::from_vec(last, b, seg.device())?;
        let reading = seg.detach().reshape((b * s, c))?.index_select(&last, 0)?;
        let reading = candle_nn::ops::softmax(&reading, 1)?;
        let d = self.proj.weight().dim(0)?;
        self.proj.forward(&reading)?.unsqueeze(1)?.broadcast_as((b, queries, d))?.contiguous()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;

    #[test]
    fn layer_norm_agrees_with_candles_fused_op() {
        let vm = VarMap::new();
        let vb = super::super::init::seeded_var_builder(&vm, 1, &Device::Cpu);
        let ln = LayerNorm::new(8, vb).unwrap();
        let x = Tensor::arange(0f32, 24.0, &Device::Cpu)
            .unwrap()
            .reshape((3, 8))
            .unwrap()
            .sqr()
            .unwrap();
        let a = ln.forward_t(&x, true).unwrap();
        let b = candle_nn::ops::layer_norm(&x, &ln.weight, &ln.bias, 1e-5).unwrap();
        let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn rows_repeated_by_a_product_match_the_broadcast_and_its_gradients() {
        let dev = Device::Cpu;
        let x = candle_core::Var::from_tensor(&Tensor::randn(0f32, 1.0, (3, 5, 4), &dev).unwrap())
            .unwrap();
        // a bias over the last dimension, and a [1,S,D] table as the positions are
        for shape in [vec![4usize], vec![1, 5, 4]] {
            let b = candle_core::Var::from_tensor(
                &Tensor::randn(0f32, 1.0, shape.as_slice(), &dev).unwrap(),
            )
            .unwrap();
            assert!(
                repeat_rows(&x, &b).unwrap().is_some(),
                "{shape:?} should take the product path"
            );
            for (ours, plain) in [
                (add_rows(&x, &b).unwrap(), x.broadcast_add(&b).unwrap()),
                (mul_rows(&x, &b).unwrap(), x.broadcast_mul(&b).unwrap()),
            ] {
                // the same values, exactly
                assert_eq!(
                    ours.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                    plain.flatten_all().unwrap().to_vec1::<f32>().unwrap()
                );
                let w = Tensor::randn(0f32, 1.0, (3, 5, 4), &dev).unwrap();
                let g_ours = (ours * &w).unwrap().sum_all().unwrap().backward().unwrap();
                let g_plain = (plain * &w).unwrap().sum_all().unwrap().backward().unwrap();
                for v in [x.as_tensor(), b.as_tensor()] {
                    let diff = (g_ours.get(v).unwrap() - g_plain.get(v).unwrap())
                        .unwrap()
                        .abs()
                        .unwrap()
                        .max_all()
                        .unwrap()
                        .to_scalar::<f32>()
                        .unwrap();
                    assert!(diff < 1e-5, "{shape:?}: gradient differs by {diff}");
                }
            }
        }
        // shapes that are not a suffix, and constants, keep the plain broadcast
        let col =
            candle_core::Var::from_tensor(&Tensor::randn(0f32, 1.0, (3, 1, 4), &dev).unwrap())
                .unwrap();
        assert!(repeat_rows(&x, &col).unwrap().is_none());
        assert!(repeat_rows(&x, &Tensor::ones(4, DType::F32, &dev).unwrap()).unwrap().is_none());
    }

    #[test]
    fn bulk_dropout_masks_equal_per_element_draws() {
        use rand::Rng;
        for n in [1usize, 3, 8, 1000, 4099] {
            let mut a = super::super::init::seeded_rng(7, "dropout");
            let mut b = a.clone();
            let per_element: Vec<f32> =
                (0..n).map(|_| if a.random::<f32>() < 0.9 { 1.0 / 0.9 } else { 0.0 }).collect();
            assert_eq!(keep_mask(&mut b, n, 0.9), per_element, "n = {n}");
            assert_eq!(a.get_word_pos(), b.get_word_pos(), "n = {n}: generator positions");
        }
    }

    #[test]
    fn dropout_is_seeded() {
        let x = Tensor::ones((4, 16), DType::F32, &Device::Cpu).unwrap();
        let a = Dropout::new(0.5, 3).apply(&x).unwrap().to_vec2::<f32>().unwrap();
        let b = Dropout::new(0.5, 3).apply(&x).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(a, b);
        let kept = a.iter().flatten().filter(|v| **v > 0.0).count();
        assert!(kept > 16 && kept < 48, "{kept}");
    }
}
