//! Training on the user's own annotated videos (`train --from-annotations FOLDER`): every video in
//! the folder with a label file beside it (same name; `.txt`, `.csv`, `.eaf` or `.json`) becomes
//! a video of an MS-TCN-layout dataset under `FOLDER/.mmant/<backbone>/`: its features extracted
//! once and cached there with their sidecar (re-extracted when the backbone's weights, the stride
//! or the video changed), its labels' first level converted to per-frame labels. Every fifth
//! labelled video (at least one when there are two) is held out as the split's test video, to
//! score the run. A video that cannot be used (labels of another length, a video that fails to
//! decode) is reported and left out; the others are still used. Nothing in the user's folder
//! other than `.mmant/` is written.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::{Result, TrainError};
use crate::annotation::Clock;
use crate::annotation::formats::{self, ReadOptions};
use crate::features::{ExtractOptions, Network, extract::extract_video};

pub const VIDEO_EXTENSIONS: [&str; 7] = ["mp4", "mkv", "avi", "mov", "webm", "m4v", "mpg"];
pub const LABEL_EXTENSIONS: [&str; 4] = ["txt", "csv", "eaf", "json"];

/// The folder's videos: those with a label file beside them, and the others.
#[derive(Debug, Default)]
pub struct Found {
    pub labelled: Vec<(PathBuf, PathBuf)>,
    pub unlabelled: Vec<PathBuf>,
}

fn has_ext(p: &Path, exts: &[&str]) -> bool {
    p.extension().is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// The videos of `folder` (not its subfolders), in name order.
pub fn scan(folder: &Path) -> Result<Found> {
    let io = |error| TrainError::Io { context: format!("reading {}", folder.display()), error };
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut found = Found::default();
    for video in files.iter().filter(|p| has_ext(p, &VIDEO_EXTENSIONS)) {
        let label =
            LABEL_EXTENSIONS.iter().map(|e| video.with_extension(e)).find(|l| files.contains(l));
        match label {
            Some(l) => found.labelled.push((video.clone(), l)),
            None => found.unlabelled.push(video.clone()),
        }
    }
    Ok(found)
}

/// The dataset made from the folder.
#[derive(Debug)]
pub struct Prepared {
    pub root: PathBuf,
    pub train: Vec<String>,
    pub held_out: Vec<String>,
    pub unlabelled: Vec<PathBuf>,
    /// Videos left out, and why.
    pub problems: Vec<String>,
}

/// Where the folder's dataset for a backbone lives.
pub fn dataset_root(folder: &Path, backbone: &str) -> PathBuf {
    folder.join(".mmant").join(backbone)
}

/// Builds (or updates) the dataset: features, ground truth, mapping and split 1.
/// `progress(what, done, total)` reports extraction; `cancel` stops it.
pub fn prepare(
    folder: &Path,
    net: &Network,
    stride: usize,
    progress: &mut dyn FnMut(&str, usize, usize),
    cancel: &AtomicBool,
) -> Result<Prepared> {
    let found = scan(folder)?;
    if found.labelled.is_empty() {
        return Err(TrainError::Invalid(format!(
            "{}: no video has a label file beside it (the same name with .txt, .csv, .eaf or .json); annotate one in the viewer first",
            folder.display()
        )));
    }
    let root = dataset_root(folder, net.backbone.name());
    let io = |what: &Path| {
        let what = what.display().to_string();
        move |error| TrainError::Io { context: format!("writing {what}"), error }
    };
    for sub in ["features", "groundTruth", "splits"] {
        std::fs::create_dir_all(root.join(sub)).map_err(io(&root.join(sub)))?;
    }
    let mut problems = Vec::new();
    let mut vocab: Vec<String> = Vec::new();
    let mut usable: Vec<(String, Vec<String>)> = Vec::new();
    for (i, (video, labels)) in found.labelled.iter().enumerate() {
        let name = video.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let meta = match crate::video::VideoFile::open(video) {
            Ok(f) => f.metadata,
            Err(e) => {
                problems.push(format!("{}: not used: {e}", video.display()));
                continue;
            }
        };
        let clock = Clock::of_video(&meta);
        let bytes = std::fs::read(labels).map_err(|error| TrainError::Io {
            context: format!("reading {}", labels.display()),
            error,
        })?;
        let opts =
            ReadOptions { clock: Some(clock), frames: Some(meta.frames), ..Default::default() };
        let doc = match formats::read_with(labels, &bytes, &opts) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{}: not used: {e}", video.display()));
                continue;
            }
        };
        if doc.frames() != meta.frames {
            problems.push(format!(
                "{}: not used: its labels ({}) cover {} frames, the video has {}",
                video.display(),
                labels.display(),
                doc.frames(),
                meta.frames
            ));
            continue;
        }
        let npy = root.join("features").join(format!("{name}.npy"));
        if !crate::features::cache::is_cached(&npy, &net.weights_sha256, stride, Some(meta.frames))
        {
            let opts = ExtractOptions { stride, batch: 8, on_bad_frame: Default::default() };
            let what = format!("extracting {} ({}/{})", name, i + 1, found.labelled.len());
            let mut report = |done: usize, total: usize| progress(&what, done, total);
            if let Err(e) =
                extract_video(net, video, &root.join("features"), &opts, &mut report, cancel)
            {
                if matches!(e, crate::features::FeatureError::Cancelled { .. }) {
                    return Err(TrainError::Invalid("cancelled".into()));
                }
                problems.push(format!("{}: not used: {e}", video.display()));
                continue;
            }
        }
        let level = &doc.levels[0];
        let per_frame: Vec<String> =
            level.track.labels().iter().map(|&l| level.label_name(l).to_owned()).collect();
        for l in &per_frame {
            if !vocab.contains(l) {
                vocab.push(l.clone());
            }
        }
        usable.push((name, per_frame));
    }
    if usable.is_empty() {
        return Err(TrainError::Invalid(format!(
            "{}: none of the {} labelled videos could be used:\n{}",
            folder.display(),
            found.labelled.len(),
            problems.join("\n")
        )));
    }
    let mapping: String = vocab.iter().enumerate().map(|(i, n)| format!("{i} {n}\n")).collect();
    let path = root.join("mapping.txt");
    crate::fsutil::write_atomic(&path, mapping.as_bytes()).map_err(io(&path))?;
    let (mut train, mut held_out) = (Vec::new(), Vec::new());
    for (i, (name, labels)) in usable.iter().enumerate() {
        let path = root.join("groundTruth").join(format!("{name}.txt"));
        let text: String = labels.iter().map(|l| format!("{l}\n")).collect();
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(io(&path))?;
        // every fifth video from the second on, so that two videos give one of each
        if usable.len() > 1 && i % 5 == 1 {
            held_out.push(name.clone())
        } else {
            train.push(name.clone())
        }
    }
    // labels of videos no longer used (their label file removed or now unusable) would stay in
    // the dataset with labels the mapping may not have
    if let Ok(entries) = std::fs::read_dir(root.join("groundTruth")) {
        for e in entries.flatten() {
            let p = e.path();
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            if !usable.iter().any(|(n, _)| *n == stem) {
                std::fs::remove_file(&p).map_err(io(&p))?;
            }
        }
    }
    // one video: it is both (the score then measures fitting, and says so)
    let test = if held_out.is_empty() { &train } else { &held_out };
    for (file, list) in [("train.split1.bundle", &train), ("test.split1.bundle", test)] {
        let path = root.join("splits").join(file);
        let text: String = list.iter().map(|n| format!("{n}.txt\n")).collect();
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(io(&path))?;
    }
    Ok(Prepared { root, train, held_out, unlabelled: found.unlabelled, problems })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_pairs_videos_with_label_files_of_any_format() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.mp4", "a.eaf", "b.MKV", "b.txt", "c.mp4", "notes.txt", "d.json"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let found = scan(dir.path()).unwrap();
        let names = |v: &[PathBuf]| {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        let labelled: Vec<PathBuf> = found.labelled.iter().map(|(v, _)| v.clone()).collect();
        assert_eq!(names(&labelled), ["a.mp4", "b.MKV"]);
        assert_eq!(names(&[found.labelled[0].1.clone()]), ["a.eaf"]);
        assert_eq!(names(&found.unlabelled), ["c.mp4"]);
    }
}
