//! The AVX-512 micro-kernels.

// The register tiles are indexed by row and lane group at once (acc[r][v] with k[v]).
#![allow(clippy::needless_range_loop)]

use super::{CG, ROWS, TILE_J};
use std::arch::x86_64::*;

/// [`super::rows_times_transposed`] with AVX-512 intrinsics.
#[inline]
#[target_feature(enable = "avx512f")]
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
            && tkp.is_multiple_of(TILE_J)
    );
    let (a, bt, bias, sp) = (a.as_ptr(), bt.as_ptr(), bias.as_ptr(), s.as_mut_ptr());
    let mut maxv = [_mm512_set1_ps(f32::NEG_INFINITY); ROWS];
    let mut j0 = 0;
    while j0 < tkp {
        let mut acc = [[_mm512_setzero_ps(); 4]; ROWS];
        for c in 0..d {
            let base = unsafe { bt.add(c * tkp + j0) };
            let k = unsafe {
                [
                    _mm512_loadu_ps(base),
                    _mm512_loadu_ps(base.add(16)),
                    _mm512_loadu_ps(base.add(32)),
                    _mm512_loadu_ps(base.add(48)),
                ]
            };
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let q = _mm512_set1_ps(unsafe { *a.add(r * d + c) });
                for v in 0..4 {
                    acc_r[v] = _mm512_fmadd_ps(q, k[v], acc_r[v]);
                }
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            for v in 0..4 {
                let x = _mm512_add_ps(acc_r[v], unsafe { _mm512_loadu_ps(bias.add(j0 + 16 * v)) });
                unsafe { _mm512_storeu_ps(sp.add(r * tkp + j0 + 16 * v), x) };
                maxv[r] = _mm512_max_ps(maxv[r], x);
            }
        }
        j0 += TILE_J;
    }
    maxv.map(|m| _mm512_reduce_max_ps(m))
}

/// [`super::accumulate_transposed`] for ROWS rows and widths that are a multiple of 16:
/// four keys at a time, so that four independent FMA chains hide the FMA latency, and each
/// key's row of `acc` is loaded and stored once.
#[inline]
#[target_feature(enable = "avx512f")]
pub unsafe fn accumulate(
    coef: &[f32],
    cstride: usize,
    x: &[f32],
    tk: usize,
    w: usize,
    acc: &mut [f32],
) {
    assert!(
        w.is_multiple_of(16)
            && x.len() >= ROWS * w
            && acc.len() >= tk * w
            && coef.len() >= (ROWS - 1) * cstride + tk
    );
    let (cp, xp, ap) = (coef.as_ptr(), x.as_ptr(), acc.as_mut_ptr());
    for c0 in (0..w).step_by(16) {
        let xr: [__m512; ROWS] =
            std::array::from_fn(|r| unsafe { _mm512_loadu_ps(xp.add(r * w + c0)) });
        let mut j = 0;
        while j + 4 <= tk {
            let mut a: [__m512; 4] =
                std::array::from_fn(|u| unsafe { _mm512_loadu_ps(ap.add((j + u) * w + c0)) });
            for (r, xr_r) in xr.iter().enumerate() {
                for (u, a_u) in a.iter_mut().enumerate() {
                    *a_u = _mm512_fmadd_ps(
                        _mm512_set1_ps(unsafe { *cp.add(r * cstride + j + u) }),
                        *xr_r,
                        *a_u,
                    );
                }
            }
            for (u, a_u) in a.iter().enumerate() {
                unsafe { _mm512_storeu_ps(ap.add((j + u) * w + c0), *a_u) };
            }
            j += 4;
        }
        while j < tk {
            let dst = unsafe { ap.add(j * w + c0) };
            let mut a = unsafe { _mm512_loadu_ps(dst) };
            for (r, xr_r) in xr.iter().enumerate() {
                a = _mm512_fmadd_ps(_mm512_set1_ps(unsafe { *cp.add(r * cstride + j) }), *xr_r, a);
            }
            unsafe { _mm512_storeu_ps(dst, a) };
            j += 1;
        }
    }
}

/// [`super::probs_times_transposed`] with AVX-512 intrinsics.
#[inline]
#[target_feature(enable = "avx512f")]
pub unsafe fn weighted_sum(
    p: &[f32],
    mt: &[f32],
    tkp: usize,
    w: usize,
    scale: [f32; ROWS],
    out: &mut [f32],
) {
    let wp = w.div_ceil(CG) * CG;
    assert!(
        p.len() >= ROWS * tkp
            && mt.len() >= wp * tkp
            && out.len() >= ROWS * w
            && tkp.is_multiple_of(16)
    );
    let (pp, mp) = (p.as_ptr(), mt.as_ptr());
    for c0 in (0..w).step_by(CG) {
        let mut acc = [[_mm512_setzero_ps(); CG]; ROWS];
        let mut j0 = 0;
        while j0 < tkp {
            let pv: [__m512; ROWS] =
                std::array::from_fn(|r| unsafe { _mm512_loadu_ps(pp.add(r * tkp + j0)) });
            for c in 0..CG {
                let m = unsafe { _mm512_loadu_ps(mp.add((c0 + c) * tkp + j0)) };
                for r in 0..ROWS {
                    acc[r][c] = _mm512_fmadd_ps(pv[r], m, acc[r][c]);
                }
            }
            j0 += 16;
        }
        for r in 0..ROWS {
            for c in 0..CG.min(w - c0) {
                out[r * w + c0 + c] = _mm512_reduce_add_ps(acc[r][c]) * scale[r];
            }
        }
    }
}
