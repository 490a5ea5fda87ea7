//! `mmant view` and `mmant` alone (the demo): the desktop viewer.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The video file
    pub video: Option<PathBuf>,
    /// Per-frame labels (MS-TCN ground truth or a segmentation output)
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// The labels' mapping file (default: the checkpoint's vocabulary)
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// A trained checkpoint (`<dir>/model`)
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Frames per second of the labels (default: the video's, else 15)
    #[arg(long)]
    pub fps: Option<f64>,
    /// Per-frame features of the video (.npy), for a checkpoint that observes features
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// A segmentation model's per-frame output (MS-TCN prediction file): shown as a track, and
    /// the model can observe it instead of the ground truth
    #[arg(long)]
    pub predictions: Option<PathBuf>,
}

pub(super) fn run(a: &ViewArgs) -> Result<ExitCode> {
    let mut app = crate::viewer::viewer_app(
        a.labels.as_deref(),
        a.mapping.as_deref(),
        a.checkpoint.as_deref(),
        a.video.as_deref(),
        a.fps,
    )?;
    if let Some(f) = &a.features {
        app.open_file(crate::viewer::app::FileKind::Features, f.clone());
    }
    if let Some(p) = &a.predictions {
        let labels = crate::data::FrameLabels::read(p)?.encode_strict(&app.state.vocab)?;
        if labels.len() != app.state.frames {
            app.state.status = format!(
                "{}: {} frames, the labels {}",
                p.display(),
                labels.len(),
                app.state.frames
            );
        }
        app.state.predictions = Some(labels);
    }
    crate::viewer::run(app)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn demo() -> Result<ExitCode> {
    let demo = crate::demo::unpack()?;
    crate::viewer::run(crate::viewer::demo_app(&demo)?)?;
    Ok(ExitCode::SUCCESS)
}
