//! Segment tables: a CSV with a header, one row per segment, many videos in one file (the
//! EPIC-KITCHENS-100 and Assembly101 annotation CSVs). Which column holds what is given, not
//! guessed: the video id, start and stop (frame numbers, or `HH:MM:SS.ff` / `MM:SS.ff`
//! timestamps turned into frames by a [`Clock`]), and one or more label columns joined (EPIC's
//! `verb` and `noun` → `take_plate`). Each video becomes one annotation of one level; frames no
//! row covers take the background label, and a video ends where its last segment ends.

use std::path::Path;

use super::formats::FormatError;
use super::intervals::{self, Assembly, Interval, LevelIntervals};
use super::{Annotation, Clock};

/// Which columns hold what, and how frames are counted.
#[derive(Debug, Clone)]
pub struct TableColumns {
    pub video: String,
    pub start: String,
    pub stop: String,
    /// Joined with `join` when several.
    pub labels: Vec<String>,
    pub join: String,
    /// The level the rows fill.
    pub level: String,
    /// The number of a video's first frame in the table (0 or 1).
    pub frame_base: usize,
    /// The stop frame is the segment's last frame (else the first frame after it).
    pub stop_inclusive: bool,
}

impl Default for TableColumns {
    fn default() -> Self {
        TableColumns {
            video: "video".into(),
            start: "start_frame".into(),
            stop: "stop_frame".into(),
            labels: vec!["label".into()],
            join: "_".into(),
            level: "action".into(),
            frame_base: 0,
            stop_inclusive: false,
        }
    }
}

/// `HH:MM:SS.fff`, `MM:SS.fff` or `SS.fff` → seconds.
fn timestamp(s: &str) -> Option<f64> {
    let mut secs = 0.0;
    for part in s.split(':') {
        let v: f64 = part.trim().parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
        secs = secs * 60.0 + v;
    }
    Some(secs)
}

/// Reads every video of the table, in the order they first appear.
pub fn read(
    path: &Path,
    bytes: &[u8],
    cols: &TableColumns,
    clock: Option<&Clock>,
    opts: &Assembly,
) -> Result<Vec<Annotation>, FormatError> {
    let err = |line: usize, msg: String| FormatError { path: path.to_owned(), line, message: msg };
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = r.headers().map_err(|e| err(1, format!("expected a header row: {e}")))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h.trim() == name).ok_or_else(|| {
            err(
                1,
                format!(
                    "expected a `{name}` column, found {:?}",
                    headers.iter().collect::<Vec<_>>()
                ),
            )
        })
    };
    let (c_video, c_start, c_stop) = (col(&cols.video)?, col(&cols.start)?, col(&cols.stop)?);
    let c_labels = cols.labels.iter().map(|l| col(l)).collect::<Result<Vec<_>, _>>()?;
    if c_labels.is_empty() {
        return Err(err(0, "expected at least one label column".into()));
    }
    let mut videos: Vec<(String, Vec<Interval>)> = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line =
            rec.as_ref().ok().and_then(|r| r.position()).map_or(i + 2, |p| p.line() as usize);
        let rec = rec.map_err(|e| err(line, e.to_string()))?;
        let frame = |c: usize, stop: bool| -> Result<usize, FormatError> {
            let v = rec[c].trim();
            if let Ok(f) = v.parse::<usize>() {
                let f = f.checked_sub(cols.frame_base).ok_or_else(|| {
                    err(
                        line,
                        format!(
                            "{}: frame {f} is before the first frame ({})",
                            headers[c].trim(),
                            cols.frame_base
                        ),
                    )
                })?;
                return Ok(f.saturating_add(usize::from(stop && cols.stop_inclusive)));
            }
            let secs = timestamp(v).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "{}: expected a frame number or a timestamp (HH:MM:SS.ff), found {v:?}",
                        headers[c].trim()
                    ),
                )
            })?;
            let clock = clock.ok_or_else(|| {
                err(
                    line,
                    format!(
                        "{}: the timestamp {v:?} needs a frame rate (--fps) or the video",
                        headers[c].trim()
                    ),
                )
            })?;
            Ok(clock.frame_at(secs))
        };
        let (start, end) = (frame(c_start, false)?, frame(c_stop, true)?);
        let label = c_labels.iter().map(|&c| rec[c].trim()).collect::<Vec<_>>().join(&cols.join);
        if label.is_empty() {
            return Err(err(line, "expected a label, found an empty one".into()));
        }
        let video = rec[c_video].trim().to_owned();
        if video.is_empty() {
            return Err(err(
                line,
                format!("expected a video id in `{}`, found nothing", cols.video),
            ));
        }
        let iv = Interval { start, end, label, at: format!("line {line}") };
        match videos.iter_mut().find(|(v, _)| *v == video) {
            Some((_, ivs)) => ivs.push(iv),
            None => videos.push((video, vec![iv])),
        }
    }
    if videos.is_empty() {
        return Err(err(0, "expected segment rows after the header, found none".into()));
    }
    videos
        .into_iter()
        .map(|(video, ivs)| {
            let level =
                LevelIntervals { name: cols.level.clone(), intervals: ivs, ..Default::default() };
            intervals::assemble(
                path,
                &video,
                vec![level],
                &Assembly { frames: None, ..opts.clone() },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn epic() -> TableColumns {
        TableColumns {
            video: "video_id".into(),
            start: "start_timestamp".into(),
            stop: "stop_timestamp".into(),
            labels: vec!["verb".into(), "noun".into()],
            ..Default::default()
        }
    }

    #[test]
    fn an_epic_style_table_gives_one_annotation_per_video() {
        let csv = "narration_id,participant_id,video_id,start_timestamp,stop_timestamp,start_frame,stop_frame,verb,noun\n\
                   P01_01_0,P01,P01_01,00:00:00.50,00:00:01.00,31,60,open,door\n\
                   P02_03_0,P02,P02_03,00:00:00.00,00:00:00.40,1,24,take,plate\n\
                   P01_01_1,P01,P01_01,00:00:01.00,00:00:02.00,61,120,take,cup\n";
        let p = PathBuf::from("EPIC_100_train.csv");
        let docs = read(&p, csv.as_bytes(), &epic(), Some(&Clock::Fps(60.0)), &Assembly::default())
            .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].video, "P01_01");
        let l = &docs[0].levels[0];
        let got: Vec<(&str, usize, usize)> =
            l.track.segments().iter().map(|s| (l.label_name(s.label), s.start, s.end)).collect();
        assert_eq!(got, [("background", 0, 30), ("open_door", 30, 60), ("take_cup", 60, 120)]);
        // the same rows by frame number, counted from 1 with the stop frame included
        let frames = TableColumns {
            start: "start_frame".into(),
            stop: "stop_frame".into(),
            frame_base: 1,
            stop_inclusive: true,
            ..epic()
        };
        let by_frame = read(&p, csv.as_bytes(), &frames, None, &Assembly::default()).unwrap();
        assert_eq!(by_frame[0].levels, docs[0].levels);
        assert_eq!(by_frame[1].levels[0].track.segments()[0].end, 24);
    }

    #[test]
    fn bad_tables_name_the_line_and_column() {
        let p = PathBuf::from("t.csv");
        let o = Assembly::default();
        let e = read(&p, b"video_id,verb\n", &epic(), None, &o).unwrap_err().to_string();
        assert!(e.starts_with("t.csv: line 1: expected a `start_timestamp` column"), "{e}");
        let csv = b"video_id,start_timestamp,stop_timestamp,verb,noun\nv,00:00:01,soon,a,b\n";
        let e = read(&p, csv, &epic(), Some(&Clock::Fps(30.0)), &o).unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv: line 2: stop_timestamp: expected a frame number or a timestamp (HH:MM:SS.ff), found \"soon\""
        );
        let csv = b"video_id,start_timestamp,stop_timestamp,verb,noun\nv,00:00:01,00:00:02,a,b\n";
        let e = read(&p, csv, &epic(), None, &o).unwrap_err().to_string();
        assert!(
            e.contains("line 2: start_timestamp: the timestamp \"00:00:01\" needs a frame rate"),
            "{e}"
        );
        let csv = b"video_id,start_timestamp,stop_timestamp,verb,noun\nv,0,10,a,b\nv,5,12,c,d\n";
        let e = read(&p, csv, &epic(), None, &o).unwrap_err().to_string();
        assert!(
            e.contains(
                "line 3: level action: segment \"c_d\" [5, 12) overlaps \"a_b\" [0, 10) (line 2)"
            ),
            "{e}"
        );
        let csv = b"video_id,start_timestamp,stop_timestamp,verb,noun\nv,0,10,a\n";
        let e = read(&p, csv, &epic(), None, &o).unwrap_err().to_string();
        assert!(e.starts_with("t.csv: line 2:"), "{e}");
    }
}
