//! A checkpoint as an [`Anticipator`]: observed frames → tokens (every τ-th frame, as one-hot
//! labels or feature rows) → model → decoded future frames. `eval`, `predict` and the viewer all
//! anticipate through this one entry.

use candle_core::{Device, Tensor};

use super::checkpoint::{Checkpoint, InputKind};
use super::decode::{FutureSegment, decode};
use crate::eval::{AnticipationError, Anticipator, MethodError, Observation};

pub struct CheckpointAnticipator {
    pub checkpoint: Checkpoint,
    pub device: Device,
}

/// The model's view of an observation and what it predicts.
pub struct Anticipation {
    /// Labels of frames [observed, total): the decoded ⌊0.5·N⌋ frames, then the last label to the
    /// end of the video (NONE = number of classes).
    pub frames: Vec<u32>,
    pub segments: Vec<FutureSegment>,
    /// Per observed token: the coarse segmentation's argmax.
    pub observed_coarse: Vec<u32>,
    /// Per observed token: the fine generator's argmax (m&m-Ant).
    pub observed_fine: Option<Vec<u32>>,
}

impl CheckpointAnticipator {
    pub fn new(checkpoint: Checkpoint, device: Device) -> Self {
        CheckpointAnticipator { checkpoint, device }
    }

    fn tokens(&self, obs: &Observation) -> Result<Option<Tensor>, String> {
        let stride = self.checkpoint.meta.stride.max(1);
        let frames: Vec<usize> = (0..obs.labels.len()).step_by(stride).collect();
        if frames.is_empty() {
            return Ok(None);
        }
        let (dim, data) = match &self.checkpoint.meta.input {
            InputKind::GtLabels { classes } => {
                let mut x = vec![0f32; frames.len() * classes];
                for (i, &t) in frames.iter().enumerate() {
                    let l = obs.labels[t] as usize;
                    if l >= *classes {
                        return Err(format!(
                            "label id {l} at frame {t} is outside the checkpoint's {classes} classes"
                        ));
                    }
                    x[i * classes + l] = 1.0;
                }
                (*classes, x)
            }
            InputKind::Features { dim, backbone, .. } => {
                let f =
                    obs.features.ok_or("the checkpoint observes features and none were loaded")?;
                if let (Some(want), Some(have)) = (backbone, &f.backbone)
                    && want != have
                {
                    return Err(format!(
                        "the checkpoint was trained on {want} features, these are {have} features (a different feature space)"
                    ));
                }
                if f.dim != *dim {
                    return Err(format!(
                        "the checkpoint expects {dim}-d features{}, the video's are {}-d",
                        backbone.as_ref().map(|b| format!(" ({b})")).unwrap_or_default(),
                        f.dim
                    ));
                }
                let mut x = Vec::with_capacity(frames.len() * dim);
                for &t in &frames {
                    if t >= f.frames {
                        break;
                    }
                    x.extend_from_slice(f.row(t));
                }
                (*dim, x)
            }
        };
        let s = data.len() / dim;
        Tensor::from_vec(data, (1, s, dim), &self.device).map(Some).map_err(|e| e.to_string())
    }

    pub fn run(&self, obs: &Observation) -> Result<Anticipation, AnticipationError> {
        let err = |reason: String| AnticipationError { video: obs.video.to_owned(), reason };
        let classes = self.checkpoint.model.num_classes();
        let remaining = obs.total_frames.saturating_sub(obs.labels.len());
        let Some(x) = self.tokens(obs).map_err(err)? else {
            return Ok(Anticipation {
                frames: vec![classes as u32; remaining],
                segments: vec![],
                observed_coarse: vec![],
                observed_fine: None,
            });
        };
        let run = || -> candle_core::Result<Anticipation> {
            let out = self.checkpoint.model.forward(&x, None, None)?;
            let action = out.action.squeeze(0)?.to_vec2::<f32>()?;
            let duration = out.duration.squeeze(0)?.to_vec1::<f32>()?;
            let (mut frames, segments) =
                decode(&action, &duration, classes, (0.5 * obs.total_frames as f64) as usize);
            let last = frames.last().copied().unwrap_or(classes as u32);
            frames.resize(remaining, last);
            let observed_coarse = out.seg.squeeze(0)?.argmax(1)?.to_vec1::<u32>()?;
            let observed_fine =
                out.fine.map(|f| f.squeeze(0)?.argmax(1)?.to_vec1::<u32>()).transpose()?;
            Ok(Anticipation { frames, segments, observed_coarse, observed_fine })
        };
        run().map_err(|e| err(e.to_string()))
    }
}

impl Anticipator for CheckpointAnticipator {
    fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError> {
        self.run(obs).map(|a| a.frames)
    }
}

/// A checkpoint trained on another vocabulary than the evaluated level's.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path} was trained on another vocabulary ({found} classes of {trained_on}) than level '{level}' of {dataset} ({expected} classes)"
)]
pub struct VocabularyMismatch {
    pub path: String,
    pub found: usize,
    pub trained_on: String,
    pub level: String,
    pub dataset: String,
    pub expected: usize,
}

/// Refuses a checkpoint (`path`) trained on another vocabulary than `vocab`, level `level` of
/// `dataset`.
pub fn check_vocabulary(
    meta: &super::checkpoint::CheckpointMeta,
    path: &str,
    dataset: &str,
    level: &str,
    vocab: &[String],
) -> Result<(), VocabularyMismatch> {
    if meta.vocabulary == vocab {
        return Ok(());
    }
    Err(VocabularyMismatch {
        path: path.to_owned(),
        found: meta.vocabulary.len(),
        trained_on: meta.dataset.clone(),
        level: level.to_owned(),
        dataset: dataset.to_owned(),
        expected: vocab.len(),
    })
}

/// The method name of a checkpoint's model in result files ("futr", "mmant").
pub fn method_name(meta: &super::checkpoint::CheckpointMeta) -> &'static str {
    match &meta.model {
        super::checkpoint::ModelConfig::Futr(_) => "futr",
        super::checkpoint::ModelConfig::Mmant(_) => "mmant",
    }
}

/// The evaluation's method for checkpoints, one per split: `template` with `{split}` replaced by
/// the split's name, checked against the level's vocabulary `vocab` of `dataset`. Warns on stderr
/// when a checkpoint was not trained on the evaluated split.
pub fn checkpoint_factory(
    template: String,
    dataset: String,
    level: String,
    vocab: Vec<String>,
) -> impl Fn(&crate::data::Split, &[&[u32]]) -> Result<Box<dyn Anticipator>, MethodError> {
    move |split, _train| {
        let path = template.replace("{split}", &split.name);
        let ckpt = Checkpoint::load(std::path::Path::new(&path), &Device::Cpu)
            .map_err(MethodError::new)?;
        check_vocabulary(&ckpt.meta, &path, &dataset, &level, &vocab).map_err(MethodError::new)?;
        if ckpt.meta.split == crate::data::splits::ALL_VIDEOS {
            eprintln!(
                "warning: {path} was trained on every video of {}, including split {}'s test videos: these are scores on training data",
                ckpt.meta.dataset, split.name
            );
        } else if ckpt.meta.split != split.name {
            eprintln!(
                "warning: {path} was trained on split {}, evaluated on split {}",
                ckpt.meta.split, split.name
            );
        }
        Ok(Box::new(CheckpointAnticipator::new(ckpt, Device::Cpu)) as Box<dyn Anticipator>)
    }
}
