//! Annotation files: our segment CSV (every level; round-trips exactly), MS-TCN per-frame `.txt`
//! (one level), DARai-style per-frame `L1,L2,L3` lines, ELAN `.eaf` and Label Studio's JSON
//! export (every level; both round-trip exactly). Frame numbers are decoder ordinals. Segment
//! tables holding many videos are read by [`super::segment_table`].

use std::path::Path;

use super::intervals::Assembly;
use super::{Annotation, Clock, Level, Track};
use crate::data::{Segment, Vocabulary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `video,track,level,label,label_id,start_frame,end_frame,start_s,end_s,observation_rate,checkpoint,parent_level`
    SegmentCsv,
    /// One label per line, one level.
    MsTcn,
    /// `L1,L2,L3` per line.
    Darai,
    /// ELAN's EAF XML.
    Eaf,
    /// Label Studio's JSON export (`<TimelineLabels>` on a `<Video>`).
    LabelStudio,
}

/// The segment CSV's columns: the viewer's export columns and the parent level of a fine level.
pub const COLUMNS: [&str; 12] = [
    "video",
    "track",
    "level",
    "label",
    "label_id",
    "start_frame",
    "end_frame",
    "start_s",
    "end_s",
    "observation_rate",
    "checkpoint",
    "parent_level",
];

impl Format {
    /// From the extension, and for `.txt` from the first line (commas: DARai).
    pub fn detect(path: &Path, bytes: &[u8]) -> Format {
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv") => return Format::SegmentCsv,
            Some("eaf") => return Format::Eaf,
            Some("json") => return Format::LabelStudio,
            _ => {}
        }
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        if first.contains(&b',') { Format::Darai } else { Format::MsTcn }
    }
}

/// A label file that does not parse: the file, the line (0: the whole file) and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), if *line == 0 { String::new() } else { format!(": line {line}") })]
pub struct FormatError {
    pub path: std::path::PathBuf,
    pub line: usize,
    pub message: String,
}

fn err(path: &Path, line: usize, msg: impl std::fmt::Display) -> FormatError {
    FormatError { path: path.to_owned(), line, message: msg.to_string() }
}

/// How to read an annotation file beyond its bytes.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions<'a> {
    /// The known labels per level name (e.g. from mapping.txt); with `strict`, a label outside
    /// them is an error naming file and line, otherwise it joins the level's vocabulary.
    pub vocabularies: &'a [(String, Vocabulary)],
    pub strict: bool,
    /// Time → frame for files that count time (ELAN); ELAN needs it.
    pub clock: Option<Clock>,
    /// The video's frame count, when known (files of segments that need not cover the video).
    pub frames: Option<usize>,
    /// The label of frames no segment covers (default: see [`super::intervals::background_label`]).
    pub background: Option<String>,
}

impl<'a> ReadOptions<'a> {
    /// How labelled spans become tracks under these options.
    pub fn assembly(&self) -> Assembly<'a> {
        Assembly {
            vocabularies: self.vocabularies,
            strict: self.strict,
            frames: self.frames,
            background: self.background.clone(),
        }
    }
}

/// Reads an annotation (see [`ReadOptions`]); a file that counts time needs [`read_with`].
pub fn read(
    path: &Path,
    bytes: &[u8],
    vocabularies: &[(String, Vocabulary)],
    strict: bool,
) -> Result<Annotation, FormatError> {
    read_with(path, bytes, &ReadOptions { vocabularies, strict, ..Default::default() })
}

/// Reads an annotation in any of the formats.
pub fn read_with(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Annotation, FormatError> {
    let (vocabularies, strict) = (opts.vocabularies, opts.strict);
    let video = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|e| {
        err(
            path,
            0,
            format!("expected UTF-8 text, found invalid bytes at offset {}", e.valid_up_to()),
        )
    })?;
    let vocab_for = |name: &str| -> Vec<String> {
        vocabularies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.names().to_vec())
            .unwrap_or_default()
    };
    let known = |name: &str| vocabularies.iter().any(|(n, _)| n == name);
    let id_of = |vocab: &mut Vec<String>,
                 label: &str,
                 level: &str,
                 line: usize|
     -> Result<u32, FormatError> {
        if let Some(i) = vocab.iter().position(|n| n == label) {
            return Ok(i as u32);
        }
        if strict && known(level) {
            return Err(err(
                path,
                line,
                format!("label {label:?} is not in the {level} vocabulary"),
            ));
        }
        vocab.push(label.to_owned());
        Ok((vocab.len() - 1) as u32)
    };
    let named = |doc: Annotation| adopt_single_vocabulary(path, doc, vocabularies, strict);
    match Format::detect(path, bytes) {
        Format::Eaf => {
            let Some(clock) = &opts.clock else {
                return Err(err(
                    path,
                    0,
                    "an ELAN file counts milliseconds: give the frame rate (--fps) or the video",
                ));
            };
            named(super::elan::read(path, text, clock, &opts.assembly())?)
        }
        Format::LabelStudio => named(super::label_studio::read(path, text, &opts.assembly())?),
        Format::SegmentCsv => {
            let mut r = csv::Reader::from_reader(bytes);
            let headers = r.headers().map_err(|e| err(path, 1, e))?.clone();
            let col = |name: &str| {
                headers.iter().position(|h| h == name).ok_or_else(|| {
                    err(
                        path,
                        1,
                        format!(
                            "expected a `{name}` column, found {:?}",
                            headers.iter().collect::<Vec<_>>()
                        ),
                    )
                })
            };
            let (c_track, c_level, c_label, c_id, c_start, c_end) = (
                col("track")?,
                col("level")?,
                col("label")?,
                col("label_id")?,
                col("start_frame")?,
                col("end_frame")?,
            );
            let c_parent = headers.iter().position(|h| h == "parent_level");
            let mut levels: Vec<(Level, Option<String>)> = Vec::new();
            for (i, rec) in r.records().enumerate() {
                let line = i + 2;
                let rec = rec.map_err(|e| err(path, line, e))?;
                if &rec[c_track] != "ground_truth" {
                    continue;
                }
                let level_name = rec[c_level].to_owned();
                let num = |c: usize| {
                    rec[c].parse::<usize>().map_err(|_| {
                        err(path, line, format!("expected a frame number, found {:?}", &rec[c]))
                    })
                };
                let (start, end) = (num(c_start)?, num(c_end)?);
                let li = match levels.iter().position(|(l, _)| l.name == level_name) {
                    Some(i) => i,
                    None => {
                        let parent = c_parent.map(|c| rec[c].to_owned()).filter(|p| !p.is_empty());
                        levels.push((
                            Level {
                                name: level_name.clone(),
                                vocab: vocab_for(&level_name),
                                track: Track { segments: vec![] },
                                parent: None,
                            },
                            parent,
                        ));
                        levels.len() - 1
                    }
                };
                let level = &mut levels[li].0;
                let at = level.track.frames();
                if start != at || end <= start {
                    return Err(err(
                        path,
                        line,
                        format!(
                            "expected a {level_name} segment starting at frame {at}, found [{start}, {end})"
                        ),
                    ));
                }
                // the label_id column places new labels where they were (ids stay stable on a round trip)
                let label = &rec[c_label];
                let id = match rec[c_id].parse::<usize>() {
                    Ok(id)
                        if !known(&level_name)
                            && level.vocab.get(id).is_none_or(|n| n.is_empty() || n == label) =>
                    {
                        if level.vocab.len() <= id {
                            level.vocab.resize(id + 1, String::new());
                        }
                        level.vocab[id] = label.to_owned();
                        id as u32
                    }
                    _ => id_of(&mut level.vocab, label, &level_name, line)?,
                };
                level.track.segments.push(Segment { label: id, start, end });
            }
            if levels.is_empty() {
                return Err(err(path, 0, "no ground_truth segments"));
            }
            let frames = levels[0].0.track.frames();
            let names: Vec<String> = levels.iter().map(|(l, _)| l.name.clone()).collect();
            let mut out = Vec::new();
            for (mut level, parent) in levels {
                if level.track.frames() != frames {
                    return Err(err(
                        path,
                        0,
                        format!(
                            "level {} covers {} frames, level {} {frames}",
                            level.name,
                            level.track.frames(),
                            names[0]
                        ),
                    ));
                }
                level.parent = match parent {
                    Some(p) => Some(names.iter().position(|n| *n == p).ok_or_else(|| {
                        err(
                            path,
                            0,
                            format!("level {} names an unknown parent level {p:?}", level.name),
                        )
                    })?),
                    None => None,
                };
                for (i, name) in level.vocab.iter_mut().enumerate() {
                    if name.is_empty() {
                        *name = format!("unused_{i}");
                    }
                }
                out.push(level);
            }
            named(Annotation { video, levels: out })
        }
        Format::MsTcn => {
            let name = vocabularies.first().map_or("action".to_owned(), |(n, _)| n.clone());
            let mut vocab = vocab_for(&name);
            let mut labels = Vec::new();
            for (i, line) in text.lines().enumerate() {
                let l = line.trim();
                if l.is_empty() {
                    continue;
                }
                labels.push(id_of(&mut vocab, l, &name, i + 1)?);
            }
            if labels.is_empty() {
                return Err(err(path, 0, "expected one label per frame, found an empty file"));
            }
            Ok(Annotation {
                video,
                levels: vec![Level {
                    name,
                    vocab,
                    track: Track::from_frames(&labels),
                    parent: None,
                }],
            })
        }
        Format::Darai => {
            let names: Vec<String> = if vocabularies.len() >= 2 {
                vocabularies.iter().map(|(n, _)| n.clone()).collect()
            } else {
                vec!["L1".into(), "L2".into(), "L3".into()]
            };
            let width = text.lines().next().map_or(0, |l| l.split(',').count());
            let mut cols: Vec<(Vec<String>, Vec<u32>)> = (0..width)
                .map(|c| (vocab_for(names.get(c).map_or("", String::as_str)), Vec::new()))
                .collect();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let fields: Vec<&str> = line.split(',').collect();
                if fields.len() != width {
                    return Err(err(
                        path,
                        i + 1,
                        format!("expected {width} comma-separated labels, found {}", fields.len()),
                    ));
                }
                for (c, f) in fields.iter().enumerate() {
                    let level = names.get(c).cloned().unwrap_or_else(|| format!("L{}", c + 1));
                    let id = id_of(&mut cols[c].0, f.trim(), &level, i + 1)?;
                    cols[c].1.push(id);
                }
            }
            let levels = cols
                .into_iter()
                .enumerate()
                .map(|(c, (vocab, labels))| Level {
                    name: names.get(c).cloned().unwrap_or_else(|| format!("L{}", c + 1)),
                    vocab,
                    track: Track::from_frames(&labels),
                    parent: c.checked_sub(1),
                })
                .collect();
            Ok(Annotation { video, levels })
        }
    }
}

/// One vocabulary for a level name the file does not use (a mapping.txt names no level; a
/// file names its own) is the first level's: its labels take the vocabulary's ids, in order.
fn adopt_single_vocabulary(
    path: &Path,
    mut doc: Annotation,
    vocabularies: &[(String, Vocabulary)],
    strict: bool,
) -> Result<Annotation, FormatError> {
    let [(name, vocab)] = vocabularies else { return Ok(doc) };
    if doc.levels.is_empty() || doc.levels.iter().any(|l| &l.name == name) {
        return Ok(doc);
    }
    let level = &mut doc.levels[0];
    let mut names = vocab.names().to_vec();
    let mut remap = Vec::with_capacity(level.vocab.len());
    for (id, label) in level.vocab.iter().enumerate() {
        let new = match names.iter().position(|n| n == label) {
            Some(i) => i,
            None => {
                if strict && level.track.segments.iter().any(|s| s.label as usize == id) {
                    return Err(err(
                        path,
                        0,
                        format!("level {}: label {label:?} is not in the vocabulary", level.name),
                    ));
                }
                names.push(label.clone());
                names.len() - 1
            }
        };
        remap.push(new as u32);
    }
    for s in &mut level.track.segments {
        s.label = remap[s.label as usize];
    }
    level.vocab = names;
    Ok(doc)
}

/// Writes an annotation in `format` (the clock for the CSV's seconds and ELAN's milliseconds).
/// MS-TCN writes the first level.
pub fn write(doc: &Annotation, format: Format, clock: impl Into<Clock>) -> Vec<u8> {
    let clock = clock.into();
    match format {
        Format::Eaf => super::elan::write(doc, &clock, None),
        Format::LabelStudio => super::label_studio::write(doc, None),
        Format::SegmentCsv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(COLUMNS).expect("in memory");
            for level in &doc.levels {
                let parent = level.parent.map(|p| doc.levels[p].name.as_str()).unwrap_or("");
                for s in level.track.segments() {
                    w.write_record([
                        doc.video.as_str(),
                        "ground_truth",
                        &level.name,
                        level.label_name(s.label),
                        &s.label.to_string(),
                        &s.start.to_string(),
                        &s.end.to_string(),
                        &format!("{:.3}", clock.seconds_at(s.start)),
                        &format!("{:.3}", clock.seconds_at(s.end)),
                        "",
                        "",
                        parent,
                    ])
                    .expect("in memory");
                }
            }
            w.into_inner().expect("in memory")
        }
        Format::MsTcn => {
            let level = &doc.levels[0];
            level
                .track
                .labels()
                .iter()
                .flat_map(|&l| format!("{}\n", level.label_name(l)).into_bytes())
                .collect()
        }
        Format::Darai => {
            let labels: Vec<Vec<u32>> = doc.levels.iter().map(|l| l.track.labels()).collect();
            let mut out = String::new();
            for f in 0..doc.frames() {
                let fields: Vec<&str> =
                    doc.levels.iter().zip(&labels).map(|(l, ls)| l.label_name(ls[f])).collect();
                out.push_str(&fields.join(","));
                out.push('\n');
            }
            out.into_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotation::Edit;
    use std::path::PathBuf;

    #[test]
    fn segment_csv_round_trips_exactly_with_levels_and_splits() {
        let mut d = crate::annotation::tests::doc(&[0, 0, 0, 1, 1, 2, 2, 2]);
        d.apply(&Edit::AddLevel { name: "fine".into(), parent: 0, label: "x".into() }).unwrap();
        d.apply(&Edit::Split { level: 1, frame: 1 }).unwrap();
        d.apply(&Edit::Relabel { level: 1, frame: 6, label: "y, with comma".into() }).unwrap();
        d.apply(&Edit::Split { level: 1, frame: 6 }).unwrap();
        d.apply(&Edit::Split { level: 0, frame: 6 }).unwrap(); // two touching segments, same label
        let bytes = write(&d, Format::SegmentCsv, 15.0);
        let back = read(&PathBuf::from("v.csv"), &bytes, &[], false).unwrap();
        // unused vocabulary entries at the end are not in the file; everything else is
        assert_eq!(back.levels.len(), 2);
        assert_eq!(back.levels[1].parent, Some(0));
        for (a, b) in d.levels.iter().zip(&back.levels) {
            assert_eq!(a.track, b.track);
        }
        assert_eq!(write(&back, Format::SegmentCsv, 15.0), bytes);
    }

    #[test]
    fn mstcn_and_darai_lines_round_trip() {
        let p = PathBuf::from("v.txt");
        let txt = b"SIL\nSIL\npour\npour\nSIL\n";
        let d = read(&p, txt, &[], false).unwrap();
        assert_eq!(d.levels[0].track.segments().len(), 3);
        assert_eq!(write(&d, Format::MsTcn, 15.0), txt.to_vec());
        let darai =
            b"Cooking,Making pancake,Stir\nCooking,Making pancake,Pour\nCooking,Cleaning,Wipe\n";
        let d = read(&p, darai, &[], false).unwrap();
        assert_eq!(d.levels.len(), 3);
        assert_eq!(d.levels[2].parent, Some(1));
        assert_eq!(write(&d, Format::Darai, 15.0), darai.to_vec());
    }

    #[test]
    fn bad_files_name_the_file_and_line() {
        let p = PathBuf::from("v.txt");
        let vocab = [("action".to_owned(), Vocabulary::from_names(["SIL", "pour"]))];
        let e = read(&p, b"SIL\npour\nstir\n", &vocab, true).unwrap_err().to_string();
        assert_eq!(e, "v.txt: line 3: label \"stir\" is not in the action vocabulary");
        let e = read(&p, &[0xff, 0xfe, 0x00, 0x41], &[], false).unwrap_err().to_string();
        assert!(e.contains("expected UTF-8 text"), "{e}");
        let e = read(&p, b"a,b\na\n", &[], false).unwrap_err().to_string();
        assert_eq!(e, "v.txt: line 2: expected 2 comma-separated labels, found 1");
        let csv = PathBuf::from("v.csv");
        let e = read(&csv, b"video,track,level,label,label_id,start_frame,end_frame\nv,ground_truth,action,a,0,0,5\nv,ground_truth,action,b,1,6,9\n", &[], false).unwrap_err().to_string();
        assert_eq!(e, "v.csv: line 3: expected a action segment starting at frame 5, found [6, 9)");
    }
}
