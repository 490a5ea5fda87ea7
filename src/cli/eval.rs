//! `mmant eval` (the MoC grid of a baseline or checkpoints, or segmentation scores) and
//! `mmant merge-results`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::{check_fractions, open, write_results};
use crate::data::{Dataset, Split};
use crate::eval::{self, Anticipator, Baseline, GridConfig, GridReport, MethodError};
use crate::model::oracle::QueryOracle;
use crate::model::{anticipate, checkpoint};
use crate::train::remaining_duration::{FirstSegmentTiming, fit_estimate};

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
#[command(group(clap::ArgGroup::new("method").required(true).args(["baseline", "checkpoint", "segmentation", "oracle_queries"])))]
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
    #[arg(long, value_enum, conflicts_with_all = ["segmentation", "checkpoint"])]
    pub baseline: Option<Baseline>,
    /// A trained checkpoint (`<dir>/model` or its .json/.safetensors); `{split}` in the path is
    /// replaced by each split's name, so `--split all` can use one checkpoint per split
    #[arg(long, conflicts_with = "segmentation")]
    pub checkpoint: Option<String>,
    /// Not a method: the ceiling that M queries and FUTR's decoding put on any model. The true
    /// future is cut to M queries as training cuts it and decoded from perfectly confident
    /// outputs (it reads the test videos' future); results named `oracle-m<M>`
    #[arg(long, value_name = "M", conflicts_with_all = ["segmentation", "checkpoint", "baseline"], value_parser = clap::value_parser!(u64).range(1..))]
    pub oracle_queries: Option<u64>,
    /// Stride τ of the oracle's cut (default: the dataset's, as training uses)
    #[arg(long, requires = "oracle_queries")]
    pub oracle_stride: Option<usize>,
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
    /// Also write every test video's frames at each α in MS-TCN's text layout (one label name per
    /// frame for the whole video: observed, then anticipated; NONE where no action is
    /// anticipated) to DIR/split-<k>/alpha-<α>/<video>.txt, for scoring with other MoC code
    #[arg(long, value_name = "DIR", conflicts_with = "segmentation")]
    pub write_predictions: Option<PathBuf>,
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
    /// Instead of anticipating: score how the checkpoint's segmentation head labels the observed
    /// frames [0, ⌊αN⌋) at each α (Acc, Edit, F1@{10,25,50}); for a checkpoint that observes
    /// features (one that observes labels copies them)
    #[arg(long, requires = "checkpoint", conflicts_with_all = ["diagnose", "write_predictions", "time_first_segment"])]
    pub recognition: bool,
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

fn parse_observed(s: &str) -> Result<Observed, String> {
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

pub(super) fn eval(a: &EvalArgs) -> Result<ExitCode> {
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
    if a.recognition {
        return observed_recognition(a, &ds, &splits);
    }
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
        write_predictions: a.write_predictions.clone(),
    };
    let level = ds.level_index(&a.level)?;
    let classes = ds.levels[level].vocab.len();
    let (method, make): (String, Box<eval::MethodFactory>) = if let Some(template) = &a.checkpoint {
        // the first split's checkpoint tells whether features are needed
        let first =
            checkpoint::read_meta(Path::new(&template.replace("{split}", &splits[0].name)))?;
        if let checkpoint::InputKind::Features { dim, .. } = first.input {
            cfg.feature_dim = Some(dim);
        }
        let make = anticipate::checkpoint_factory(
            template.clone(),
            ds.name.clone(),
            a.level.clone(),
            ds.levels[level].vocab.names().to_vec(),
        );
        (anticipate::method_name(&first).to_owned(), Box::new(make))
    } else if let Some(queries) = a.oracle_queries {
        let queries = queries as usize;
        let stride = a.oracle_stride.unwrap_or_else(|| {
            crate::train::TrainConfig::for_dataset(
                &ds.name,
                crate::train::ModelKind::Mmant,
                PathBuf::new(),
            )
            .stride
        });
        let ds = &ds;
        let make = move |split: &Split, _: &[&[u32]]| {
            let truth = split
                .test
                .iter()
                .map(|v| Ok((v.clone(), ds.load_video(v, None)?.levels.swap_remove(level))))
                .collect::<Result<_, crate::data::DataError>>()
                .map_err(MethodError::new)?;
            Ok(Box::new(QueryOracle { queries, stride, classes, truth }) as Box<dyn Anticipator>)
        };
        (format!("oracle-m{queries}"), Box::new(make))
    } else {
        let baseline =
            a.baseline.expect("clap requires --baseline, --checkpoint or --segmentation");
        (
            baseline.name().to_owned(),
            Box::new(move |_: &Split, train: &[&[u32]]| Ok(baseline.fit(train, classes))),
        )
    };
    let (method, make): (String, Box<eval::MethodFactory>) = match a.time_first_segment {
        Some(timing) => {
            let fit = move |split: &Split, train: &[&[u32]]| {
                fit_estimate(timing, &split.name, train, classes).map_err(MethodError::new)
            };
            let timed = eval::baselines::with_timed_first_segment(make, fit);
            (format!("{method}-{}", timing.suffix()), timed)
        }
        None => (method, make),
    };
    if a.diagnose {
        for report in eval::diagnose::first_segment_per_split(
            &ds,
            &splits,
            level,
            cfg.feature_dim,
            make.as_ref(),
        )? {
            println!("{report}");
        }
    }
    let source = a.checkpoint.as_deref().unwrap_or(method.as_str());
    let report = eval::evaluate_method(&ds, &splits, &method, make.as_ref(), &cfg)
        .with_context(|| format!("evaluating {source} on {}", ds.name))?;
    let observed = observation_suffix(&report.observation);
    let stem = format!("{}_{}_{}_split-{}{observed}", ds.name, method, report.level, a.split);
    write_grid(&report, &a.out, &stem, a.json)
}

/// `eval --checkpoint … --recognition`: one checkpoint's recognition of the observed frames.
fn observed_recognition(a: &EvalArgs, ds: &Dataset, splits: &[&Split]) -> Result<ExitCode> {
    let template = a.checkpoint.as_deref().expect("clap requires --checkpoint");
    let level = ds.level_index(&a.level)?;
    let background = eval::recognition::background_ids(&ds.levels[level].vocab, &a.background)?;
    let mut reports = Vec::new();
    for split in splits {
        let path = template.replace("{split}", &split.name);
        let report = crate::model::recognize::observed_recognition(
            ds,
            &[split],
            &a.level,
            Path::new(&path),
            &a.alphas,
            &background,
        )
        .with_context(|| format!("scoring the recognition of {path} on {}", ds.name))?;
        reports.push((split.name.clone(), report));
    }
    let mut csv = String::from("split,alpha,videos,acc,edit,f1_10,f1_25,f1_50\n");
    for (split, r) in &reports {
        for (alpha, s) in &r.rows {
            csv += &format!(
                "{split},{alpha},{},{:.4},{:.4},{:.4},{:.4},{:.4}\n",
                r.videos, s.accuracy, s.edit, s.f1_10, s.f1_25, s.f1_50
            );
        }
    }
    let json = serde_json::to_string_pretty(&reports)?;
    let stem = format!("{}_recognition_{}_split-{}", ds.name, ds.levels[level].name, a.split);
    let (csv_path, json_path) = write_results(&a.out, &stem, csv.as_bytes(), &json)?;
    if a.json {
        println!("{json}");
    } else {
        for (split, r) in &reports {
            println!("split {split}: {r}");
        }
        println!("wrote {} and {}", csv_path.display(), json_path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// What a result file's name says about what was observed.
fn observation_suffix(observation: &str) -> &'static str {
    if observation == "ground truth" {
        ""
    } else if observation.starts_with("segmentation") {
        "_observed-segmentation"
    } else {
        "_observed-features"
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

pub(super) fn merge_results(a: &MergeResultsArgs) -> Result<ExitCode> {
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
    let observed = observation_suffix(&report.observation);
    let stem = format!(
        "{}_{}_{}_split-{}{observed}",
        report.dataset,
        report.method,
        report.level,
        splits.join("+")
    );
    write_grid(&report, &a.out, &stem, a.json)
}
