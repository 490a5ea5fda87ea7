//! Convolutions for CPU inference in NHWC layout, batch-norm folded into the weights.
//!
//! Why not candle's `conv2d`: in NCHW it writes a full im2col copy of every layer, multiplies,
//! transposes the product back to NCHW, and then batch-norm, the residual add and ReLU each take
//! another pass over memory. Here a 1×1 convolution with stride 1 is a plain matrix product of the
//! activations (no copy at all), a k×k one gathers its im2col rows a block at a time (the block
//! stays in cache for the product that reads it), and bias, residual and ReLU are applied to each
//! block of the product's output while it is still in cache. 3×3 stride-1 convolutions (most of
//! ResNet-18/34's work) use Winograd's F(2×2, 3×3), 2.25× fewer multiplications; depthwise ones
//! (EfficientNet-Lite0) multiply along the contiguous channels. The rows (or tiles) are split
//! between threads; the products are `gemm`'s, the kernels candle's matmul uses. Measured against
//! PyTorch in BENCHMARKS.md ("Feature extraction against PyTorch").

use candle_core::{DType, Result, Tensor};
use gemm::{Parallelism, gemm};

/// An activation [n, h, w, c], channels contiguous.
#[derive(Debug, Clone)]
pub struct Nhwc {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub data: Vec<f32>,
}

impl Nhwc {
    /// From a [n, c, h, w] tensor.
    pub fn from_nchw(x: &Tensor) -> Result<Self> {
        let (n, c, h, w) = x.dims4()?;
        if !x.device().is_cpu() {
            candle_core::bail!(
                "the NHWC convolutions run on the CPU, the input is on {:?}",
                x.device()
            );
        }
        let src = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        let mut data = vec![0f32; src.len()];
        let hw = h * w;
        for b in 0..n {
            let (s, d) =
                (&src[b * c * hw..(b + 1) * c * hw], &mut data[b * c * hw..(b + 1) * c * hw]);
            for ch in 0..c {
                for (p, &v) in s[ch * hw..(ch + 1) * hw].iter().enumerate() {
                    d[p * c + ch] = v;
                }
            }
        }
        Ok(Nhwc { n, h, w, c, data })
    }

    /// Back to a [n, c, h, w] tensor (tests compare layers with candle's).
    pub fn to_nchw(&self, device: &candle_core::Device) -> Result<Tensor> {
        Tensor::from_slice(&self.data, (self.n, self.h, self.w, self.c), device)?
            .permute((0, 3, 1, 2))?
            .contiguous()
    }

    /// The mean over positions: [n, c].
    pub fn global_average(&self) -> Vec<f32> {
        let hw = self.h * self.w;
        let mut out = vec![0f32; self.n * self.c];
        for (b, o) in out.chunks_mut(self.c).enumerate() {
            for px in self.data[b * hw * self.c..(b + 1) * hw * self.c].chunks(self.c) {
                o.iter_mut().zip(px).for_each(|(o, &v)| *o += v);
            }
            let inv = 1.0 / hw as f32;
            o.iter_mut().for_each(|o| *o *= inv);
        }
        out
    }

    /// Max over k×k windows (padding never wins, as in PyTorch's max_pool2d).
    pub fn max_pool(&self, k: usize, stride: usize, pad: usize) -> Nhwc {
        let (ho, wo) = (out_size(self.h, k, stride, pad), out_size(self.w, k, stride, pad));
        let c = self.c;
        let mut data = vec![f32::NEG_INFINITY; self.n * ho * wo * c];
        for b in 0..self.n {
            for oy in 0..ho {
                for ox in 0..wo {
                    let o = &mut data[((b * ho + oy) * wo + ox) * c..][..c];
                    for ky in 0..k {
                        let Some(iy) = (oy * stride + ky).checked_sub(pad).filter(|&y| y < self.h)
                        else {
                            continue;
                        };
                        for kx in 0..k {
                            let Some(ix) =
                                (ox * stride + kx).checked_sub(pad).filter(|&x| x < self.w)
                            else {
                                continue;
                            };
                            let i = &self.data[((b * self.h + iy) * self.w + ix) * c..][..c];
                            o.iter_mut().zip(i).for_each(|(o, &v)| *o = o.max(v));
                        }
                    }
                }
            }
        }
        Nhwc { n: self.n, h: ho, w: wo, c, data }
    }
}

fn out_size(size: usize, k: usize, stride: usize, pad: usize) -> usize {
    (size + 2 * pad - k) / stride + 1
}

/// How a convolution pads its input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Padding {
    /// `p` on every side (PyTorch's `padding=p`).
    Symmetric(usize),
    /// TensorFlow's "SAME": ⌈size / stride⌉ outputs, the odd pixel of padding after.
    Same,
}

impl Padding {
    /// (outputs, padding before) along an axis of `size`.
    fn along(self, size: usize, k: usize, stride: usize) -> (usize, usize) {
        match self {
            Padding::Symmetric(p) => (out_size(size, k, stride, p), p),
            Padding::Same => {
                let (before, _) = super::efficientnet_lite::same_padding(size, k, stride);
                (size.div_ceil(stride), before)
            }
        }
    }
}

/// What follows the bias (and residual) in a convolution's output pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    None,
    Relu,
    Relu6,
}

impl Activation {
    fn apply(self, row: &mut [f32]) {
        match self {
            Activation::None => {}
            Activation::Relu => row.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Relu6 => row.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
        }
    }
}

/// Rows `0..rows` of `out` (`width` values each) split between `threads` scoped threads, each
/// handed its first row and its share of `out`.
fn split_rows(
    out: &mut [f32],
    rows: usize,
    width: usize,
    threads: usize,
    work: impl Fn(usize, &mut [f32]) + Sync,
) {
    let per_thread = rows.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (t, chunk) in out.chunks_mut(per_thread * width).enumerate() {
            let work = &work;
            s.spawn(move || work(t * per_thread, chunk));
        }
    });
}

/// A vector of `len` values that the caller writes in full before reading.
#[allow(clippy::uninit_vec)] // the point: no zero-fill pass; every element is written first
fn unfilled(len: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(len);
    // SAFETY: f32 has no invalid bit patterns; callers write every element before reading it
    unsafe { v.set_len(len) };
    v
}

/// A k×k convolution with its batch-norm folded in: weights [(ky, kx, cin), cout], row-major.
#[derive(Debug, Clone)]
pub struct FoldedConv {
    pub k: usize,
    pub stride: usize,
    pub padding: Padding,
    pub cin: usize,
    pub cout: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
    /// 3×3, stride 1, padding 1: the weights in Winograd's F(2×2, 3×3) domain, 16 matrices
    /// [cin, cout] (U = G g Gᵀ per channel pair), which take 2.25× fewer multiplications.
    winograd: Option<Vec<f32>>,
}

/// Batch-norm in inference: γ, β, running mean and variance, ε.
pub struct BatchNorm<'a> {
    pub gamma: &'a Tensor,
    pub beta: &'a Tensor,
    pub mean: &'a Tensor,
    pub var: &'a Tensor,
    pub eps: f64,
}

fn values(t: &Tensor) -> Result<Vec<f32>> {
    t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()
}

impl BatchNorm<'_> {
    /// Per channel (scale, shift): y = x·scale + shift with scale = γ/√(var+ε) and
    /// shift = β − mean·scale.
    fn scale_shift(&self, channels: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        let (gamma, beta) = (values(self.gamma)?, values(self.beta)?);
        let (mean, var) = (values(self.mean)?, values(self.var)?);
        for (name, t) in [("γ", &gamma), ("β", &beta), ("mean", &mean), ("variance", &var)] {
            if t.len() != channels {
                candle_core::bail!(
                    "batch-norm {name} has {} channels, the convolution {channels}",
                    t.len()
                );
            }
        }
        let scale: Vec<f32> = (0..channels)
            .map(|o| (gamma[o] as f64 / (var[o] as f64 + self.eps).sqrt()) as f32)
            .collect();
        let shift = (0..channels).map(|o| beta[o] - mean[o] * scale[o]).collect();
        Ok((scale, shift))
    }
}

impl FoldedConv {
    /// `weight` [cout, cin, k, k] (PyTorch's layout) followed by `bn`: the convolution scaled by
    /// γ/√(var+ε) per output channel, with bias β − mean·γ/√(var+ε).
    pub fn fold(weight: &Tensor, bn: &BatchNorm, stride: usize, padding: Padding) -> Result<Self> {
        let (scale, shift) = bn.scale_shift(weight.dim(0)?)?;
        Self::new(weight, Some(&scale), shift, stride, padding)
    }

    /// `weight` [cout, cin, k, k], each output channel times `scale` when given, and `bias`.
    pub fn new(
        weight: &Tensor,
        scale: Option<&[f32]>,
        bias: Vec<f32>,
        stride: usize,
        padding: Padding,
    ) -> Result<Self> {
        let (cout, cin, k, k2) = weight.dims4()?;
        if k != k2 || bias.len() != cout {
            candle_core::bail!(
                "a square kernel and {cout} biases, got {k}×{k2} and {}",
                bias.len()
            );
        }
        // [cout, cin, ky, kx] → [(ky, kx, cin), cout]
        let w = values(weight)?;
        let mut folded = vec![0f32; w.len()];
        for o in 0..cout {
            let sc = scale.map_or(1.0, |s| s[o]);
            for i in 0..cin {
                for ky in 0..k {
                    for kx in 0..k {
                        folded[((ky * k + kx) * cin + i) * cout + o] =
                            w[((o * cin + i) * k + ky) * k + kx] * sc;
                    }
                }
            }
        }
        let winograd = (k == 3 && stride == 1 && padding == Padding::Symmetric(1))
            .then(|| winograd_weights(&folded, cin, cout));
        Ok(FoldedConv { k, stride, padding, cin, cout, weight: folded, bias, winograd })
    }

    /// The same convolution always through im2col and one product (the reference in tests).
    pub fn without_winograd(mut self) -> Self {
        self.winograd = None;
        self
    }

    /// The convolution, plus `residual` (same shape as the output) when given, then
    /// `activation`; rows of the output split between `threads` threads.
    pub fn forward(
        &self,
        x: &Nhwc,
        residual: Option<&Nhwc>,
        activation: Activation,
        threads: usize,
    ) -> Nhwc {
        assert_eq!(x.c, self.cin, "input channels");
        let (ho, top) = self.padding.along(x.h, self.k, self.stride);
        let (wo, left) = self.padding.along(x.w, self.k, self.stride);
        let rows = x.n * ho * wo;
        if let Some(r) = residual {
            assert_eq!((r.n, r.h, r.w, r.c), (x.n, ho, wo, self.cout), "residual shape");
        }
        // not zero-filled (a pass over memory; ResNet-50 went from 23-24 to 26 frames/s on the
        // Xeon): the products write every element (read_dst = false, the threads' rows cover all)
        let mut out = unfilled(rows * self.cout);
        if let Some(u) = &self.winograd {
            self.winograd_forward(u, x, &mut out, residual, activation, threads);
            return Nhwc { n: x.n, h: ho, w: wo, c: self.cout, data: out };
        }
        let geometry = Geometry { ho, wo, top, left };
        split_rows(&mut out, rows, self.cout, threads, |first, chunk| {
            self.rows(x, first, chunk, residual, activation, geometry)
        });
        Nhwc { n: x.n, h: ho, w: wo, c: self.cout, data: out }
    }

    /// Output rows `first..first + out.len() / cout` (row = (image, y, x)).
    fn rows(
        &self,
        x: &Nhwc,
        first: usize,
        out: &mut [f32],
        residual: Option<&Nhwc>,
        activation: Activation,
        g: Geometry,
    ) {
        let kdim = self.k * self.k * self.cin;
        let direct = self.k == 1 && self.stride == 1 && g.top == 0 && g.left == 0;
        let count = out.len() / self.cout;
        // blocks of rows whose im2col copy (and product output) stay in cache, but large enough
        // that repacking the weights for each block costs little
        let block = ((1 << 18) / kdim.max(1)).clamp(128, 1024).min(count);
        let mut cols = if direct { Vec::new() } else { vec![0f32; block * kdim] };
        let mut done = 0;
        while done < count {
            let m = block.min(count - done);
            let row0 = first + done;
            let lhs: &[f32] = if direct {
                &x.data[row0 * self.cin..(row0 + m) * self.cin]
            } else {
                self.gather(x, row0, g, &mut cols[..m * kdim]);
                &cols[..m * kdim]
            };
            let dst = &mut out[done * self.cout..(done + m) * self.cout];
            // SAFETY: dst is m×cout, lhs m×kdim and the weights kdim×cout, all row-major and
            // in bounds; read_dst = false, so dst's values are not read.
            unsafe {
                gemm(
                    m,
                    self.cout,
                    kdim,
                    dst.as_mut_ptr(),
                    1,
                    self.cout as isize,
                    false,
                    lhs.as_ptr(),
                    1,
                    kdim as isize,
                    self.weight.as_ptr(),
                    1,
                    self.cout as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
            }
            let res = residual.map(|r| &r.data[row0 * self.cout..(row0 + m) * self.cout]);
            for (i, row) in dst.chunks_mut(self.cout).enumerate() {
                row.iter_mut().zip(&self.bias).for_each(|(v, b)| *v += b);
                if let Some(res) = res {
                    let r = &res[i * self.cout..(i + 1) * self.cout];
                    row.iter_mut().zip(r).for_each(|(v, r)| *v += r);
                }
                activation.apply(row);
            }
            done += m;
        }
    }

    /// The im2col rows of output rows `row0..`: for each, the k×k window's input pixels (cin
    /// values each, zeros outside the image) in (ky, kx, cin) order.
    fn gather(&self, x: &Nhwc, row0: usize, g: Geometry, cols: &mut [f32]) {
        let (k, cin) = (self.k, self.cin);
        for (i, col) in cols.chunks_mut(k * k * cin).enumerate() {
            let r = row0 + i;
            let (b, oy, ox) = (r / (g.ho * g.wo), (r / g.wo) % g.ho, r % g.wo);
            for ky in 0..k {
                let iy = (oy * self.stride + ky).checked_sub(g.top).filter(|&y| y < x.h);
                let x0 = (ox * self.stride) as isize - g.left as isize;
                window_row(x, b, iy, x0, &mut col[ky * k * cin..(ky + 1) * k * cin]);
            }
        }
    }
}

/// The input pixels (b, y, x0..x0 + dst.len() / c) into `dst`, zeros where outside the image:
/// one copy when the whole row is inside (the stem's 3-channel pixels would otherwise cost a
/// call each).
fn window_row(x: &Nhwc, b: usize, y: Option<usize>, x0: isize, dst: &mut [f32]) {
    let c = x.c;
    let Some(y) = y else {
        dst.fill(0.0);
        return;
    };
    let row = &x.data[(b * x.h + y) * x.w * c..][..x.w * c];
    let k = dst.len() / c;
    if x0 >= 0 && x0 as usize + k <= x.w {
        dst.copy_from_slice(&row[x0 as usize * c..(x0 as usize + k) * c]);
        return;
    }
    for (i, d) in dst.chunks_mut(c).enumerate() {
        match usize::try_from(x0 + i as isize).ok().filter(|&v| v < x.w) {
            Some(v) => d.copy_from_slice(&row[v * c..(v + 1) * c]),
            None => d.fill(0.0),
        }
    }
}

/// F(2×2, 3×3) weight transform of folded weights [(ky, kx, cin), cout]: 16 matrices [cin, cout],
/// ξ = 4·i + j, U[ξ] = (G g Gᵀ)[i][j] with G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
fn winograd_weights(folded: &[f32], cin: usize, cout: usize) -> Vec<f32> {
    const G: [[f32; 3]; 4] = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]];
    let plane = cin * cout;
    let mut u = vec![0f32; 16 * plane];
    for p in 0..plane {
        let g = |ky: usize, kx: usize| folded[(ky * 3 + kx) * plane + p];
        for i in 0..4 {
            for j in 0..4 {
                let mut v = 0.0;
                for (ky, gi) in G[i].iter().enumerate() {
                    for (kx, gj) in G[j].iter().enumerate() {
                        v += gi * g(ky, kx) * gj;
                    }
                }
                u[(i * 4 + j) * plane + p] = v;
            }
        }
    }
    u
}

/// A pointer the threads of one convolution write through, each to output pixels no other
/// thread writes (the tiles are split between them).
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);
// SAFETY: the threads write disjoint elements and the scope joins them before the buffer is read
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl FoldedConv {
    /// Winograd F(2×2, 3×3): the output in 2×2 tiles, each from a 4×4 input patch; per block of
    /// tiles the input transform V = Bᵀ d B (along the contiguous channels), 16 products
    /// V[ξ]·U[ξ], and the output transform Y = Aᵀ M A with bias, residual and activation.
    fn winograd_forward(
        &self,
        u: &[f32],
        x: &Nhwc,
        out: &mut [f32],
        residual: Option<&Nhwc>,
        activation: Activation,
        threads: usize,
    ) {
        let (cin, cout) = (self.cin, self.cout);
        let (th, tw) = (x.h.div_ceil(2), x.w.div_ceil(2));
        let tiles = x.n * th * tw;
        let per_thread = tiles.div_ceil(threads.max(1)).max(1);
        let dst = SharedOut(out.as_mut_ptr());
        std::thread::scope(|s| {
            for first in (0..tiles).step_by(per_thread) {
                let last = (first + per_thread).min(tiles);
                s.spawn(move || {
                    let dst = dst;
                    // tiles per block: V and M blocks (16 × bt × channels) near the cache's size
                    let bt = ((1 << 17) / (16 * cin.max(cout))).clamp(16, 256);
                    let mut v = vec![0f32; 16 * bt * cin];
                    let mut m = vec![0f32; 16 * bt * cout];
                    let mut patch = vec![0f32; 16 * cin];
                    let mut scratch_in = vec![0f32; 16 * cin];
                    let mut scratch_out = vec![0f32; 8 * cout];
                    let mut row = vec![0f32; 4 * cout];
                    let mut t0 = first;
                    while t0 < last {
                        let n = bt.min(last - t0);
                        for i in 0..n {
                            let t = t0 + i;
                            let (b, ty, tx) = (t / (th * tw), (t / tw) % th, t % tw);
                            // the 4×4 input patch around the tile, zeros outside the image
                            for py in 0..4 {
                                let y = (2 * ty + py).checked_sub(1).filter(|&y| y < x.h);
                                let x0 = 2 * tx as isize - 1;
                                window_row(x, b, y, x0, &mut patch[py * 4 * cin..][..4 * cin]);
                            }
                            input_transform(&patch, cin, &mut v, bt, i, &mut scratch_in);
                        }
                        for xi in 0..16 {
                            // SAFETY: V[ξ] is n×cin, U[ξ] cin×cout, M[ξ] n×cout, row-major, in bounds
                            unsafe {
                                gemm(
                                    n,
                                    cout,
                                    cin,
                                    m[xi * bt * cout..].as_mut_ptr(),
                                    1,
                                    cout as isize,
                                    false,
                                    v[xi * bt * cin..].as_ptr(),
                                    1,
                                    cin as isize,
                                    u[xi * cin * cout..].as_ptr(),
                                    1,
                                    cout as isize,
                                    0.0,
                                    1.0,
                                    false,
                                    false,
                                    false,
                                    Parallelism::None,
                                );
                            }
                        }
                        for i in 0..n {
                            let t = t0 + i;
                            let (b, ty, tx) = (t / (th * tw), (t / tw) % th, t % tw);
                            output_transform(&m, cout, bt, i, &mut row, &mut scratch_out);
                            for dy in 0..2 {
                                let y = 2 * ty + dy;
                                for dx in 0..2 {
                                    let xx = 2 * tx + dx;
                                    if y >= x.h || xx >= x.w {
                                        continue;
                                    }
                                    let o = &mut row[(dy * 2 + dx) * cout..][..cout];
                                    o.iter_mut().zip(&self.bias).for_each(|(v, b)| *v += b);
                                    let at = ((b * x.h + y) * x.w + xx) * cout;
                                    if let Some(r) = residual {
                                        let r = &r.data[at..at + cout];
                                        o.iter_mut().zip(r).for_each(|(v, r)| *v += r);
                                    }
                                    activation.apply(o);
                                    // SAFETY: pixel (b, y, xx) is in this thread's tiles only;
                                    // `at + cout` is within the n·h·w·cout output
                                    unsafe {
                                        std::ptr::copy_nonoverlapping(
                                            o.as_ptr(),
                                            dst.0.add(at),
                                            cout,
                                        )
                                    };
                                }
                            }
                        }
                        t0 += n;
                    }
                });
            }
        });
    }
}

/// V = Bᵀ d B of one 4×4×c patch into row `i` of the 16 matrices `v` (each `bt` × c), with
/// Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]].
fn input_transform(patch: &[f32], c: usize, v: &mut [f32], bt: usize, i: usize, t: &mut [f32]) {
    let d = |py: usize, px: usize| &patch[(py * 4 + px) * c..][..c];
    // rows first: t[py][j] = (d B)[py][j]
    for py in 0..4 {
        let (a, b, cc, e) = (d(py, 0), d(py, 1), d(py, 2), d(py, 3));
        for ch in 0..c {
            t[(py * 4) * c + ch] = a[ch] - cc[ch];
            t[(py * 4 + 1) * c + ch] = b[ch] + cc[ch];
            t[(py * 4 + 2) * c + ch] = cc[ch] - b[ch];
            t[(py * 4 + 3) * c + ch] = b[ch] - e[ch];
        }
    }
    for j in 0..4 {
        let r = |py: usize| &t[(py * 4 + j) * c..][..c];
        let (a, b, cc, e) = (r(0), r(1), r(2), r(3));
        for (k, f) in [
            (0, (|a: f32, _b: f32, c: f32, _e: f32| a - c) as fn(f32, f32, f32, f32) -> f32),
            (1, |_a, b, c, _e| b + c),
            (2, |_a, b, c, _e| c - b),
            (3, |_a, b, _c, e| b - e),
        ] {
            let dst = &mut v[((k * 4 + j) * bt + i) * c..][..c];
            for ch in 0..c {
                dst[ch] = f(a[ch], b[ch], cc[ch], e[ch]);
            }
        }
    }
}

/// Y = Aᵀ M A of tile `i` (16 matrices `m`, each `bt` × c) into `row`: the 2×2 outputs,
/// (dy, dx) major, c each; Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]].
fn output_transform(
    m: &[f32],
    c: usize,
    bt: usize,
    i: usize,
    row: &mut [f32],
    scratch: &mut [f32],
) {
    let at = |a: usize, b: usize| &m[((a * 4 + b) * bt + i) * c..][..c];
    // columns first: s[(a, dx)] = (M A)[a][dx]
    for a in 0..4 {
        let (m0, m1, m2, m3) = (at(a, 0), at(a, 1), at(a, 2), at(a, 3));
        let (s0, s1) = scratch[a * 2 * c..(a + 1) * 2 * c].split_at_mut(c);
        for ch in 0..c {
            s0[ch] = m0[ch] + m1[ch] + m2[ch];
            s1[ch] = m1[ch] - m2[ch] - m3[ch];
        }
    }
    for dx in 0..2 {
        let g = |a: usize| &scratch[(a * 2 + dx) * c..][..c];
        let (s0, s1, s2, s3) = (g(0), g(1), g(2), g(3));
        for ch in 0..c {
            row[dx * c + ch] = s0[ch] + s1[ch] + s2[ch];
            row[(2 + dx) * c + ch] = s1[ch] - s2[ch] - s3[ch];
        }
    }
}

/// Output size and padding before, of one convolution on one input.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    ho: usize,
    wo: usize,
    top: usize,
    left: usize,
}

/// A depthwise k×k convolution (one filter per channel) with its batch-norm folded in:
/// weights [(ky, kx), c].
#[derive(Debug, Clone)]
pub struct FoldedDepthwise {
    pub k: usize,
    pub stride: usize,
    pub padding: Padding,
    pub c: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl FoldedDepthwise {
    /// `weight` [c, 1, k, k], each channel times `scale` when given, and `bias`.
    pub fn new(
        weight: &Tensor,
        scale: Option<&[f32]>,
        bias: Vec<f32>,
        stride: usize,
        padding: Padding,
    ) -> Result<Self> {
        let (c, one, k, k2) = weight.dims4()?;
        if one != 1 || k != k2 || bias.len() != c {
            candle_core::bail!(
                "a depthwise [c, 1, k, k] kernel and {c} biases, got {:?} and {}",
                weight.dims(),
                bias.len()
            );
        }
        let w = values(weight)?;
        let mut folded = vec![0f32; w.len()];
        for ch in 0..c {
            let sc = scale.map_or(1.0, |s| s[ch]);
            for t in 0..k * k {
                folded[t * c + ch] = w[ch * k * k + t] * sc;
            }
        }
        Ok(FoldedDepthwise { k, stride, padding, c, weight: folded, bias })
    }

    /// The convolution, bias and `activation`; output rows split between `threads` threads.
    /// Channels are contiguous, so every multiply-add runs along the channels.
    pub fn forward(&self, x: &Nhwc, activation: Activation, threads: usize) -> Nhwc {
        assert_eq!(x.c, self.c, "input channels");
        let (k, c) = (self.k, self.c);
        let (ho, top) = self.padding.along(x.h, k, self.stride);
        let (wo, left) = self.padding.along(x.w, k, self.stride);
        let rows = x.n * ho * wo;
        let mut out = unfilled(rows * c);
        split_rows(&mut out, rows, c, threads, |first, chunk| {
            for (i, o) in chunk.chunks_mut(c).enumerate() {
                let r = first + i;
                let (b, oy, ox) = (r / (ho * wo), (r / wo) % ho, r % wo);
                o.copy_from_slice(&self.bias);
                for ky in 0..k {
                    let Some(iy) = (oy * self.stride + ky).checked_sub(top).filter(|&y| y < x.h)
                    else {
                        continue;
                    };
                    for kx in 0..k {
                        let Some(ix) =
                            (ox * self.stride + kx).checked_sub(left).filter(|&v| v < x.w)
                        else {
                            continue;
                        };
                        let input = &x.data[((b * x.h + iy) * x.w + ix) * c..][..c];
                        let w = &self.weight[(ky * k + kx) * c..][..c];
                        for ((o, &v), &w) in o.iter_mut().zip(input).zip(w) {
                            *o += v * w;
                        }
                    }
                }
                activation.apply(o);
            }
        });
        Nhwc { n: x.n, h: ho, w: wo, c, data: out }
    }
}

/// The largest |a − b| and the largest |b| of two tensors of one shape (tests).
#[cfg(test)]
pub(crate) fn max_diff_and_scale(a: &Tensor, b: &Tensor) -> (f32, f32) {
    let max = |t: Tensor| t.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    (max(a.sub(b).unwrap()), max(b.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn bn(c: usize, seed: u64) -> [Tensor; 4] {
        let d = &Device::Cpu;
        let r = |lo: f32, hi: f32, s: u64| {
            let v: Vec<f32> = (0..c)
                .map(|i| {
                    let h = ((i as u64 + 1) * 2654435761 + s * 97 + seed * 7919) % 1000;
                    lo + (hi - lo) * h as f32 / 1000.0
                })
                .collect();
            Tensor::from_vec(v, c, d).unwrap()
        };
        [r(0.5, 1.5, 1), r(-0.2, 0.2, 2), r(-0.3, 0.3, 3), r(0.5, 2.0, 4)]
    }

    /// candle's conv2d then batch-norm (and residual, ReLU) against the folded NHWC path, for
    /// the kernel, stride and padding combinations ResNets use, odd sizes included.
    #[test]
    fn folded_convolutions_match_candles_conv_then_batch_norm() {
        let d = &Device::Cpu;
        for (i, &(k, stride, pad, cin, cout, h, residual, relu, threads)) in [
            (1, 1, 0, 16, 24, 9, false, true, 2),
            (1, 2, 0, 16, 32, 9, false, false, 2),
            (3, 1, 1, 8, 12, 7, true, true, 2),
            (3, 2, 1, 8, 12, 11, false, true, 3),
            (7, 2, 3, 3, 16, 20, false, true, 2),
            (3, 1, 1, 5, 7, 6, true, false, 1),
        ]
        .iter()
        .enumerate()
        {
            let x = Tensor::randn(0f32, 1.0, (2, cin, h, h + 1), d).unwrap();
            let w = Tensor::randn(0f32, 0.3, (cout, cin, k, k), d).unwrap();
            let [g, b, m, v] = bn(cout, i as u64);
            let norm =
                candle_nn::BatchNorm::new(cout, m.clone(), v.clone(), g.clone(), b.clone(), 1e-5)
                    .unwrap();
            let mut want = candle_core::ModuleT::forward_t(
                &norm,
                &x.conv2d(&w, pad, stride, 1, 1).unwrap(),
                false,
            )
            .unwrap();
            let res = residual.then(|| Tensor::randn(0f32, 1.0, want.shape(), d).unwrap());
            if let Some(r) = &res {
                want = (want + r).unwrap();
            }
            if relu {
                want = want.relu().unwrap();
            }
            let conv = FoldedConv::fold(
                &w,
                &BatchNorm { gamma: &g, beta: &b, mean: &m, var: &v, eps: 1e-5 },
                stride,
                Padding::Symmetric(pad),
            )
            .unwrap();
            let res = res.map(|r| Nhwc::from_nchw(&r).unwrap());
            let act = if relu { Activation::Relu } else { Activation::None };
            let got = conv.forward(&Nhwc::from_nchw(&x).unwrap(), res.as_ref(), act, threads);
            let got = got.to_nchw(d).unwrap();
            assert_eq!(got.dims(), want.dims(), "case {i}");
            let (diff, scale) = max_diff_and_scale(&got, &want);
            assert!(
                diff <= 1e-5 * scale.max(1.0),
                "case {i}: max difference {diff} (scale {scale})"
            );
        }
    }

    /// Winograd's tiles against the im2col product: odd sizes (a last tile row and column half
    /// outside the image), more channels than a vector, tiles split unevenly between threads.
    #[test]
    fn winograd_matches_the_im2col_product() {
        let d = &Device::Cpu;
        for (i, &(cin, cout, h, w, threads)) in
            [(64, 48, 7, 9, 2), (3, 5, 1, 1, 2), (17, 33, 14, 14, 3), (128, 128, 5, 4, 2)]
                .iter()
                .enumerate()
        {
            let x = Nhwc::from_nchw(&Tensor::randn(0f32, 1.0, (3, cin, h, w), d).unwrap()).unwrap();
            let wt = Tensor::randn(0f32, 0.2, (cout, cin, 3, 3), d).unwrap();
            let bias: Vec<f32> = (0..cout).map(|o| o as f32 * 0.01 - 0.1).collect();
            let conv = FoldedConv::new(&wt, None, bias, 1, Padding::Symmetric(1)).unwrap();
            assert!(conv.winograd.is_some());
            let res =
                Nhwc::from_nchw(&Tensor::randn(0f32, 1.0, (3, cout, h, w), d).unwrap()).unwrap();
            let got = conv.forward(&x, Some(&res), Activation::Relu, threads);
            let want =
                conv.clone().without_winograd().forward(&x, Some(&res), Activation::Relu, threads);
            let scale = want.data.iter().fold(0f32, |m, v| m.max(v.abs()));
            let diff = got.data.iter().zip(&want.data).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                scale > 0.1 && diff <= 1e-5 * scale,
                "case {i}: max difference {diff} (scale {scale})"
            );
        }
    }

    #[test]
    fn max_pool_and_global_average_match_candle() {
        let d = &Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (2, 5, 13, 12), d).unwrap();
        let n = Nhwc::from_nchw(&x).unwrap();
        // reference: explicit loops in NCHW, the window clipped to the image
        let pooled = n.max_pool(3, 2, 1).to_nchw(d).unwrap();
        let xs = x.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let (c, h, w) = (5, 13, 12);
        let (ho, wo) = ((h + 2 - 3) / 2 + 1, (w + 2 - 3) / 2 + 1);
        assert_eq!(pooled.dims(), &[2, c, ho, wo]);
        let got = pooled.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for b in 0..2 {
            for ch in 0..c {
                for oy in 0..ho {
                    for ox in 0..wo {
                        let mut m = f32::NEG_INFINITY;
                        for iy in (2 * oy).saturating_sub(1)..(2 * oy + 2).min(h) {
                            for ix in (2 * ox).saturating_sub(1)..(2 * ox + 2).min(w) {
                                m = m.max(xs[((b * c + ch) * h + iy) * w + ix]);
                            }
                        }
                        assert_eq!(got[((b * c + ch) * ho + oy) * wo + ox], m);
                    }
                }
            }
        }
        let avg = Tensor::from_vec(n.global_average(), (2, 5), d).unwrap();
        let want = x.mean((2, 3)).unwrap();
        let (diff, _) = max_diff_and_scale(&avg, &want);
        assert!(diff < 1e-5, "{diff}");
    }
}
