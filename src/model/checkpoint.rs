//! Checkpoints: the weights as safetensors (`<name>.safetensors`) and a JSON description beside
//! them (`<name>.json`): model configuration, dataset, levels, input kind, vocabularies, stride,
//! seed and the commit that trained it. Both are written atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

use super::{Model, futr, mmant};

pub const FORMAT: &str = "mmant-checkpoint/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelConfig {
    Futr(futr::Config),
    Mmant(mmant::Config),
}

/// What the model observes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum InputKind {
    /// One-hot labels of the observed frames (ground truth, or a segmentation model's output).
    GtLabels { classes: usize },
    /// Visual features of the given dimension (and backbone, when known).
    Features {
        dim: usize,
        backbone: Option<String>,
        /// The training features were sampled every `feature_stride` frames (each sample
        /// standing for the frames up to the next); extracting a new video the same way gives
        /// the model what it was trained on. Absent in older checkpoints.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feature_stride: Option<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: String,
    pub model: ModelConfig,
    pub input: InputKind,
    pub dataset: String,
    pub split: String,
    pub level: String,
    pub fine_level: Option<String>,
    pub vocabulary: Vec<String>,
    pub fine_vocabulary: Vec<String>,
    /// τ: every τ-th frame is a token.
    pub stride: usize,
    pub seed: u64,
    pub epochs: usize,
    pub git_commit: Option<String>,
    pub mmant_version: String,
    /// Set on a checkpoint kept for its validation score (`train --val-fraction`): which epoch
    /// and why. None on the last epoch's checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<Selection>,
}

/// Why a checkpoint was kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub epoch: usize,
    /// Mean MoC (α 0.2 and 0.3, β 0.1–0.5, ground truth observed) on the validation videos.
    pub val_moc: f64,
    pub val_videos: Vec<String>,
    pub rule: String,
}

/// The safetensors framing (an 8-byte little-endian header length, then a JSON header), checked
/// before parsing so that a truncated or foreign file gets a message that says what it is.
fn check_safetensors(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let bad = |reason: String| CheckpointError::NotSafetensors { path: path.to_owned(), reason };
    let Some(head) = bytes.first_chunk::<8>() else {
        return Err(bad(format!(
            "it has {} bytes, fewer than the 8 of a header length",
            bytes.len()
        )));
    };
    let claimed = u64::from_le_bytes(*head);
    let rest = (bytes.len() - 8) as u64;
    if claimed > rest {
        return Err(bad(format!(
            "its first 8 bytes give a header of {claimed} bytes, and only {rest} follow (truncated, or not a safetensors file)"
        )));
    }
    if bytes.get(8) != Some(&b'{') {
        return Err(bad("its header is not a JSON object".into()));
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
/// Like every error of this crate, each variant prints its cause in its message and does not
/// expose it as `source()` (the field is `error`, not `source`): a chain printer (anyhow's `{:#}`)
/// then says each cause once.
pub enum CheckpointError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}: expected a mmant checkpoint description ({FORMAT}), found: {reason}", path.display())]
    Meta { path: PathBuf, reason: String },
    #[error("{}: {error}", path.display())]
    Weights { path: PathBuf, error: candle_core::Error },
    #[error("{}: not a valid safetensors file: {reason}", path.display())]
    NotSafetensors { path: PathBuf, reason: String },
}

/// The weights and description files of a checkpoint given as its folder (`<dir>`, holding
/// model.json and model.safetensors), as `<dir>/model`, or as either file.
pub fn paths(stem: &Path) -> (PathBuf, PathBuf) {
    let stem = if stem.is_dir() { stem.join("model") } else { stem.with_extension("") };
    (stem.with_extension("safetensors"), stem.with_extension("json"))
}

/// A checkpoint's name in exports and the viewer: the folder that holds its files.
pub fn name(path: &Path) -> Option<String> {
    let (_, json) = paths(path);
    json.parent()
        .and_then(|p| p.file_name())
        .or(json.file_name())
        .map(|n| n.to_string_lossy().into_owned())
}

/// The commit this binary was built from (build.rs), `-dirty` when the tree had changes; None
/// for a build outside a git checkout.
pub fn git_commit() -> Option<String> {
    Some(env!("MMANT_GIT_COMMIT")).filter(|c| !c.is_empty()).map(str::to_owned)
}

/// Writes every tensor of `varmap` (the frozen text table included, so a checkpoint is
/// self-contained) and the description.
pub fn save(stem: &Path, varmap: &VarMap, meta: &CheckpointMeta) -> Result<(), CheckpointError> {
    let (weights, json) = paths(stem);
    let tensors: HashMap<String, Tensor> = varmap
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect();
    let tmp = weights.with_extension("safetensors.tmp");
    candle_core::safetensors::save(&tensors, &tmp)
        .map_err(|error| CheckpointError::Weights { path: tmp.clone(), error })?;
    std::fs::rename(&tmp, &weights)
        .map_err(|error| CheckpointError::Io { path: weights.clone(), error })?;
    let text = serde_json::to_string_pretty(meta).expect("checkpoint metadata serialises");
    crate::fsutil::write_atomic(&json, text.as_bytes())
        .map_err(|error| CheckpointError::Io { path: json, error })
}

pub fn read_meta(stem: &Path) -> Result<CheckpointMeta, CheckpointError> {
    let (_, json) = paths(stem);
    let bytes =
        std::fs::read(&json).map_err(|error| CheckpointError::Io { path: json.clone(), error })?;
    parse_meta(&json, &bytes)
}

pub fn parse_meta(path: &Path, bytes: &[u8]) -> Result<CheckpointMeta, CheckpointError> {
    let meta: CheckpointMeta = serde_json::from_slice(bytes)
        .map_err(|e| CheckpointError::Meta { path: path.to_owned(), reason: e.to_string() })?;
    if meta.format != FORMAT {
        return Err(CheckpointError::Meta {
            path: path.to_owned(),
            reason: format!("format {}", meta.format),
        });
    }
    Ok(meta)
}

/// Builds the model a description names, with `vb` holding its weights.
pub fn build(model: &ModelConfig, vb: VarBuilder) -> candle_core::Result<Model> {
    Ok(match model {
        ModelConfig::Futr(c) => Model::Futr(futr::Futr::new(c, vb)?),
        ModelConfig::Mmant(c) => Model::MmAnt(mmant::MmAnt::new(c, vb)?),
    })
}

/// A loaded checkpoint, ready for inference.
pub struct Checkpoint {
    pub meta: CheckpointMeta,
    pub model: Model,
}

impl Checkpoint {
    pub fn load(stem: &Path, dev: &Device) -> Result<Self, CheckpointError> {
        let meta = read_meta(stem)?;
        let (weights, _) = paths(stem);
        let bytes = std::fs::read(&weights)
            .map_err(|error| CheckpointError::Io { path: weights.clone(), error })?;
        Self::from_bytes(meta, &weights, bytes, dev)
    }

    pub fn from_bytes(
        meta: CheckpointMeta,
        weights_path: &Path,
        bytes: Vec<u8>,
        dev: &Device,
    ) -> Result<Self, CheckpointError> {
        check_safetensors(weights_path, &bytes)?;
        let wrap = |error| CheckpointError::Weights { path: weights_path.to_owned(), error };
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, dev).map_err(wrap)?;
        let model = build(&meta.model, vb).map_err(wrap)?;
        Ok(Checkpoint { meta, model })
    }
}
