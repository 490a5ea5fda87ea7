//! Helpers for candle custom ops (the fused attention, EfficientNet-Lite's depthwise convolution).

use candle_core::{CpuStorage, Layout, Result, bail};

/// The f32 data of a contiguous CPU tensor, for custom ops' kernels (`op`, `what`: for errors).
pub fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, op: &str, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = s else { bail!("{op}: {what} must be f32") };
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => bail!("{op}: {what} must be contiguous"),
    }
}
