//! The anticipation grid: every test video of every selected split, at every (α, β), pooled per
//! split, then averaged over splits (as FUTR and its followers report).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::anticipator::{AnticipationError, Anticipator, MethodError, Observation};
use super::baselines::{LastObserved, TransitionPrior};
use super::moc::{ClassCounts, eval_window, observed_frames};
use super::recognition::{background_ids, read_recognition};
use super::segmentation::{SegmentationCounts, SegmentationScores};
use crate::data::{DataError, Dataset, Split};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Baseline {
    /// The last observed label continues to the end.
    LastObserved,
    /// The most frequent next action with its mean relative duration, from the training split.
    TransitionPrior,
}

impl Baseline {
    pub fn name(self) -> &'static str {
        match self {
            Baseline::LastObserved => "last-observed",
            Baseline::TransitionPrior => "transition-prior",
        }
    }

    pub fn fit(self, train: &[&[u32]], classes: usize) -> Box<dyn Anticipator> {
        match self {
            Baseline::LastObserved => Box::new(LastObserved::fit(train.iter().copied(), classes)),
            Baseline::TransitionPrior => {
                Box::new(TransitionPrior::fit(train.iter().copied(), classes))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct GridConfig {
    /// The level whose labels are observed and anticipated (e.g. "action").
    pub level: String,
    pub alphas: Vec<f64>,
    pub betas: Vec<f64>,
    /// Observe a segmentation model's output (`<dir>/<video>[.txt]`, MS-TCN's prediction format)
    /// instead of the ground truth. The future is always scored against the ground truth.
    pub observed_dir: Option<PathBuf>,
    /// Classes dropped from edit and F1 of the observed part (MS-TCN's `bg_class`).
    pub background: Vec<String>,
    /// Load features of this dimension for anticipators that observe features.
    pub feature_dim: Option<usize>,
    /// Also write every test video's frames at each α, in MS-TCN's text layout (one label name
    /// per frame, the whole video: the observed frames as observed, then the anticipated ones;
    /// NONE where the model anticipates no action), to
    /// `<dir>/split-<k>/alpha-<α>/<video>.txt`, so that any MoC code can score them.
    pub write_predictions: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Anticipation(#[from] AnticipationError),
    #[error("preparing the method for split {split}: {error}")]
    Method { split: String, error: MethodError },
    #[error("writing the predictions to {path}: {error}")]
    Write { path: PathBuf, error: std::io::Error },
}

/// Writes one video's observed and anticipated frames as label names, one per line.
fn write_prediction(
    path: &std::path::Path,
    observed: &[u32],
    future: &[u32],
    vocab: &crate::data::Vocabulary,
) -> Result<(), EvalError> {
    let mut text = String::with_capacity(16 * (observed.len() + future.len()));
    for &id in observed.iter().chain(future) {
        text.push_str(vocab.name(id).unwrap_or("NONE"));
        text.push('\n');
    }
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::fsutil::write_atomic(path, text.as_bytes())
    };
    write().map_err(|error| EvalError::Write { path: path.to_owned(), error })
}

/// Why per-split reports cannot be put in one table.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no reports to merge")]
    Empty,
    #[error(
        "report {index} differs from the first in its {what}: expected {expected}, found {found}"
    )]
    Mismatch { index: usize, what: &'static str, expected: String, found: String },
    #[error("split {split} is in more than one report (reports {first} and {second})")]
    DuplicateSplit { split: String, first: usize, second: usize },
}

/// Builds the anticipator of one split from that split's training label sequences.
pub type MethodFactory<'a> =
    dyn Fn(&Split, &[&[u32]]) -> Result<Box<dyn Anticipator>, MethodError> + 'a;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub alpha: f64,
    pub beta: f64,
    /// MoC ×100; None when no frame was evaluated.
    pub moc: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObservedScores {
    pub alpha: f64,
    #[serde(flatten)]
    pub scores: SegmentationScores,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SplitResult {
    pub split: String,
    pub test_videos: usize,
    pub train_videos: usize,
    pub cells: Vec<Cell>,
    /// Segmentation metrics of the observed part when a segmentation model's output is observed.
    pub observed: Vec<ObservedScores>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridReport {
    pub dataset: String,
    pub method: String,
    pub level: String,
    pub observation: String,
    pub alphas: Vec<f64>,
    pub betas: Vec<f64>,
    pub splits: Vec<SplitResult>,
    /// Mean over splits of each cell (over the splits where it is defined).
    pub mean: Vec<Cell>,
    pub warnings: Vec<String>,
}

/// The grid for a baseline.
pub fn evaluate(
    ds: &Dataset,
    splits: &[&Split],
    baseline: Baseline,
    cfg: &GridConfig,
) -> Result<GridReport, EvalError> {
    let classes = ds.levels[ds.level_index(&cfg.level)?].vocab.len();
    evaluate_method(ds, splits, baseline.name(), &|_, train| Ok(baseline.fit(train, classes)), cfg)
}

/// The grid for any anticipator; `name` labels the report.
pub fn evaluate_method(
    ds: &Dataset,
    splits: &[&Split],
    name: &str,
    make: &MethodFactory,
    cfg: &GridConfig,
) -> Result<GridReport, EvalError> {
    let level = ds.level_index(&cfg.level)?;
    let vocab = &ds.levels[level].vocab;
    let background = background_ids(vocab, &cfg.background)?;
    let mut warnings = Vec::new();

    // every video once, whatever the number of splits (features of test videos only)
    let mut labels: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut features: HashMap<&str, crate::data::Features> = HashMap::new();
    for s in splits {
        for v in &s.train {
            if !labels.contains_key(v.as_str()) {
                let mut video = ds.load_video(v, None)?;
                labels.insert(v.as_str(), std::mem::take(&mut video.levels[level]));
            }
        }
    }
    for s in splits {
        for v in &s.test {
            if !features.contains_key(v.as_str())
                && (cfg.feature_dim.is_some() || !labels.contains_key(v.as_str()))
            {
                let mut video = ds.load_video(v, cfg.feature_dim)?;
                if let Some(m) = &video.mismatch {
                    warnings.push(m.to_string());
                }
                labels.insert(v.as_str(), std::mem::take(&mut video.levels[level]));
                if let Some(f) = video.features.take() {
                    features.insert(v.as_str(), f);
                }
            }
        }
    }

    let mut results = Vec::new();
    for split in splits {
        let train: Vec<&[u32]> =
            split.train.iter().map(|v| labels[v.as_str()].as_slice()).collect();
        let anticipator = make(split, &train)
            .map_err(|error| EvalError::Method { split: split.name.clone(), error })?;
        let mut counts =
            vec![vec![ClassCounts::new(vocab.len()); cfg.betas.len()]; cfg.alphas.len()];
        let mut observed_counts = vec![SegmentationCounts::default(); cfg.alphas.len()];
        for video in &split.test {
            let gt = &labels[video.as_str()];
            let recognized = match &cfg.observed_dir {
                None => None,
                Some(dir) => {
                    let r = read_recognition(dir, video)?;
                    let mut ids = r.encode_strict(vocab)?;
                    if ids.len() != gt.len() {
                        warnings.push(format!(
                            "{}: {} recognized frames, {} ground-truth frames; {}",
                            r.path.display(),
                            ids.len(),
                            gt.len(),
                            if ids.len() > gt.len() {
                                "cut to the ground truth"
                            } else {
                                "the last label is repeated to the end"
                            }
                        ));
                        let last = ids.last().copied().unwrap_or(0);
                        ids.resize(gt.len(), last);
                    }
                    Some(ids)
                }
            };
            let observed_source = recognized.as_deref().unwrap_or(gt);
            for (a, &alpha) in cfg.alphas.iter().enumerate() {
                let observed = observed_frames(alpha, gt.len());
                let future = anticipator.anticipate(&Observation {
                    video,
                    labels: &observed_source[..observed],
                    features: features.get(video.as_str()),
                    total_frames: gt.len(),
                })?;
                if let Some(dir) = &cfg.write_predictions {
                    let path = dir
                        .join(format!("split-{}", split.name))
                        .join(format!("alpha-{alpha}"))
                        .join(format!("{video}.txt"));
                    write_prediction(&path, &observed_source[..observed], &future, vocab)?;
                }
                for (b, &beta) in cfg.betas.iter().enumerate() {
                    counts[a][b].add(gt, observed, &future, eval_window(alpha, beta, gt.len()));
                }
                if recognized.is_some() && observed > 0 {
                    observed_counts[a].add(
                        &observed_source[..observed],
                        &gt[..observed],
                        &background,
                    );
                }
            }
        }
        let cells = cfg
            .alphas
            .iter()
            .enumerate()
            .flat_map(|(a, &alpha)| {
                cfg.betas.iter().enumerate().map(move |(b, &beta)| (a, b, alpha, beta))
            })
            .map(|(a, b, alpha, beta)| Cell { alpha, beta, moc: counts[a][b].moc() })
            .collect();
        let observed = if cfg.observed_dir.is_some() {
            cfg.alphas
                .iter()
                .zip(&observed_counts)
                .map(|(&alpha, c)| ObservedScores { alpha, scores: c.summary() })
                .collect()
        } else {
            Vec::new()
        };
        results.push(SplitResult {
            split: split.name.clone(),
            test_videos: split.test.len(),
            train_videos: split.train.len(),
            cells,
            observed,
        });
    }

    let mean = mean_cells(&results);
    Ok(GridReport {
        dataset: ds.name.clone(),
        method: name.to_owned(),
        level: ds.levels[level].name.clone(),
        observation: match (&cfg.observed_dir, cfg.feature_dim) {
            (Some(d), _) => format!("segmentation output in {}", d.display()),
            (None, Some(dim)) => format!("{dim}-d features"),
            (None, None) => "ground truth".to_owned(),
        },
        alphas: cfg.alphas.clone(),
        betas: cfg.betas.clone(),
        splits: results,
        mean,
        warnings,
    })
}

fn mean_cells(results: &[SplitResult]) -> Vec<Cell> {
    let Some(first) = results.first() else { return Vec::new() };
    (0..first.cells.len())
        .map(|i| {
            let defined: Vec<f64> = results.iter().filter_map(|r| r.cells[i].moc).collect();
            Cell {
                alpha: first.cells[i].alpha,
                beta: first.cells[i].beta,
                moc: (!defined.is_empty())
                    .then(|| defined.iter().sum::<f64>() / defined.len() as f64),
            }
        })
        .collect()
}

/// Numbered splits in numeric order (2 before 10), named ones after them.
fn natural_key(split: &str) -> (u64, &str) {
    (split.parse().unwrap_or(u64::MAX), split)
}

fn fmt_moc(m: Option<f64>) -> String {
    m.map_or_else(|| "n/a".to_owned(), |m| format!("{m:.2}"))
}

impl GridReport {
    /// One report from several of the same method, dataset, level, observation and grid (one per
    /// split, e.g. each trained and scored on a different machine), with the mean over all their
    /// splits recomputed. Splits are ordered by name; a split given twice is refused, since it
    /// would weigh twice in the mean.
    pub fn merge(reports: Vec<GridReport>) -> Result<GridReport, MergeError> {
        let mut reports = reports.into_iter();
        let mut merged = reports.next().ok_or(MergeError::Empty)?;
        let mut source: HashMap<String, usize> =
            merged.splits.iter().map(|r| (r.split.clone(), 0)).collect();
        for (i, r) in reports.enumerate() {
            let index = i + 1;
            let same = |what: &'static str, expected: String, found: String| {
                if expected == found {
                    Ok(())
                } else {
                    Err(MergeError::Mismatch { index, what, expected, found })
                }
            };
            same("dataset", merged.dataset.clone(), r.dataset.clone())?;
            same("method", merged.method.clone(), r.method.clone())?;
            same("level", merged.level.clone(), r.level.clone())?;
            same("observation", merged.observation.clone(), r.observation.clone())?;
            same("α", format!("{:?}", merged.alphas), format!("{:?}", r.alphas))?;
            same("β", format!("{:?}", merged.betas), format!("{:?}", r.betas))?;
            for split in r.splits {
                if let Some(&first) = source.get(&split.split) {
                    return Err(MergeError::DuplicateSplit {
                        split: split.split,
                        first,
                        second: index,
                    });
                }
                source.insert(split.split.clone(), index);
                merged.splits.push(split);
            }
            merged.warnings.extend(r.warnings);
        }
        merged.splits.sort_by(|a, b| natural_key(&a.split).cmp(&natural_key(&b.split)));
        merged.mean = mean_cells(&merged.splits);
        Ok(merged)
    }

    /// A Markdown table: α rows × β columns, for each split and then their mean.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "MoC ×100 — dataset {}, method {}, level {}, observing {}",
            self.dataset, self.method, self.level, self.observation
        );
        let betas: Vec<String> = self.betas.iter().map(|b| format!("β={b}")).collect();
        let _ = writeln!(out, "| split | α | {} |", betas.join(" | "));
        let _ = writeln!(out, "|---|---|{}", "---|".repeat(betas.len()));
        let mut rows = |split: &str, cells: &[Cell], bold: bool| {
            for &alpha in &self.alphas {
                let row: Vec<String> = self
                    .betas
                    .iter()
                    .map(|&beta| {
                        let moc = cells.iter().find(|c| c.alpha == alpha && c.beta == beta);
                        let m = fmt_moc(moc.and_then(|c| c.moc));
                        if bold { format!("**{m}**") } else { m }
                    })
                    .collect();
                let _ = writeln!(out, "| {split} | {alpha} | {} |", row.join(" | "));
            }
        };
        for r in &self.splits {
            rows(&r.split, &r.cells, false);
        }
        if self.splits.len() > 1 {
            rows("mean", &self.mean, true);
        }
        if self.splits.iter().any(|r| !r.observed.is_empty()) {
            let _ = writeln!(out, "\nSegmentation of the observed part (MS-TCN metrics):");
            let _ = writeln!(out, "| split | α | Acc | Edit | F1@10 | F1@25 | F1@50 |");
            let _ = writeln!(out, "|---|---|---|---|---|---|---|");
            for r in &self.splits {
                for o in &r.observed {
                    let s = &o.scores;
                    let _ = writeln!(
                        out,
                        "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                        r.split, o.alpha, s.accuracy, s.edit, s.f1_10, s.f1_25, s.f1_50
                    );
                }
            }
        }
        out
    }

    /// `dataset,method,level,observation,split,alpha,beta,moc` rows; the mean is split "mean".
    pub fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "dataset",
            "method",
            "level",
            "observation",
            "split",
            "alpha",
            "beta",
            "moc",
        ])?;
        let rows = self
            .splits
            .iter()
            .flat_map(|r| r.cells.iter().map(move |c| (r.split.as_str(), c)))
            .chain(self.mean.iter().map(|c| ("mean", c)));
        for (split, c) in rows {
            w.write_record([
                self.dataset.as_str(),
                &self.method,
                &self.level,
                &self.observation,
                split,
                &c.alpha.to_string(),
                &c.beta.to_string(),
                &c.moc.map(|m| format!("{m:.4}")).unwrap_or_default(),
            ])?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_split(split: &str, moc: f64) -> GridReport {
        let cells = vec![
            Cell { alpha: 0.2, beta: 0.1, moc: Some(moc) },
            Cell { alpha: 0.2, beta: 0.5, moc: None },
        ];
        GridReport {
            dataset: "d".into(),
            method: "m".into(),
            level: "action".into(),
            observation: "ground truth".into(),
            alphas: vec![0.2],
            betas: vec![0.1, 0.5],
            splits: vec![SplitResult {
                split: split.into(),
                test_videos: 1,
                train_videos: 2,
                cells: cells.clone(),
                observed: vec![],
            }],
            mean: cells,
            warnings: vec![format!("w{split}")],
        }
    }

    #[test]
    fn merge_orders_splits_and_recomputes_the_mean() {
        let m = GridReport::merge(vec![
            one_split("10", 30.0),
            one_split("2", 10.0),
            one_split("1", 20.0),
        ])
        .unwrap();
        let names: Vec<&str> = m.splits.iter().map(|s| s.split.as_str()).collect();
        assert_eq!(names, ["1", "2", "10"]);
        assert_eq!(m.mean[0].moc, Some(20.0));
        assert_eq!(m.mean[1].moc, None);
        assert_eq!(m.warnings, ["w10", "w2", "w1"]);
        assert!(matches!(GridReport::merge(vec![]), Err(MergeError::Empty)));
        let mut other = one_split("3", 0.0);
        other.betas = vec![0.1, 0.3];
        let e = GridReport::merge(vec![one_split("1", 0.0), other]).unwrap_err().to_string();
        assert_eq!(
            e,
            "report 1 differs from the first in its β: expected [0.1, 0.5], found [0.1, 0.3]"
        );
    }

    #[test]
    fn grid_on_a_tiny_dataset_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        crate::data::dataset::tests::mstcn_fixture(dir.path());
        // test video P02_milk: SIL pour_milk (2 frames); make it 10 frames: SIL×3 pour_milk×7
        std::fs::write(
            dir.path().join("groundTruth/P02_milk.txt"),
            "SIL\n".repeat(3) + &"pour_milk\n".repeat(7),
        )
        .unwrap();
        let ds = Dataset::open(dir.path()).unwrap();
        let splits = ds.select_splits("all").unwrap();
        let cfg = GridConfig {
            level: "action".into(),
            alphas: vec![0.2, 0.3],
            betas: vec![0.1, 0.5],
            observed_dir: None,
            background: vec![],
            feature_dim: None,
            write_predictions: Some(dir.path().join("pred")),
        };
        let r = evaluate(&ds, &splits, Baseline::LastObserved, &cfg).unwrap();
        // the written frames: the whole video, observed then anticipated
        let written =
            std::fs::read_to_string(dir.path().join("pred/split-1/alpha-0.2/P02_milk.txt"))
                .unwrap();
        assert_eq!(written, "SIL\n".repeat(10));
        let written =
            std::fs::read_to_string(dir.path().join("pred/split-1/alpha-0.3/P02_milk.txt"))
                .unwrap();
        assert_eq!(written.lines().count(), 10);
        // α=0.2: observed SIL SIL, predicts SIL: window β=.1 is frame 2 (SIL) → 100; β=.5 frames 2..7:
        // SIL right (1/1), pour_milk 0/4 → MoC 50
        // α=0.3: observed SIL×3 → window 3..4 pour_milk wrong → 0; 3..8 → 0
        let mocs: Vec<Option<f64>> = r.mean.iter().map(|c| c.moc).collect();
        assert_eq!(mocs, vec![Some(100.0), Some(50.0), Some(0.0), Some(0.0)]);
        let table = r.table();
        assert!(table.contains("| split | α | β=0.1 | β=0.5 |"), "{table}");
        assert!(
            table.contains("| 1 | 0.2 | 100.00 | 50.00 |\n| 1 | 0.3 | 0.00 | 0.00 |"),
            "{table}"
        );
        let csv = String::from_utf8(r.csv().unwrap()).unwrap();
        assert!(csv.lines().any(|l| l.ends_with(",1,0.2,0.5,50.0000")), "{csv}");

        // observing a segmentation output instead: it says pour_milk from frame 1
        let rec = dir.path().join("rec");
        std::fs::create_dir(&rec).unwrap();
        std::fs::write(
            rec.join("P02_milk.txt"),
            format!("{}\nSIL pour_milk pour_milk\n", crate::data::RECOGNITION_HEADER),
        )
        .unwrap();
        let cfg = GridConfig { observed_dir: Some(rec), write_predictions: None, ..cfg };
        let r = evaluate(&ds, &splits, Baseline::LastObserved, &cfg).unwrap();
        // 3 recognized frames vs 10: the last label is repeated, so α=0.2 observes SIL pour_milk
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        let mocs: Vec<Option<f64>> = r.mean.iter().map(|c| c.moc).collect();
        // α=0.2 β=.1: frame 2 SIL vs pour_milk → 0; β=.5: SIL 0/1, pour 4/4 → 50
        assert_eq!(mocs, vec![Some(0.0), Some(50.0), Some(100.0), Some(100.0)]);
        assert_eq!(r.splits[0].observed.len(), 2);
        assert_eq!(r.splits[0].observed[0].scores.accuracy, 50.0);
    }
}
