//! Why a model loses to `last-observed` at short horizons: how often its first anticipated
//! segment is the action in progress, and how long it lets that action run compared with the
//! truth. In the ground-truth-observation setting the action in progress is known exactly, so a
//! model that fails here fails at copying, not at anticipating.

use std::fmt;

use serde::Serialize;

use crate::data::leading_run;

use super::anticipator::{AnticipationError, Anticipator, Observation};
use super::baselines::with_first_segment_length;
use super::moc::{BETAS, ClassCounts, eval_window, observed_frames};

#[derive(Debug, Clone, Serialize)]
pub struct FirstSegmentRow {
    pub alpha: f64,
    pub videos: usize,
    /// Fraction of videos whose ground truth continues the last observed action past the
    /// observation point.
    pub truth_continues: f64,
    /// Fraction of videos whose first anticipated frame is the last observed action.
    pub first_is_current: f64,
    /// Where both continue: median of (anticipated run of the current action) / (true
    /// remaining run), both counted within the ⌊0.5·N⌋ frames the model decodes.
    pub median_run_ratio: Option<f64>,
    /// Fraction of the first 0.1·N future frames that the truth gives to the current action,
    /// and that the anticipation gives to it.
    pub truth_current_share: f64,
    pub anticipated_current_share: f64,
    /// …and that both give to it (the truth's share that the anticipation gets right).
    pub overlap_current_share: f64,
    /// By how many frames of the action in progress were observed ([`SEEN_BUCKETS`]): videos, and
    /// how many of them start the anticipation with that action.
    pub by_frames_seen: Vec<(usize, usize)>,
    /// Per class of the action in progress: videos, and how many of them start with it.
    pub by_class: Vec<(usize, usize)>,
    /// Where the first anticipated segment is not the action in progress, what it is
    /// ([`Instead`]): the action observed just before the current one, another action already
    /// observed, the truth's next action, or something else (not yet observed, or NONE).
    pub instead: [usize; 4],
    /// MoC ×100 at each β of [`BETAS`]: as anticipated, and with the first anticipated segment
    /// relabelled to the action in progress (what the score would be if the model copied it).
    pub moc: Vec<Option<f64>>,
    pub moc_current_first: Vec<Option<f64>>,
    /// …and with that relabelled first segment also given the truth's length, the anticipated
    /// segments after it moved to follow it ([`current_first_true_length`]): what a model that
    /// copies the action in progress could gain by timing its end right.
    pub moc_current_first_true_length: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FirstSegmentReport {
    pub split: String,
    /// Names of the class ids, for the table (ids are printed when empty).
    pub class_names: Vec<String>,
    pub rows: Vec<FirstSegmentRow>,
}

/// Upper bounds (exclusive) of the buckets of observed frames of the action in progress; the
/// last bucket is open.
pub const SEEN_BUCKETS: [usize; 4] = [30, 150, 600, usize::MAX];

/// What a first anticipated segment that is not the action in progress is, in the order
/// checked: an index into [`FirstSegmentRow::instead`].
pub struct Instead;

impl Instead {
    pub const PREVIOUS: usize = 0;
    pub const EARLIER: usize = 1;
    pub const NEXT_TRUE: usize = 2;
    pub const OTHER: usize = 3;

    /// `observed` the observed labels (ending with the action in progress), `after` the truth
    /// after the observation point, `first` the first anticipated label.
    fn classify(observed: &[u32], after: &[u32], first: u32) -> usize {
        let current = observed[observed.len() - 1];
        let before_current = &observed[..observed.len() - leading_run_rev(observed, current)];
        if before_current.last() == Some(&first) {
            Self::PREVIOUS
        } else if before_current.contains(&first) {
            Self::EARLIER
        } else if after.iter().find(|&&l| l != current) == Some(&first) {
            Self::NEXT_TRUE
        } else {
            Self::OTHER
        }
    }
}

/// Length of the run of `label` at the end of `frames`.
fn leading_run_rev(frames: &[u32], label: u32) -> usize {
    frames.iter().rev().take_while(|&&l| l == label).count()
}

/// `future` with its first segment relabelled to `current`.
fn current_first(future: &[u32], current: u32) -> Vec<u32> {
    let mut f = future.to_vec();
    if let Some(&first) = f.first() {
        f.iter_mut().take_while(|l| **l == first).for_each(|l| *l = current);
    }
    f
}

/// `future` with its first segment relabelled to `current` ([`current_first`]) and given the
/// truth's remaining run `true_run` of it, the anticipated segments after it moved to follow
/// ([`with_first_segment_length`]).
fn current_first_true_length(future: &[u32], current: u32, true_run: usize) -> Vec<u32> {
    with_first_segment_length(&current_first(future, current), true_run)
}

/// A held-out video: name, label track, and features when the anticipator observes features.
pub struct HeldOutVideo<'a> {
    pub name: &'a str,
    pub labels: &'a [u32],
    pub features: Option<&'a crate::data::Features>,
}

/// The first-segment statistics of one anticipator over `videos` (ground truth observed);
/// `classes` is the size of their vocabulary, `split` names them in the report.
pub fn first_segment(
    split: &str,
    videos: &[HeldOutVideo],
    anticipator: &dyn Anticipator,
    classes: usize,
    alphas: &[f64],
) -> Result<FirstSegmentReport, AnticipationError> {
    let mut rows = Vec::new();
    for &alpha in alphas {
        let (mut n_videos, mut truth_continues, mut first_is_current) = (0usize, 0usize, 0usize);
        let (mut truth_share, mut anticipated_share, mut overlap_share) = (0f64, 0f64, 0f64);
        let mut ratios = Vec::new();
        let mut by_seen = vec![(0usize, 0usize); SEEN_BUCKETS.len()];
        let mut by_class = vec![(0usize, 0usize); classes];
        let mut instead = [0usize; 4];
        let mut counts =
            vec![
                [ClassCounts::new(classes), ClassCounts::new(classes), ClassCounts::new(classes)];
                BETAS.len()
            ];
        for v in videos {
            let gt = v.labels;
            let observed = observed_frames(alpha, gt.len());
            if observed == 0 || observed >= gt.len() {
                continue;
            }
            let current = gt[observed - 1];
            let future = anticipator.anticipate(&Observation {
                video: v.name,
                labels: &gt[..observed],
                features: v.features,
                total_frames: gt.len(),
            })?;
            let forced = current_first(&future, current);
            let timed =
                current_first_true_length(&future, current, leading_run(&gt[observed..], current));
            for (b, &beta) in BETAS.iter().enumerate() {
                let window = eval_window(alpha, beta, gt.len());
                for (c, anticipation) in counts[b].iter_mut().zip([&future, &forced, &timed]) {
                    c.add(gt, observed, anticipation, window.clone());
                }
            }
            let decoded = ((0.5 * gt.len() as f64) as usize).min(gt.len() - observed);
            let true_run = leading_run(&gt[observed..observed + decoded], current);
            let anticipated_run = leading_run(&future[..decoded.min(future.len())], current);
            n_videos += 1;
            let seen = leading_run_rev(&gt[..observed], current);
            let bucket =
                SEEN_BUCKETS.iter().position(|&b| seen < b).unwrap_or(SEEN_BUCKETS.len() - 1);
            by_seen[bucket].0 += 1;
            by_seen[bucket].1 += usize::from(anticipated_run > 0);
            if let Some(c) = by_class.get_mut(current as usize) {
                c.0 += 1;
                c.1 += usize::from(anticipated_run > 0);
            }
            if anticipated_run == 0
                && let Some(&first) = future.first()
            {
                instead[Instead::classify(&gt[..observed], &gt[observed..], first)] += 1;
            }
            truth_continues += usize::from(true_run > 0);
            first_is_current += usize::from(anticipated_run > 0);
            if true_run > 0 && anticipated_run > 0 {
                ratios.push(anticipated_run as f64 / true_run as f64);
            }
            let window = ((0.1 * gt.len() as f64) as usize).clamp(1, gt.len() - observed);
            truth_share += true_run.min(window) as f64 / window as f64;
            anticipated_share += anticipated_run.min(window) as f64 / window as f64;
            overlap_share += true_run.min(anticipated_run).min(window) as f64 / window as f64;
        }
        ratios.sort_by(f64::total_cmp);
        let n = n_videos.max(1) as f64;
        rows.push(FirstSegmentRow {
            alpha,
            videos: n_videos,
            truth_continues: truth_continues as f64 / n,
            first_is_current: first_is_current as f64 / n,
            median_run_ratio: (!ratios.is_empty()).then(|| ratios[ratios.len() / 2]),
            truth_current_share: truth_share / n,
            anticipated_current_share: anticipated_share / n,
            overlap_current_share: overlap_share / n,
            by_frames_seen: by_seen,
            by_class,
            instead,
            moc: counts.iter().map(|c| c[0].moc()).collect(),
            moc_current_first: counts.iter().map(|c| c[1].moc()).collect(),
            moc_current_first_true_length: counts.iter().map(|c| c[2].moc()).collect(),
        });
    }
    Ok(FirstSegmentReport { split: split.to_owned(), class_names: Vec::new(), rows })
}

impl FirstSegmentReport {
    /// Mean MoC over every (α, β) cell that is defined.
    pub fn mean_moc(&self) -> Option<f64> {
        let v: Vec<f64> = self.rows.iter().flat_map(|r| r.moc.iter().flatten().copied()).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// Mean over α of the fraction whose first anticipated segment is the action in progress.
    pub fn mean_first_is_current(&self) -> f64 {
        self.rows.iter().map(|r| r.first_is_current).sum::<f64>() / self.rows.len().max(1) as f64
    }
}

impl fmt::Display for FirstSegmentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "first anticipated segment vs the action in progress (split {}):", self.split)?;
        writeln!(
            f,
            "| α | videos | truth continues | first = current | median run anticipated/true | share of next 0.1·N: truth | anticipated | both |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {} | {:.1}% | {:.1}% | {} | {:.1}% | {:.1}% | {:.1}% |",
                r.alpha,
                r.videos,
                100.0 * r.truth_continues,
                100.0 * r.first_is_current,
                r.median_run_ratio.map_or("n/a".to_owned(), |m| format!("{m:.2}")),
                100.0 * r.truth_current_share,
                100.0 * r.anticipated_current_share,
                100.0 * r.overlap_current_share
            )?;
        }
        writeln!(f, "\nfirst = current, by frames of the action in progress already observed:")?;
        let bounds: Vec<String> = SEEN_BUCKETS
            .iter()
            .scan(0, |lo, &hi| {
                let s = if hi == usize::MAX {
                    format!("≥ {lo}")
                } else {
                    format!("{lo}–{}", hi - 1)
                };
                *lo = hi;
                Some(s)
            })
            .collect();
        writeln!(f, "| α |{}", bounds.iter().map(|b| format!(" {b} |")).collect::<String>())?;
        writeln!(f, "|---|{}", "---|".repeat(bounds.len()))?;
        for r in &self.rows {
            let cell = |&(n, k): &(usize, usize)| {
                if n == 0 {
                    " – |".to_owned()
                } else {
                    format!(" {k}/{n} ({:.0}%) |", 100.0 * k as f64 / n as f64)
                }
            };
            writeln!(
                f,
                "| {} |{}",
                r.alpha,
                r.by_frames_seen.iter().map(cell).collect::<String>()
            )?;
        }
        writeln!(f, "\nactions in progress most often not continued (missed/videos):")?;
        for r in &self.rows {
            let mut missed: Vec<(usize, usize, usize)> = r
                .by_class
                .iter()
                .enumerate()
                .filter(|(_, (n, k))| k < n)
                .map(|(c, &(n, k))| (c, n - k, n))
                .collect();
            missed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let name = |c: usize| self.class_names.get(c).cloned().unwrap_or_else(|| c.to_string());
            let list: Vec<String> =
                missed.iter().take(8).map(|&(c, m, n)| format!("{} {m}/{n}", name(c))).collect();
            writeln!(
                f,
                "- α={}: {}",
                r.alpha,
                if list.is_empty() { "none".to_owned() } else { list.join(", ") }
            )?;
        }
        writeln!(f, "\nwhere the first anticipated segment is not the action in progress, it is:")?;
        writeln!(
            f,
            "| α | not continued | the previous observed action | an earlier observed action | the truth's next action | other (not yet observed, NONE) |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for r in &self.rows {
            let total: usize = r.instead.iter().sum();
            writeln!(
                f,
                "| {} | {total} |{}",
                r.alpha,
                r.instead.iter().map(|k| format!(" {k} |")).collect::<String>()
            )?;
        }
        writeln!(
            f,
            "\nMoC ×100 as anticipated → with the first anticipated segment relabelled to the action in progress → and given the truth's length (the later segments moved to follow it):"
        )?;
        writeln!(f, "| α |{}", BETAS.iter().map(|b| format!(" β={b} |")).collect::<String>())?;
        writeln!(f, "|---|{}", "---|".repeat(BETAS.len()))?;
        let m = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.2}"));
        for r in &self.rows {
            let cells: String = (0..r.moc.len())
                .map(|b| {
                    format!(
                        " {} → {} → {} |",
                        m(r.moc[b]),
                        m(r.moc_current_first[b]),
                        m(r.moc_current_first_true_length[b])
                    )
                })
                .collect();
            writeln!(f, "| {} |{cells}", r.alpha)?;
        }
        Ok(())
    }
}

/// `--diagnose`: the first-segment report of each split, with the method made from the split's
/// training labels and run on its test videos (`feature_dim`: load their features too, for a
/// checkpoint that observes features). Class names are the level's.
pub fn first_segment_per_split(
    ds: &crate::data::Dataset,
    splits: &[&crate::data::Split],
    level: usize,
    feature_dim: Option<usize>,
    make: &super::MethodFactory,
) -> Result<Vec<FirstSegmentReport>, super::EvalError> {
    let classes = ds.levels[level].vocab.len();
    let mut reports = Vec::new();
    for split in splits {
        let train: Vec<Vec<u32>> = split
            .train
            .iter()
            .map(|v| ds.load_video(v, None).map(|mut x| std::mem::take(&mut x.levels[level])))
            .collect::<Result<_, _>>()?;
        let train: Vec<&[u32]> = train.iter().map(Vec::as_slice).collect();
        let anticipator = make(split, &train)
            .map_err(|error| super::EvalError::Method { split: split.name.clone(), error })?;
        let loaded: Vec<crate::data::Video> =
            split.test.iter().map(|v| ds.load_video(v, feature_dim)).collect::<Result<_, _>>()?;
        let videos: Vec<_> = loaded
            .iter()
            .map(|v| HeldOutVideo {
                name: &v.name,
                labels: &v.levels[level],
                features: v.features.as_ref(),
            })
            .collect();
        let mut report =
            first_segment(&split.name, &videos, anticipator.as_ref(), classes, &[0.2, 0.3])?;
        report.class_names = ds.levels[level].vocab.names().to_vec();
        reports.push(report);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::LastObserved;

    struct Fixed(Vec<u32>);
    impl Anticipator for Fixed {
        fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError> {
            Ok(self.0.iter().copied().cycle().take(obs.total_frames - obs.labels.len()).collect())
        }
    }

    fn one(gt: &[u32]) -> Vec<HeldOutVideo<'_>> {
        vec![HeldOutVideo { name: "v", labels: gt, features: None }]
    }

    #[test]
    fn last_observed_always_starts_with_the_current_action() {
        // 0×20 then 1×80: at α=.1 the current action (0) runs 10 more frames of the 50 decoded
        let gt: Vec<u32> = [vec![0; 20], vec![1; 80]].concat();
        let r = first_segment("1", &one(&gt), &LastObserved::default(), 2, &[0.1]).unwrap();
        let row = &r.rows[0];
        assert_eq!((row.videos, row.truth_continues, row.first_is_current), (1, 1.0, 1.0));
        assert_eq!(row.median_run_ratio, Some(50.0 / 10.0));
        assert_eq!(
            (row.truth_current_share, row.anticipated_current_share, row.overlap_current_share),
            (1.0, 1.0, 1.0)
        );
    }

    #[test]
    fn a_model_that_jumps_ahead_is_counted_as_missing_the_current_action() {
        let gt: Vec<u32> = [vec![0; 20], vec![1; 80]].concat();
        let r = first_segment("1", &one(&gt), &Fixed(vec![1]), 2, &[0.1]).unwrap();
        let row = &r.rows[0];
        assert_eq!(
            (row.first_is_current, row.median_run_ratio, row.anticipated_current_share),
            (0.0, None, 0.0)
        );
        // 10 frames of the current action seen: first bucket, missed
        assert_eq!(row.by_frames_seen, vec![(1, 0), (0, 0), (0, 0), (0, 0)]);
        assert_eq!(row.instead, [0, 0, 1, 0], "it starts with the truth's next action");
    }

    #[test]
    fn a_first_segment_that_is_not_the_current_action_is_told_apart() {
        let observed = [2, 2, 3, 3, 0, 0, 1, 1];
        let after = [1, 1, 4, 5];
        assert_eq!(Instead::classify(&observed, &after, 0), Instead::PREVIOUS);
        assert_eq!(Instead::classify(&observed, &after, 3), Instead::EARLIER);
        assert_eq!(Instead::classify(&observed, &after, 2), Instead::EARLIER);
        assert_eq!(Instead::classify(&observed, &after, 4), Instead::NEXT_TRUE);
        assert_eq!(Instead::classify(&observed, &after, 5), Instead::OTHER);
        assert_eq!(Instead::classify(&observed, &after, 9), Instead::OTHER, "NONE");
        // only the action in progress observed: nothing came before it
        assert_eq!(Instead::classify(&[1, 1], &after, 4), Instead::NEXT_TRUE);
    }

    #[test]
    fn relabelling_the_first_segment_recovers_the_current_action() {
        assert_eq!(current_first(&[1, 1, 2, 1], 0), vec![0, 0, 2, 1]);
        let gt: Vec<u32> = [vec![0; 20], vec![1; 80]].concat();
        let r =
            first_segment("1", &one(&gt), &Fixed(vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]), 2, &[0.1])
                .unwrap();
        let row = &r.rows[0];
        // β=.1 window is frames 10..20, all class 0: the jump-ahead model scores 0, relabelled 100
        // (the first run of 1s covers the whole window)
        assert_eq!((row.moc[0], row.moc_current_first[0]), (Some(0.0), Some(100.0)));
    }

    #[test]
    fn the_first_segment_given_the_truths_length_moves_the_rest_up() {
        assert_eq!(current_first_true_length(&[1, 1, 1, 2, 3], 0, 1), vec![0, 2, 3, 3, 3]);
        assert_eq!(current_first_true_length(&[1, 1, 1, 2, 3], 0, 4), vec![0, 0, 0, 0, 2]);
        assert_eq!(
            current_first_true_length(&[1, 1, 1], 0, 1),
            vec![0, 0, 0],
            "nothing anticipated after it"
        );
        assert_eq!(
            current_first_true_length(&[1, 2, 2], 0, 0),
            vec![2, 2, 2],
            "the truth does not continue it"
        );
        assert_eq!(
            current_first_true_length(&[1, 0, 0, 2], 0, 1),
            vec![0, 2, 2, 2],
            "a relabelled segment joins the action in progress after it"
        );
        // 0×20 then 1×80, α=.1: 10 frames observed, 10 more of action 0 to come. The model lets
        // action 0 run 30 frames, then 1: the β=.2 window (frames 10..30) is half right
        // (class 0 all right, class 1 all wrong: MoC 50) until the first segment gets its true length.
        let gt: Vec<u32> = [vec![0; 20], vec![1; 80]].concat();
        let late = Fixed([vec![0; 30], vec![1; 60]].concat());
        let row = &first_segment("1", &one(&gt), &late, 2, &[0.1]).unwrap().rows[0];
        assert_eq!(
            (row.moc[1], row.moc_current_first[1], row.moc_current_first_true_length[1]),
            (Some(50.0), Some(50.0), Some(100.0))
        );
    }
}
