//! What a prediction may observe: the checkpoint's kind of input, a prefix of at least one frame,
//! and the frame rate that turns frames into seconds.

use std::path::{Path, PathBuf};

use crate::model::checkpoint::{CheckpointMeta, InputKind};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InputError {
    #[error(
        "{checkpoint} observes labels (one-hot over its {classes} classes), not features: give a label file (MS-TCN .txt or segment .csv) instead of {}",
        given.display()
    )]
    NeedsLabels { checkpoint: String, classes: usize, given: PathBuf },
    #[error(
        "{checkpoint} observes {dim}-dimensional features{}: give the video's features .npy (`mmant extract`) instead of {} (a label file can come along with --labels)",
        backbone.as_ref().map(|b| format!(" of {b}")).unwrap_or_default(),
        given.display()
    )]
    NeedsFeatures { checkpoint: String, dim: usize, backbone: Option<String>, given: PathBuf },
    #[error(
        "--alpha {alpha} observes no frame of {frames}: the model needs at least one (α ≥ 1/{frames})"
    )]
    NothingObserved { alpha: f64, frames: usize },
    #[error("--alpha must lie in (0, 1], found {0}")]
    Alpha(f64),
}

/// Refuses an observation the checkpoint cannot read: features for a checkpoint that observes
/// labels, or labels for one that observes features (`given` is the file the user gave).
pub fn check_input(
    checkpoint: &str,
    meta: &CheckpointMeta,
    features_given: bool,
    given: &Path,
) -> Result<(), InputError> {
    match (&meta.input, features_given) {
        (InputKind::GtLabels { classes }, true) => Err(InputError::NeedsLabels {
            checkpoint: checkpoint.to_owned(),
            classes: *classes,
            given: given.to_owned(),
        }),
        (InputKind::Features { dim, backbone, .. }, false) => Err(InputError::NeedsFeatures {
            checkpoint: checkpoint.to_owned(),
            dim: *dim,
            backbone: backbone.clone(),
            given: given.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The observed frames [0, ⌊αN⌋) of an `frames`-frame video: at least one.
pub fn observed_frames(alpha: f64, frames: usize) -> Result<usize, InputError> {
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(InputError::Alpha(alpha));
    }
    match (alpha * frames as f64) as usize {
        0 => Err(InputError::NothingObserved { alpha, frames }),
        n => Ok(n),
    }
}

/// The frame rate of the labels of a dataset the field uses, by the name a checkpoint records
/// (../shared/data/README.md: Breakfast and DARai 15 fps, 50 Salads 30 fps; GTEA is not in that
/// README: 15 fps, the rate MS-TCN's GTEA features are at).
pub fn dataset_fps(dataset: &str) -> Option<f64> {
    let name = dataset.to_ascii_lowercase();
    if name.contains("salad") {
        Some(30.0)
    } else if name.contains("breakfast") || name.contains("darai") || name.contains("gtea") {
        Some(15.0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_one_frame_is_observed() {
        assert_eq!(observed_frames(0.3, 10), Ok(3));
        assert_eq!(observed_frames(1.0, 10), Ok(10));
        assert_eq!(
            observed_frames(0.05, 10),
            Err(InputError::NothingObserved { alpha: 0.05, frames: 10 })
        );
        assert_eq!(observed_frames(0.0, 10), Err(InputError::Alpha(0.0)));
        assert_eq!(observed_frames(1.5, 10), Err(InputError::Alpha(1.5)));
    }

    #[test]
    fn rates_of_the_datasets() {
        assert_eq!(dataset_fps("50salads"), Some(30.0));
        assert_eq!(dataset_fps("breakfast"), Some(15.0));
        assert_eq!(dataset_fps("my-kitchen"), None);
    }
}
