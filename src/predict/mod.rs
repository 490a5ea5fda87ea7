//! Headless prediction: run a model on an observation, lay out the tracks (ground truth,
//! segmentation, the model's coarse and fine labels of the observed part, the anticipated future)
//! and write them as CSV. `mmant predict` and the viewer both use it; nothing here draws.

pub mod export;
pub mod input;
pub mod tracks;

use std::time::Instant;

pub use export::{ExportInfo, PredictError, SEGMENT_COLUMNS, frames_csv, segments_csv};
pub use input::{InputError, check_input, dataset_fps, observed_frames};
pub use tracks::{Track, TrackKind, tracks};

use crate::data::Features;
use crate::eval::{AnticipationError, Observation};
use crate::model::anticipate::CheckpointAnticipator;

/// What the model anticipated for one observation point.
#[derive(Debug, Clone)]
pub struct AnticipationView {
    /// Observed frames [0, observed).
    pub observed: usize,
    /// Labels of frames [observed, frames); NONE = vocabulary size.
    pub future: Vec<u32>,
    /// Per-frame coarse segmentation of the observed part.
    pub coarse: Vec<u32>,
    /// Per-frame fine labels of the observed part (m&m-Ant).
    pub fine: Option<Vec<u32>>,
    /// The model's confidence (softmax probability of its class) per anticipated segment, by
    /// frame range after the observation point.
    pub confidence: Vec<(usize, usize, f32)>,
    pub latency_ms: f64,
}

impl AnticipationView {
    /// The model's confidence in its anticipated label at `frame` (a video frame ≥ observed).
    pub fn confidence_at(&self, frame: usize) -> Option<f32> {
        let t = frame.checked_sub(self.observed)?;
        self.confidence
            .iter()
            .find(|(a, b, _)| (*a..*b).contains(&t))
            .or(self.confidence.last())
            .map(|c| c.2)
    }
}

/// Expands per-token labels (every τ-th frame) to per-frame labels over `frames` frames.
fn per_frame(tokens: &[u32], stride: usize, frames: usize) -> Vec<u32> {
    (0..frames)
        .map(|t| tokens.get(t / stride.max(1)).or(tokens.last()).copied().unwrap_or(0))
        .collect()
}

/// Runs the model on the observed frames [0, labels.len()) of a `total`-frame video: the
/// anticipated future and the observed part's coarse (and fine) labels, per frame.
pub fn anticipate(
    model: &CheckpointAnticipator,
    labels: &[u32],
    features: Option<&Features>,
    total: usize,
) -> Result<AnticipationView, AnticipationError> {
    let started = Instant::now();
    let stride = model.checkpoint.meta.stride;
    let obs = Observation { video: "viewer", labels, features, total_frames: total };
    let a = model.run(&obs)?;
    Ok(AnticipationView {
        observed: labels.len(),
        future: a.frames,
        coarse: per_frame(&a.observed_coarse, stride, labels.len()),
        fine: a.observed_fine.map(|f| per_frame(&f, stride, labels.len())),
        confidence: a.segments.iter().map(|s| (s.start, s.end, s.confidence)).collect(),
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_is_looked_up_by_anticipated_segment() {
        let v = AnticipationView {
            observed: 10,
            future: vec![1; 8],
            coarse: vec![],
            fine: None,
            confidence: vec![(0, 3, 0.9), (3, 6, 0.4)],
            latency_ms: 0.0,
        };
        assert_eq!(v.confidence_at(9), None);
        assert_eq!(v.confidence_at(12), Some(0.9));
        assert_eq!(v.confidence_at(13), Some(0.4));
        assert_eq!(
            v.confidence_at(17),
            Some(0.4),
            "frames past the decoded half take the last segment's"
        );
    }

    #[test]
    fn tokens_expand_to_frames() {
        assert_eq!(per_frame(&[1, 2], 3, 7), vec![1, 1, 1, 2, 2, 2, 2]);
    }
}
