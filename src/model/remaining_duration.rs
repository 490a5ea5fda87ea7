//! How much longer the action in progress lasts, learned from the training videos' labels: a small
//! MLP from the action's class, how long it has run, the video's length, how much of the video
//! was observed and how many segments came before, to the log of the remaining time as a fraction
//! of the video. Trained with an L1 loss (`train::remaining_duration`), so it estimates the
//! conditional median, the statistic of `eval::baselines::RemainingDuration`, which conditions on
//! the class and the elapsed fraction only. Not in either paper: a test of whether the end of the
//! action in progress can be read from the observed labels better than by a per-class prior.

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{Linear, Module, VarBuilder};
use serde::{Deserialize, Serialize};

use crate::eval::baselines::{InProgress, RemainingEstimate};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub num_classes: usize,
    pub hidden: usize,
}

impl Config {
    pub fn new(num_classes: usize) -> Self {
        Config { num_classes, hidden: 64 }
    }
}

/// The numeric inputs after the class's one-hot: ln(1 + elapsed frames), ln(video frames),
/// elapsed / video, observed / video, ln(1 + index of the segment in progress).
pub const NUMERIC_INPUTS: usize = 5;

fn numeric(at: &InProgress) -> [f32; NUMERIC_INPUTS] {
    let total = at.total.max(1) as f32;
    [
        (at.elapsed as f32).ln_1p(),
        total.ln(),
        at.elapsed as f32 / total,
        at.observed as f32 / total,
        (at.index as f32).ln_1p(),
    ]
}

/// The numeric inputs' means and standard deviations over the training examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardization {
    pub mean: [f32; NUMERIC_INPUTS],
    pub std: [f32; NUMERIC_INPUTS],
}

impl Standardization {
    pub fn identity() -> Self {
        Standardization { mean: [0.0; NUMERIC_INPUTS], std: [1.0; NUMERIC_INPUTS] }
    }

    pub fn fit(examples: &[InProgress]) -> Self {
        let n = examples.len().max(1) as f64;
        let rows: Vec<[f32; NUMERIC_INPUTS]> = examples.iter().map(numeric).collect();
        let mut mean = [0f32; NUMERIC_INPUTS];
        let mut std = [1f32; NUMERIC_INPUTS];
        for j in 0..NUMERIC_INPUTS {
            let m = rows.iter().map(|r| r[j] as f64).sum::<f64>() / n;
            let var = rows.iter().map(|r| (r[j] as f64 - m).powi(2)).sum::<f64>() / n;
            mean[j] = m as f32;
            // a constant input (one video length in a tiny set) stays as it is, centred
            std[j] = if var > 1e-12 { var.sqrt() as f32 } else { 1.0 };
        }
        Standardization { mean, std }
    }
}

#[derive(Debug, Clone)]
pub struct RemainingDurationNet {
    pub cfg: Config,
    fc1: Linear,
    fc2: Linear,
    out: Linear,
    pub standardization: Standardization,
}

impl RemainingDurationNet {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let inputs = cfg.num_classes + NUMERIC_INPUTS;
        Ok(RemainingDurationNet {
            fc1: candle_nn::linear(inputs, cfg.hidden, vb.pp("fc1"))?,
            fc2: candle_nn::linear(cfg.hidden, cfg.hidden, vb.pp("fc2"))?,
            out: candle_nn::linear(cfg.hidden, 1, vb.pp("out"))?,
            cfg: cfg.clone(),
            standardization: Standardization::identity(),
        })
    }

    /// The inputs of `examples` as one [N, classes + NUMERIC_INPUTS] tensor: the class one-hot
    /// (a class outside the vocabulary gets none) and the standardized numeric inputs.
    pub fn inputs(&self, examples: &[InProgress], dev: &Device) -> Result<Tensor> {
        let width = self.cfg.num_classes + NUMERIC_INPUTS;
        let mut data = vec![0f32; examples.len() * width];
        let s = &self.standardization;
        for (row, at) in data.chunks_exact_mut(width).zip(examples) {
            if (at.class as usize) < self.cfg.num_classes {
                row[at.class as usize] = 1.0;
            }
            for (j, v) in numeric(at).into_iter().enumerate() {
                row[self.cfg.num_classes + j] = (v - s.mean[j]) / s.std[j];
            }
        }
        Tensor::from_vec(data, (examples.len(), width), dev)
    }

    /// ln((remaining frames + 1) / video frames) per row of `inputs`, shape [N].
    pub fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let h = self.fc1.forward(inputs)?.relu()?;
        let h = self.fc2.forward(&h)?.relu()?;
        self.out.forward(&h)?.squeeze(1)
    }

    /// The training target of an example whose action lasts `remaining` more frames.
    pub fn target(at: &InProgress, remaining: usize) -> f32 {
        ((remaining as f32 + 1.0) / at.total.max(1) as f32).ln()
    }

    /// Remaining frames from the model's output for `at`: the inverse of [`Self::target`].
    pub fn frames(at: &InProgress, log_fraction: f32) -> usize {
        (log_fraction.exp() * at.total as f32 - 1.0).round().max(0.0) as usize
    }
}

impl RemainingEstimate for RemainingDurationNet {
    fn remaining_frames(&self, at: &InProgress) -> std::result::Result<usize, String> {
        let dev = self.out.weight().device();
        let out = self
            .inputs(std::slice::from_ref(at), dev)
            .and_then(|x| self.forward(&x))
            .and_then(|y| y.to_dtype(DType::F32)?.to_vec1::<f32>());
        out.map(|v| Self::frames(at, v[0])).map_err(|e| format!("remaining-duration model: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(class: u32, elapsed: usize, total: usize) -> InProgress {
        InProgress { class, elapsed, observed: 2 * elapsed, total, index: elapsed % 4 }
    }

    #[test]
    fn frames_invert_the_target() {
        for (a, r) in [(at(0, 10, 100), 0), (at(1, 5, 1000), 37), (at(2, 1, 7), 6)] {
            assert_eq!(RemainingDurationNet::frames(&a, RemainingDurationNet::target(&a, r)), r);
        }
    }

    #[test]
    fn inputs_one_hot_and_standardized() {
        let vm = candle_nn::VarMap::new();
        let mut net = RemainingDurationNet::new(
            &Config::new(3),
            crate::model::init::seeded_var_builder(&vm, 1, &Device::Cpu),
        )
        .unwrap();
        let examples = [at(2, 10, 100), at(0, 30, 400), at(7, 1, 50)];
        net.standardization = Standardization::fit(&examples);
        let x = net.inputs(&examples, &Device::Cpu).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(&x[0][..3], &[0.0, 0.0, 1.0]);
        assert_eq!(&x[1][..3], &[1.0, 0.0, 0.0]);
        assert_eq!(&x[2][..3], &[0.0, 0.0, 0.0], "a class the model does not know has no one-hot");
        for j in 3..3 + NUMERIC_INPUTS {
            let col: Vec<f32> = x.iter().map(|r| r[j]).collect();
            let mean = col.iter().sum::<f32>() / 3.0;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 3.0;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "column {j}: mean {mean}, variance {var}"
            );
        }
        assert_eq!(
            net.forward(&net.inputs(&examples, &Device::Cpu).unwrap()).unwrap().dims(),
            &[3]
        );
    }
}
