//! Segmentation metrics of MS-TCN's `eval.py` (Farha & Gall, CVPR 2019): frame accuracy, edit
//! score and F1@{10,25,50}, reproduced with its conventions: segments are half-open `[start, end)`,
//! segments of background classes are dropped before edit and F1, the edit score is averaged over
//! videos and F1 is computed from true/false positives pooled over videos.

/// The overlaps of F1@{10,25,50}.
pub const OVERLAPS: [f64; 3] = [0.10, 0.25, 0.50];

struct Segments {
    labels: Vec<u32>,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

/// MS-TCN's `get_labels_start_end_time`.
fn labels_start_end(frames: &[u32], background: &[u32]) -> Segments {
    let mut s = Segments { labels: vec![], starts: vec![], ends: vec![] };
    let Some(&first) = frames.first() else { return s };
    let is_bg = |l: u32| background.contains(&l);
    let mut last = first;
    if !is_bg(first) {
        s.labels.push(first);
        s.starts.push(0);
    }
    for (i, &l) in frames.iter().enumerate() {
        if l != last {
            if !is_bg(l) {
                s.labels.push(l);
                s.starts.push(i);
            }
            if !is_bg(last) {
                s.ends.push(i);
            }
            last = l;
        }
    }
    if !is_bg(last) {
        s.ends.push(frames.len());
    }
    s
}

/// Normalised Levenshtein similarity ×100 between two label sequences.
fn edit_similarity(p: &[u32], y: &[u32]) -> f64 {
    let (m, n) = (p.len(), y.len());
    if m.max(n) == 0 {
        return 100.0;
    }
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur = vec![0; n + 1];
    for i in 1..=m {
        cur[0] = i;
        for j in 1..=n {
            cur[j] = if p[i - 1] == y[j - 1] {
                prev[j - 1]
            } else {
                1 + prev[j].min(cur[j - 1]).min(prev[j - 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (1.0 - prev[n] as f64 / m.max(n) as f64) * 100.0
}

/// Edit score of one video.
pub fn edit_score(recognized: &[u32], ground_truth: &[u32], background: &[u32]) -> f64 {
    let p = labels_start_end(recognized, background);
    let y = labels_start_end(ground_truth, background);
    edit_similarity(&p.labels, &y.labels)
}

/// True positives, false positives and false negatives at one IoU overlap, as MS-TCN's `f_score`.
pub fn f_counts(
    recognized: &[u32],
    ground_truth: &[u32],
    overlap: f64,
    background: &[u32],
) -> (u64, u64, u64) {
    let p = labels_start_end(recognized, background);
    let y = labels_start_end(ground_truth, background);
    let mut hits = vec![false; y.labels.len()];
    let (mut tp, mut fp) = (0, 0);
    for j in 0..p.labels.len() {
        // the best-overlapping ground-truth segment of the same label (first one on ties, as argmax)
        let mut best: Option<(usize, f64)> = None;
        for x in 0..y.labels.len() {
            let inter = p.ends[j].min(y.ends[x]) as f64 - p.starts[j].max(y.starts[x]) as f64;
            let union = p.ends[j].max(y.ends[x]) as f64 - p.starts[j].min(y.starts[x]) as f64;
            // segments are at least one frame long, so the union is never empty
            let iou = if p.labels[j] == y.labels[x] { inter / union } else { 0.0 };
            // numpy's argmax: the first of equal maxima
            if best.is_none_or(|(_, b)| iou > b) {
                best = Some((x, iou));
            }
        }
        match best {
            Some((idx, iou)) if iou >= overlap && !hits[idx] => {
                tp += 1;
                hits[idx] = true;
            }
            _ => fp += 1,
        }
    }
    let fn_ = hits.iter().filter(|h| !**h).count() as u64;
    (tp, fp, fn_)
}

/// Totals over a set of videos, turned into MS-TCN's printed numbers by [`SegmentationCounts::summary`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentationCounts {
    pub correct: u64,
    pub total: u64,
    pub edit_sum: f64,
    pub videos: u64,
    pub tp: [u64; 3],
    pub fp: [u64; 3],
    pub fn_: [u64; 3],
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SegmentationScores {
    pub accuracy: f64,
    pub edit: f64,
    pub f1_10: f64,
    pub f1_25: f64,
    pub f1_50: f64,
}

impl SegmentationCounts {
    /// Adds one video, compared over the frames both sequences have.
    pub fn add(&mut self, recognized: &[u32], ground_truth: &[u32], background: &[u32]) {
        let n = recognized.len().min(ground_truth.len());
        let (r, g) = (&recognized[..n], &ground_truth[..n]);
        self.total += n as u64;
        self.correct += r.iter().zip(g).filter(|(a, b)| a == b).count() as u64;
        self.edit_sum += edit_score(r, g, background);
        self.videos += 1;
        for (k, &overlap) in OVERLAPS.iter().enumerate() {
            let (tp, fp, fn_) = f_counts(r, g, overlap, background);
            self.tp[k] += tp;
            self.fp[k] += fp;
            self.fn_[k] += fn_;
        }
    }

    pub fn summary(&self) -> SegmentationScores {
        let f1 = |k: usize| {
            let (tp, fp, fn_) = (self.tp[k] as f64, self.fp[k] as f64, self.fn_[k] as f64);
            let precision = tp / (tp + fp);
            let recall = tp / (tp + fn_);
            let f1 = 2.0 * precision * recall / (precision + recall);
            // np.nan_to_num(f1) * 100
            if f1.is_nan() { 0.0 } else { 100.0 * f1 }
        };
        SegmentationScores {
            accuracy: if self.total == 0 {
                0.0
            } else {
                100.0 * self.correct as f64 / self.total as f64
            },
            edit: if self.videos == 0 { 0.0 } else { self.edit_sum / self.videos as f64 },
            f1_10: f1(0),
            f1_25: f1(1),
            f1_50: f1(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_end_half_open_without_background() {
        let s = labels_start_end(&[0, 0, 1, 1, 1], &[]);
        assert_eq!((s.labels, s.starts, s.ends), (vec![0, 1], vec![0, 2], vec![2, 5]));
        let s = labels_start_end(&[9, 1, 9, 2, 2], &[9]);
        assert_eq!((s.labels, s.starts, s.ends), (vec![1, 2], vec![1, 3], vec![2, 5]));
        assert!(labels_start_end(&[], &[]).labels.is_empty());
    }

    #[test]
    fn edit_by_hand() {
        // P = [0 1 2], Y = [0 2]: distance 1, max len 3 → (1 − 1/3)·100
        assert!((edit_score(&[0, 1, 2], &[0, 0, 2, 2], &[]) - 200.0 / 3.0).abs() < 1e-12);
        assert_eq!(edit_score(&[3, 3], &[3], &[]), 100.0);
        assert_eq!(edit_score(&[], &[], &[]), 100.0);
        assert_eq!(edit_score(&[1], &[2], &[]), 0.0);
    }

    #[test]
    fn f1_by_hand() {
        // gt: 0×4 1×4 → [0,4) [4,8); pred: 0×2 1×6 → [0,2) [2,8)
        let gt = [0, 0, 0, 0, 1, 1, 1, 1];
        let pr = [0, 0, 1, 1, 1, 1, 1, 1];
        // IoU(0) = 2/4 = 0.5; IoU(1) = 4/6
        assert_eq!(f_counts(&pr, &gt, 0.5, &[]), (2, 0, 0));
        assert_eq!(f_counts(&pr, &gt, 0.55, &[]), (1, 1, 1));
        assert_eq!(f_counts(&pr, &gt, 0.7, &[]), (0, 2, 2));
        // a duplicate prediction of the same segment is a false positive
        assert_eq!(f_counts(&[1, 1, 2, 1, 1], &[1, 1, 1, 1, 1], 0.1, &[]), (1, 2, 0));
        // nothing predicted matches: all false positives, all gt missed
        assert_eq!(f_counts(&[5, 5], &[1, 1], 0.1, &[]), (0, 1, 1));
    }

    #[test]
    fn summary_pools_counts() {
        let mut c = SegmentationCounts::default();
        c.add(&[0, 0, 1, 1, 1, 1, 1, 1], &[0, 0, 0, 0, 1, 1, 1, 1], &[]);
        c.add(&[2, 2, 2], &[2, 2, 2, 2, 2], &[]); // compared over the common 3 frames
        let s = c.summary();
        assert!((s.accuracy - 100.0 * 9.0 / 11.0).abs() < 1e-12);
        assert_eq!(s.edit, 100.0);
        // overlap 0.5: tp 3 (2 + 1), fp 0, fn 0
        assert_eq!(s.f1_50, 100.0);
        assert_eq!(SegmentationCounts::default().summary().f1_10, 0.0);
    }
}
