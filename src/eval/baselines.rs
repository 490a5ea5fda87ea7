//! Anticipation baselines that need no learning beyond counting, so every model has a floor.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::MethodFactory;
use super::anticipator::{AnticipationError, Anticipator, MethodError, Observation};
use crate::data::{Split, leading_run, segments};

/// The last observed label continues to the end of the video.
#[derive(Debug, Clone, Default)]
pub struct LastObserved {
    /// Used when nothing was observed: the most frequent first label of the training videos.
    pub first_label: u32,
}

impl LastObserved {
    pub fn fit<'a>(train: impl IntoIterator<Item = &'a [u32]>, classes: usize) -> Self {
        LastObserved { first_label: most_frequent_first(train, classes) }
    }
}

impl Anticipator for LastObserved {
    fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError> {
        let label = obs.labels.last().copied().unwrap_or(self.first_label);
        Ok(vec![label; obs.total_frames.saturating_sub(obs.labels.len())])
    }
}

fn most_frequent_first<'a>(train: impl IntoIterator<Item = &'a [u32]>, classes: usize) -> u32 {
    let mut counts = vec![0u64; classes];
    for labels in train {
        if let Some(&l) = labels.first() {
            counts[l as usize] += 1;
        }
    }
    argmax(&counts).unwrap_or(0)
}

/// The first index of the largest count, or None when all are zero.
fn argmax(counts: &[u64]) -> Option<u32> {
    let (i, &best) = counts.iter().enumerate().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))?;
    (best > 0).then_some(i as u32)
}

/// The most frequent next action and its mean relative duration, learned from the training
/// videos' segment sequences: the ongoing segment runs until its class's mean duration is used
/// up, then the most frequent successor follows for its mean duration, and so on to the end.
#[derive(Debug, Clone)]
pub struct TransitionPrior {
    /// `next[c]`: the most frequent class after a segment of class c, None if c was never followed.
    pub next: Vec<Option<u32>>,
    /// Mean segment length of each class as a fraction of its video's length.
    pub mean_duration: Vec<f64>,
    pub first_label: u32,
}

impl TransitionPrior {
    pub fn fit<'a>(train: impl IntoIterator<Item = &'a [u32]> + Clone, classes: usize) -> Self {
        let mut transitions = vec![vec![0u64; classes]; classes];
        let mut duration_sum = vec![0f64; classes];
        let mut duration_count = vec![0u64; classes];
        for labels in train.clone() {
            let segs = segments(labels);
            for s in &segs {
                duration_sum[s.label as usize] += s.len() as f64 / labels.len() as f64;
                duration_count[s.label as usize] += 1;
            }
            for pair in segs.windows(2) {
                transitions[pair[0].label as usize][pair[1].label as usize] += 1;
            }
        }
        let all_sum: f64 = duration_sum.iter().sum();
        let all_count: u64 = duration_count.iter().sum();
        let overall = if all_count > 0 { all_sum / all_count as f64 } else { 1.0 };
        TransitionPrior {
            next: transitions.iter().map(|row| argmax(row)).collect(),
            mean_duration: duration_sum
                .iter()
                .zip(&duration_count)
                .map(|(&s, &n)| if n > 0 { s / n as f64 } else { overall })
                .collect(),
            first_label: most_frequent_first(train, classes),
        }
    }

    fn frames_of(&self, label: u32, total: usize) -> usize {
        let d = self.mean_duration.get(label as usize).copied().unwrap_or(0.0);
        ((d * total as f64).round() as usize).max(1)
    }
}

impl Anticipator for TransitionPrior {
    fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError> {
        let horizon = obs.total_frames.saturating_sub(obs.labels.len());
        let mut out = Vec::with_capacity(horizon);
        let (mut label, elapsed) = match segments(obs.labels).last() {
            Some(s) => (s.label, s.len()),
            None => (self.first_label, 0),
        };
        // the rest of the ongoing segment
        let remaining = self.frames_of(label, obs.total_frames).saturating_sub(elapsed);
        out.extend(std::iter::repeat_n(label, remaining.min(horizon)));
        while out.len() < horizon {
            match self.next.get(label as usize).copied().flatten() {
                Some(next) => {
                    label = next;
                    let n = self.frames_of(label, obs.total_frames).min(horizon - out.len());
                    out.extend(std::iter::repeat_n(label, n));
                }
                None => out.resize(horizon, label),
            }
        }
        Ok(out)
    }
}

/// How much longer an action in progress lasts, from the training videos: for a class whose
/// segment has run a fraction `e` of its video so far, the median of `l − e` over the class's
/// training segments of relative length `l > e` (the remaining time of segments that lasted at
/// least as long). Lengths are fractions of the video, as FUTR's durations are. Not in either
/// paper: a test of how much the first anticipated segment's timing is worth.
#[derive(Debug, Clone)]
pub struct RemainingDuration {
    /// Per class, the relative lengths of its training segments, sorted.
    lengths: Vec<Vec<f64>>,
}

impl RemainingDuration {
    pub fn fit<'a>(train: impl IntoIterator<Item = &'a [u32]>, classes: usize) -> Self {
        let mut lengths = vec![Vec::new(); classes];
        for labels in train {
            for s in segments(labels) {
                if let Some(l) = lengths.get_mut(s.label as usize) {
                    l.push(s.len() as f64 / labels.len() as f64);
                }
            }
        }
        lengths.iter_mut().for_each(|l: &mut Vec<f64>| l.sort_by(f64::total_cmp));
        RemainingDuration { lengths }
    }

    /// Median remaining fraction of the video for `class` after `elapsed` (a fraction of the
    /// video); 0 when no training segment of the class lasted longer (or the class was never seen).
    pub fn remaining(&self, class: u32, elapsed: f64) -> f64 {
        let Some(l) = self.lengths.get(class as usize) else { return 0.0 };
        let longer = &l[l.partition_point(|&x| x <= elapsed)..];
        if longer.is_empty() { 0.0 } else { longer[longer.len() / 2] - elapsed }
    }
}

/// The action in progress at the end of an observation, what a [`RemainingEstimate`] reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InProgress {
    pub class: u32,
    /// Frames it has run, up to the end of the observation.
    pub elapsed: usize,
    /// Frames observed, and the video's length (the protocol gives it).
    pub observed: usize,
    pub total: usize,
    /// How many segments came before it.
    pub index: usize,
}

impl InProgress {
    /// The last segment of the observed `labels` of a video of `total` frames; None when nothing
    /// was observed.
    pub fn of(labels: &[u32], total: usize) -> Option<Self> {
        let segs = segments(labels);
        let last = segs.last()?;
        Some(InProgress {
            class: last.label,
            elapsed: last.len(),
            observed: labels.len(),
            total,
            index: segs.len() - 1,
        })
    }
}

/// How many more frames the action in progress lasts.
pub trait RemainingEstimate {
    fn remaining_frames(&self, at: &InProgress) -> Result<usize, String>;
}

impl<T: RemainingEstimate + ?Sized> RemainingEstimate for std::rc::Rc<T> {
    fn remaining_frames(&self, at: &InProgress) -> Result<usize, String> {
        (**self).remaining_frames(at)
    }
}

impl RemainingEstimate for RemainingDuration {
    fn remaining_frames(&self, at: &InProgress) -> Result<usize, String> {
        let n = at.total as f64;
        Ok((self.remaining(at.class, at.elapsed as f64 / n) * n).round() as usize)
    }
}

/// Another anticipator whose first segment, when it is the action in progress, is given the
/// length a [`RemainingEstimate`] gives it (the training split's [`RemainingDuration`] or a learned
/// one); the segments anticipated after it move to follow it (cut at the horizon, or continued
/// with the last of them). The labels are the inner anticipator's; only the first segment's end
/// moves.
pub struct TimedFirstSegment {
    pub inner: Box<dyn Anticipator>,
    pub estimate: Box<dyn RemainingEstimate>,
}

/// Wraps a method so that each split's anticipator is a [`TimedFirstSegment`] around the method's
/// own, with the estimate `fit` makes from the split's training labels. The estimate is fitted
/// once per split: `--diagnose` and the grid ask for the same split's anticipator.
pub fn with_timed_first_segment<'a>(
    make: Box<MethodFactory<'a>>,
    fit: impl Fn(&Split, &[&[u32]]) -> Result<Box<dyn RemainingEstimate>, MethodError> + 'a,
) -> Box<MethodFactory<'a>> {
    let fitted: RefCell<HashMap<String, Rc<dyn RemainingEstimate>>> = Default::default();
    Box::new(move |split: &Split, train: &[&[u32]]| {
        let cached = fitted.borrow().get(&split.name).cloned();
        let estimate = match cached {
            Some(e) => e,
            None => {
                let e: Rc<dyn RemainingEstimate> = fit(split, train)?.into();
                fitted.borrow_mut().insert(split.name.clone(), e.clone());
                e
            }
        };
        Ok(Box::new(TimedFirstSegment { inner: make(split, train)?, estimate: Box::new(estimate) })
            as Box<dyn Anticipator>)
    })
}

impl Anticipator for TimedFirstSegment {
    fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError> {
        let future = self.inner.anticipate(obs)?;
        let (Some(at), Some(&first)) =
            (InProgress::of(obs.labels, obs.total_frames), future.first())
        else {
            return Ok(future);
        };
        if first != at.class {
            return Ok(future);
        }
        let frames = self
            .estimate
            .remaining_frames(&at)
            .map_err(|reason| AnticipationError { video: obs.video.to_owned(), reason })?;
        Ok(with_first_segment_length(&future, frames))
    }
}

/// `future` with its first segment's length set to `frames` and the segments after it moved up
/// or back to follow; the result has `future`'s length, continued with its last label.
pub fn with_first_segment_length(future: &[u32], frames: usize) -> Vec<u32> {
    let Some(&first) = future.first() else { return Vec::new() };
    let first_len = leading_run(future, first);
    let mut out: Vec<u32> = std::iter::repeat_n(first, frames)
        .chain(future[first_len..].iter().copied())
        .take(future.len())
        .collect();
    let fill = out.last().copied().unwrap_or(first);
    out.resize(future.len(), fill);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(labels: &[u32], total: usize) -> Observation<'_> {
        Observation { video: "v", labels, features: None, total_frames: total }
    }

    #[test]
    fn last_observed_continues() {
        let b = LastObserved::fit([&[2u32, 2][..], &[2, 0][..], &[1][..]], 3);
        assert_eq!(b.anticipate(&obs(&[0, 1, 1], 6)).unwrap(), vec![1, 1, 1]);
        assert_eq!(b.anticipate(&obs(&[], 2)).unwrap(), vec![2, 2]);
        assert!(b.anticipate(&obs(&[0], 1)).unwrap().is_empty());
    }

    #[test]
    fn transition_prior_by_hand() {
        // two training videos of 10 frames: 0×2 1×5 2×3 and 0×2 1×3 2×5
        let v1 = [0, 0, 1, 1, 1, 1, 1, 2, 2, 2];
        let v2 = [0, 0, 1, 1, 1, 2, 2, 2, 2, 2];
        let b = TransitionPrior::fit([&v1[..], &v2[..]], 4);
        assert_eq!(b.next, vec![Some(1), Some(2), None, None]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(
            close(b.mean_duration[0], 0.2)
                && close(b.mean_duration[1], 0.4)
                && close(b.mean_duration[2], 0.4)
        );
        // class 3 never seen: the mean of all segments (0.2+0.5+0.3+0.2+0.3+0.5)/6
        assert!(close(b.mean_duration[3], 2.0 / 6.0));
        // observed 0 for 1 frame of 20: 0 lasts 0.2·20 = 4 frames → 3 more, then 1 for 8, then 2 to the end
        let f = b.anticipate(&obs(&[0], 20)).unwrap();
        assert_eq!(f.len(), 19);
        assert_eq!(&f[..3], &[0, 0, 0]);
        assert_eq!(&f[3..11], &[1; 8]);
        assert!(f[11..].iter().all(|&l| l == 2));
        // an ongoing segment already longer than its mean switches at once
        assert_eq!(b.anticipate(&obs(&[0, 0, 0, 0, 0, 0], 10)).unwrap()[0], 1);
        assert_eq!(b.anticipate(&obs(&[], 5)).unwrap(), vec![0, 1, 1, 2, 2]);
    }

    #[test]
    fn remaining_duration_is_the_median_of_the_longer_segments() {
        // class 0 lasts 0.1, 0.2, 0.4 and 0.5 of its videos (10 frames each)
        let v: Vec<Vec<u32>> =
            [1, 2, 4, 5].iter().map(|&k| [vec![0; k], vec![1; 10 - k]].concat()).collect();
        let p = RemainingDuration::fit(v.iter().map(Vec::as_slice), 3);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        // nothing elapsed: the median of all four (the upper one of the middle two) is 0.4
        assert!(close(p.remaining(0, 0.0), 0.4));
        // 0.15 elapsed: 0.2, 0.4, 0.5 are longer, median 0.4 → 0.25 more
        assert!(close(p.remaining(0, 0.15), 0.25));
        // a segment that lasted exactly as long as elapsed is over, not longer
        assert!(close(p.remaining(0, 0.4), 0.1));
        assert_eq!(p.remaining(0, 0.5), 0.0, "longer than every training segment");
        assert_eq!(p.remaining(2, 0.0), 0.0, "never seen");
        assert_eq!(p.remaining(7, 0.0), 0.0, "outside the vocabulary");
    }

    #[test]
    fn the_first_segment_is_timed_only_when_it_is_the_action_in_progress() {
        assert_eq!(with_first_segment_length(&[3, 3, 3, 4, 5], 1), vec![3, 4, 5, 5, 5]);
        assert_eq!(with_first_segment_length(&[3, 4, 5], 2), vec![3, 3, 4]);
        assert_eq!(with_first_segment_length(&[3, 4, 5], 0), vec![4, 5, 5]);
        assert!(with_first_segment_length(&[], 3).is_empty());
        // class 0 lasts 0.3 of every training video of 10 frames; 1 follows
        let train = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
        let prior = RemainingDuration::fit([&train[..]], 2);
        // observed 0 for 1 frame of 20: 0.3·20 − 1 = 5 more frames of 0 (the inner said 10), then
        // the inner's 1s moved up to follow
        let timed = TimedFirstSegment {
            inner: Box::new(Then(0, 10, 1)),
            estimate: Box::new(prior.clone()),
        };
        assert_eq!(timed.anticipate(&obs(&[0], 20)).unwrap(), [vec![0; 5], vec![1; 14]].concat());
        // an inner anticipator that starts with another action is left as it is
        let other = TimedFirstSegment {
            inner: Box::new(LastObserved { first_label: 0 }),
            estimate: Box::new(prior),
        };
        assert_eq!(
            other.anticipate(&obs(&[1, 1], 6)).unwrap(),
            vec![1; 4],
            "nothing anticipated after it: the action in progress fills the rest"
        );
        let jumps = TimedFirstSegment {
            inner: Box::new(Jump(1)),
            estimate: Box::new(RemainingDuration::fit([&train[..]], 2)),
        };
        assert_eq!(jumps.anticipate(&obs(&[0], 20)).unwrap(), vec![1; 19]);
    }

    #[test]
    fn the_action_in_progress_is_the_last_observed_segment() {
        assert_eq!(
            InProgress::of(&[4, 4, 2, 2, 2], 9),
            Some(InProgress { class: 2, elapsed: 3, observed: 5, total: 9, index: 1 })
        );
        assert_eq!(
            InProgress::of(&[4], 9),
            Some(InProgress { class: 4, elapsed: 1, observed: 1, total: 9, index: 0 })
        );
        assert_eq!(InProgress::of(&[], 9), None);
    }

    /// Anticipates `.0` for `.1` frames, then `.2` to the end of the horizon.
    struct Then(u32, usize, u32);
    impl Anticipator for Then {
        fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError> {
            let horizon = obs.total_frames - obs.labels.len();
            Ok((0..horizon).map(|i| if i < self.1 { self.0 } else { self.2 }).collect())
        }
    }

    /// Anticipates one label for the whole horizon.
    struct Jump(u32);
    impl Anticipator for Jump {
        fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError> {
            Ok(vec![self.0; obs.total_frames - obs.labels.len()])
        }
    }
}
