//! Scoring a segmentation model's outputs (MS-TCN's prediction files) against the ground truth
//! with MS-TCN's metrics, over the test videos of the selected splits.

use serde::Serialize;

use super::segmentation::{SegmentationCounts, SegmentationScores};
use crate::data::{DataError, Dataset, FrameLabels, Split};

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

pub fn evaluate_recognition(
    ds: &Dataset,
    splits: &[&Split],
    level: &str,
    predictions: &std::path::Path,
    background: &[String],
) -> Result<RecognitionReport, DataError> {
    let level = ds.level_index(level)?;
    let vocab = &ds.levels[level].vocab;
    let background: Vec<u32> = background
        .iter()
        .map(|b| vocab.id(b).ok_or_else(|| DataError::Unknown { what: "background class", name: b.clone(), known: vocab.names().join(", ") }))
        .collect::<Result<_, _>>()?;
    let mut counts = SegmentationCounts::default();
    let mut mismatches = Vec::new();
    let mut videos = 0;
    for split in splits {
        for video in &split.test {
            let gt = ds.load_video(video, None)?.levels.swap_remove(level);
            let with_txt = predictions.join(format!("{video}.txt"));
            let path = if with_txt.exists() { with_txt } else { predictions.join(video) };
            let recognized = FrameLabels::read(&path)?.encode_strict(vocab)?;
            if recognized.len() != gt.len() {
                mismatches.push(format!("{video}: {} predicted frames, {} ground-truth frames", recognized.len(), gt.len()));
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
        writeln!(f, "segmentation of {} test videos of {} (level {}) by {}", self.videos, self.dataset, self.level, self.predictions)?;
        writeln!(f, "| Acc | Edit | F1@10 | F1@25 | F1@50 |\n|---|---|---|---|---|")?;
        writeln!(f, "| {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |", s.accuracy, s.edit, s.f1_10, s.f1_25, s.f1_50)?;
        if !self.length_mismatches.is_empty() {
            writeln!(f, "{} videos differ in length (scored over the common prefix):", self.length_mismatches.len())?;
            for m in &self.length_mismatches {
                writeln!(f, "  {m}")?;
            }
        }
        Ok(())
    }
}
