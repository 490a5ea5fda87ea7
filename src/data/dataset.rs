//! A dataset on disk: its layout, label levels, vocabularies, splits and videos.
//!
//! Two layouts are read:
//! - **MS-TCN** (Breakfast, 50 Salads, GTEA and most of the field): `mapping.txt`,
//!   `groundTruth/<video>.txt` (one label per frame), `splits/{train,test}.split<K>.bundle`,
//!   optional `features/<video>.npy`. When `mapping_l2.txt` is present it lists video-level
//!   activities, and a video's activity is the last `_` token of its name (Breakfast:
//!   `P03_cam01_P03_cereals` → `cereals`).
//! - **DARai** (the m&m-Ant paper's dataset): `mapping_l1*.txt`, `mapping_l2*.txt`,
//!   `mapping_l3*.txt`, `groundTruth/<video>.txt` with one `L1,L2,L3` line per frame,
//!   `splits/{train,val,test}_split.txt`, optional `features/` or `features_img/`.

use std::path::{Path, PathBuf};

use super::error::{DataError, Result};
use super::features::Features;
use super::labels::{FrameLabels, UNKNOWN, UnknownLabel, read_columns};
use super::splits::{Split, read_darai_split, read_mstcn_splits};
use super::vocab::Vocabulary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Layout {
    #[serde(rename = "ms-tcn")]
    MsTcn,
    #[serde(rename = "darai")]
    Darai,
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::MsTcn => "MS-TCN",
            Layout::Darai => "DARai",
        })
    }
}

/// Where a level's per-frame labels come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelSource {
    /// One label for the whole video: the last `_`-separated token of its name.
    VideoName,
    /// A column of the per-frame label file (MS-TCN files have one column).
    Column(usize),
}

/// One level of labels (e.g. `activity` above `action` above `fine`).
#[derive(Debug, Clone)]
pub struct Level {
    pub name: String,
    /// Other names the level answers to (`l1`, `l2`, `l3` for DARai).
    pub aliases: Vec<String>,
    pub vocab: Vocabulary,
    pub source: LevelSource,
    pub mapping_file: PathBuf,
}

/// The labels (and optionally features) of one video, reconciled to one length.
#[derive(Debug, Clone)]
pub struct Video {
    pub name: String,
    /// Frames usable by every source: the common prefix of labels and features.
    pub frames: usize,
    /// One class-id track per dataset level, each `frames` long.
    pub levels: Vec<Vec<u32>>,
    pub features: Option<Features>,
    /// Set when features and labels disagree in length (both were cut to the shorter).
    pub mismatch: Option<LengthMismatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LengthMismatch {
    pub video: String,
    pub label_frames: usize,
    pub feature_frames: usize,
}

impl std::fmt::Display for LengthMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} label frames, {} feature frames; using the first {}",
            self.video,
            self.label_frames,
            self.feature_frames,
            self.label_frames.min(self.feature_frames)
        )
    }
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub root: PathBuf,
    pub name: String,
    pub layout: Layout,
    pub levels: Vec<Level>,
    pub splits: Vec<Split>,
    pub label_dir: PathBuf,
    pub features_dir: Option<PathBuf>,
}

/// The first file in `dir` whose name starts with `prefix` and ends with `.txt`
/// (DARai names its mappings `mapping_l2_changed.txt`).
fn find_mapping(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".txt"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// The activity of a video named `<anything>_<activity>`.
pub fn activity_from_name(video: &str) -> &str {
    video.rsplit('_').next().unwrap_or(video)
}

impl Dataset {
    /// Opens a dataset root, detecting its layout.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            let reason = if root.exists() {
                "a file, not a folder (the dataset root holds mapping.txt, groundTruth/ and splits/)"
            } else {
                "no such folder"
            };
            return Err(DataError::NotADataset { path: root.to_owned(), reason: reason.into() });
        }
        let name = root
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| root.display().to_string());
        let label_dir = root.join("groundTruth");
        let features_dir =
            ["features", "features_img"].iter().map(|d| root.join(d)).find(|d| d.is_dir());
        let splits_dir = root.join("splits");

        let mapping = root.join("mapping.txt");
        let l1 = find_mapping(root, "mapping_l1");
        let l3 = find_mapping(root, "mapping_l3");
        if mapping.is_file() {
            let action = Level {
                name: "action".into(),
                aliases: vec![],
                vocab: Vocabulary::read(&mapping)?,
                source: LevelSource::Column(0),
                mapping_file: mapping,
            };
            let mut levels = Vec::new();
            if let Some(l2) = find_mapping(root, "mapping_l2") {
                levels.push(Level {
                    name: "activity".into(),
                    aliases: vec![],
                    vocab: Vocabulary::read(&l2)?,
                    source: LevelSource::VideoName,
                    mapping_file: l2,
                });
            }
            levels.push(action);
            let splits = read_mstcn_splits(&splits_dir)?;
            Ok(Dataset {
                root: root.to_owned(),
                name,
                layout: Layout::MsTcn,
                levels,
                splits,
                label_dir,
                features_dir,
            })
        } else if let (Some(l1), Some(l3)) = (l1, l3) {
            let l2 = find_mapping(root, "mapping_l2").ok_or_else(|| DataError::NotADataset {
                path: root.to_owned(),
                reason: "DARai layout needs mapping_l1*.txt, mapping_l2*.txt and mapping_l3*.txt; mapping_l2*.txt is missing".into(),
            })?;
            let level = |name: &str, alias: &str, file: PathBuf, column| -> Result<Level> {
                Ok(Level {
                    name: name.into(),
                    aliases: vec![alias.into()],
                    vocab: Vocabulary::read(&file)?,
                    source: LevelSource::Column(column),
                    mapping_file: file,
                })
            };
            let levels = vec![
                level("activity", "l1", l1, 0)?,
                level("action", "l2", l2, 1)?,
                level("fine", "l3", l3, 2)?,
            ];
            let splits = vec![read_darai_split(&splits_dir)?];
            Ok(Dataset {
                root: root.to_owned(),
                name,
                layout: Layout::Darai,
                levels,
                splits,
                label_dir,
                features_dir,
            })
        } else {
            Err(DataError::NotADataset {
                path: root.to_owned(),
                reason:
                    "expected mapping.txt (MS-TCN layout) or mapping_l1*/l2*/l3*.txt (DARai layout)"
                        .into(),
            })
        }
    }

    /// The index of the level called `name` (or one of its aliases), case-insensitively.
    pub fn level_index(&self, name: &str) -> Result<usize> {
        self.levels
            .iter()
            .position(|l| {
                l.name.eq_ignore_ascii_case(name)
                    || l.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| DataError::Unknown {
                what: "level",
                name: name.to_owned(),
                known: self.levels.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", "),
            })
    }

    /// Splits selected by `which`: "all" or a split name.
    pub fn select_splits(&self, which: &str) -> Result<Vec<&Split>> {
        if which == "all" {
            return Ok(self.splits.iter().collect());
        }
        self.splits.iter().find(|s| s.name == which).map(|s| vec![s]).ok_or_else(|| {
            DataError::Unknown {
                what: "split",
                name: which.to_owned(),
                known: std::iter::once("all")
                    .chain(self.splits.iter().map(|s| s.name.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
    }

    pub fn label_path(&self, video: &str) -> PathBuf {
        self.label_dir.join(format!("{video}.txt"))
    }

    pub fn features_path(&self, video: &str) -> Option<PathBuf> {
        self.features_dir.as_ref().map(|d| d.join(format!("{video}.npy")))
    }

    /// Every video with a label file, sorted by name.
    pub fn label_files(&self) -> Result<Vec<String>> {
        let entries =
            std::fs::read_dir(&self.label_dir).map_err(|e| DataError::io(&self.label_dir, e))?;
        let mut videos: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name().to_str().and_then(|n| n.strip_suffix(".txt")).map(str::to_owned)
            })
            .collect();
        videos.sort();
        Ok(videos)
    }

    /// Reads a video's labels at every level. Unknown labels become [`UNKNOWN`] and are returned.
    pub fn read_labels(&self, video: &str) -> Result<(Vec<Vec<u32>>, Vec<UnknownLabel>)> {
        let path = self.label_path(video);
        let columns = match self.layout {
            Layout::MsTcn => vec![FrameLabels::read(&path)?],
            Layout::Darai => read_columns(&path, 3)?,
        };
        let frames = columns[0].len();
        let mut levels = Vec::with_capacity(self.levels.len());
        let mut unknown = Vec::new();
        for level in &self.levels {
            let column = match level.source {
                LevelSource::Column(c) => &columns[c],
                LevelSource::VideoName => {
                    let activity = activity_from_name(video);
                    let id = level.vocab.id(activity).ok_or_else(|| DataError::Unknown {
                        what: "activity (the last '_' token of the video name)",
                        name: format!("{activity}' of video '{video}"),
                        known: level.vocab.names().join(", "),
                    })?;
                    levels.push(vec![id; frames]);
                    continue;
                }
            };
            let (ids, u) = column.encode(&level.vocab);
            unknown.extend(u);
            levels.push(ids);
        }
        Ok((levels, unknown))
    }

    /// Loads one video for training, evaluation or viewing: labels at every level (an unknown
    /// label is an error), and features when `feature_dim` is given and the dataset has them.
    /// Labels and features are cut to their common prefix; the mismatch is recorded.
    pub fn load_video(&self, video: &str, feature_dim: Option<usize>) -> Result<Video> {
        let (mut levels, unknown) = self.read_labels(video)?;
        if let Some(u) = unknown.first() {
            return Err(DataError::line(
                &u.path,
                u.line,
                "a label from the mapping file",
                format!("'{}' at frame {} ({} frames in this file)", u.label, u.frame, u.count),
            ));
        }
        debug_assert!(levels.iter().all(|l| !l.contains(&UNKNOWN)));
        let label_frames = levels[0].len();
        let mut features = match (feature_dim, self.features_path(video)) {
            (Some(dim), Some(path)) => Some(Features::read(&path, Some(dim))?),
            (Some(_), None) => {
                return Err(DataError::NotADataset {
                    path: self.root.clone(),
                    reason: "features were asked for but there is no features/ folder".into(),
                });
            }
            _ => None,
        };
        let mut frames = label_frames;
        let mut mismatch = None;
        if let Some(f) = &mut features
            && f.frames != label_frames
        {
            mismatch = Some(LengthMismatch {
                video: video.to_owned(),
                label_frames,
                feature_frames: f.frames,
            });
            frames = frames.min(f.frames);
            f.truncate(frames);
        }
        for l in &mut levels {
            l.truncate(frames);
        }
        Ok(Video { name: video.to_owned(), frames, levels, features, mismatch })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn mstcn_fixture(dir: &Path) {
        std::fs::create_dir_all(dir.join("groundTruth")).unwrap();
        std::fs::create_dir_all(dir.join("splits")).unwrap();
        std::fs::write(dir.join("mapping.txt"), "0 SIL\n1 pour_milk\n2 take_cup\n").unwrap();
        std::fs::write(dir.join("mapping_l2.txt"), "0 tea\n1 milk\n").unwrap();
        std::fs::write(dir.join("groundTruth/P01_tea.txt"), "SIL\ntake_cup\ntake_cup\nSIL\n")
            .unwrap();
        std::fs::write(dir.join("groundTruth/P02_milk.txt"), "SIL\npour_milk\n").unwrap();
        std::fs::write(dir.join("splits/train.split1.bundle"), "P01_tea.txt\n").unwrap();
        std::fs::write(dir.join("splits/test.split1.bundle"), "P02_milk.txt\n").unwrap();
    }

    #[test]
    fn opens_mstcn_with_activity_level() {
        let dir = tempfile::tempdir().unwrap();
        mstcn_fixture(dir.path());
        let ds = Dataset::open(dir.path()).unwrap();
        assert_eq!(ds.layout, Layout::MsTcn);
        assert_eq!(
            ds.levels.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["activity", "action"]
        );
        let v = ds.load_video("P01_tea", None).unwrap();
        assert_eq!(v.levels, vec![vec![0; 4], vec![0, 2, 2, 0]]);
        assert_eq!(ds.level_index("ACTION").unwrap(), 1);
        assert!(
            ds.level_index("fine").unwrap_err().to_string().contains("known: activity, action")
        );
        assert!(ds.select_splits("7").unwrap_err().to_string().contains("known: all, 1"));
    }

    #[test]
    fn features_and_labels_are_cut_to_the_common_prefix() {
        let dir = tempfile::tempdir().unwrap();
        mstcn_fixture(dir.path());
        std::fs::create_dir_all(dir.path().join("features")).unwrap();
        // 3 channels × 6 frames: two more frames than the labels
        crate::data::features::write_npy_f32(
            &dir.path().join("features/P01_tea.npy"),
            [3, 6],
            &[0.5; 18],
        )
        .unwrap();
        let ds = Dataset::open(dir.path()).unwrap();
        let v = ds.load_video("P01_tea", Some(3)).unwrap();
        assert_eq!(v.frames, 4);
        assert_eq!(v.features.as_ref().unwrap().frames, 4);
        assert_eq!(
            v.mismatch.unwrap().to_string(),
            "P01_tea: 4 label frames, 6 feature frames; using the first 4"
        );
    }

    #[test]
    fn opens_darai_with_three_levels() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("groundTruth")).unwrap();
        std::fs::create_dir_all(d.join("splits")).unwrap();
        std::fs::write(d.join("mapping_l1_changed.txt"), "0 Making_pancake\n").unwrap();
        std::fs::write(d.join("mapping_l2_changed.txt"), "0  Bake_pancake\n1  Get_ingredients  \n")
            .unwrap();
        std::fs::write(d.join("mapping_l3_changed.txt"), "0  Add_batter\n1  Add_flour\n").unwrap();
        let video = "01_1_camera_1_fps_15_Making pancake";
        std::fs::write(
            d.join(format!("groundTruth/{video}.txt")),
            "Making pancake,Get_ingredients,Add_flour\nMaking_pancake,Bake_pancake,Add_batter\n",
        )
        .unwrap();
        for s in ["train", "val", "test"] {
            std::fs::write(d.join(format!("splits/{s}_split.txt")), format!("{video}.txt\n"))
                .unwrap();
        }
        let ds = Dataset::open(d).unwrap();
        assert_eq!(ds.layout, Layout::Darai);
        assert_eq!(ds.level_index("l3").unwrap(), 2);
        let v = ds.load_video(video, None).unwrap();
        assert_eq!(v.levels, vec![vec![0, 0], vec![1, 0], vec![1, 0]]);
    }

    #[test]
    fn unknown_labels_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        mstcn_fixture(dir.path());
        std::fs::write(dir.path().join("groundTruth/P02_milk.txt"), "SIL\nspill_milk\n").unwrap();
        let ds = Dataset::open(dir.path()).unwrap();
        let e = ds.load_video("P02_milk", None).unwrap_err().to_string();
        assert!(e.ends_with("P02_milk.txt:2: expected a label from the mapping file, found 'spill_milk' at frame 1 (1 frames in this file)"), "{e}");
    }

    #[test]
    fn not_a_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let e = Dataset::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("expected mapping.txt (MS-TCN layout)"), "{e}");
        assert!(
            Dataset::open(&dir.path().join("nope"))
                .unwrap_err()
                .to_string()
                .contains("no such folder")
        );
        let file = dir.path().join("mapping.txt");
        std::fs::write(&file, "0 SIL\n").unwrap();
        let e = Dataset::open(&file).unwrap_err().to_string();
        assert!(e.contains("a file, not a folder"), "{e}");
    }
}
