//! `mmant data check`: a dataset's counts and the problems the data layer finds.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::open;

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

pub(super) fn check(a: &CheckArgs) -> Result<ExitCode> {
    let ds = open(&a.root)?;
    let report = crate::data::check::check(&ds, a.feature_dim);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
