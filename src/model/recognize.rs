//! How well a checkpoint recognises what it observes: its segmentation head's labels of the
//! observed frames, scored with MS-TCN's metrics (Acc, Edit, F1@{10,25,50}) against the ground
//! truth at each observation rate α. Meaningful for a checkpoint that observes features; one
//! that observes labels is copying its input.

use candle_core::Device;
use serde::Serialize;

use super::anticipate::{CheckpointAnticipator, VocabularyMismatch, check_vocabulary};
use super::checkpoint::{Checkpoint, CheckpointError, InputKind};
use crate::data::{DataError, Dataset, Split};
use crate::eval::moc::observed_frames;
use crate::eval::segmentation::{SegmentationCounts, SegmentationScores};
use crate::eval::{AnticipationError, Observation};

#[derive(Debug, thiserror::Error)]
pub enum RecognitionError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Anticipation(#[from] AnticipationError),
    #[error(transparent)]
    Vocabulary(#[from] VocabularyMismatch),
}

#[derive(Debug, Clone, Serialize)]
pub struct ObservedRecognition {
    pub dataset: String,
    pub level: String,
    pub checkpoint: String,
    pub videos: usize,
    /// (α, scores over the observed frames [0, ⌊αN⌋) of every test video).
    pub rows: Vec<(f64, SegmentationScores)>,
}

/// The segmentation head's label of every observed frame: token i stands for frames
/// [iτ, (i+1)τ), as the tokens sample every τ-th frame.
pub fn per_frame(tokens: &[u32], stride: usize, observed: usize) -> Vec<u32> {
    (0..observed)
        .map(|t| tokens.get(t / stride.max(1)).or(tokens.last()).copied().unwrap_or(0))
        .collect()
}

/// Scores `checkpoint`'s recognition of the observed part of every test video of `splits`.
pub fn observed_recognition(
    ds: &Dataset,
    splits: &[&Split],
    level: &str,
    checkpoint: &std::path::Path,
    alphas: &[f64],
    background: &[u32],
) -> Result<ObservedRecognition, RecognitionError> {
    let level_index = ds.level_index(level)?;
    let ckpt = Checkpoint::load(checkpoint, &Device::Cpu)?;
    check_vocabulary(
        &ckpt.meta,
        &checkpoint.display().to_string(),
        &ds.name,
        level,
        ds.levels[level_index].vocab.names(),
    )?;
    let feature_dim = match ckpt.meta.input {
        InputKind::Features { dim, .. } => Some(dim),
        InputKind::GtLabels { .. } => None,
    };
    let stride = ckpt.meta.stride.max(1);
    let model = CheckpointAnticipator::new(ckpt, Device::Cpu);
    let mut counts = vec![SegmentationCounts::default(); alphas.len()];
    let mut videos = 0;
    for split in splits {
        for name in &split.test {
            let video = ds.load_video(name, feature_dim)?;
            let truth = &video.levels[level_index];
            for (k, &alpha) in alphas.iter().enumerate() {
                let observed = observed_frames(alpha, video.frames).max(1);
                let obs = Observation {
                    video: name,
                    labels: &truth[..observed],
                    features: video.features.as_ref(),
                    total_frames: video.frames,
                };
                let run = model.run(&obs)?;
                let recognized = per_frame(&run.observed_coarse, stride, observed);
                counts[k].add(&recognized, &truth[..observed], background);
            }
            videos += 1;
        }
    }
    Ok(ObservedRecognition {
        dataset: ds.name.clone(),
        level: ds.levels[level_index].name.clone(),
        checkpoint: checkpoint.display().to_string(),
        videos,
        rows: alphas.iter().copied().zip(counts.iter().map(SegmentationCounts::summary)).collect(),
    })
}

impl std::fmt::Display for ObservedRecognition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "recognition of the observed frames of {} test videos of {} (level {}) by {}",
            self.videos, self.dataset, self.level, self.checkpoint
        )?;
        writeln!(f, "| α | Acc | Edit | F1@10 | F1@25 | F1@50 |\n|---|---|---|---|---|---|")?;
        for (alpha, s) in &self.rows {
            writeln!(
                f,
                "| {alpha} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                s.accuracy, s.edit, s.f1_10, s.f1_25, s.f1_50
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_stand_for_their_stride_of_frames() {
        assert_eq!(per_frame(&[4, 5, 6], 3, 8), vec![4, 4, 4, 5, 5, 5, 6, 6]);
        // an observation that ends inside a token's frames, and one longer than the tokens
        assert_eq!(per_frame(&[1, 2], 2, 3), vec![1, 1, 2]);
        assert_eq!(per_frame(&[1, 2], 1, 4), vec![1, 2, 2, 2]);
    }
}
