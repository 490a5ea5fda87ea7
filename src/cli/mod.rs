//! Command-line interface: one module per subcommand, its arguments beside its handler; each
//! handler is a thin call into the library. Errors get their context here (anyhow); the library's
//! errors are typed.

mod bench;
mod convert;
mod data;
mod embed_labels;
mod eval;
mod extract;
mod import_checkpoint;
mod predict;
mod train;
mod view;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::data::Dataset;
pub use bench::BenchCommand;
pub use data::DataCommand;

#[derive(Debug, Parser)]
#[command(
    name = "mmant",
    version,
    about = "Long-term action anticipation (m&m-Ant, FUTR): a video viewer that anticipates and annotates, training, evaluation, feature extraction",
    after_help = "With no subcommand, mmant opens the viewer on the embedded demo (a synthetic rendering of one Breakfast video's labels). `mmant view VIDEO` opens your own video."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

// The subcommands (the viewer's own commands are `viewer::UiCommand`); a `///` here would become
// the help's about text.
#[derive(Debug, clap::Subcommand)]
pub enum CliCommand {
    /// Inspect a dataset in the MS-TCN or DARai layout
    #[command(subcommand)]
    Data(DataCommand),
    /// Evaluate long-term anticipation (MoC grid) of a baseline, or score segmentation outputs
    Eval(eval::EvalArgs),
    /// Put per-split MoC results (the JSON `mmant eval` writes) in one table with their mean
    MergeResults(eval::MergeResultsArgs),
    /// Train FUTR or m&m-Ant on one split
    Train(train::TrainArgs),
    /// Embed label names (`_` read as spaces) with all-MiniLM-L6-v2 for m&m-Ant's text modality
    EmbedLabels(embed_labels::EmbedLabelsArgs),
    /// Extract per-frame CNN features of videos: <out>/<video>.npy (float32, C×T) + JSON sidecar
    Extract(extract::ExtractArgs),
    /// Top-5 ImageNet classes of photographs: checks that backbone weights are loaded right
    Classify(extract::ClassifyArgs),
    /// Anticipate without the window: observe a prefix of labels or features, write the CSV the viewer exports
    Predict(predict::PredictArgs),
    /// Open the viewer on a label file (and optionally its video and a checkpoint)
    View(view::ViewArgs),
    /// Convert annotations: MS-TCN, segment CSV, DARai, ELAN .eaf, Label Studio JSON, segment tables
    Convert(convert::ConvertArgs),
    /// Import a FUTR checkpoint of the official PyTorch code (github.com/gongda0e/FUTR)
    ImportCheckpoint(import_checkpoint::ImportCheckpointArgs),
    /// Benchmarks: side-by-side timings in one run
    #[command(subcommand)]
    Bench(BenchCommand),
}

pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> Result<ExitCode> {
    let cli = Cli::parse_from(args);
    match cli.command {
        None => view::demo(),
        Some(CliCommand::Data(DataCommand::Check(a))) => data::check(&a),
        Some(CliCommand::Eval(a)) => eval::eval(&a),
        Some(CliCommand::MergeResults(a)) => eval::merge_results(&a),
        Some(CliCommand::Train(a)) => train::run(&a),
        Some(CliCommand::EmbedLabels(a)) => embed_labels::run(&a),
        Some(CliCommand::Extract(a)) => extract::extract(&a),
        Some(CliCommand::Classify(a)) => extract::classify(&a),
        Some(CliCommand::Predict(a)) => predict::run(&a),
        Some(CliCommand::View(a)) => view::run(&a),
        Some(CliCommand::Convert(a)) => convert::run(&a),
        Some(CliCommand::ImportCheckpoint(a)) => import_checkpoint::run(&a),
        Some(CliCommand::Bench(c)) => bench::run(&c),
    }
}

pub(crate) fn open(root: &Path) -> Result<Dataset> {
    Dataset::open(root).with_context(|| format!("opening dataset {}", root.display()))
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
    crate::fsutil::create_output_dir(out).with_context(|| format!("creating {}", out.display()))?;
    let csv_path = out.join(format!("{stem}.csv"));
    let json_path = out.join(format!("{stem}.json"));
    crate::fsutil::write_atomic(&csv_path, csv)
        .with_context(|| format!("writing {}", csv_path.display()))?;
    crate::fsutil::write_atomic(&json_path, json.as_bytes())
        .with_context(|| format!("writing {}", json_path.display()))?;
    Ok((csv_path, json_path))
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

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_chain_names_each_cause_once() {
        // the library's errors print their source in their message and do not expose it, so
        // anyhow's chain ({:#}) says each cause once
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(crate::model::checkpoint::CheckpointError::Io {
            path: "m.json".into(),
            error: io,
        })
        .context("evaluating m");
        assert_eq!(format!("{err:#}"), "evaluating m: m.json: no such file");
        // causes that add something are all kept
        let plain = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(format!("{plain:#}"), "outer: middle: inner");
    }
}
