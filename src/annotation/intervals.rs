//! Labelled intervals from a file that need not cover the video (ELAN tiers, Label Studio regions,
//! segment tables) → an [`Annotation`]: every level a partition of the frames, gaps labelled
//! with the background label, a fine level cut at its parent's boundaries.

use std::path::Path;

use super::formats::FormatError;
use super::{Annotation, Level, Track};
use crate::data::{Segment, Vocabulary};

/// One labelled span [start, end) in frames, and where in the file it was found ("line 12",
/// "annotation a7") for errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub start: usize,
    pub end: usize,
    pub label: String,
    pub at: String,
}

/// A level as a file gives it: its name, its parent level's name, the labels it declares (a
/// controlled vocabulary, in order) and its intervals in any order.
#[derive(Debug, Clone, Default)]
pub struct LevelIntervals {
    pub name: String,
    pub parent: Option<String>,
    pub declared: Vec<String>,
    pub intervals: Vec<Interval>,
}

/// How intervals become tracks.
#[derive(Debug, Clone, Default)]
pub struct Assembly<'a> {
    /// Known labels per level name (mapping.txt); with `strict`, others are errors.
    pub vocabularies: &'a [(String, Vocabulary)],
    pub strict: bool,
    /// The video's frame count when known: intervals past it are errors, and a gap up to it is
    /// background. Otherwise the annotation ends where its last interval ends.
    pub frames: Option<usize>,
    /// The label of frames no interval covers; `None`: see [`background_label`].
    pub background: Option<String>,
}

/// The label for uncovered frames: the vocabulary's background class (`SIL`, `background`,
/// `BG`, in that order, any case), else `background`.
pub fn background_label(vocab: &[String]) -> String {
    for want in ["SIL", "background", "BG"] {
        if let Some(n) = vocab.iter().find(|n| n.eq_ignore_ascii_case(want)) {
            return n.clone();
        }
    }
    "background".into()
}

fn err(path: &Path, line: usize, msg: impl std::fmt::Display) -> FormatError {
    FormatError { path: path.to_owned(), line, message: msg.to_string() }
}

/// Builds the annotation; levels keep the file's order, except that a parent comes before its
/// children.
pub fn assemble(
    path: &Path,
    video: &str,
    mut levels: Vec<LevelIntervals>,
    opts: &Assembly,
) -> Result<Annotation, FormatError> {
    if levels.iter().all(|l| l.intervals.is_empty()) {
        return Err(err(path, 0, "expected labelled segments, found none"));
    }
    // parents first (a stable topological order); a cycle or unknown parent is an error
    let mut ordered: Vec<LevelIntervals> = Vec::with_capacity(levels.len());
    while !levels.is_empty() {
        let ready = levels
            .iter()
            .position(|l| l.parent.as_ref().is_none_or(|p| ordered.iter().any(|o| &o.name == p)));
        match ready {
            Some(i) => ordered.push(levels.remove(i)),
            None => {
                let l = &levels[0];
                let p = l.parent.as_deref().unwrap_or_default();
                let why = if levels.iter().any(|o| o.name == p) {
                    "the levels' parents form a cycle"
                } else {
                    "no such level"
                };
                return Err(err(
                    path,
                    0,
                    format!("level {:?} names parent level {p:?}: {why}", l.name),
                ));
            }
        }
    }
    for (i, l) in ordered.iter().enumerate() {
        if ordered[..i].iter().any(|o| o.name == l.name) {
            return Err(err(path, 0, format!("two levels are named {:?}", l.name)));
        }
    }
    let frames = match opts.frames {
        Some(n) => n,
        None => ordered.iter().flat_map(|l| &l.intervals).map(|iv| iv.end).max().unwrap_or(0),
    };
    let mut out: Vec<Level> = Vec::with_capacity(ordered.len());
    for l in ordered {
        let known = opts.vocabularies.iter().find(|(n, _)| *n == l.name).map(|(_, v)| v);
        let mut vocab: Vec<String> = match known {
            Some(v) => v.names().to_vec(),
            None => vec![],
        };
        for d in &l.declared {
            if !vocab.contains(d) {
                if opts.strict && known.is_some() {
                    return Err(err(
                        path,
                        0,
                        format!("level {}: declared label {d:?} is not in its vocabulary", l.name),
                    ));
                }
                vocab.push(d.clone());
            }
        }
        let background = opts.background.clone().unwrap_or_else(|| background_label(&vocab));
        let mut id_of = |label: &str, at: &str| -> Result<u32, FormatError> {
            if let Some(i) = vocab.iter().position(|n| n == label) {
                return Ok(i as u32);
            }
            if opts.strict && known.is_some() {
                return Err(err(
                    path,
                    0,
                    format!("{at}: label {label:?} is not in the {} vocabulary", l.name),
                ));
            }
            vocab.push(label.to_owned());
            Ok((vocab.len() - 1) as u32)
        };
        let mut ivs = l.intervals;
        ivs.sort_by_key(|iv| (iv.start, iv.end));
        // each segment with the file interval it came from (None: a gap)
        let mut segments: Vec<(Segment, Option<usize>)> = Vec::with_capacity(ivs.len() * 2 + 1);
        let mut at = 0usize;
        let mut last: Option<&Interval> = None;
        for (k, iv) in ivs.iter().enumerate() {
            if iv.end <= iv.start {
                return Err(err(
                    path,
                    0,
                    format!(
                        "{}: level {}: expected a segment of at least one frame, found frames [{}, {})",
                        iv.at, l.name, iv.start, iv.end
                    ),
                ));
            }
            if iv.end > frames {
                return Err(err(
                    path,
                    0,
                    format!(
                        "{}: level {}: segment {:?} ends at frame {}, past the video's end ({frames} frames)",
                        iv.at, l.name, iv.label, iv.end
                    ),
                ));
            }
            if iv.start < at {
                let prev = last.expect("at > 0 after an interval");
                return Err(err(
                    path,
                    0,
                    format!(
                        "{}: level {}: segment {:?} [{}, {}) overlaps {:?} [{}, {}) ({}); a level holds one label per frame",
                        iv.at,
                        l.name,
                        iv.label,
                        iv.start,
                        iv.end,
                        prev.label,
                        prev.start,
                        prev.end,
                        prev.at
                    ),
                ));
            }
            if iv.start > at {
                let label = id_of(&background, "a gap")?;
                segments.push((Segment { label, start: at, end: iv.start }, None));
            }
            let label = id_of(&iv.label, &iv.at)?;
            segments.push((Segment { label, start: iv.start, end: iv.end }, Some(k)));
            at = iv.end;
            last = Some(iv);
        }
        if at < frames {
            let label = id_of(&background, "a gap")?;
            segments.push((Segment { label, start: at, end: frames }, None));
        }
        let parent = l
            .parent
            .as_ref()
            .map(|p| out.iter().position(|o| &o.name == p).expect("ordered parents first"));
        let segments: Vec<Segment> = match parent {
            None => segments.into_iter().map(|(s, _)| s).collect(),
            Some(p) => {
                // a fine segment lies inside one coarse segment: gaps are cut at coarse boundaries,
                // a labelled segment that crosses one is an error
                let bounds: Vec<usize> = out[p].track.boundaries().collect();
                let mut cut = Vec::with_capacity(segments.len() + bounds.len());
                for (s, from) in segments {
                    let inside: Vec<usize> =
                        bounds.iter().copied().filter(|&b| b > s.start && b < s.end).collect();
                    if let (Some(&b), Some(k)) = (inside.first(), from) {
                        let iv = &ivs[k];
                        return Err(err(
                            path,
                            0,
                            format!(
                                "{}: level {}: segment {:?} [{}, {}) crosses the {} boundary at frame {}",
                                iv.at, l.name, iv.label, s.start, s.end, out[p].name, b
                            ),
                        ));
                    }
                    let mut start = s.start;
                    for b in inside.into_iter().chain(std::iter::once(s.end)) {
                        cut.push(Segment { label: s.label, start, end: b });
                        start = b;
                    }
                }
                cut
            }
        };
        out.push(Level { name: l.name, vocab, track: Track { segments }, parent });
    }
    Ok(Annotation { video: video.to_owned(), levels: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn iv(start: usize, end: usize, label: &str) -> Interval {
        Interval { start, end, label: label.into(), at: format!("segment at {start}") }
    }

    fn level(name: &str, parent: Option<&str>, ivs: Vec<Interval>) -> LevelIntervals {
        LevelIntervals {
            name: name.into(),
            parent: parent.map(Into::into),
            declared: vec![],
            intervals: ivs,
        }
    }

    #[test]
    fn gaps_become_background_and_children_are_cut_at_parent_boundaries() {
        let p = PathBuf::from("x.eaf");
        let coarse = level("coarse", None, vec![iv(0, 4, "a"), iv(4, 10, "b")]);
        // fine: one labelled segment per coarse segment, the gap [2, 6) crosses frame 4
        let fine = level("fine", Some("coarse"), vec![iv(0, 2, "x"), iv(6, 8, "y")]);
        // the child is listed first: parents are placed before children
        let opts = Assembly { frames: Some(12), ..Default::default() };
        let d = assemble(&p, "x", vec![fine, coarse], &opts).unwrap();
        assert_eq!(d.levels[0].name, "coarse");
        assert_eq!(d.levels[1].parent, Some(0));
        let names = |l: &Level| {
            l.track
                .segments()
                .iter()
                .map(|s| format!("{}[{},{})", l.label_name(s.label), s.start, s.end))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(names(&d.levels[0]), "a[0,4) b[4,10) background[10,12)");
        assert_eq!(
            names(&d.levels[1]),
            "x[0,2) background[2,4) background[4,6) y[6,8) background[8,10) background[10,12)"
        );
        d.levels.iter().for_each(|l| l.track.check().unwrap());
    }

    #[test]
    fn bad_intervals_are_errors_naming_where() {
        let p = PathBuf::from("x.eaf");
        let run = |levels: Vec<LevelIntervals>, frames: Option<usize>| {
            let opts = Assembly { frames, ..Default::default() };
            assemble(&p, "x", levels, &opts).unwrap_err().to_string()
        };
        let e = run(vec![level("a", None, vec![iv(0, 5, "p"), iv(3, 8, "q")])], None);
        assert!(
            e.contains("segment at 3: level a: segment \"q\" [3, 8) overlaps \"p\" [0, 5)"),
            "{e}"
        );
        let e = run(vec![level("a", None, vec![iv(0, 50, "p")])], Some(40));
        assert!(e.contains("ends at frame 50, past the video's end (40 frames)"), "{e}");
        let e = run(vec![level("a", Some("z"), vec![iv(0, 5, "p")])], None);
        assert!(e.contains("names parent level \"z\": no such level"), "{e}");
        let e = run(
            vec![
                level("a", None, vec![iv(0, 5, "p"), iv(5, 9, "q")]),
                level("f", Some("a"), vec![iv(3, 7, "r")]),
            ],
            None,
        );
        assert!(e.contains("segment \"r\" [3, 7) crosses the a boundary at frame 5"), "{e}");
        let e = run(vec![level("a", None, vec![])], None);
        assert!(e.contains("found none"), "{e}");
        let strict = [("a".to_owned(), Vocabulary::from_names(["SIL", "p"]))];
        let opts = Assembly { vocabularies: &strict, strict: true, ..Default::default() };
        let e = assemble(&p, "x", vec![level("a", None, vec![iv(2, 5, "q")])], &opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains("segment at 2: label \"q\" is not in the a vocabulary"), "{e}");
        // the vocabulary's background class fills the gap
        let d = assemble(&p, "x", vec![level("a", None, vec![iv(2, 5, "p")])], &opts).unwrap();
        assert_eq!(d.levels[0].track.segments()[0].label, 0);
        assert_eq!(d.levels[0].vocab, ["SIL", "p"]);
    }
}
