//! Losses with masked means (padding never dilutes a loss): cross-entropy for segmentation and
//! future actions (a sample weighted on transitions: m&m-Ant ×10, FUTR ×1; normalised by the summed weights), the
//! duration loss on FUTR's masked softmax, and the focal loss of the fine generator.

use candle_core::{D, Result, Tensor};

/// -log p(target) per entry: logits [..., C], targets [...] u32 → [...].
fn nll(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    logp.gather(&target.unsqueeze(D::Minus1)?, D::Minus1)?.squeeze(D::Minus1)?.neg()
}

/// Σ w·CE / Σ w over entries; `weight` is 0 at padding.
pub fn weighted_cross_entropy(logits: &Tensor, target: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let total = weight.sum_all()?;
    let num = (nll(logits, target)? * weight)?.sum_all()?;
    num.broadcast_div(&total.maximum(1e-12)?)
}

/// Focal loss (γ = 2, as the m&m-Ant code): (1 − p)²·CE, masked mean.
pub fn focal(logits: &Tensor, target: &Tensor, valid: &Tensor) -> Result<Tensor> {
    let ce = nll(logits, target)?;
    let p = ce.neg()?.exp()?;
    let w = (1.0 - p)?.sqr()?;
    let num = ((w * ce)? * valid)?.sum_all()?;
    num.broadcast_div(&valid.sum_all()?.maximum(1e-12)?)
}

/// FUTR's duration loss: p = masked softmax of the duration logits over the real segments,
/// L = Σ m·(p − target)² / Σ m.
pub fn duration(logits: &Tensor, target: &Tensor, valid: &Tensor) -> Result<Tensor> {
    // subtracting the max over the real entries keeps exp finite without underflowing them;
    // padded entries are zeroed before normalising
    let masked = ((logits * valid)? + ((valid - 1.0)? * 1e30)?)?;
    let max = masked.max_keepdim(D::Minus1)?.detach();
    let e = (masked.broadcast_sub(&max)?.exp()? * valid)?;
    let p = e.broadcast_div(&(e.sum_keepdim(D::Minus1)? + 1e-12)?)?;
    let num = ((p - target)?.sqr()? * valid)?.sum_all()?;
    num.broadcast_div(&valid.sum_all()?.maximum(1e-12)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn masked_cross_entropy_by_hand() {
        let dev = Device::Cpu;
        // two entries: uniform over 2 classes (CE ln 2), and a padded one that must not count
        let logits = Tensor::new(&[[0f32, 0.0], [100.0, -100.0]], &dev).unwrap();
        let target = Tensor::new(&[0u32, 1], &dev).unwrap();
        let w = Tensor::new(&[1f32, 0.0], &dev).unwrap();
        let l = weighted_cross_entropy(&logits, &target, &w).unwrap().to_scalar::<f32>().unwrap();
        assert!((l - 2f32.ln()).abs() < 1e-6, "{l}");
        // weights normalise: 10 on a CE of 0 and 1 on ln 2 → ln 2 / 11
        let logits = Tensor::new(&[[100f32, -100.0], [0.0, 0.0]], &dev).unwrap();
        let target = Tensor::new(&[0u32, 0], &dev).unwrap();
        let w = Tensor::new(&[10f32, 1.0], &dev).unwrap();
        let l = weighted_cross_entropy(&logits, &target, &w).unwrap().to_scalar::<f32>().unwrap();
        assert!((l - 2f32.ln() / 11.0).abs() < 1e-6, "{l}");
    }

    #[test]
    fn duration_uses_the_masked_softmax() {
        let dev = Device::Cpu;
        let logits = Tensor::new(&[[0f32, 0.0, 50.0]], &dev).unwrap();
        let target = Tensor::new(&[[0.5f32, 0.5, 0.0]], &dev).unwrap();
        let valid = Tensor::new(&[[1f32, 1.0, 0.0]], &dev).unwrap();
        assert!(
            duration(&logits, &target, &valid).unwrap().to_scalar::<f32>().unwrap().abs() < 1e-10
        );
        let target = Tensor::new(&[[1f32, 0.0, 0.0]], &dev).unwrap();
        // p = (0.5, 0.5): ((0.5)² + (0.5)²) / 2
        let l = duration(&logits, &target, &valid).unwrap().to_scalar::<f32>().unwrap();
        assert!((l - 0.25).abs() < 1e-6, "{l}");
    }

    #[test]
    fn focal_is_ce_scaled_by_confidence() {
        let dev = Device::Cpu;
        let logits = Tensor::new(&[[0f32, 0.0]], &dev).unwrap();
        let l = focal(
            &logits,
            &Tensor::new(&[0u32], &dev).unwrap(),
            &Tensor::new(&[1f32], &dev).unwrap(),
        )
        .unwrap();
        assert!((l.to_scalar::<f32>().unwrap() - 0.25 * 2f32.ln()).abs() < 1e-6);
    }
}
