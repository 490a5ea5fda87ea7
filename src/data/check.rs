//! `mmant data check`: what a dataset holds and what is wrong with it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::dataset::{Dataset, Layout, LengthMismatch};
use super::features::Features;
use super::labels::{UNKNOWN, UnknownLabel};

#[derive(Debug, Clone, Serialize)]
pub struct ClassCount {
    pub id: u32,
    pub name: String,
    pub frames: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelReport {
    pub name: String,
    pub mapping_file: String,
    pub classes: usize,
    /// Classes that never occur in the label files.
    pub unused_classes: Vec<String>,
    pub histogram: Vec<ClassCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SplitReport {
    pub name: String,
    pub train: usize,
    pub val: usize,
    pub test: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureReport {
    pub folder: String,
    pub files: usize,
    pub dims: Vec<usize>,
    pub missing: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub root: String,
    pub name: String,
    pub layout: Layout,
    pub videos: usize,
    pub frames: u64,
    pub min_frames: usize,
    pub median_frames: usize,
    pub max_frames: usize,
    pub levels: Vec<LevelReport>,
    pub splits: Vec<SplitReport>,
    pub features: Option<FeatureReport>,
    pub length_mismatches: Vec<LengthMismatch>,
    pub unknown_labels: Vec<UnknownLabel>,
    /// Problems that make the dataset unusable as it is (missing or unreadable files).
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty() && self.unknown_labels.is_empty()
    }
}

/// Reads every label file (and the shape of every feature file) of `ds`.
pub fn check(ds: &Dataset, feature_dim: Option<usize>) -> CheckReport {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let videos = match ds.label_files() {
        Ok(v) => v,
        Err(e) => {
            errors.push(e.to_string());
            Vec::new()
        }
    };
    if videos.is_empty() && errors.is_empty() {
        errors.push(format!("{}: no <video>.txt label files", ds.label_dir.display()));
    }
    let known: BTreeSet<&str> = videos.iter().map(String::as_str).collect();
    let mut splits = Vec::new();
    let mut in_a_split = BTreeSet::new();
    for s in &ds.splits {
        for (part, list) in [("train", &s.train), ("val", &s.val), ("test", &s.test)] {
            let mut missing = list.iter().filter(|v| !known.contains(v.as_str())).peekable();
            if missing.peek().is_some() {
                let missing: Vec<&String> = missing.collect();
                errors.push(format!(
                    "split {} ({part}) lists {} video{} with no label file in {}, first: {}",
                    s.name,
                    missing.len(),
                    if missing.len() == 1 { "" } else { "s" },
                    ds.label_dir.display(),
                    missing[0]
                ));
            }
            in_a_split.extend(list.iter().map(String::as_str));
        }
        splits.push(SplitReport {
            name: s.name.clone(),
            train: s.train.len(),
            val: s.val.len(),
            test: s.test.len(),
        });
    }
    let outside = videos.iter().filter(|v| !in_a_split.contains(v.as_str())).count();
    if outside > 0 {
        warnings.push(format!("{outside} videos with labels are in no split"));
    }

    let mut histograms: Vec<Vec<u64>> = ds.levels.iter().map(|l| vec![0; l.vocab.len()]).collect();
    let mut lengths = Vec::with_capacity(videos.len());
    let mut unknown_labels = Vec::new();
    let mut length_mismatches = Vec::new();
    let mut feature_dims = BTreeSet::new();
    let mut feature_files = 0;
    let mut features_missing = 0;
    for video in &videos {
        let levels = match ds.read_labels(video) {
            Ok((levels, unknown)) => {
                unknown_labels.extend(unknown);
                levels
            }
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let frames = levels[0].len();
        lengths.push(frames);
        for (hist, labels) in histograms.iter_mut().zip(&levels) {
            for &id in labels.iter().filter(|&&id| id != UNKNOWN) {
                hist[id as usize] += 1;
            }
        }
        if let Some(path) = ds.features_path(video) {
            if !path.exists() {
                features_missing += 1;
                continue;
            }
            match Features::read_shape(&path, feature_dim) {
                Ok((dim, feature_frames)) => {
                    feature_files += 1;
                    feature_dims.insert(dim);
                    if feature_frames != frames {
                        length_mismatches.push(LengthMismatch {
                            video: video.clone(),
                            label_frames: frames,
                            feature_frames,
                        });
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    if features_missing > 0 {
        warnings.push(format!("{features_missing} videos have labels but no feature file"));
    }
    if feature_dims.len() > 1 {
        errors.push(format!("feature files disagree on the dimension: {feature_dims:?}"));
    }

    let levels = ds
        .levels
        .iter()
        .zip(histograms)
        .map(|(level, hist)| LevelReport {
            name: level.name.clone(),
            mapping_file: level.mapping_file.display().to_string(),
            classes: level.vocab.len(),
            unused_classes: level
                .vocab
                .names()
                .iter()
                .zip(&hist)
                .filter(|(_, n)| **n == 0)
                .map(|(c, _)| c.clone())
                .collect(),
            histogram: level
                .vocab
                .names()
                .iter()
                .zip(hist)
                .enumerate()
                .map(|(id, (name, frames))| ClassCount {
                    id: id as u32,
                    name: name.clone(),
                    frames,
                })
                .collect(),
        })
        .collect();

    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    CheckReport {
        root: ds.root.display().to_string(),
        name: ds.name.clone(),
        layout: ds.layout,
        videos: lengths.len(),
        frames: lengths.iter().map(|&n| n as u64).sum(),
        min_frames: sorted.first().copied().unwrap_or(0),
        median_frames: sorted.get(sorted.len().saturating_sub(1) / 2).copied().unwrap_or(0),
        max_frames: sorted.last().copied().unwrap_or(0),
        levels,
        splits,
        features: ds.features_dir.as_ref().map(|d| FeatureReport {
            folder: d.display().to_string(),
            files: feature_files,
            dims: feature_dims.into_iter().collect(),
            missing: features_missing,
        }),
        length_mismatches,
        unknown_labels,
        errors,
        warnings,
    }
}

/// At most this many lines of each kind of problem are printed (the JSON has them all).
const SHOW: usize = 20;

fn list<T: std::fmt::Display>(out: &mut String, title: &str, items: &[T]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({}):", items.len());
    for item in items.iter().take(SHOW) {
        let _ = writeln!(out, "  {item}");
    }
    if items.len() > SHOW {
        let _ = writeln!(out, "  … and {} more (see --json)", items.len() - SHOW);
    }
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let _ = writeln!(out, "dataset {} ({} layout) at {}", self.name, self.layout, self.root);
        let _ = writeln!(
            out,
            "videos: {}   frames: {}   length min/median/max: {}/{}/{}",
            self.videos, self.frames, self.min_frames, self.median_frames, self.max_frames
        );
        for l in &self.levels {
            let _ = writeln!(out, "level {}: {} classes ({})", l.name, l.classes, l.mapping_file);
        }
        for s in &self.splits {
            let val = if s.val > 0 { format!(" val {}", s.val) } else { String::new() };
            let _ = writeln!(out, "split {}: train {}{val} test {}", s.name, s.train, s.test);
        }
        if let Some(feat) = &self.features {
            let _ = writeln!(
                out,
                "features: {} files in {}, dimension {:?}, {} missing",
                feat.files, feat.folder, feat.dims, feat.missing
            );
        } else {
            let _ = writeln!(out, "features: none (no features/ folder)");
        }
        for l in &self.levels {
            let total: u64 = l.histogram.iter().map(|c| c.frames).sum::<u64>().max(1);
            let _ = writeln!(out, "\nclass histogram, level {} (frames):", l.name);
            let width = l.histogram.iter().map(|c| c.name.len()).max().unwrap_or(0);
            let most = l.histogram.iter().map(|c| c.frames).max().unwrap_or(1).max(1);
            for c in &l.histogram {
                let bar = "#".repeat(((c.frames * 40) / most) as usize);
                let _ = writeln!(
                    out,
                    "  {:>3} {:<width$} {:>9} {:>5.1}% {bar}",
                    c.id,
                    c.name,
                    c.frames,
                    100.0 * c.frames as f64 / total as f64
                );
            }
            if !l.unused_classes.is_empty() {
                let _ = writeln!(out, "  never used: {}", l.unused_classes.join(", "));
            }
        }
        list(&mut out, "length mismatches (features vs labels)", &self.length_mismatches);
        list(&mut out, "unknown labels", &self.unknown_labels);
        list(&mut out, "warnings", &self.warnings);
        list(&mut out, "errors", &self.errors);
        let verdict = if self.ok() {
            "OK".to_owned()
        } else {
            format!("{} errors, {} unknown labels", self.errors.len(), self.unknown_labels.len())
        };
        let _ = writeln!(out, "\n{verdict}");
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_problems() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        crate::data::dataset::tests::mstcn_fixture(d);
        // an unknown label, a video outside every split, a split entry without labels
        std::fs::write(d.join("groundTruth/P03_tea.txt"), "SIL\nfly\n").unwrap();
        std::fs::write(d.join("splits/test.split1.bundle"), "P02_milk.txt\nP09_tea.txt\n").unwrap();
        let ds = Dataset::open(d).unwrap();
        let r = check(&ds, None);
        assert_eq!((r.videos, r.frames), (3, 8));
        assert_eq!((r.min_frames, r.median_frames, r.max_frames), (2, 2, 4));
        assert_eq!(r.levels[1].histogram[0].frames, 4);
        assert_eq!(r.levels[1].histogram[2].frames, 2);
        assert_eq!(r.unknown_labels.len(), 1);
        assert!(
            r.errors[0].contains("split 1 (test) lists 1 video with no label file"),
            "{:?}",
            r.errors
        );
        assert_eq!(r.warnings, vec!["1 videos with labels are in no split"]);
        assert!(!r.ok());
        let text = r.to_string();
        assert!(
            text.contains("unknown labels (1):")
                && text.contains("P03_tea.txt:2: unknown label 'fly'"),
            "{text}"
        );
    }
}
