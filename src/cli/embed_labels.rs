//! `mmant embed-labels`: the label-name table of m&m-Ant's text modality.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

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

pub(super) fn run(a: &EmbedLabelsArgs) -> Result<ExitCode> {
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
