//! Per-epoch schedules.

/// Linear warm-up to `lr` over `warmup` epochs, then cosine annealing to 0 at `epochs`. Unlike
/// pl_bolts' schedule as FUTR steps it, epoch 0 does not train at lr 0: warm-up epoch e uses
/// lr·(e+1)/warmup.
pub fn learning_rate(lr: f64, epoch: usize, warmup: usize, epochs: usize) -> f64 {
    if epoch < warmup {
        return lr * (epoch + 1) as f64 / warmup as f64;
    }
    let span = epochs.saturating_sub(warmup).max(1) as f64;
    0.5 * lr * (1.0 + (std::f64::consts::PI * (epoch - warmup) as f64 / span).cos())
}

/// The triangular weight of the temporal consistency loss: rises linearly to 1 at the middle of
/// training and falls back to 0 (the m&m-Ant code's f(e) over its 60 epochs, scaled to any length).
pub fn tcl_weight(epoch: usize, epochs: usize) -> f64 {
    let half = (epochs as f64 / 2.0).max(1.0);
    let e = epoch as f64;
    if e < half { e / half } else { (1.0 - (e - half) / half).max(0.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine_never_zero_while_training() {
        assert_eq!(learning_rate(1e-3, 0, 10, 60), 1e-4);
        assert_eq!(learning_rate(1e-3, 9, 10, 60), 1e-3);
        assert_eq!(learning_rate(1e-3, 10, 10, 60), 1e-3);
        assert!((learning_rate(1e-3, 35, 10, 60) - 0.5e-3).abs() < 1e-12);
        assert!((0..60).all(|e| learning_rate(1e-3, e, 10, 60) > 0.0));
    }

    #[test]
    fn tcl_weight_is_triangular() {
        assert_eq!(tcl_weight(0, 60), 0.0);
        assert_eq!(tcl_weight(15, 60), 0.5);
        assert_eq!(tcl_weight(30, 60), 1.0);
        assert_eq!(tcl_weight(45, 60), 0.5);
    }
}
