//! Long-term anticipation accuracy: mean over classes (MoC), exactly as FUTR's `eval_file` and
//! Abu Farha et al. (2018) compute it. For a video of N frames observed up to α and evaluated
//! over β, the frames `[⌊αN⌋, min(⌊(α+β)N⌋, N))` are compared at the full frame rate; per-class
//! correct/total counts are pooled over all test videos, and MoC is the mean of the per-class
//! accuracies over the classes that occur in the ground truth of those windows.

use std::ops::Range;

/// The observation rates of the grid we report (FUTR reports 0.2 and 0.3).
pub const ALPHAS: [f64; 4] = [0.1, 0.2, 0.3, 0.5];
/// The prediction horizons, as fractions of the whole video.
pub const BETAS: [f64; 4] = [0.1, 0.2, 0.3, 0.5];

/// Number of observed frames, `int(α·N)` as the Python code computes it.
pub fn observed_frames(alpha: f64, frames: usize) -> usize {
    (alpha * frames as f64) as usize
}

/// The evaluated frames for (α, β): `[int(α·N), min(int((α+β)·N), N))`. Like the Python code,
/// α+β is summed first (0.2+0.1 = 0.30000000000000004) and then scaled.
pub fn eval_window(alpha: f64, beta: f64, frames: usize) -> Range<usize> {
    let start = observed_frames(alpha, frames);
    let end = (((alpha + beta) * frames as f64) as usize).min(frames);
    start..end.max(start)
}

/// Per-class counts of correctly and wrongly anticipated frames, indexed by ground-truth class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassCounts {
    pub correct: Vec<u64>,
    pub total: Vec<u64>,
}

impl ClassCounts {
    pub fn new(classes: usize) -> Self {
        ClassCounts { correct: vec![0; classes], total: vec![0; classes] }
    }

    /// Adds one video. `ground_truth` is the whole video; `future` holds the predicted labels
    /// of frames `observed..`, i.e. `future[0]` is frame `observed`. A frame of the window the
    /// prediction does not cover counts as wrong; any id that is not a class (e.g. NONE) never
    /// matches.
    pub fn add(
        &mut self,
        ground_truth: &[u32],
        observed: usize,
        future: &[u32],
        window: Range<usize>,
    ) {
        debug_assert!(window.start >= observed);
        for t in window {
            let Some(&gt) = ground_truth.get(t) else { break };
            let gt = gt as usize;
            if gt >= self.total.len() {
                continue;
            }
            self.total[gt] += 1;
            if future.get(t - observed).is_some_and(|&p| p as usize == gt) {
                self.correct[gt] += 1;
            }
        }
    }

    pub fn merge(&mut self, other: &ClassCounts) {
        for (a, b) in self.correct.iter_mut().zip(&other.correct) {
            *a += b;
        }
        for (a, b) in self.total.iter_mut().zip(&other.total) {
            *a += b;
        }
    }

    /// Accuracy of each class that occurs, None for absent classes.
    pub fn per_class(&self) -> Vec<Option<f64>> {
        self.correct
            .iter()
            .zip(&self.total)
            .map(|(&c, &t)| (t > 0).then(|| c as f64 / t as f64))
            .collect()
    }

    /// MoC ×100, or None when no frame was evaluated.
    pub fn moc(&self) -> Option<f64> {
        let accs: Vec<f64> = self.per_class().into_iter().flatten().collect();
        (!accs.is_empty()).then(|| 100.0 * accs.iter().sum::<f64>() / accs.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_python_rounding() {
        assert_eq!(eval_window(0.2, 0.1, 100), 20..30);
        // 0.2 + 0.1 = 0.30000000000000004; × 10 = 3.0000000000000004 → 3
        assert_eq!(eval_window(0.2, 0.1, 10), 2..3);
        // 0.1 × 7 = 0.7000000000000001 → 0; (0.1 + 0.2) × 7 = 2.1 → 2
        assert_eq!(eval_window(0.1, 0.2, 7), 0..2);
        // the window stops at the end of the video
        assert_eq!(eval_window(0.5, 0.5, 9), 4..9);
        assert_eq!(eval_window(0.3, 0.5, 0), 0..0);
    }

    #[test]
    fn pooled_mean_over_classes_by_hand() {
        // video 1: gt 0 0 0 0 1 1 1 1 1 1, observed 2, prediction 0 1 1 1 0 0 1 1
        let mut c = ClassCounts::new(3);
        let gt1 = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        c.add(&gt1, 2, &[0, 1, 1, 1, 0, 0, 1, 1], 2..10);
        // class 0: frames 2,3 → pred 0,1 → 1/2; class 1: frames 4..10 → 1,1,0,0,1,1 → 4/6
        assert_eq!(c.correct, vec![1, 4, 0]);
        assert_eq!(c.total, vec![2, 6, 0]);
        // video 2 adds class 1 frames only: all wrong (prediction too short counts as wrong)
        c.add(&[1, 1, 1, 1], 1, &[0], 1..4);
        assert_eq!(c.total, vec![2, 9, 0]);
        // class 2 never occurs: MoC = (1/2 + 4/9) / 2
        let expected = 100.0 * (0.5 + 4.0 / 9.0) / 2.0;
        assert!((c.moc().unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn none_predictions_are_wrong_and_empty_is_none() {
        let mut c = ClassCounts::new(2);
        assert_eq!(c.moc(), None);
        c.add(&[0, 0, 0, 0], 0, &[u32::MAX, 0, 0, 0], 0..4);
        assert_eq!(c.moc(), Some(75.0));
        // an empty video adds nothing
        c.add(&[], 0, &[], eval_window(0.2, 0.5, 0));
        assert_eq!(c.moc(), Some(75.0));
    }
}
