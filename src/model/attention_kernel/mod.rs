//! The fused CPU attention kernel: softmax(scale·Q·Kᵀ + mask)·V without the T×T score matrix.
//!
//! Per (batch, head) and block of query rows, the scores of four rows against all keys are
//! computed into a row buffer (4 × Tk floats, cache-resident), the mask is added, the softmax is
//! taken in place with a vectorised exp, and the rows are multiplied by V while still in cache.
//! Full rows fit in cache for the sequence lengths of these models (Tk ≤ a few thousand), so a
//! two-pass softmax over a row needs no online rescaling. The backward pass recomputes the
//! probabilities the same way (memory O(rows · Tk), never O(T²)).
//!
//! The inner loops are written over fixed-size tiles so that LLVM vectorises them; they are
//! compiled three times (AVX-512, AVX2+FMA, portable) and the widest the CPU has is picked at
//! run time; the AVX-512 and AVX2 builds use intrinsics for the matrix micro-kernels.
//! All tensors are contiguous, row-major: Q [B,H,Tq,d], K [B,H,Tk,d], V [B,H,Tk,dv].

use rayon::prelude::*;

/// Keys per tile of the score micro-kernel (four 16-lane vectors).
const TILE_J: usize = 64;
/// Query rows per micro-kernel call.
const ROWS: usize = 4;
/// Query rows per parallel task.
const ROW_BLOCK: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    pub batch: usize,
    pub heads: usize,
    pub tq: usize,
    pub tk: usize,
    pub d: usize,
    pub dv: usize,
}

/// Key validity per (batch, key): false keys are ignored. A query whose keys are all ignored
/// gets a zero output (and zero gradients), never NaN.
pub type KeyValid<'a> = Option<&'a [bool]>;

trait MulAdd {
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}
/// Fused multiply-add where the CPU has it.
struct Fused;
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}
/// Without FMA, `mul_add` would be a libm call: multiply then add.
struct Plain;
impl MulAdd for Plain {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// e^x for x ≤ 0 (Cephes' polynomial, ~1 ulp), exactly 0 below -87.3 and for -inf.
/// Branch-free so that it vectorises.
#[inline(always)]
fn exp_nonpositive<M: MulAdd>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits
    const MAGIC: f32 = 12_582_912.0;
    let tiny = x < -87.3;
    let x = x.max(-87.3);
    let t = M::mul_add(x, LOG2E, MAGIC);
    let n = t - MAGIC;
    let k = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let r = M::mul_add(n, -LN2_LO, M::mul_add(n, -LN2_HI, x));
    let mut p = 1.987_569_1e-4;
    p = M::mul_add(p, r, 1.398_199_9e-3);
    p = M::mul_add(p, r, 8.333_452e-3);
    p = M::mul_add(p, r, 4.166_579_6e-2);
    p = M::mul_add(p, r, 1.666_666_5e-1);
    p = M::mul_add(p, r, 5e-1);
    let y = M::mul_add(p * r, r, r) + 1.0;
    let scale = f32::from_bits(((k + 127) << 23) as u32);
    if tiny { 0.0 } else { y * scale }
}

/// s[r][j] = Σ_c a[r][c] · bt[c][j] + bias[j] for ROWS rows and all `tkp` columns (a multiple
/// of TILE_J). `a` is ROWS × d, `bt` is d × tkp. Returns each row's maximum.
#[inline(always)]
fn rows_times_transposed<M: MulAdd>(
    a: &[f32],
    bt: &[f32],
    bias: &[f32],
    d: usize,
    tkp: usize,
    s: &mut [f32],
) -> [f32; ROWS] {
    let mut max = [[f32::NEG_INFINITY; TILE_J]; ROWS];
    for j0 in (0..tkp).step_by(TILE_J) {
        let mut acc = [[0f32; TILE_J]; ROWS];
        for c in 0..d {
            let col: &[f32; TILE_J] = bt[c * tkp + j0..c * tkp + j0 + TILE_J].try_into().unwrap();
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let ar = a[r * d + c];
                for jj in 0..TILE_J {
                    acc_r[jj] = M::mul_add(ar, col[jj], acc_r[jj]);
                }
            }
        }
        let b: &[f32; TILE_J] = bias[j0..j0 + TILE_J].try_into().unwrap();
        for (r, acc_r) in acc.iter().enumerate() {
            let dst: &mut [f32; TILE_J] =
                (&mut s[r * tkp + j0..r * tkp + j0 + TILE_J]).try_into().unwrap();
            for jj in 0..TILE_J {
                let x = acc_r[jj] + b[jj];
                dst[jj] = x;
                max[r][jj] = if x > max[r][jj] { x } else { max[r][jj] };
            }
        }
    }
    max.map(|m| m.into_iter().fold(f32::NEG_INFINITY, f32::max))
}

/// Replaces a row (length a multiple of 16) by exp(row − max) and returns 1 / Σ, or 0 when
/// every entry is -inf (a query with no valid key: its output is zero).
#[inline(always)]
fn exp_row<M: MulAdd>(row: &mut [f32], max: f32) -> f32 {
    if max == f32::NEG_INFINITY {
        row.fill(0.0);
        return 0.0;
    }
    let mut sums = [0f32; 16];
    for c in row.chunks_exact_mut(16) {
        let c: &mut [f32; 16] = c.try_into().unwrap();
        for l in 0..16 {
            let e = exp_nonpositive::<M>(c[l] - max);
            c[l] = e;
            sums[l] += e;
        }
    }
    1.0 / sums.iter().sum::<f32>()
}

/// Channels per group of the probability × value micro-kernel.
const CG: usize = 4;

/// out[r][c] = scale[r] · Σ_j p[r][j] · mt[c][j] for ROWS rows of `p` (stride tkp) and the
/// `w` rows of `mt` (w × tkp, zero rows up to a multiple of CG). Dot products over keys keep
/// the loads per FMA low: 4 + 4 vector loads feed 16 FMAs.
#[inline(always)]
fn probs_times_transposed<M: MulAdd>(
    p: &[f32],
    mt: &[f32],
    tkp: usize,
    w: usize,
    scale: [f32; ROWS],
    out: &mut [f32],
) {
    for c0 in (0..w).step_by(CG) {
        let mut acc = [[[0f32; 16]; CG]; ROWS];
        for j0 in (0..tkp).step_by(16) {
            let mut pv = [[0f32; 16]; ROWS];
            for r in 0..ROWS {
                pv[r] = p[r * tkp + j0..r * tkp + j0 + 16].try_into().unwrap();
            }
            for c in 0..CG {
                let m: &[f32; 16] =
                    mt[(c0 + c) * tkp + j0..(c0 + c) * tkp + j0 + 16].try_into().unwrap();
                for r in 0..ROWS {
                    for l in 0..16 {
                        acc[r][c][l] = M::mul_add(pv[r][l], m[l], acc[r][c][l]);
                    }
                }
            }
        }
        for r in 0..ROWS {
            for c in 0..CG.min(w - c0) {
                out[r * w + c0 + c] = acc[r][c].iter().sum::<f32>() * scale[r];
            }
        }
    }
}

/// acc[j][:] += Σ_r coef[r][j] · x[r][:] for all keys j (the transposed product of backward).
#[inline(always)]
fn accumulate_transposed<M: MulAdd>(
    coef: &[f32],
    cstride: usize,
    x: &[f32],
    rows: usize,
    tk: usize,
    w: usize,
    acc: &mut [f32],
) {
    for j in 0..tk {
        let dst = &mut acc[j * w..(j + 1) * w];
        for r in 0..rows {
            let cr = coef[r * cstride + j];
            let xr = &x[r * w..(r + 1) * w];
            for c in 0..w {
                dst[c] = M::mul_add(cr, xr[c], dst[c]);
            }
        }
    }
}

/// The three matrix micro-kernels, generic by default; the AVX-512 and AVX2 builds replace them
/// with intrinsics so that each loaded key/value vector feeds four rows (LLVM's auto-vectorised code
/// re-loads it for every row, which makes the loop load-bound).
trait Kernels {
    type M: MulAdd;
    #[inline(always)]
    fn scores(
        a: &[f32],
        bt: &[f32],
        bias: &[f32],
        d: usize,
        tkp: usize,
        s: &mut [f32],
    ) -> [f32; ROWS] {
        rows_times_transposed::<Self::M>(a, bt, bias, d, tkp, s)
    }
    #[inline(always)]
    fn weighted_sum(
        p: &[f32],
        mt: &[f32],
        tkp: usize,
        w: usize,
        scale: [f32; ROWS],
        out: &mut [f32],
    ) {
        probs_times_transposed::<Self::M>(p, mt, tkp, w, scale, out)
    }
    #[inline(always)]
    fn accumulate(
        coef: &[f32],
        cstride: usize,
        x: &[f32],
        rows: usize,
        tk: usize,
        w: usize,
        acc: &mut [f32],
    ) {
        accumulate_transposed::<Self::M>(coef, cstride, x, rows, tk, w, acc)
    }
}
struct PortableKernels;
impl Kernels for PortableKernels {
    type M = Plain;
}
#[cfg(target_arch = "x86_64")]
struct Avx2Kernels;
#[cfg(target_arch = "x86_64")]
impl Kernels for Avx2Kernels {
    type M = Fused;
    #[inline(always)]
    fn scores(
        a: &[f32],
        bt: &[f32],
        bias: &[f32],
        d: usize,
        tkp: usize,
        s: &mut [f32],
    ) -> [f32; ROWS] {
        // SAFETY: only called from functions compiled with avx2 and fma, after detection
        unsafe { avx2::scores(a, bt, bias, d, tkp, s) }
    }
    #[inline(always)]
    fn weighted_sum(
        p: &[f32],
        mt: &[f32],
        tkp: usize,
        w: usize,
        scale: [f32; ROWS],
        out: &mut [f32],
    ) {
        unsafe { avx2::weighted_sum(p, mt, tkp, w, scale, out) }
    }
    #[inline(always)]
    fn accumulate(
        coef: &[f32],
        cstride: usize,
        x: &[f32],
        rows: usize,
        tk: usize,
        w: usize,
        acc: &mut [f32],
    ) {
        if w.is_multiple_of(8) && rows == ROWS {
            unsafe { avx2::accumulate(coef, cstride, x, tk, w, acc) }
        } else {
            accumulate_transposed::<Self::M>(coef, cstride, x, rows, tk, w, acc)
        }
    }
}
#[cfg(target_arch = "x86_64")]
struct Avx512Kernels;
#[cfg(target_arch = "x86_64")]
impl Kernels for Avx512Kernels {
    type M = Fused;
    #[inline(always)]
    fn scores(
        a: &[f32],
        bt: &[f32],
        bias: &[f32],
        d: usize,
        tkp: usize,
        s: &mut [f32],
    ) -> [f32; ROWS] {
        // SAFETY: only called from functions compiled with avx512f, after detection
        unsafe { avx512::scores(a, bt, bias, d, tkp, s) }
    }
    #[inline(always)]
    fn weighted_sum(
        p: &[f32],
        mt: &[f32],
        tkp: usize,
        w: usize,
        scale: [f32; ROWS],
        out: &mut [f32],
    ) {
        unsafe { avx512::weighted_sum(p, mt, tkp, w, scale, out) }
    }
    #[inline(always)]
    fn accumulate(
        coef: &[f32],
        cstride: usize,
        x: &[f32],
        rows: usize,
        tk: usize,
        w: usize,
        acc: &mut [f32],
    ) {
        if w.is_multiple_of(16) && rows == ROWS {
            unsafe { avx512::accumulate(coef, cstride, x, tk, w, acc) }
        } else {
            accumulate_transposed::<Self::M>(coef, cstride, x, rows, tk, w, acc)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512;

#[cfg(target_arch = "x86_64")]
mod avx2;

fn round_up(x: usize, m: usize) -> usize {
    x.div_ceil(m) * m
}

/// The transpose (w × tk) of one head's keys or values, zero-padded to `tkp` columns and to a
/// multiple of CG rows.
fn transpose_padded(m: &[f32], tk: usize, w: usize, tkp: usize) -> Vec<f32> {
    let mut t = vec![0f32; round_up(w, CG) * tkp];
    for j in 0..tk {
        for c in 0..w {
            t[c * tkp + j] = m[j * w + c];
        }
    }
    t
}

/// Mask bias of one batch item: 0 for valid keys, -inf for ignored and padding keys.
fn bias_row(valid: KeyValid, b: usize, tk: usize, tkp: usize) -> Vec<f32> {
    (0..tkp)
        .map(|j| match (j < tk, valid) {
            (false, _) => f32::NEG_INFINITY,
            (true, Some(v)) if !v[b * tk + j] => f32::NEG_INFINITY,
            _ => 0.0,
        })
        .collect()
}

/// Copies up to ROWS rows of width w starting at `row` into a ROWS × w buffer (zeros past the end).
fn gather_rows(src: &[f32], row: usize, nrows: usize, w: usize, scale: f32, dst: &mut [f32]) {
    dst.fill(0.0);
    let n = ROWS.min(nrows - row);
    for (d, s) in dst[..n * w].iter_mut().zip(&src[row * w..(row + n) * w]) {
        *d = s * scale;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Isa {
    Avx512,
    Avx2,
    Portable,
}

/// The widest instruction set the CPU has, or the one named by MMANT_ATTENTION_ISA
/// (`avx512`, `avx2`, `portable`; for tests and measurements).
fn isa() -> Isa {
    static CHOICE: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *CHOICE.get_or_init(|| match std::env::var("MMANT_ATTENTION_ISA").as_deref() {
        Ok("portable") => Isa::Portable,
        Ok("avx2") if detect_isa() as u8 <= Isa::Avx2 as u8 => Isa::Avx2,
        _ => detect_isa(),
    })
}

fn detect_isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
            return Isa::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Isa::Avx2;
        }
    }
    Isa::Portable
}

#[allow(clippy::too_many_arguments)] // the kernel's operands and dimensions, each a raw slice or size
/// One task of the forward pass: rows [row0, row0 + out.len()/dv) of one (batch, head).
#[inline(always)]
fn forward_block<K: Kernels>(
    q: &[f32],
    kt: &[f32],
    vt: &[f32],
    bias: &[f32],
    dims: &Dims,
    tkp: usize,
    scale: f32,
    row0: usize,
    out: &mut [f32],
) {
    let (d, dv) = (dims.d, dims.dv);
    let nrows = row0 + out.len() / dv;
    let mut qbuf = vec![0f32; ROWS * d];
    let mut s = vec![0f32; ROWS * tkp];
    let mut obuf = vec![0f32; ROWS * dv];
    let mut row = row0;
    while row < nrows {
        gather_rows(q, row, nrows, d, scale, &mut qbuf);
        let max = K::scores(&qbuf, kt, bias, d, tkp, &mut s);
        let mut inv = [0f32; ROWS];
        for r in 0..ROWS {
            inv[r] = exp_row::<K::M>(&mut s[r * tkp..(r + 1) * tkp], max[r]);
        }
        K::weighted_sum(&s, vt, tkp, dv, inv, &mut obuf);
        let n = ROWS.min(nrows - row);
        out[(row - row0) * dv..(row - row0 + n) * dv].copy_from_slice(&obuf[..n * dv]);
        row += n;
    }
}

#[allow(clippy::too_many_arguments)] // the kernel's operands and dimensions, each a raw slice or size
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn forward_block_avx512(
    q: &[f32],
    kt: &[f32],
    vt: &[f32],
    bias: &[f32],
    dims: &Dims,
    tkp: usize,
    scale: f32,
    row0: usize,
    out: &mut [f32],
) {
    forward_block::<Avx512Kernels>(q, kt, vt, bias, dims, tkp, scale, row0, out)
}

#[allow(clippy::too_many_arguments)] // the kernel's operands and dimensions, each a raw slice or size
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_block_avx2(
    q: &[f32],
    kt: &[f32],
    vt: &[f32],
    bias: &[f32],
    dims: &Dims,
    tkp: usize,
    scale: f32,
    row0: usize,
    out: &mut [f32],
) {
    forward_block::<Avx2Kernels>(q, kt, vt, bias, dims, tkp, scale, row0, out)
}

/// softmax(scale·Q·Kᵀ + mask)·V, shape [B, H, Tq, dv].
pub fn forward(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    valid: KeyValid,
    scale: f32,
    dims: Dims,
) -> Vec<f32> {
    let Dims { batch, heads, tq, tk, d, dv } = dims;
    assert_eq!(q.len(), batch * heads * tq * d);
    assert_eq!(k.len(), batch * heads * tk * d);
    assert_eq!(v.len(), batch * heads * tk * dv);
    if let Some(m) = valid {
        assert_eq!(m.len(), batch * tk);
    }
    let mut out = vec![0f32; batch * heads * tq * dv];
    if out.is_empty() || tk == 0 {
        return out;
    }
    let tkp = round_up(tk, TILE_J);
    let isa = isa();
    out.par_chunks_mut(tq * dv).enumerate().for_each(|(bh, out_bh)| {
        let b = bh / heads;
        let q_bh = &q[bh * tq * d..(bh + 1) * tq * d];
        let kt = transpose_padded(&k[bh * tk * d..(bh + 1) * tk * d], tk, d, tkp);
        let vt = transpose_padded(&v[bh * tk * dv..(bh + 1) * tk * dv], tk, dv, tkp);
        let bias = bias_row(valid, b, tk, tkp);
        out_bh.par_chunks_mut(ROW_BLOCK * dv).enumerate().for_each(|(blk, out_blk)| {
            let row0 = blk * ROW_BLOCK;
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => unsafe {
                    forward_block_avx512(q_bh, &kt, &vt, &bias, &dims, tkp, scale, row0, out_blk)
                },
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => unsafe {
                    forward_block_avx2(q_bh, &kt, &vt, &bias, &dims, tkp, scale, row0, out_blk)
                },
                _ => forward_block::<PortableKernels>(
                    q_bh, &kt, &vt, &bias, &dims, tkp, scale, row0, out_blk,
                ),
            }
        });
    });
    out
}

pub struct Gradients {
    pub dq: Vec<f32>,
    pub dk: Vec<f32>,
    pub dv: Vec<f32>,
}

/// Backward of one (batch, head): writes dq, dk, dv of that head.
#[allow(clippy::too_many_arguments)] // the kernel's operands and dimensions, each a raw slice or size
#[inline(always)]
fn backward_head<K: Kernels>(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    o: &[f32],
    go: &[f32],
    bias: &[f32],
    dims: &Dims,
    scale: f32,
    dq: &mut [f32],
    dk: &mut [f32],
    dvv: &mut [f32],
) {
    let Dims { tq, tk, d, dv, .. } = *dims;
    let tkp = round_up(tk, TILE_J);
    let kt = transpose_padded(k, tk, d, tkp);
    let vt = transpose_padded(v, tk, dv, tkp);
    let zero_bias = vec![0f32; tkp];
    let mut qbuf = vec![0f32; ROWS * d];
    let mut gbuf = vec![0f32; ROWS * dv];
    let mut p = vec![0f32; ROWS * tkp];
    let mut ds = vec![0f32; ROWS * tkp];
    let mut dqbuf = vec![0f32; ROWS * d];
    dk.fill(0.0);
    dvv.fill(0.0);
    let mut row = 0;
    while row < tq {
        let n = ROWS.min(tq - row);
        gather_rows(q, row, tq, d, scale, &mut qbuf);
        gather_rows(go, row, tq, dv, 1.0, &mut gbuf);
        let max = K::scores(&qbuf, &kt, bias, d, tkp, &mut p);
        for r in 0..ROWS {
            let row = &mut p[r * tkp..(r + 1) * tkp];
            let inv = exp_row::<K::M>(row, max[r]);
            row.iter_mut().for_each(|x| *x *= inv);
        }
        // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(dO ⊙ O))
        K::scores(&gbuf, &vt, &zero_bias, dv, tkp, &mut ds);
        for r in 0..ROWS {
            let delta: f32 = if r < n {
                (0..dv).map(|c| go[(row + r) * dv + c] * o[(row + r) * dv + c]).sum()
            } else {
                0.0
            };
            let pr = &p[r * tkp..(r + 1) * tkp];
            let dsr = &mut ds[r * tkp..(r + 1) * tkp];
            for j in 0..tkp {
                dsr[j] = pr[j] * (dsr[j] - delta);
            }
        }
        // dQ = scale · dS·K
        K::weighted_sum(&ds, &kt, tkp, d, [scale; ROWS], &mut dqbuf);
        dq[row * d..(row + n) * d].copy_from_slice(&dqbuf[..n * d]);
        // dK += scale · dSᵀ·Q (qbuf holds scale·Q);  dV += Pᵀ·dO
        K::accumulate(&ds, tkp, &qbuf, n, tk, d, dk);
        K::accumulate(&p, tkp, &gbuf, n, tk, dv, dvv);
        row += n;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)] // the kernel's operands and dimensions, each a raw slice or size
unsafe fn backward_head_avx512(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    o: &[f32],
    go: &[f32],
    bias: &[f32],
    dims: &Dims,
    scale: f32,
    dq: &mut [f32],
    dk: &mut [f32],
    dvv: &mut [f32],
) {
    backward_head::<Avx512Kernels>(q, k, v, o, go, bias, dims, scale, dq, dk, dvv)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)] // the kernel's operands and dimensions, each a raw slice or size
unsafe fn backward_head_avx2(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    o: &[f32],
    go: &[f32],
    bias: &[f32],
    dims: &Dims,
    scale: f32,
    dq: &mut [f32],
    dk: &mut [f32],
    dvv: &mut [f32],
) {
    backward_head::<Avx2Kernels>(q, k, v, o, go, bias, dims, scale, dq, dk, dvv)
}

/// Gradients of [`forward`] given its output `o` and the output gradient `go`.
#[allow(clippy::too_many_arguments)] // the kernel's operands and dimensions, each a raw slice or size
pub fn backward(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    o: &[f32],
    go: &[f32],
    valid: KeyValid,
    scale: f32,
    dims: Dims,
) -> Gradients {
    let Dims { batch, heads, tq, tk, d, dv } = dims;
    let mut g = Gradients {
        dq: vec![0f32; batch * heads * tq * d],
        dk: vec![0f32; batch * heads * tk * d],
        dv: vec![0f32; batch * heads * tk * dv],
    };
    if tq == 0 || tk == 0 || batch * heads == 0 {
        return g;
    }
    let tkp = round_up(tk, TILE_J);
    let isa = isa();
    g.dq.par_chunks_mut(tq * d)
        .zip(g.dk.par_chunks_mut(tk * d))
        .zip(g.dv.par_chunks_mut(tk * dv))
        .enumerate()
        .for_each(|(bh, ((dq, dk), dvv))| {
            let bias = bias_row(valid, bh / heads, tk, tkp);
            let qs = &q[bh * tq * d..(bh + 1) * tq * d];
            let ks = &k[bh * tk * d..(bh + 1) * tk * d];
            let vs = &v[bh * tk * dv..(bh + 1) * tk * dv];
            let os = &o[bh * tq * dv..(bh + 1) * tq * dv];
            let gs = &go[bh * tq * dv..(bh + 1) * tq * dv];
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => unsafe {
                    backward_head_avx512(qs, ks, vs, os, gs, &bias, &dims, scale, dq, dk, dvv)
                },
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2 => unsafe {
                    backward_head_avx2(qs, ks, vs, os, gs, &bias, &dims, scale, dq, dk, dvv)
                },
                _ => backward_head::<PortableKernels>(
                    qs, ks, vs, os, gs, &bias, &dims, scale, dq, dk, dvv,
                ),
            }
        });
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_on_the_softmax_range() {
        let mut worst = 0f32;
        let mut x = -87.0f32;
        while x <= 0.0 {
            let rel = ((exp_nonpositive::<Plain>(x) - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
            x += 0.001;
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
        assert_eq!(exp_nonpositive::<Plain>(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive::<Plain>(-100.0), 0.0);
        assert_eq!(exp_nonpositive::<Fused>(0.0), 1.0);
    }
}
