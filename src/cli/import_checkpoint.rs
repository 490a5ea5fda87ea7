//! `mmant import-checkpoint`: a FUTR checkpoint of the official PyTorch code → a mmant checkpoint.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::model::checkpoint::{self, CheckpointMeta, InputKind, ModelConfig};
use crate::model::futr_import::{self, ImportedInput};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportModel {
    /// FUTR, from github.com/gongda0e/FUTR (`torch.save(model.state_dict())` of its
    /// DataParallel model)
    Futr,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:
  mmant import-checkpoint --model futr ckpt/bf_split1.ckpt --dataset ../shared/data/breakfast --split 1 --out runs/futr-official-bf1")]
pub struct ImportCheckpointArgs {
    #[arg(long, value_enum)]
    pub model: ImportModel,
    /// The PyTorch file (.ckpt / .pth, the zip format of torch ≥ 1.6)
    pub file: PathBuf,
    /// The dataset it was trained on (its mapping.txt names the classes, in the order the
    /// official code numbers them)
    #[arg(long)]
    pub dataset: PathBuf,
    /// Where to write model.safetensors and model.json
    #[arg(long)]
    pub out: PathBuf,
    /// Attention heads: the weights do not say (the official scripts always use 8)
    #[arg(long, default_value_t = 8)]
    pub heads: usize,
    /// τ, the frames per token (default: the official scripts': Breakfast 3, 50 Salads 6)
    #[arg(long)]
    pub stride: Option<usize>,
    /// The split it was trained on, for the description
    #[arg(long, default_value = "unknown")]
    pub split: String,
}

pub(super) fn run(a: &ImportCheckpointArgs) -> Result<ExitCode> {
    let ImportModel::Futr = a.model;
    let ds = super::open(&a.dataset)?;
    let state = candle_core::pickle::read_all(&a.file).with_context(|| {
        format!(
            "{}: expected a PyTorch state dict (zip format, torch 1.6 or later)",
            a.file.display()
        )
    })?;
    let imported = futr_import::futr_from_official(state, a.heads)
        .with_context(|| format!("importing {}", a.file.display()))?;
    let vocab = ds.levels[0].vocab.names().to_vec();
    if imported.config.num_classes != vocab.len() {
        bail!(
            "{} has {} classes, {}'s mapping.txt {}: not the dataset it was trained on",
            a.file.display(),
            imported.config.num_classes,
            a.dataset.display(),
            vocab.len()
        );
    }
    let input = match imported.input {
        ImportedInput::Features { dim } => {
            InputKind::Features { dim, backbone: None, feature_stride: None }
        }
        ImportedInput::GtLabels { classes } => InputKind::GtLabels { classes },
    };
    let defaults = crate::train::TrainConfig::for_dataset(
        &ds.name,
        crate::train::ModelKind::Futr,
        a.out.clone(),
    );
    let meta = CheckpointMeta {
        format: checkpoint::FORMAT.into(),
        model: ModelConfig::Futr(imported.config.clone()),
        input,
        dataset: ds.name.clone(),
        split: a.split.clone(),
        level: ds.levels[0].name.clone(),
        fine_level: None,
        vocabulary: vocab,
        fine_vocabulary: vec![],
        stride: a.stride.unwrap_or(defaults.stride),
        seed: 0,
        epochs: 0,
        git_commit: checkpoint::git_commit(),
        mmant_version: env!("CARGO_PKG_VERSION").into(),
        selected: None,
    };
    let varmap = candle_nn::VarMap::new();
    {
        let mut data = varmap.data().lock().expect("not poisoned");
        for (k, t) in &imported.tensors {
            data.insert(k.clone(), candle_core::Var::from_tensor(t)?);
        }
    }
    crate::fsutil::create_output_dir(&a.out)
        .with_context(|| format!("creating {}", a.out.display()))?;
    let stem = a.out.join("model");
    checkpoint::save(&stem, &varmap, &meta).context("writing the checkpoint")?;
    let c = &imported.config;
    println!(
        "imported FUTR: D {}, {} heads, {} encoder / {} decoder layers, {} queries, {} classes, {} positions, input {:?}",
        c.d_model,
        c.heads,
        c.encoder_layers,
        c.decoder_layers,
        c.queries,
        c.num_classes,
        c.max_pos_len,
        meta.input
    );
    for d in &imported.dropped {
        println!("not carried over: {d}");
    }
    println!("wrote {}.{{safetensors,json}}", stem.display());
    Ok(ExitCode::SUCCESS)
}
