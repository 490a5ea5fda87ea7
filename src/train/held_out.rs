//! Scoring a run's checkpoint on held-out videos after an epoch, for watching the run.

use candle_core::Device;
use serde::Serialize;

use super::{InputChoice, Result, TrainConfig};
use crate::data::Dataset;
use crate::model::checkpoint;

/// The epoch's checkpoint on held-out videos (ground truth observed, α 0.2 and 0.3, β 0.1–0.5).
/// With `--val-fraction` these are validation videos carved from the training videos, and the
/// best epoch is kept as `best.*`. Otherwise, Breakfast and 50 Salads having no validation
/// split, they are the split's test videos: for watching a run, never for choosing an epoch.
#[derive(Debug, Clone, Serialize)]
pub struct HeldOutScore {
    /// "val" or "test".
    pub videos_from: String,
    pub moc: Option<f64>,
    pub first_is_current: f64,
    /// The last-observed baseline on the same videos, for scale.
    pub last_observed_moc: Option<f64>,
}

/// The held-out videos of a run, loaded once.
pub(super) struct HeldOut {
    videos_from: String,
    videos: Vec<crate::data::Video>,
    level: usize,
    classes: usize,
    last_observed_moc: Option<f64>,
}

impl HeldOut {
    const ALPHAS: [f64; 2] = [0.2, 0.3];

    pub(super) fn load(ds: &Dataset, cfg: &TrainConfig, level: usize) -> Result<Self> {
        let split = ds.select_splits(&cfg.split)?[0];
        let carved: Vec<String> = if cfg.val_fraction > 0.0 {
            let train: Vec<&String> = split.train.iter().collect();
            super::carve_validation(&train, cfg.val_fraction, &cfg.split)
                .1
                .into_iter()
                .cloned()
                .collect()
        } else {
            vec![]
        };
        let (videos_from, names) = if !carved.is_empty() {
            ("val (carved from training)", &carved)
        } else if split.val.is_empty() {
            ("test", &split.test)
        } else {
            ("val", &split.val)
        };
        let feature_dim =
            matches!(cfg.input, InputChoice::Features).then_some(cfg.feature_dim).flatten();
        let videos = names
            .iter()
            .map(|v| ds.load_video(v, feature_dim))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let classes = ds.levels[level].vocab.len();
        let mut h = HeldOut {
            videos_from: videos_from.into(),
            videos,
            level,
            classes,
            last_observed_moc: None,
        };
        let report = crate::eval::diagnose::first_segment(
            &cfg.split,
            &h.views(),
            &crate::eval::LastObserved::default(),
            classes,
            &Self::ALPHAS,
        )?;
        h.last_observed_moc = report.mean_moc();
        Ok(h)
    }

    pub(super) fn names(&self) -> Vec<String> {
        self.videos.iter().map(|v| v.name.clone()).collect()
    }

    fn views(&self) -> Vec<crate::eval::diagnose::HeldOutVideo<'_>> {
        self.videos
            .iter()
            .map(|v| crate::eval::diagnose::HeldOutVideo {
                name: &v.name,
                labels: &v.levels[self.level],
                features: v.features.as_ref(),
            })
            .collect()
    }

    pub(super) fn score(&self, stem: &std::path::Path, dev: &Device) -> Result<HeldOutScore> {
        let ckpt = checkpoint::Checkpoint::load(stem, dev)?;
        let model = crate::model::anticipate::CheckpointAnticipator::new(ckpt, dev.clone());
        let report = crate::eval::diagnose::first_segment(
            "",
            &self.views(),
            &model,
            self.classes,
            &Self::ALPHAS,
        )?;
        Ok(HeldOutScore {
            videos_from: self.videos_from.clone(),
            moc: report.mean_moc(),
            first_is_current: report.mean_first_is_current(),
            last_observed_moc: self.last_observed_moc,
        })
    }
}
