//! Training examples cut from a video as FUTR cuts them (model_spec §1): observe ⌊αN⌋ frames,
//! sample every τ-th, and describe the next ⌊0.5N⌋ frames (sampled the same way) as segments:
//! the action targets [a₁…aₙ, NONE] and the relative durations [d₁…dₙ], both cut to M entries.

use candle_core::{DType, Device, Result, Tensor};

use crate::data::segments;

#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub video: usize,
    /// Observed frames at the full rate (⌊αN⌋).
    pub observed: usize,
    /// Coarse labels of the sampled observed frames (the input in the ground-truth-observation
    /// setting, and the segmentation target).
    pub past: Vec<u32>,
    /// Fine labels of the same frames (= `past` where the dataset has no fine level).
    pub past_fine: Vec<u32>,
    /// Row indices into the video's features of the sampled observed frames.
    pub frames: Vec<usize>,
    /// Future action classes then NONE, at most M.
    pub target: Vec<u32>,
    /// Relative durations of the future segments, at most M.
    pub duration: Vec<f32>,
    /// The first future action differs from the last observed one (weighted by the run's
    /// transition weight in L_act: ×10 for m&m-Ant, ×1 for FUTR).
    pub transition: bool,
}

/// Cuts one example; None when nothing would be observed or nothing is left to anticipate.
pub fn cut(
    video: usize,
    labels: &[u32],
    fine: Option<&[u32]>,
    alpha: f64,
    stride: usize,
    queries: usize,
    none: u32,
) -> Option<Example> {
    let n = labels.len();
    let observed = (alpha * n as f64) as usize;
    let horizon = (0.5 * n as f64) as usize;
    let frames: Vec<usize> = (0..observed).step_by(stride).collect();
    let future: Vec<u32> =
        labels[observed..(observed + horizon).min(n)].iter().step_by(stride).copied().collect();
    if frames.is_empty() || future.is_empty() {
        return None;
    }
    let segs = segments(&future);
    let mut target: Vec<u32> = segs.iter().map(|s| s.label).chain(std::iter::once(none)).collect();
    target.truncate(queries);
    let mut duration: Vec<f32> =
        segs.iter().map(|s| s.len() as f32 / future.len() as f32).collect();
    duration.truncate(queries);
    let past: Vec<u32> = frames.iter().map(|&t| labels[t]).collect();
    let past_fine = match fine {
        Some(f) => frames.iter().map(|&t| f[t]).collect(),
        None => past.clone(),
    };
    Some(Example {
        video,
        observed,
        transition: past.last() != Some(&segs[0].label),
        past,
        past_fine,
        frames,
        target,
        duration,
    })
}

/// A padded batch on the device.
pub struct Batch {
    /// Input tokens [B,S,input_dim].
    pub x: Tensor,
    /// [B,S] u8, 1 = padding.
    pub mask: Tensor,
    /// Segmentation targets [B,S] u32 (0 at padding) and their validity [B,S] f32.
    pub past: Tensor,
    pub past_valid: Tensor,
    pub past_fine: Tensor,
    /// Fine labels of the valid tokens, per sample (for the TCL intervals).
    pub fine_lists: Vec<Vec<u32>>,
    /// Action targets [B,M] u32, validity [B,M] f32, durations [B,M] f32 and their validity.
    pub target: Tensor,
    pub target_valid: Tensor,
    pub duration: Tensor,
    pub duration_valid: Tensor,
    /// Per-sample weight of L_act (10 on transitions, 1 otherwise) [B].
    pub weight: Tensor,
}

/// Where the input tokens come from.
pub enum TokenSource<'a> {
    /// One-hot ground-truth labels of `classes` classes.
    OneHot { classes: usize },
    /// Feature rows per video (row-major frames × dim).
    Features { per_video: &'a [crate::data::Features] },
}

impl TokenSource<'_> {
    pub fn dim(&self) -> usize {
        match self {
            TokenSource::OneHot { classes } => *classes,
            TokenSource::Features { per_video } => per_video.first().map_or(0, |f| f.dim),
        }
    }
}

pub fn collate(
    examples: &[&Example],
    source: &TokenSource,
    queries: usize,
    transition_weight: f32,
    dev: &Device,
) -> Result<Batch> {
    let b = examples.len();
    let s = examples.iter().map(|e| e.past.len()).max().unwrap_or(0);
    let dim = source.dim();
    let mut x = vec![0f32; b * s * dim];
    let mut mask = vec![1u8; b * s];
    let mut past = vec![0u32; b * s];
    let mut past_fine = vec![0u32; b * s];
    let mut past_valid = vec![0f32; b * s];
    let mut target = vec![0u32; b * queries];
    let mut target_valid = vec![0f32; b * queries];
    let mut duration = vec![0f32; b * queries];
    let mut duration_valid = vec![0f32; b * queries];
    let mut weight = vec![1f32; b];
    for (i, e) in examples.iter().enumerate() {
        for (t, (&label, &frame)) in e.past.iter().zip(&e.frames).enumerate() {
            let row = &mut x[(i * s + t) * dim..(i * s + t + 1) * dim];
            match source {
                TokenSource::OneHot { .. } => row[label as usize] = 1.0,
                TokenSource::Features { per_video } => {
                    row.copy_from_slice(per_video[e.video].row(frame))
                }
            }
            mask[i * s + t] = 0;
            past[i * s + t] = label;
            past_fine[i * s + t] = e.past_fine[t];
            past_valid[i * s + t] = 1.0;
        }
        for (q, &a) in e.target.iter().enumerate() {
            target[i * queries + q] = a;
            target_valid[i * queries + q] = 1.0;
        }
        for (q, &d) in e.duration.iter().enumerate() {
            duration[i * queries + q] = d;
            duration_valid[i * queries + q] = 1.0;
        }
        if e.transition {
            weight[i] = transition_weight;
        }
    }
    Ok(Batch {
        x: Tensor::from_vec(x, (b, s, dim), dev)?,
        mask: Tensor::from_vec(mask, (b, s), dev)?,
        past: Tensor::from_vec(past, (b, s), dev)?,
        past_valid: Tensor::from_vec(past_valid, (b, s), dev)?,
        past_fine: Tensor::from_vec(past_fine, (b, s), dev)?,
        fine_lists: examples.iter().map(|e| e.past_fine.clone()).collect(),
        target: Tensor::from_vec(target, (b, queries), dev)?,
        target_valid: Tensor::from_vec(target_valid, (b, queries), dev)?,
        duration: Tensor::from_vec(duration, (b, queries), dev)?,
        duration_valid: Tensor::from_vec(duration_valid, (b, queries), dev)?,
        weight: Tensor::from_vec(weight, b, dev)?.to_dtype(DType::F32)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_follows_futr() {
        // N = 20, α = 0.3 → observe 6 frames; horizon 10 frames: labels[6..16]
        let labels: Vec<u32> = [0; 5].into_iter().chain([1; 7]).chain([2; 8]).collect();
        let e = cut(0, &labels, None, 0.3, 2, 8, 9).unwrap();
        assert_eq!(e.frames, vec![0, 2, 4]);
        assert_eq!(e.past, vec![0, 0, 0]);
        // future sampled: frames 6,8,10 → 1,1,1; 12,14 → 2,2 → segments (1: 3/5), (2: 2/5)
        assert_eq!(e.target, vec![1, 2, 9]);
        assert_eq!(e.duration, vec![0.6, 0.4]);
        assert!(e.transition);
        // M = 2 truncates: NONE is lost
        let e = cut(0, &labels, None, 0.3, 2, 2, 9).unwrap();
        assert_eq!(e.target, vec![1, 2]);
        assert!(cut(0, &labels[..1], None, 0.3, 2, 8, 9).is_none());
    }

    #[test]
    fn collate_pads_and_masks() {
        let labels: Vec<u32> = [0; 10].into_iter().chain([1; 10]).collect();
        let a = cut(0, &labels, None, 0.5, 3, 4, 2).unwrap();
        let b = cut(0, &labels, None, 0.2, 3, 4, 2).unwrap();
        let batch =
            collate(&[&a, &b], &TokenSource::OneHot { classes: 2 }, 4, 10.0, &Device::Cpu).unwrap();
        assert_eq!(batch.x.dims(), &[2, 4, 2]);
        assert_eq!(batch.mask.to_vec2::<u8>().unwrap(), vec![vec![0, 0, 0, 0], vec![0, 0, 1, 1]]);
        assert_eq!(batch.weight.to_vec1::<f32>().unwrap(), vec![10.0, 1.0]);
    }
}
