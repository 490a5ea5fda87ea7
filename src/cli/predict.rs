//! `mmant predict`: the viewer's anticipation and CSV export without a window (`predict`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::data::{Features, Vocabulary};
use crate::model::anticipate::CheckpointAnticipator;
use crate::model::checkpoint::{self, Checkpoint};
use crate::predict::{self, ExportInfo};

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// What the model observes: a label file (MS-TCN .txt or segment .csv) for a checkpoint that
    /// observes labels, a features .npy for one that observes features
    pub input: PathBuf,
    /// A trained checkpoint: its folder, `<dir>/model`, or its .json or .safetensors
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Observation rate α in (0, 1]: the model sees frames [0, ⌊αN⌋), at least one
    #[arg(long)]
    pub alpha: f64,
    /// Output CSV (segments; the columns are in docs/usage.md)
    #[arg(long)]
    pub csv: PathBuf,
    /// One row per frame instead of one per segment
    #[arg(long)]
    pub per_frame: bool,
    /// Ground-truth labels to include as a track (with a features input)
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Frames per second for the times in the CSV (default: the rate of the checkpoint's
    /// dataset: Breakfast and DARai 15, 50 Salads 30)
    #[arg(long)]
    pub fps: Option<f64>,
}

pub(super) fn run(a: &PredictArgs) -> Result<ExitCode> {
    let device = candle_core::Device::Cpu;
    let ckpt = Checkpoint::load(&a.checkpoint, &device)?;
    let checkpoint_name = checkpoint::name(&a.checkpoint);
    let is_features = a.input.extension().is_some_and(|e| e == "npy");
    predict::check_input(&a.checkpoint.display().to_string(), &ckpt.meta, is_features, &a.input)?;
    let (fps, fps_from) = match (a.fps, predict::dataset_fps(&ckpt.meta.dataset)) {
        (Some(f), _) if f.is_finite() && f > 0.0 => (f, "--fps".to_owned()),
        (Some(f), _) => bail!("--fps: expected a positive rate, found {f}"),
        (None, Some(f)) => {
            (f, format!("the frame rate of {}, the checkpoint's dataset", ckpt.meta.dataset))
        }
        (None, None) => bail!(
            "the checkpoint's dataset ({}) has no known frame rate: give --fps",
            ckpt.meta.dataset
        ),
    };
    let vocab = Vocabulary::from_names(ckpt.meta.vocabulary.clone())
        .with_origin("the checkpoint's vocabulary");
    let features = is_features.then(|| Features::read(&a.input, None)).transpose()?;
    let gt_path = if is_features { a.labels.clone() } else { Some(a.input.clone()) };
    let gt = gt_path.as_ref().map(|p| crate::annotation::read_labels(p, &vocab)).transpose()?;
    let frames = gt.as_ref().map(Vec::len).or(features.as_ref().map(|f| f.frames)).unwrap_or(0);
    if frames == 0 {
        bail!("{}: no frames", a.input.display());
    }
    let observed = predict::observed_frames(a.alpha, frames)?;
    let name = a.input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let level = ckpt.meta.level.clone();
    let model = CheckpointAnticipator::new(ckpt, device);
    // a checkpoint that observes features reads only how many labels are observed, never which
    let labels = gt.as_ref().map(|g| g[..observed].to_vec()).unwrap_or_else(|| vec![0; observed]);
    let anticipation = predict::anticipate(&model, &labels, features.as_ref(), frames)?;
    let tracks = predict::tracks(gt.as_deref(), None, Some(&anticipation));
    let info = ExportInfo {
        video: &name,
        level: &level,
        vocab: &vocab,
        fps,
        observation_rate: Some(observed as f64 / frames as f64),
        checkpoint: checkpoint_name.as_deref(),
    };
    let bytes = if a.per_frame {
        predict::frames_csv(&info, frames, &tracks)?
    } else {
        predict::segments_csv(&info, &tracks)?.0
    };
    crate::fsutil::write_atomic(&a.csv, &bytes)
        .with_context(|| format!("writing {}", a.csv.display()))?;
    println!(
        "{}: observed {observed} of {frames} frames (α = {}), anticipated {} frames; times at {fps} fps ({fps_from})",
        a.csv.display(),
        a.alpha,
        frames - observed
    );
    Ok(ExitCode::SUCCESS)
}
