//! `mmant bench …`: side-by-side timings in one run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::{open, print_report};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Explicit candle attention vs the fused kernel vs PyTorch's SDPA (when available)
    Attention(BenchAttentionArgs),
    /// m&m-Ant forward latency and training throughput, explicit vs fused attention
    Model(BenchModelArgs),
    /// Training examples/s of mmant and of a PyTorch twin on the same batches and initial weights (A B B A), and whether their per-step losses agree
    Train(BenchTrainArgs),
    /// Decode throughput vs the ffmpeg tool, and seek latency (direct, worker uncached/cached)
    Decode(BenchDecodeArgs),
    /// Feature-extraction throughput of each backbone at 224×224 beside its FLOPs per frame
    Extract(BenchExtractArgs),
    /// The viewer: UI-thread CPU per frame, playhead-to-anticipation latency at 2 000 tokens, memory on a one-hour 1080p file
    Viewer(BenchViewerArgs),
}

#[derive(Debug, Args)]
pub struct BenchViewerArgs {
    #[arg(long, default_value_t = 600)]
    pub frames: usize,
    /// Playhead moves timed at 2 000 observed tokens
    #[arg(long, default_value_t = 20)]
    pub moves: usize,
    /// The video for the memory measurement (default: a generated one-hour 1080p file, 1.3 GB in a temporary folder)
    #[arg(long)]
    pub memory_video: Option<PathBuf>,
    /// Skip the memory measurement
    #[arg(long)]
    pub no_memory: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchDecodeArgs {
    /// The video (default: a generated 1080p H.264 file with a 250-frame GOP)
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Frames of the generated video
    #[arg(long, default_value_t = 500)]
    pub frames: usize,
    /// Keyframe interval of the generated video
    #[arg(long, default_value_t = 250)]
    pub gop: usize,
    #[arg(long, default_value_t = 100)]
    pub seeks: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchExtractArgs {
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Backbones to time, comma-separated (default: all four)
    #[arg(long, value_delimiter = ',')]
    pub backbones: Vec<String>,
    /// Python with torch, torchvision and efficientnet_lite_pytorch for the PyTorch column (default: $MMANT_PYTHON, then python3)
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Only ours, even when a Python with torch is found
    #[arg(long)]
    pub no_torch: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchModelArgs {
    /// Observed tokens S for the forward latency
    #[arg(long, value_delimiter = ',', default_values_t = vec![250, 1000, 2000])]
    pub sizes: Vec<usize>,
    #[arg(long, default_value_t = 10)]
    pub repeats: usize,
    /// Dataset root whose first split feeds the training measurement (e.g. Breakfast)
    #[arg(long)]
    pub train_data: Option<PathBuf>,
    /// Training examples to time (a number larger than the split's = a whole epoch)
    #[arg(long, default_value_t = 320)]
    pub train_examples: usize,
    #[arg(long, default_value_t = 16)]
    pub train_batch: usize,
    /// Also time training with candle's explicit attention (needs O(B·H·S²) memory: at batch
    /// 16 on Breakfast it exceeds 24 GiB)
    #[arg(long)]
    pub train_explicit: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchTrainArgs {
    /// Breakfast's root: rows for m&m-Ant and FUTR on its first split at D 128, batch 16
    #[arg(long)]
    pub breakfast: Option<PathBuf>,
    /// 50 Salads' root: rows for m&m-Ant and FUTR on its first split at D 128 and D 512, batch 8
    #[arg(long)]
    pub salads: Option<PathBuf>,
    /// Examples per row, spread over the length distribution of the split's training cuts
    #[arg(long, default_value_t = 480)]
    pub examples: usize,
    /// Steps whose losses are compared with PyTorch's, dropout off (0: no check)
    #[arg(long, default_value_t = 20)]
    pub check_steps: usize,
    /// Only these models
    #[arg(long, value_delimiter = ',', default_values_t = vec!["mmant".to_owned(), "futr".to_owned()])]
    pub models: Vec<String>,
    /// Python interpreter with torch and numpy (default: $MMANT_PYTHON, then python3)
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Skip PyTorch even when it is available
    #[arg(long)]
    pub no_torch: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchAttentionArgs {
    /// Sequence lengths T (self-attention, Tq = Tk = T)
    #[arg(long, value_delimiter = ',', default_values_t = vec![250, 1000, 2000, 4000])]
    pub sizes: Vec<usize>,
    /// Model dimension D (split over the heads)
    #[arg(long, default_value_t = 128)]
    pub dim: usize,
    #[arg(long, default_value_t = 8)]
    pub heads: usize,
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Timed runs per measurement (the median is reported)
    #[arg(long, default_value_t = 10)]
    pub repeats: usize,
    /// Time forward + backward, as training runs it (and compare dL/dq)
    #[arg(long)]
    pub backward: bool,
    /// Python interpreter with torch and numpy (default: $MMANT_PYTHON, then python3)
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Skip PyTorch even when it is available
    #[arg(long)]
    pub no_torch: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

fn attention(a: &BenchAttentionArgs) -> Result<ExitCode> {
    if a.heads == 0 || !a.dim.is_multiple_of(a.heads) {
        bail!("--dim {} must be a multiple of --heads {}", a.dim, a.heads);
    }
    let python = if a.no_torch {
        None
    } else {
        crate::bench::attention::find_torch_python(a.python.clone())
    };
    let report = crate::bench::attention::run(&crate::bench::attention::AttentionBenchConfig {
        sizes: a.sizes.clone(),
        model_dim: a.dim,
        heads: a.heads,
        batch: a.batch,
        repeats: a.repeats,
        backward: a.backward,
        python,
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

fn decode(a: &BenchDecodeArgs) -> Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let (video, gop) = match &a.video {
        Some(v) => (v.clone(), 0),
        None => (crate::bench::video::generate_test_video(dir.path(), a.frames, a.gop)?, a.gop),
    };
    let report = crate::bench::video::run_decode(&video, gop, a.seeks.max(1))?;
    print_report(&report, a.json)
}

fn model(a: &BenchModelArgs) -> Result<ExitCode> {
    let ds = a.train_data.as_deref().map(open).transpose()?;
    let mut how = vec![crate::model::AttentionImpl::Auto];
    if a.train_explicit {
        how.insert(0, crate::model::AttentionImpl::Explicit);
    }
    let report = crate::bench::model::run(
        &a.sizes,
        a.repeats,
        ds.as_ref(),
        a.train_examples,
        a.train_batch,
        &how,
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

fn train(a: &BenchTrainArgs) -> Result<ExitCode> {
    use crate::bench::train::TrainBenchConfig;
    use crate::train::{ModelKind, TrainConfig};
    let mut rows = Vec::new();
    let models: Vec<ModelKind> = a
        .models
        .iter()
        .map(|m| match m.as_str() {
            "mmant" => Ok(ModelKind::Mmant),
            "futr" => Ok(ModelKind::Futr),
            other => bail!("--models: expected mmant or futr, found {other:?}"),
        })
        .collect::<Result<_>>()?;
    for (root, widths) in [(&a.breakfast, &[128][..]), (&a.salads, &[128, 512][..])] {
        let Some(root) = root else { continue };
        for &d_model in widths {
            for &model in &models {
                let name =
                    root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let batch = TrainConfig::for_dataset(&name, model, PathBuf::new()).batch_size;
                let row = TrainBenchConfig {
                    model,
                    d_model,
                    batch,
                    examples: a.examples,
                    check_steps: a.check_steps,
                };
                rows.push((root.clone(), row));
            }
        }
    }
    if rows.is_empty() {
        bail!(
            "nothing to time: give --breakfast and/or --salads (dataset roots, e.g. ../shared/data/breakfast)"
        );
    }
    let (python, note) = if a.no_torch {
        (None, Some("PyTorch skipped (--no-torch)".to_owned()))
    } else {
        match crate::bench::attention::find_torch_python(a.python.clone()) {
            Some(p) => (Some(p), None),
            None => (
                None,
                Some(
                    "no Python with torch found (pass --python or set MMANT_PYTHON): mmant only"
                        .to_owned(),
                ),
            ),
        }
    };
    let report = crate::bench::train::run(&rows, python, note)?;
    print_report(&report, a.json)
}

fn viewer(a: &BenchViewerArgs) -> Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let video = match (&a.memory_video, a.no_memory) {
        (_, true) => None,
        (Some(v), false) => Some(v.clone()),
        (None, false) => Some(crate::bench::viewer::generate_hour_video(dir.path())?),
    };
    let report = crate::bench::viewer::run(a.frames, a.moves, video.as_deref())?;
    print_report(&report, a.json)
}

fn extract(a: &BenchExtractArgs) -> Result<ExitCode> {
    let backbones = if a.backbones.is_empty() {
        crate::features::Backbone::ALL.to_vec()
    } else {
        a.backbones
            .iter()
            .map(|n| {
                crate::features::Backbone::from_name(n).with_context(|| {
                    format!(
                        "--backbones: no backbone named {n:?} (known: {})",
                        crate::features::Backbone::ALL.map(|b| b.name()).join(", ")
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    let python =
        if a.no_torch { None } else { crate::bench::video::find_extract_python(a.python.clone()) };
    let report =
        crate::bench::video::run_extract(a.batch.max(1), a.repeats, &backbones, python.as_deref())?;
    print_report(&report, a.json)
}

pub(super) fn run(command: &BenchCommand) -> Result<ExitCode> {
    match command {
        BenchCommand::Attention(a) => attention(a),
        BenchCommand::Model(a) => model(a),
        BenchCommand::Train(a) => train(a),
        BenchCommand::Decode(a) => decode(a),
        BenchCommand::Viewer(a) => viewer(a),
        BenchCommand::Extract(a) => extract(a),
    }
}
