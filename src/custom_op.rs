//! Helpers for candle custom ops (the fused attention, EfficientNet-Lite's depthwise convolution).

use candle_core::{CpuStorage, Layout, Result, Tensor, bail};

/// The f32 data of a contiguous CPU tensor, for custom ops' kernels (`op`, `what`: for errors).
pub fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, op: &str, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = s else { bail!("{op}: {what} must be f32") };
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => bail!("{op}: {what} must be contiguous"),
    }
}

/// A CPU f32 tensor's values (copied first if not contiguous), borrowed for the duration of `f`:
/// for custom ops' backward passes, which get tensors rather than storages.
pub fn with_f32<R>(
    t: &Tensor,
    op: &str,
    what: &str,
    f: impl FnOnce(&[f32]) -> Result<R>,
) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        candle_core::Storage::Cpu(s) => f(f32_slice(s, layout, op, what)?),
        _ => bail!("{op}: {what} must be on the CPU"),
    }
}
