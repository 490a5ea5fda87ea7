//! Per-frame label files: MS-TCN ground truth (one label per line), segmentation-model outputs
//! (`### Frame level recognition: ###` then one line of space-separated labels), and DARai-style
//! comma-separated multi-level lines (`L1,L2,L3`).

use std::path::{Path, PathBuf};

use super::error::{DataError, Result};
use super::lines::{lines_of, quote};
use super::vocab::Vocabulary;

/// The header line of MS-TCN's (and every follower's) prediction files.
pub const RECOGNITION_HEADER: &str = "### Frame level recognition: ###";

/// A class id that stands for a label the vocabulary does not know.
pub const UNKNOWN: u32 = u32::MAX;

/// Where a frame's label came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelLayout {
    /// Frame k is on line k + 1.
    LinePerFrame,
    /// All frames on line 2, frame k is the (k + 1)-th word.
    RecognitionLine,
}

/// The raw per-frame label strings of one file, for one level.
#[derive(Debug, Clone)]
pub struct FrameLabels {
    pub path: PathBuf,
    pub layout: LabelLayout,
    pub labels: Vec<String>,
}

/// A label not in the vocabulary: the first place it occurs in a file and how often it does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnknownLabel {
    pub path: PathBuf,
    pub line: usize,
    pub frame: usize,
    pub label: String,
    pub count: usize,
}

impl std::fmt::Display for UnknownLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: unknown label {} at frame {} ({} frame{} in this file)",
            self.path.display(),
            self.line,
            quote(&self.label),
            self.frame,
            self.count,
            if self.count == 1 { "" } else { "s" }
        )
    }
}

impl FrameLabels {
    /// Reads a per-frame label file: a segmentation output when its first line is the recognition
    /// header, one label per line otherwise. Blanks around a label are ignored.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        Self::parse(path, &bytes)
    }

    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let lines = lines_of(path, bytes)?;
        if lines.is_empty() {
            return Err(DataError::file(path, "one label per frame", "an empty file"));
        }
        if lines[0].trim() == RECOGNITION_HEADER {
            let Some(labels) = lines.get(1) else {
                return Err(DataError::line(
                    path,
                    2,
                    "a line of space-separated labels",
                    "end of file",
                ));
            };
            let labels: Vec<String> = labels.split_whitespace().map(str::to_owned).collect();
            if labels.is_empty() {
                return Err(DataError::line(
                    path,
                    2,
                    "a line of space-separated labels",
                    "an empty line",
                ));
            }
            if let Some((i, extra)) =
                lines.iter().enumerate().skip(2).find(|(_, l)| !l.trim().is_empty())
            {
                return Err(DataError::line(
                    path,
                    i + 1,
                    "nothing after the labels line",
                    quote(extra),
                ));
            }
            return Ok(FrameLabels {
                path: path.to_owned(),
                layout: LabelLayout::RecognitionLine,
                labels,
            });
        }
        let labels = lines.iter().map(|l| l.trim().to_owned()).collect();
        Ok(FrameLabels { path: path.to_owned(), layout: LabelLayout::LinePerFrame, labels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    fn line_of(&self, frame: usize) -> usize {
        match self.layout {
            LabelLayout::LinePerFrame => frame + 1,
            LabelLayout::RecognitionLine => 2,
        }
    }

    /// Maps labels to class ids; labels the vocabulary lacks become [`UNKNOWN`] and are reported,
    /// once per distinct label with its first line and its count.
    pub fn encode(&self, vocab: &Vocabulary) -> (Vec<u32>, Vec<UnknownLabel>) {
        encode_labels(&self.path, self.labels.iter().map(String::as_str), vocab, |f| {
            self.line_of(f)
        })
    }

    /// Like [`encode`](Self::encode), but any unknown label is an error.
    pub fn encode_strict(&self, vocab: &Vocabulary) -> Result<Vec<u32>> {
        let (ids, unknown) = self.encode(vocab);
        match unknown.into_iter().next() {
            None => Ok(ids),
            Some(u) => Err(DataError::line(
                &u.path,
                u.line,
                format!("a label from {}", vocab.origin()),
                format!(
                    "{} at frame {} ({} frames in this file)",
                    quote(&u.label),
                    u.frame,
                    u.count
                ),
            )),
        }
    }
}

fn encode_labels<'a>(
    path: &Path,
    labels: impl Iterator<Item = &'a str>,
    vocab: &Vocabulary,
    line_of: impl Fn(usize) -> usize,
) -> (Vec<u32>, Vec<UnknownLabel>) {
    let mut unknown: Vec<UnknownLabel> = Vec::new();
    let ids = labels
        .enumerate()
        .map(|(frame, label)| match vocab.id(label) {
            Some(id) => id,
            None => {
                match unknown.iter_mut().find(|u| u.label == label) {
                    Some(u) => u.count += 1,
                    None => unknown.push(UnknownLabel {
                        path: path.to_owned(),
                        line: line_of(frame),
                        frame,
                        label: label.to_owned(),
                        count: 1,
                    }),
                }
                UNKNOWN
            }
        })
        .collect();
    (ids, unknown)
}

/// DARai-style per-frame lines with one comma-separated field per level (`L1,L2,L3`). Returns one
/// [`FrameLabels`] per column. Every line must have exactly `columns` fields.
pub fn read_columns(path: &Path, columns: usize) -> Result<Vec<FrameLabels>> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_columns(path, &bytes, columns)
}

pub fn parse_columns(path: &Path, bytes: &[u8], columns: usize) -> Result<Vec<FrameLabels>> {
    let lines = lines_of(path, bytes)?;
    if lines.is_empty() {
        return Err(DataError::file(
            path,
            format!("one line of {columns} comma-separated labels per frame"),
            "an empty file",
        ));
    }
    let mut out: Vec<FrameLabels> = (0..columns)
        .map(|_| FrameLabels {
            path: path.to_owned(),
            layout: LabelLayout::LinePerFrame,
            labels: Vec::with_capacity(lines.len()),
        })
        .collect();
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != columns {
            return Err(DataError::line(
                path,
                i + 1,
                format!("{columns} comma-separated labels"),
                format!(
                    "{} field{} in {}",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" },
                    quote(line)
                ),
            ));
        }
        for (col, field) in out.iter_mut().zip(fields) {
            col.labels.push(field.trim().to_owned());
        }
    }
    Ok(out)
}

/// A maximal run of one label over frames `[start, end)` (half-open, as MS-TCN's
/// `get_labels_start_end_time` would have it if it did not drop the last frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub label: u32,
    pub start: usize,
    pub end: usize,
}

impl Segment {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Length of the run of `label` at the start of `frames`.
pub fn leading_run(frames: &[u32], label: u32) -> usize {
    frames.iter().take_while(|&&l| l == label).count()
}

/// Run-length encodes per-frame labels.
pub fn segments(frames: &[u32]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for (i, &label) in frames.iter().enumerate() {
        match out.last_mut() {
            Some(s) if s.label == label => s.end = i + 1,
            _ => out.push(Segment { label, start: i, end: i + 1 }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::from_names(["SIL", "pour_milk", "take_cup"])
    }

    #[test]
    fn reads_ground_truth_lines() {
        let f = FrameLabels::parse(Path::new("gt.txt"), b"SIL\nSIL\r\npour_milk\n").unwrap();
        assert_eq!(f.layout, LabelLayout::LinePerFrame);
        assert_eq!(f.encode_strict(&vocab()).unwrap(), vec![0, 0, 1]);
    }

    #[test]
    fn reads_recognition_output() {
        let f = FrameLabels::parse(
            Path::new("p"),
            format!("{RECOGNITION_HEADER}\nSIL take_cup  take_cup \n").as_bytes(),
        )
        .unwrap();
        assert_eq!(f.encode_strict(&vocab()).unwrap(), vec![0, 2, 2]);
        let e = FrameLabels::parse(Path::new("p"), format!("{RECOGNITION_HEADER}\n").as_bytes())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "p:2: expected a line of space-separated labels, found end of file"
        );
        let e = FrameLabels::parse(
            Path::new("p"),
            format!("{RECOGNITION_HEADER}\nSIL\nmore\n").as_bytes(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("p:3: expected nothing after the labels line"), "{e}");
    }

    #[test]
    fn unknown_labels_are_counted_once_per_label_with_first_line() {
        let f = FrameLabels::parse(Path::new("gt.txt"), b"SIL\nfly\nfly\n\nSIL\n").unwrap();
        let (ids, unknown) = f.encode(&vocab());
        assert_eq!(ids, vec![0, UNKNOWN, UNKNOWN, UNKNOWN, 0]);
        assert_eq!(unknown.len(), 2);
        assert_eq!(
            unknown[0].to_string(),
            "gt.txt:2: unknown label 'fly' at frame 1 (2 frames in this file)"
        );
        assert_eq!((unknown[1].line, unknown[1].label.as_str()), (4, ""));
        let e = f.encode_strict(&vocab()).unwrap_err().to_string();
        assert!(
            e.starts_with("gt.txt:2: expected a label from the vocabulary, found 'fly'"),
            "{e}"
        );
        // the message names where the vocabulary came from
        let from_mapping = vocab().with_origin("the mapping file");
        let e = f.encode_strict(&from_mapping).unwrap_err().to_string();
        assert!(
            e.starts_with("gt.txt:2: expected a label from the mapping file, found 'fly'"),
            "{e}"
        );
    }

    #[test]
    fn empty_file_is_an_error() {
        let e = FrameLabels::parse(Path::new("e.txt"), b"").unwrap_err();
        assert_eq!(e.to_string(), "e.txt: expected one label per frame, found an empty file");
    }

    #[test]
    fn columns_need_the_right_count() {
        let cols = parse_columns(Path::new("d.txt"), b"a,b,c\n a , b ,c\n", 3).unwrap();
        assert_eq!(cols[1].labels, vec!["b", "b"]);
        let e = parse_columns(Path::new("d.txt"), b"a,b,c\na,b\n", 3).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.txt:2: expected 3 comma-separated labels, found 2 fields in 'a,b'"
        );
    }

    #[test]
    fn segments_are_half_open_runs() {
        assert_eq!(
            segments(&[1, 1, 2, 1]),
            vec![
                Segment { label: 1, start: 0, end: 2 },
                Segment { label: 2, start: 2, end: 3 },
                Segment { label: 1, start: 3, end: 4 }
            ]
        );
        assert!(segments(&[]).is_empty());
    }
}
