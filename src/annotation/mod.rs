//! Annotation that never loses work: labelled tracks at every level, edits that keep each track a
//! partition of [0, N) and fine levels inside their coarse segments, undo/redo of edits only, a
//! journal appended (and synced) before an edit counts as done, atomic saves, and recovery.
//!
//! Edits name labels by their text, not their id, so that a journal is readable on its own and
//! an edit can add a label to a level's vocabulary.

pub mod clock;
pub mod elan;
pub mod formats;
pub mod history;
pub mod intervals;
pub mod journal;
pub mod label_studio;
pub mod segment_table;
pub mod session;

use serde::{Deserialize, Serialize};

use crate::data::{Segment, Vocabulary, segments};

pub use clock::Clock;
pub use history::History;
pub use journal::{Journal, JournalEntry, Recovered};
pub use session::{Session, SessionError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("no level {0}")]
    NoLevel(usize),
    #[error("frame {frame} is outside the video's {frames} frames")]
    OutOfRange { frame: usize, frames: usize },
    #[error(
        "{fine_level} segment \"{label}\" [{start}, {end}) would cross the {coarse_level} boundary at frame {boundary}"
    )]
    CrossesBoundary {
        fine_level: String,
        label: String,
        start: usize,
        end: usize,
        coarse_level: String,
        boundary: usize,
    },
    #[error("a level named {0:?} exists")]
    LevelExists(String),
    #[error("frame {0} already starts a segment")]
    AlreadyStarts(usize),
    #[error("the last segment has no next segment to merge with")]
    NoNextSegment,
    #[error("no boundary at frame {0}")]
    NoBoundary(usize),
    #[error("the boundary at {from} can move within ({min}, {max}) only, not to {to}")]
    BoundaryOutOfRange { from: usize, to: usize, min: usize, max: usize },
    #[error("the only segment cannot be deleted")]
    OnlySegment,
    #[error("cannot paint frames [{start}, {end})")]
    EmptyPaint { start: usize, end: usize },
}

/// One level's labels: a partition of [0, N) into labelled segments, no gaps, no overlaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    segments: Vec<Segment>,
}

impl Track {
    pub fn from_frames(frames: &[u32]) -> Self {
        Track { segments: segments(frames) }
    }

    /// One segment over all `frames` frames.
    pub fn uniform(frames: usize, label: u32) -> Self {
        Track {
            segments: if frames == 0 {
                vec![]
            } else {
                vec![Segment { label, start: 0, end: frames }]
            },
        }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub fn frames(&self) -> usize {
        self.segments.last().map_or(0, |s| s.end)
    }

    pub fn labels(&self) -> Vec<u32> {
        self.segments.iter().flat_map(|s| std::iter::repeat_n(s.label, s.end - s.start)).collect()
    }

    /// Index of the segment holding `frame`.
    pub fn index_at(&self, frame: usize) -> Option<usize> {
        let i = self.segments.partition_point(|s| s.end <= frame);
        (i < self.segments.len()).then_some(i)
    }

    pub fn label_at(&self, frame: usize) -> Option<u32> {
        self.index_at(frame).map(|i| self.segments[i].label)
    }

    /// Frames where a segment starts, after the first.
    pub fn boundaries(&self) -> impl Iterator<Item = usize> + '_ {
        self.segments.iter().skip(1).map(|s| s.start)
    }

    /// The partition invariant: contiguous from 0, every segment non-empty. Neighbours may share
    /// a label: a split is two segments until one is relabelled, and two fine segments with the
    /// same label in two coarse segments are two segments.
    pub fn check(&self) -> Result<(), String> {
        let mut at = 0;
        for (i, s) in self.segments.iter().enumerate() {
            if s.start != at || s.end <= s.start {
                return Err(format!("segment {i} is [{}, {}) after frame {at}", s.start, s.end));
            }
            at = s.end;
        }
        Ok(())
    }

    /// Labels [start, end) with `label`.
    fn paint(&mut self, start: usize, end: usize, label: u32) {
        let mut out = Vec::with_capacity(self.segments.len() + 2);
        for s in &self.segments {
            if s.end <= start || s.start >= end {
                out.push(*s);
                continue;
            }
            if s.start < start {
                out.push(Segment { label: s.label, start: s.start, end: start });
            }
            if s.end > end {
                out.push(Segment { label: s.label, start: end, end: s.end });
            }
        }
        out.push(Segment { label, start, end });
        out.sort_by_key(|s| s.start);
        self.segments = out;
    }
}

/// One level of an annotation: its name, vocabulary, track and, for a fine level, the coarse
/// level each of its segments must lie inside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub name: String,
    pub vocab: Vec<String>,
    pub track: Track,
    pub parent: Option<usize>,
}

impl Level {
    pub fn vocabulary(&self) -> Vocabulary {
        Vocabulary::from_names(self.vocab.clone())
    }

    fn label_id(&mut self, name: &str) -> u32 {
        match self.vocab.iter().position(|n| n == name) {
            Some(i) => i as u32,
            None => {
                self.vocab.push(name.to_owned());
                (self.vocab.len() - 1) as u32
            }
        }
    }

    pub fn label_name(&self, id: u32) -> &str {
        self.vocab.get(id as usize).map_or("?", String::as_str)
    }
}

/// An edit of one level. Frames are decoder frame ordinals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Edit {
    /// Splits the segment holding `frame` so that a new segment starts at `frame`.
    Split { level: usize, frame: usize },
    /// Merges the segment holding `frame` with the next one (the merged span keeps this label).
    MergeNext { level: usize, frame: usize },
    /// Relabels the segment holding `frame` (a new label joins the vocabulary).
    Relabel { level: usize, frame: usize, label: String },
    /// Moves the boundary at frame `from` to frame `to`, between its two segments' other ends.
    MoveBoundary { level: usize, from: usize, to: usize },
    /// Deletes the segment holding `frame`: its span joins the previous segment (the next one for
    /// the first).
    Delete { level: usize, frame: usize },
    /// Labels frames [start, end) ("paint while playing").
    Paint { level: usize, start: usize, end: usize, label: String },
    /// Adds a fine level under level `parent`, one `label` segment per parent segment.
    AddLevel { name: String, parent: usize, label: String },
}

impl Edit {
    pub fn level(&self) -> Option<usize> {
        match self {
            Edit::Split { level, .. }
            | Edit::MergeNext { level, .. }
            | Edit::Relabel { level, .. }
            | Edit::MoveBoundary { level, .. }
            | Edit::Delete { level, .. }
            | Edit::Paint { level, .. } => Some(*level),
            Edit::AddLevel { .. } => None,
        }
    }
}

/// All levels of one video's annotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub video: String,
    pub levels: Vec<Level>,
}

impl Annotation {
    pub fn frames(&self) -> usize {
        self.levels.first().map_or(0, |l| l.track.frames())
    }

    pub fn level_index(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.name == name)
    }

    /// A fine level must lie inside its coarse level: every coarse boundary is a fine boundary.
    fn check_hierarchy(&self, level: usize) -> Result<(), EditError> {
        let l = &self.levels[level];
        let check = |fine: &Level, coarse: &Level| -> Result<(), EditError> {
            let fine_bounds: std::collections::HashSet<usize> = fine.track.boundaries().collect();
            if let Some(b) = coarse.track.boundaries().find(|b| !fine_bounds.contains(b)) {
                let f = fine.track.index_at(b).map(|i| fine.track.segments()[i]).expect("b < N");
                return Err(EditError::CrossesBoundary {
                    fine_level: fine.name.clone(),
                    label: fine.label_name(f.label).to_owned(),
                    start: f.start,
                    end: f.end,
                    coarse_level: coarse.name.clone(),
                    boundary: b,
                });
            }
            Ok(())
        };
        if let Some(p) = l.parent {
            check(l, &self.levels[p])?;
        }
        for child in self.levels.iter().filter(|c| c.parent == Some(level)) {
            check(child, l)?;
        }
        Ok(())
    }

    /// Applies an edit, or refuses it and changes nothing.
    pub fn apply(&mut self, edit: &Edit) -> Result<(), EditError> {
        let frames = self.frames();
        let in_range = |f: usize| {
            if f < frames { Ok(()) } else { Err(EditError::OutOfRange { frame: f, frames }) }
        };
        if let Edit::AddLevel { name, parent, label } = edit {
            let p = self.levels.get(*parent).ok_or(EditError::NoLevel(*parent))?;
            if self.level_index(name).is_some() {
                return Err(EditError::LevelExists(name.clone()));
            }
            let track = Track {
                segments: p.track.segments().iter().map(|s| Segment { label: 0, ..*s }).collect(),
            };
            self.levels.push(Level {
                name: name.clone(),
                vocab: vec![label.clone()],
                track,
                parent: Some(*parent),
            });
            return Ok(());
        }
        let level = edit.level().expect("every other edit names a level");
        let before = self.levels.get(level).ok_or(EditError::NoLevel(level))?.clone();
        let l = &mut self.levels[level];
        let segs = l.track.segments.clone();
        match edit {
            Edit::Split { frame, .. } => {
                in_range(*frame)?;
                let i = l.track.index_at(*frame).expect("in range");
                if segs[i].start == *frame {
                    return Err(EditError::AlreadyStarts(*frame));
                }
                let s = segs[i];
                l.track
                    .segments
                    .splice(i..=i, [Segment { end: *frame, ..s }, Segment { start: *frame, ..s }]);
            }
            Edit::MergeNext { frame, .. } => {
                in_range(*frame)?;
                let i = l.track.index_at(*frame).expect("in range");
                if i + 1 >= segs.len() {
                    return Err(EditError::NoNextSegment);
                }
                l.track.segments[i].end = segs[i + 1].end;
                l.track.segments.remove(i + 1);
            }
            Edit::Relabel { frame, label, .. } => {
                in_range(*frame)?;
                let id = l.label_id(label);
                let i = l.track.index_at(*frame).expect("in range");
                l.track.segments[i].label = id;
            }
            Edit::MoveBoundary { from, to, .. } => {
                let Some(i) = segs.iter().position(|s| s.start == *from).filter(|&i| i > 0) else {
                    return Err(EditError::NoBoundary(*from));
                };
                if *to <= segs[i - 1].start || *to >= segs[i].end {
                    return Err(EditError::BoundaryOutOfRange {
                        from: *from,
                        to: *to,
                        min: segs[i - 1].start,
                        max: segs[i].end,
                    });
                }
                l.track.segments[i - 1].end = *to;
                l.track.segments[i].start = *to;
            }
            Edit::Delete { frame, .. } => {
                in_range(*frame)?;
                let i = l.track.index_at(*frame).expect("in range");
                if segs.len() == 1 {
                    return Err(EditError::OnlySegment);
                }
                if i == 0 {
                    l.track.segments[1].start = 0;
                } else {
                    l.track.segments[i - 1].end = segs[i].end;
                }
                l.track.segments.remove(i);
            }
            Edit::Paint { start, end, label, .. } => {
                in_range(*start)?;
                if *end <= *start || *end > frames {
                    return Err(EditError::EmptyPaint { start: *start, end: *end });
                }
                let id = l.label_id(label);
                l.track.paint(*start, *end, id);
            }
            Edit::AddLevel { .. } => unreachable!("handled above"),
        }
        debug_assert!(l.track.check().is_ok());
        if let Err(e) = self.check_hierarchy(level) {
            self.levels[level] = before;
            return Err(e);
        }
        Ok(())
    }

    /// The length check against a video's decoded frames.
    pub fn length_mismatch(&self, video_frames: usize) -> Option<String> {
        (self.frames() != video_frames).then(|| {
            format!(
                "the annotation of {} has {} frames, the video {video_frames}",
                self.video,
                self.frames()
            )
        })
    }
}

/// Why a label file could not be read as per-frame labels of a vocabulary.
#[derive(Debug, thiserror::Error)]
pub enum LabelsError {
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Format(#[from] formats::FormatError),
    #[error("{}: level {level}: label {label:?} is not in the vocabulary", path.display())]
    Unknown { path: std::path::PathBuf, level: String, label: String },
}

/// Reads per-frame labels: an MS-TCN `.txt` (one label per line), our segment CSV or a Label
/// Studio export (its first level, read by the annotation formats), encoded with `vocab`; an unknown label is an error
/// naming the file (and, for `.txt`, the line).
pub fn read_labels(path: &std::path::Path, vocab: &Vocabulary) -> Result<Vec<u32>, LabelsError> {
    match formats::Format::detect(path, b"") {
        formats::Format::SegmentCsv | formats::Format::LabelStudio => {}
        formats::Format::Eaf => {
            return Err(formats::FormatError {
                path: path.to_owned(),
                line: 0,
                message: "an ELAN file counts milliseconds: convert it to frames first \
                          (mmant convert FILE.eaf FILE.txt --fps F, or --video V)"
                    .into(),
            }
            .into());
        }
        _ => return Ok(crate::data::FrameLabels::read(path)?.encode_strict(vocab)?),
    }
    let bytes = std::fs::read(path).map_err(|e| crate::data::DataError::io(path, e))?;
    let doc = formats::read(path, &bytes, &[], false)?;
    let level = &doc.levels[0];
    // only the labels the track uses must be known (the file's vocabulary may list others)
    level
        .track
        .labels()
        .into_iter()
        .map(|l| {
            let name = level.label_name(l);
            vocab.id(name).ok_or_else(|| LabelsError::Unknown {
                path: path.to_owned(),
                level: level.name.clone(),
                label: name.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn doc(frames: &[u32]) -> Annotation {
        Annotation {
            video: "v".into(),
            levels: vec![Level {
                name: "action".into(),
                vocab: vec!["a".into(), "b".into(), "c".into()],
                track: Track::from_frames(frames),
                parent: None,
            }],
        }
    }

    #[test]
    fn each_edit_does_what_it_says() {
        let mut d = doc(&[0, 0, 0, 1, 1, 2]);
        d.apply(&Edit::Split { level: 0, frame: 1 }).unwrap();
        assert_eq!(d.levels[0].track.segments().len(), 4, "{:?}", d.levels[0].track);
        d.apply(&Edit::Relabel { level: 0, frame: 1, label: "new".into() }).unwrap();
        assert_eq!(d.levels[0].track.labels(), vec![0, 3, 3, 1, 1, 2]);
        assert_eq!(d.levels[0].vocab[3], "new");
        d.apply(&Edit::MoveBoundary { level: 0, from: 3, to: 4 }).unwrap();
        assert_eq!(d.levels[0].track.labels(), vec![0, 3, 3, 3, 1, 2]);
        d.apply(&Edit::MergeNext { level: 0, frame: 4 }).unwrap();
        assert_eq!(d.levels[0].track.labels(), vec![0, 3, 3, 3, 1, 1]);
        d.apply(&Edit::Delete { level: 0, frame: 2 }).unwrap();
        assert_eq!(d.levels[0].track.labels(), vec![0, 0, 0, 0, 1, 1]);
        d.apply(&Edit::Paint { level: 0, start: 1, end: 5, label: "c".into() }).unwrap();
        assert_eq!(d.levels[0].track.labels(), vec![0, 2, 2, 2, 2, 1]);
        assert!(matches!(
            d.apply(&Edit::Split { level: 0, frame: 9 }),
            Err(EditError::OutOfRange { .. })
        ));
        assert!(d.apply(&Edit::MoveBoundary { level: 0, from: 1, to: 6 }).is_err());
    }

    #[test]
    fn a_fine_level_stays_inside_its_coarse_segments() {
        let mut d = doc(&[0, 0, 0, 1, 1, 1]);
        d.apply(&Edit::AddLevel { name: "fine".into(), parent: 0, label: "x".into() }).unwrap();
        d.apply(&Edit::Split { level: 1, frame: 1 }).unwrap();
        d.apply(&Edit::Relabel { level: 1, frame: 1, label: "y".into() }).unwrap();
        // deleting the fine boundary at the coarse boundary (frame 3) would cross it
        let e = d.apply(&Edit::MergeNext { level: 1, frame: 1 }).unwrap_err().to_string();
        assert!(e.contains("would cross the action boundary at frame 3"), "{e}");
        let before = d.clone();
        // moving the coarse boundary away from the fine one is refused too, and changes nothing
        assert!(d.apply(&Edit::MoveBoundary { level: 0, from: 3, to: 4 }).is_err());
        assert_eq!(d, before);
    }

    fn edit_strategy() -> impl Strategy<Value = Edit> {
        let f = 0usize..40;
        let label = prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(str::to_owned);
        prop_oneof![
            f.clone().prop_map(|frame| Edit::Split { level: 0, frame }),
            f.clone().prop_map(|frame| Edit::MergeNext { level: 0, frame }),
            (f.clone(), label.clone()).prop_map(|(frame, label)| Edit::Relabel {
                level: 0,
                frame,
                label
            }),
            (f.clone(), f.clone()).prop_map(|(from, to)| Edit::MoveBoundary { level: 0, from, to }),
            f.clone().prop_map(|frame| Edit::Delete { level: 0, frame }),
            (f.clone(), 1usize..20, label).prop_map(|(start, n, label)| Edit::Paint {
                level: 0,
                start,
                end: start + n,
                label
            }),
        ]
    }

    proptest! {
        #[test]
        fn any_edit_sequence_keeps_a_partition(edits in prop::collection::vec(edit_strategy(), 0..60)) {
            let mut d = doc(&[0; 40]);
            for e in &edits {
                let before = d.clone();
                if d.apply(e).is_err() {
                    prop_assert_eq!(&d, &before, "a refused edit changed the annotation");
                }
                prop_assert_eq!(d.frames(), 40);
                prop_assert!(d.levels[0].track.check().is_ok(), "{:?} after {:?}", d.levels[0].track, e);
            }
        }
    }
}
