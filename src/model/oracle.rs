//! The ceiling that the query count M and FUTR's decoding put on any model: the true future, cut
//! to M queries exactly as training cuts it (`train::examples::cut`: the next ⌊0.5N⌋ frames
//! sampled every τ-th, their segments, NONE after the last, all cut to M entries), given to the
//! decoder as perfectly confident logits. It reads the test videos' future, so it is a
//! diagnostic (issue 30, hypothesis 1), never a method.

use std::collections::HashMap;

use super::decode::decode;
use crate::data::segments;
use crate::eval::{AnticipationError, Anticipator, Observation};

#[derive(Debug, Clone)]
pub struct QueryOracle {
    pub queries: usize,
    pub stride: usize,
    pub classes: usize,
    /// Every scored video's full labels, by name.
    pub truth: HashMap<String, Vec<u32>>,
}

impl QueryOracle {
    /// The M action rows (C+1 logits) and duration logits a perfect model would output for a
    /// video observed up to `observed` frames, and the number of frames the decoder fills.
    pub fn outputs(&self, labels: &[u32], observed: usize) -> (Vec<Vec<f32>>, Vec<f32>, usize) {
        let n = labels.len();
        let horizon = (0.5 * n as f64) as usize;
        let future: Vec<u32> = labels[observed.min(n)..(observed + horizon).min(n)]
            .iter()
            .step_by(self.stride.max(1))
            .copied()
            .collect();
        let segs = segments(&future);
        let none = self.classes as u32;
        let mut target: Vec<u32> =
            segs.iter().map(|s| s.label).chain(std::iter::once(none)).collect();
        target.truncate(self.queries);
        let one_hot = |label: u32| {
            let mut row = vec![-30.0f32; self.classes + 1];
            row[label as usize] = 0.0;
            row
        };
        let action: Vec<Vec<f32>> =
            (0..self.queries).map(|i| one_hot(target.get(i).copied().unwrap_or(none))).collect();
        // the decoder's softmax over log-fractions gives back the fractions
        let duration: Vec<f32> = (0..self.queries)
            .map(|i| {
                segs.get(i).map_or(-30.0, |s| (s.len() as f32 / future.len().max(1) as f32).ln())
            })
            .collect();
        (action, duration, horizon)
    }
}

impl Anticipator for QueryOracle {
    fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError> {
        let labels = self.truth.get(obs.video).ok_or_else(|| AnticipationError {
            video: obs.video.to_owned(),
            reason: "the oracle was not given this video's labels".into(),
        })?;
        let remaining = obs.total_frames.saturating_sub(obs.labels.len());
        let (action, duration, horizon) = self.outputs(labels, obs.labels.len());
        let (mut frames, _) = decode(&action, &duration, self.classes, horizon);
        // as a checkpoint's anticipation: the last decoded label continues past the horizon
        let last = frames.last().copied().unwrap_or(self.classes as u32);
        frames.resize(remaining, last);
        Ok(frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle(queries: usize, labels: &[u32]) -> QueryOracle {
        QueryOracle {
            queries,
            stride: 1,
            classes: 4,
            truth: HashMap::from([("v".to_owned(), labels.to_vec())]),
        }
    }

    fn anticipate(o: &QueryOracle, labels: &[u32], observed: usize) -> Vec<u32> {
        o.anticipate(&Observation {
            video: "v",
            labels: &labels[..observed],
            features: None,
            total_frames: labels.len(),
        })
        .unwrap()
    }

    #[test]
    fn enough_queries_give_back_the_future_within_the_horizon() {
        // 20 frames, observe 4, horizon 10: segments 1×4, 2×4, 3×2 then NONE
        let labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3];
        let got = anticipate(&oracle(8, &labels), &labels, 4);
        assert_eq!(&got[..10], &labels[4..14]);
    }

    #[test]
    fn too_few_queries_stretch_the_kept_segments_over_the_horizon() {
        // four future segments of 2 frames in the 8-frame horizon, two queries: no NONE fits,
        // so the two kept segments share the horizon (4 frames each) and the third is lost
        let labels = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 0, 0];
        let got = anticipate(&oracle(2, &labels), &labels, 6);
        assert_eq!(&got[..8], &[0, 0, 0, 0, 1, 1, 1, 1]);
        let exact = anticipate(&oracle(8, &labels), &labels, 6);
        assert_eq!(&exact[..8], &labels[6..14]);
    }

    #[test]
    fn an_unknown_video_is_an_error() {
        let o = oracle(8, &[0, 1]);
        let err = o
            .anticipate(&Observation { video: "w", labels: &[0], features: None, total_frames: 2 })
            .unwrap_err();
        assert!(err.to_string().contains('w'), "{err}");
    }
}
