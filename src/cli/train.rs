//! `mmant train`: one run of FUTR or m&m-Ant on a split, with the papers' per-dataset defaults
//! (`TrainConfig::for_dataset`) unless a flag overrides them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use super::{check_fractions, device, open};
use crate::train::{InputChoice, ModelKind, TrainConfig, config};

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Dataset root
    #[arg(long, required_unless_present = "from_annotations")]
    pub data: Option<PathBuf>,
    /// Train on your own annotated videos instead of a dataset: every video in FOLDER with a
    /// label file beside it (same name; .txt, .csv, .eaf or .json) is used, its features
    /// extracted with --backbone and cached in FOLDER/.mmant/; every fifth is held out to score
    /// the run; the model observes features
    #[arg(long, conflicts_with_all = ["data", "input", "feature_dim"])]
    pub from_annotations: Option<PathBuf>,
    #[command(flatten)]
    pub backbone: super::extract::BackboneArgs,
    /// Split whose training videos to use, or "all" for every video of the dataset (the
    /// checkpoints the viewer ships; nothing is held out, so evaluating them scores training data)
    #[arg(long, default_value = config::SPLIT)]
    pub split: String,
    #[arg(long, value_enum, default_value = "mmant")]
    pub model: ModelKind,
    /// What the model observes
    #[arg(long, value_enum, default_value = "gt-labels")]
    pub input: InputChoice,
    /// Feature dimension (with --input features)
    #[arg(long)]
    pub feature_dim: Option<usize>,
    /// The level to segment and anticipate
    #[arg(long, default_value = config::LEVEL)]
    pub level: String,
    /// The fine level for m&m-Ant's generator (default: the anticipated level's own labels)
    #[arg(long)]
    pub fine_level: Option<String>,
    #[arg(long, default_value_t = config::EPOCHS)]
    pub epochs: usize,
    /// Batch size (default: 8 for 50 Salads, as FUTR and m&m-Ant; 16 otherwise, as FUTR on Breakfast)
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, default_value_t = config::LR)]
    pub lr: f64,
    #[arg(long, default_value_t = config::WEIGHT_DECAY)]
    pub weight_decay: f64,
    /// Warm-up epochs
    #[arg(long, default_value_t = config::WARMUP)]
    pub warmup: usize,
    #[arg(long, default_value_t = config::SEED)]
    pub seed: u64,
    /// Stride τ (default: 3 for Breakfast, 6 for 50 Salads, 15 for DARai)
    #[arg(long)]
    pub stride: Option<usize>,
    /// Number of queries M (default: 8; on 50 Salads 20, FUTR's choice, for m&m-Ant too, whose
    /// paper's 8 caps a perfect model at 53 MoC there: docs/results/query-cap-oracle.md)
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
    /// m&m-Ant variant, not in the paper: pool the fused tokens most recent first, so the first
    /// query summarises the end of the observation (the paper's pool puts the oldest first)
    #[arg(long, conflicts_with = "no_fine")]
    pub pool_recent_first: bool,
    /// m&m-Ant variant from a commented-out line of the official code: add the sinusoidal table
    /// to the fused tokens before pooling them into queries
    #[arg(long, conflicts_with = "no_fine")]
    pub pool_sinusoid: bool,
    /// m&m-Ant variant, not in the paper: scale the embedded inputs by √D before the sinusoidal
    /// table is added (the table is otherwise several times louder than one-hot label inputs)
    #[arg(long)]
    pub embed_scale: bool,
    /// m&m-Ant: the official code's total loss, (1 − 1/w̄)·[(1 − f)·L_focal + f·L_tcl] +
    /// (1/w̄)·[L_act + L_dur + L_seg], with w̄ the mean over tokens of 1 where the segmentation
    /// and fine labels are both right, 5 elsewhere (default: the paper's sum, f on L_tcl only)
    #[arg(long, conflicts_with = "no_fine")]
    pub confidence_mixing: bool,
    /// Weight of L_act on a sample whose first future action is not the one in progress
    /// (default: FUTR 1, as FUTR's code; m&m-Ant 10, as the m&m-Ant code)
    #[arg(long)]
    pub transition_weight: Option<f32>,
    /// Not the papers' setting (theirs is 1): the weight of the duration loss L_dur, whose squared
    /// errors of duration fractions are 10–35 times below L_act through the first half of a
    /// Breakfast run
    #[arg(long, default_value_t = config::DURATION_WEIGHT)]
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
    #[arg(long, default_value_t = config::HELD_OUT_EVERY)]
    pub held_out_every: usize,
    /// Carve this fraction of the split's training videos out for validation (the same videos
    /// for every seed and variant; never a test video), score every epoch on them and keep the
    /// best epoch as <out>/best.{safetensors,json}, which records the epoch and why; model.* stays
    /// the last epoch. 0: train on all training videos, as the papers
    #[arg(long, default_value_t = 0.0)]
    pub val_fraction: f64,
    /// Observation rates at which each training video is cut (FUTR's three; the m&m-Ant code
    /// cuts ten: 0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65)
    #[arg(long, value_delimiter = ',', default_values_t = config::ALPHAS.to_vec())]
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

pub(super) fn run(a: &TrainArgs) -> Result<ExitCode> {
    check_fractions("alphas", &a.alphas)?;
    if !(0.0..0.5).contains(&a.val_fraction) {
        bail!("--val-fraction: expected a fraction in [0, 0.5), found {}", a.val_fraction);
    }
    if a.query_slots && a.model != ModelKind::Mmant {
        bail!(
            "--query-slots is a variant of m&m-Ant's queries; FUTR's queries are learned slot embeddings already"
        );
    }
    if a.end_relative_positions && a.model != ModelKind::Futr {
        bail!(
            "--end-relative-positions is a variant of FUTR's learnable positions; m&m-Ant adds a sinusoidal table to its inputs as well"
        );
    }
    if (a.pool_recent_first || a.pool_sinusoid || a.embed_scale || a.confidence_mixing)
        && a.model != ModelKind::Mmant
    {
        bail!(
            "--pool-recent-first, --pool-sinusoid, --embed-scale and --confidence-mixing are variants of m&m-Ant"
        );
    }
    if a.no_input_sinusoid && a.model != ModelKind::Mmant {
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
    let (ds, input, feature_dim, text_table) = match (&a.from_annotations, &a.data) {
        (Some(folder), _) => from_annotations(a, folder)?,
        (None, Some(data)) => (open(data)?, a.input, a.feature_dim, a.text_table.clone()),
        (None, None) => bail!("give --data or --from-annotations"),
    };
    let defaults = TrainConfig::for_dataset(&ds.name, a.model, a.out.clone());
    let cfg = TrainConfig {
        input,
        split: a.split.clone(),
        level: a.level.clone(),
        fine_level: a.fine_level.clone(),
        feature_dim,
        epochs: a.epochs,
        batch_size: a.batch_size.unwrap_or(defaults.batch_size).max(1),
        lr: a.lr,
        weight_decay: a.weight_decay,
        warmup: a.warmup,
        seed: a.seed,
        stride: a.stride.unwrap_or(defaults.stride),
        queries: a.queries.unwrap_or(defaults.queries),
        d_model: a.d_model.unwrap_or(defaults.d_model),
        alphas: a.alphas.clone(),
        random_cuts: a.random_cuts,
        transition_weight: a.transition_weight.unwrap_or(defaults.transition_weight),
        duration_weight: a.duration_weight,
        use_text: !a.no_text,
        use_tcl: !a.no_tcl,
        use_fine: !a.no_fine,
        query_slots: a.query_slots,
        input_sinusoid: !a.no_input_sinusoid,
        end_relative_positions: a.end_relative_positions,
        queries_from_segmentation: a.queries_from_segmentation,
        pool_recent_first: a.pool_recent_first,
        pool_sinusoid: a.pool_sinusoid,
        embed_scale: a.embed_scale,
        confidence_mixing: a.confidence_mixing,
        decoder_layers: a.decoder_layers.map(|n| n as usize),
        text_table,
        resume: a.resume,
        stop_after: a.stop_after.map(|n| n as usize),
        held_out_every: a.held_out_every,
        val_fraction: a.val_fraction,
        ..defaults
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

/// The dataset made from a folder of annotated videos (train::annotated), and what the model
/// observes: features of the backbone; m&m-Ant's label-name table embedded from its vocabulary.
fn from_annotations(
    a: &TrainArgs,
    folder: &std::path::Path,
) -> Result<(crate::data::Dataset, InputChoice, Option<usize>, Option<PathBuf>)> {
    let net = super::extract::load_backbone(&a.backbone)?;
    let stride = a.stride.unwrap_or(3).max(1);
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut last = String::new();
    let prepared = crate::train::annotated::prepare(
        folder,
        &net,
        stride,
        &mut |what, done, total| {
            let line = format!("{what}: {}%", done * 100 / total.max(1) / 10 * 10);
            if line != last {
                eprintln!("{line}");
                last = line;
            }
        },
        &cancel,
    )?;
    for p in &prepared.problems {
        eprintln!("{p}");
    }
    eprintln!(
        "training on {} annotated video(s), holding out {} ({}); {} without labels; dataset in {}",
        prepared.train.len(),
        prepared.held_out.len(),
        if prepared.held_out.is_empty() {
            "only one video: the score is on the training video".to_owned()
        } else {
            prepared.held_out.join(", ")
        },
        prepared.unlabelled.len(),
        prepared.root.display()
    );
    let ds = open(&prepared.root)?;
    let text_table = match (&a.text_table, a.model, a.no_text) {
        (Some(t), _, _) => Some(t.clone()),
        (None, ModelKind::Mmant, false) => {
            let dir = crate::text::default_model_dir();
            let encoder = crate::text::SentenceEncoder::load(&dir, &candle_core::Device::Cpu)?;
            let names = ds.levels[0].vocab.names();
            let sentences: Vec<String> =
                names.iter().map(|n| crate::text::label_sentence(n)).collect();
            let emb = encoder.embed(&sentences)?;
            let out = prepared.root.join("label_embeddings.safetensors");
            crate::text::write_label_embeddings(&out, names, &emb)?;
            Some(out)
        }
        (None, _, _) => None,
    };
    Ok((ds, InputChoice::Features, Some(net.backbone.dim()), text_table))
}
