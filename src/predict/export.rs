//! The CSV files a prediction is exported as: one row per segment of each track, or one row per
//! frame with a column per track (columns: docs/usage.md, "Exported CSV").

use super::tracks::Track;
use crate::data::{Vocabulary, segments};

/// Columns of the segment CSV (docs/usage.md, "Exported CSV").
pub const SEGMENT_COLUMNS: [&str; 11] = [
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
];

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error("writing CSV: {0}")]
    Csv(String),
}

impl From<csv::Error> for PredictError {
    fn from(e: csv::Error) -> Self {
        PredictError::Csv(e.to_string())
    }
}

impl<W> From<csv::IntoInnerError<W>> for PredictError {
    fn from(e: csv::IntoInnerError<W>) -> Self {
        PredictError::Csv(e.error().to_string())
    }
}

/// What the rows say besides the tracks: the video, the level, time and provenance.
pub struct ExportInfo<'a> {
    pub video: &'a str,
    pub level: &'a str,
    pub vocab: &'a Vocabulary,
    pub fps: f64,
    /// Observed frames over all frames, when a model anticipated.
    pub observation_rate: Option<f64>,
    /// The checkpoint's name (its folder's).
    pub checkpoint: Option<&'a str>,
}

impl ExportInfo<'_> {
    fn label_name(&self, id: u32) -> String {
        self.vocab.name(id).map(str::to_owned).unwrap_or_else(|| "NONE".to_owned())
    }
}

/// Every track as segments (frames half-open [start, end)); also returns the number of rows.
pub fn segments_csv(info: &ExportInfo, tracks: &[Track]) -> Result<(Vec<u8>, usize), PredictError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SEGMENT_COLUMNS)?;
    let rate = info.observation_rate.map(|r| format!("{r:.4}")).unwrap_or_default();
    let mut rows = 0;
    for t in tracks {
        for s in segments(t.labels) {
            let (a, b) = (s.start + t.offset, s.end + t.offset);
            w.write_record([
                info.video,
                t.kind.name(),
                info.level,
                &info.label_name(s.label),
                &s.label.to_string(),
                &a.to_string(),
                &b.to_string(),
                &format!("{:.3}", a as f64 / info.fps),
                &format!("{:.3}", b as f64 / info.fps),
                &rate,
                info.checkpoint.unwrap_or(""),
            ])?;
            rows += 1;
        }
    }
    Ok((w.into_inner()?, rows))
}

/// One row per frame of `frames`: `video,frame,time_s,<track>…` with the label of each track
/// (empty where a track does not cover the frame).
pub fn frames_csv(
    info: &ExportInfo,
    frames: usize,
    tracks: &[Track],
) -> Result<Vec<u8>, PredictError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["video".to_owned(), "frame".into(), "time_s".into()];
    header.extend(tracks.iter().map(|t| t.kind.name().to_owned()));
    w.write_record(&header)?;
    for f in 0..frames {
        let mut row =
            vec![info.video.to_owned(), f.to_string(), format!("{:.3}", f as f64 / info.fps)];
        for t in tracks {
            row.push(
                f.checked_sub(t.offset)
                    .and_then(|i| t.labels.get(i))
                    .map(|&l| info.label_name(l))
                    .unwrap_or_default(),
            );
        }
        w.write_record(&row)?;
    }
    Ok(w.into_inner()?)
}
