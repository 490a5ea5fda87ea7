//! Scoring a segmentation model's outputs (MS-TCN's prediction files) against the ground truth
//! with MS-TCN's metrics, over the test videos of the selected splits.

use serde::Serialize;

use super::segmentation::{SegmentationCounts, SegmentationScores};
use crate::data::{DataError, Dataset, FrameLabels, Split, Vocabulary};

#[derive(Debug, Clone, Serialize)]
pub struct RecognitionReport {
    pub dataset: String,
    pub level: String,
    pub predictions: String,
    pub videos: usize,
    pub scores: SegmentationScores,
    /// Videos whose prediction and ground truth differ in length (scored over the common prefix).
    pub length_mismatches: Vec<String>,
}

/// Reads a segmentation model's output for `video` from `dir`: `<video>.txt`, or `<video>` as
/// MS-TCN names its prediction files.
pub(crate) fn read_recognition(
    dir: &std::path::Path,
    video: &str,
) -> Result<FrameLabels, DataError> {
    let with_txt = dir.join(format!("{video}.txt"));
    let path = if with_txt.exists() { with_txt } else { dir.join(video) };
    FrameLabels::read(&path)
}

/// The class ids of the background classes named on the command line.
pub(crate) fn background_ids(vocab: &Vocabulary, names: &[String]) -> Result<Vec<u32>, DataError> {
    names
        .iter()
        .map(|b| {
            vocab.id(b).ok_or_else(|| DataError::Unknown {
                what: "background class",
                name: b.clone(),
                known: vocab.names().join(", "),
            })
        })
        .collect()
}

pub fn evaluate_recognition(
    ds: &Dataset,
    splits: &[&Split],
    level: &str,
    predictions: &std::path::Path,
    background: &[String],
) -> Result<RecognitionReport, DataError> {
    let level = ds.level_index(level)?;
    let vocab = &ds.levels[level].vocab;
    let background = background_ids(vocab, background)?;
    let mut counts = SegmentationCounts::default();
    let mut mismatches = Vec::new();
    let mut videos = 0;
    for split in splits {
        for video in &split.test {
            let gt = ds.load_video(video, None)?.levels.swap_remove(level);
            let recognized = read_recognition(predictions, video)?.encode_strict(vocab)?;
            if recognized.len() != gt.len() {
                mismatches.push(format!(
                    "{video}: {} predicted frames, {} ground-truth frames",
                    recognized.len(),
                    gt.len()
                ));
            }
            counts.add(&recognized, &gt, &background);
            videos += 1;
        }
    }
    Ok(RecognitionReport {
        dataset: ds.name.clone(),
        level: ds.levels[level].name.clone(),
        predictions: predictions.display().to_string(),
        videos,
        scores: counts.summary(),
        length_mismatches: mismatches,
    })
}

impl std::fmt::Display for RecognitionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.scores;
        writeln!(
            f,
            "segmentation of {} test videos of {} (level {}) by {}",
            self.videos, self.dataset, self.level, self.predictions
        )?;
        writeln!(f, "| Acc | Edit | F1@10 | F1@25 | F1@50 |\n|---|---|---|---|---|")?;
        writeln!(
            f,
            "| {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            s.accuracy, s.edit, s.f1_10, s.f1_25, s.f1_50
        )?;
        if !self.length_mismatches.is_empty() {
            writeln!(
                f,
                "{} videos differ in length (scored over the common prefix):",
                self.length_mismatches.len()
            )?;
            for m in &self.length_mismatches {
                writeln!(f, "  {m}")?;
            }
        }
        Ok(())
    }
}
