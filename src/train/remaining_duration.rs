//! Fits [`RemainingDurationNet`] to the training videos' labels: every video cut at many
//! observation rates, each cut one example (the action in progress, and how long it still ran),
//! an L1 loss on the log of the remaining fraction. Seconds on the CPU, so `mmant eval` fits it
//! per split as it fits the counting baselines. Not in either paper.

use candle_core::{Device, Result, Tensor};
use candle_nn::{Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;

use super::TrainError;
use crate::data::segments;
use crate::eval::baselines::{InProgress, RemainingEstimate};
use crate::eval::observed_frames;
use crate::model::init::{seeded_rng, seeded_var_builder};
use crate::model::remaining_duration::{Config, RemainingDurationNet, Standardization};

#[derive(Debug, Clone)]
pub struct FitConfig {
    /// Optimizer steps, whatever the number of examples (Breakfast has ~40× 50 Salads' segments).
    pub steps: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub seed: u64,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig { steps: 3000, batch_size: 256, lr: 1e-3, weight_decay: 1e-2, seed: 13452 }
    }
}

/// What a fit did, for the log.
#[derive(Debug, Clone)]
pub struct FitReport {
    pub examples: usize,
    pub steps: usize,
    /// Mean |prediction − target| (log remaining fraction) over all training examples at the end.
    pub train_l1: f32,
}

/// The observation rates each training video is cut at: 0.05, 0.06, …, 0.95 (the test rates 0.2
/// and 0.3 among them, and the rates around them so the model sees every elapsed time).
pub fn cut_rates() -> impl Iterator<Item = f64> {
    (5..=95).map(|p| p as f64 / 100.0)
}

/// One example per cut of `labels`: the action in progress at the cut and how many more frames it
/// ran (0 when it ends at the cut).
pub fn examples(labels: &[u32]) -> Vec<(InProgress, usize)> {
    let segs = segments(labels);
    let total = labels.len();
    cut_rates()
        .filter_map(|alpha| {
            let t = observed_frames(alpha, total);
            if t == 0 || t >= total {
                return None;
            }
            // the segment holding the last observed frame t − 1
            let index = segs.partition_point(|s| s.end < t);
            let s = segs[index];
            Some((
                InProgress { class: s.label, elapsed: t - s.start, observed: t, total, index },
                s.end - t,
            ))
        })
        .collect()
}

pub fn fit(
    train: &[&[u32]],
    classes: usize,
    cfg: &FitConfig,
    dev: &Device,
) -> Result<(RemainingDurationNet, FitReport)> {
    let (ats, remaining): (Vec<InProgress>, Vec<usize>) =
        train.iter().flat_map(|l| examples(l)).unzip();
    if ats.is_empty() {
        candle_core::bail!("no training video is long enough to cut");
    }
    let varmap = candle_nn::VarMap::new();
    let mut net = RemainingDurationNet::new(
        &Config::new(classes),
        seeded_var_builder(&varmap, cfg.seed, dev),
    )?;
    net.standardization = Standardization::fit(&ats);
    let x = net.inputs(&ats, dev)?;
    let targets: Vec<f32> =
        ats.iter().zip(&remaining).map(|(at, &r)| RemainingDurationNet::target(at, r)).collect();
    let y = Tensor::from_vec(targets, ats.len(), dev)?;
    let mut opt = candle_nn::AdamW::new(
        varmap.all_vars(),
        ParamsAdamW { lr: cfg.lr, weight_decay: cfg.weight_decay, ..Default::default() },
    )?;
    let mut rng = seeded_rng(cfg.seed, "remaining-duration");
    let mut order: Vec<u32> = Vec::new();
    let batch = cfg.batch_size.max(1).min(ats.len());
    for _ in 0..cfg.steps {
        if order.len() < batch {
            // a fresh pass over the examples, shuffled; the tail of the last pass is dropped
            order = (0..ats.len() as u32).collect();
            order.shuffle(&mut rng);
        }
        let idx = Tensor::from_vec(order.split_off(order.len() - batch), batch, dev)?;
        let loss = (net.forward(&x.index_select(&idx, 0)?)? - y.index_select(&idx, 0)?)?
            .abs()?
            .mean_all()?;
        opt.backward_step(&loss)?;
    }
    let train_l1 = (net.forward(&x)? - &y)?.abs()?.mean_all()?.to_scalar::<f32>()?;
    Ok((net, FitReport { examples: ats.len(), steps: cfg.steps, train_l1 }))
}

/// How `eval --time-first-segment` ends the action in progress: the per-class median prior or
/// this model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FirstSegmentTiming {
    Prior,
    Learned,
}

impl FirstSegmentTiming {
    pub fn suffix(self) -> &'static str {
        match self {
            FirstSegmentTiming::Prior => "timed",
            FirstSegmentTiming::Learned => "timed-learned",
        }
    }
}

/// Fits the estimate of one split's training labels (the learned one logs its fit on stderr).
pub fn fit_estimate(
    timing: FirstSegmentTiming,
    split: &str,
    train: &[&[u32]],
    classes: usize,
) -> std::result::Result<Box<dyn RemainingEstimate>, TrainError> {
    match timing {
        FirstSegmentTiming::Prior => Ok(Box::new(crate::eval::baselines::RemainingDuration::fit(
            train.iter().copied(),
            classes,
        ))),
        FirstSegmentTiming::Learned => {
            let start = std::time::Instant::now();
            let cfg = FitConfig::default();
            let (net, report) = fit(train, classes, &cfg, &Device::Cpu).map_err(|error| {
                TrainError::Tensor { context: "fitting the remaining-duration model".into(), error }
            })?;
            eprintln!(
                "split {split}: remaining-duration model fitted on {} cuts of {} training videos, {} steps (seed {}), training L1 {:.3}, {:.1} s",
                report.examples,
                train.len(),
                report.steps,
                cfg.seed,
                report.train_l1,
                start.elapsed().as_secs_f64()
            );
            Ok(Box::new(net))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cut_reads_the_action_in_progress_as_eval_does() {
        let labels: Vec<u32> = [vec![3; 17], vec![1; 40], vec![2; 43]].concat();
        let ex = examples(&labels);
        assert_eq!(ex.len(), cut_rates().count());
        for (at, remaining) in ex {
            let t = at.observed;
            assert_eq!(InProgress::of(&labels[..t], labels.len()), Some(at));
            let end = if t <= 17 {
                17
            } else if t <= 57 {
                57
            } else {
                100
            };
            assert_eq!(remaining, end - t, "cut at {t}");
        }
        assert!(examples(&[5]).is_empty(), "a one-frame video has no cut with a future");
    }

    #[test]
    fn learns_a_remaining_time_that_depends_on_the_video_length() {
        // class 0 always lasts half of its video and class 1 the rest, but long videos (400 frames)
        // start with 0 for 300 frames: the per-class relative prior cannot tell them apart, the
        // model sees the length
        let short: Vec<u32> = [vec![0; 50], vec![1; 50]].concat();
        let long: Vec<u32> = [vec![0; 300], vec![1; 100]].concat();
        let train: Vec<&[u32]> = [&short[..], &long[..]].repeat(8);
        let cfg = FitConfig { steps: 1500, batch_size: 64, ..Default::default() };
        let (net, report) = fit(&train, 2, &cfg, &Device::Cpu).unwrap();
        assert!(report.train_l1 < 0.2, "{report:?}");
        let at =
            |elapsed, total| InProgress { class: 0, elapsed, observed: elapsed, total, index: 0 };
        let short_left = net.remaining_frames(&at(20, 100)).unwrap() as f64;
        let long_left = net.remaining_frames(&at(80, 400)).unwrap() as f64;
        assert!(
            (short_left - 30.0).abs() <= 6.0,
            "short video: {short_left} frames left, truth 30"
        );
        assert!(
            (long_left - 220.0).abs() <= 44.0,
            "long video: {long_left} frames left, truth 220"
        );
        // the same seed gives the same model
        let (again, _) = fit(&train, 2, &cfg, &Device::Cpu).unwrap();
        assert_eq!(again.remaining_frames(&at(80, 400)).unwrap(), long_left as usize);
    }
}
