//! The AVX2 micro-kernels. With 16 registers of 8 lanes, LLVM's auto-vectorised tiles keep their
//! accumulators in memory (a 4 × 64 tile is 32 registers), so every FMA also loads and stores;
//! these keep them in registers and load each key/value vector once for four rows.

// The register tiles are indexed by row and lane group at once (acc[r][v] with k[v]).
#![allow(clippy::needless_range_loop)]

use super::ROWS;
use std::arch::x86_64::*;

#[inline]
#[target_feature(enable = "avx2,fma")]
fn halves(v: __m256) -> (__m128, __m128) {
    (_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn sum(v: __m256) -> f32 {
    let (lo, hi) = halves(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn max(v: __m256) -> f32 {
    let (lo, hi) = halves(v);
    let s = _mm_max_ps(lo, hi);
    let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_max_ss(s, _mm_shuffle_ps(s, s, 1)))
}

/// [`super::rows_times_transposed`]: ROWS rows × 16 keys per step, 8 accumulators.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn scores(
    a: &[f32],
    bt: &[f32],
    bias: &[f32],
    d: usize,
    tkp: usize,
    s: &mut [f32],
) -> [f32; ROWS] {
    assert!(
        a.len() >= ROWS * d
            && bt.len() >= d * tkp
            && bias.len() >= tkp
            && s.len() >= ROWS * tkp
            && tkp.is_multiple_of(16)
    );
    let (a, bt, bias, sp) = (a.as_ptr(), bt.as_ptr(), bias.as_ptr(), s.as_mut_ptr());
    let mut maxv = [_mm256_set1_ps(f32::NEG_INFINITY); ROWS];
    let mut j0 = 0;
    while j0 < tkp {
        let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
        for c in 0..d {
            let base = unsafe { bt.add(c * tkp + j0) };
            let k = unsafe { [_mm256_loadu_ps(base), _mm256_loadu_ps(base.add(8))] };
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let q = _mm256_set1_ps(unsafe { *a.add(r * d + c) });
                acc_r[0] = _mm256_fmadd_ps(q, k[0], acc_r[0]);
                acc_r[1] = _mm256_fmadd_ps(q, k[1], acc_r[1]);
            }
        }
        let b = unsafe { [_mm256_loadu_ps(bias.add(j0)), _mm256_loadu_ps(bias.add(j0 + 8))] };
        for (r, acc_r) in acc.iter().enumerate() {
            for v in 0..2 {
                let x = _mm256_add_ps(acc_r[v], b[v]);
                unsafe { _mm256_storeu_ps(sp.add(r * tkp + j0 + 8 * v), x) };
                maxv[r] = _mm256_max_ps(maxv[r], x);
            }
        }
        j0 += 16;
    }
    maxv.map(|m| max(m))
}

/// [`super::accumulate_transposed`] for ROWS rows and widths that are a multiple of 8: eight
/// keys at a time (eight independent FMA chains cover the FMA latency on two ports).
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn accumulate(
    coef: &[f32],
    cstride: usize,
    x: &[f32],
    tk: usize,
    w: usize,
    acc: &mut [f32],
) {
    assert!(
        w.is_multiple_of(8)
            && x.len() >= ROWS * w
            && acc.len() >= tk * w
            && coef.len() >= (ROWS - 1) * cstride + tk
    );
    let (cp, xp, ap) = (coef.as_ptr(), x.as_ptr(), acc.as_mut_ptr());
    for c0 in (0..w).step_by(8) {
        let xr: [__m256; ROWS] =
            std::array::from_fn(|r| unsafe { _mm256_loadu_ps(xp.add(r * w + c0)) });
        let mut j = 0;
        while j + 8 <= tk {
            let mut a: [__m256; 8] =
                std::array::from_fn(|u| unsafe { _mm256_loadu_ps(ap.add((j + u) * w + c0)) });
            for (r, xr_r) in xr.iter().enumerate() {
                for (u, a_u) in a.iter_mut().enumerate() {
                    *a_u = _mm256_fmadd_ps(
                        _mm256_set1_ps(unsafe { *cp.add(r * cstride + j + u) }),
                        *xr_r,
                        *a_u,
                    );
                }
            }
            for (u, a_u) in a.iter().enumerate() {
                unsafe { _mm256_storeu_ps(ap.add((j + u) * w + c0), *a_u) };
            }
            j += 8;
        }
        while j < tk {
            let dst = unsafe { ap.add(j * w + c0) };
            let mut a = unsafe { _mm256_loadu_ps(dst) };
            for (r, xr_r) in xr.iter().enumerate() {
                a = _mm256_fmadd_ps(_mm256_set1_ps(unsafe { *cp.add(r * cstride + j) }), *xr_r, a);
            }
            unsafe { _mm256_storeu_ps(dst, a) };
            j += 1;
        }
    }
}

/// [`super::probs_times_transposed`]: two channels per pass (ROWS × 2 accumulators, four
/// probability vectors and one value vector: 13 of the 16 registers).
#[inline]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn weighted_sum(
    p: &[f32],
    mt: &[f32],
    tkp: usize,
    w: usize,
    scale: [f32; ROWS],
    out: &mut [f32],
) {
    const PAIR: usize = 2;
    assert!(
        p.len() >= ROWS * tkp
            && mt.len() >= w.div_ceil(PAIR) * PAIR * tkp
            && out.len() >= ROWS * w
            && tkp.is_multiple_of(8)
    );
    let (pp, mp) = (p.as_ptr(), mt.as_ptr());
    for c0 in (0..w).step_by(PAIR) {
        let mut acc = [[_mm256_setzero_ps(); PAIR]; ROWS];
        let mut j0 = 0;
        while j0 < tkp {
            let pv: [__m256; ROWS] =
                std::array::from_fn(|r| unsafe { _mm256_loadu_ps(pp.add(r * tkp + j0)) });
            for c in 0..PAIR {
                let m = unsafe { _mm256_loadu_ps(mp.add((c0 + c) * tkp + j0)) };
                for r in 0..ROWS {
                    acc[r][c] = _mm256_fmadd_ps(pv[r], m, acc[r][c]);
                }
            }
            j0 += 8;
        }
        for r in 0..ROWS {
            for c in 0..PAIR.min(w - c0) {
                out[r * w + c0 + c] = sum(acc[r][c]) * scale[r];
            }
        }
    }
}
