//! `mmant bench model`: m&m-Ant's forward latency at several observed lengths and its training
//! throughput on real examples, each with the fused attention kernel and with candle's explicit
//! attention ops, side by side in one run; and the training throughput of m&m-Ant and FUTR with
//! the row-broadcast gradients summed by a matrix product (`blocks::add_rows`) and by candle.

use std::time::Instant;

use anyhow::Result;
use candle_core::{Device, Tensor};
use candle_nn::{ParamsAdamW, VarMap};
use serde::Serialize;

use super::attention::{machine_description, median_ms};
use crate::data::Dataset;
use crate::model::{AttentionImpl, Model, blocks, blocks::Dropout, checkpoint, futr, init, mmant};
use crate::train::{self, ModelKind, TrainConfig, examples, optim::AdamW};

#[derive(Debug, Clone, Serialize)]
pub struct ForwardRow {
    pub s: usize,
    pub explicit_ms: f64,
    pub fused_ms: f64,
    pub speedup: f64,
    pub max_abs_diff: f32,
    /// GFLOP of the attention products alone at this S.
    pub attention_gflop: f64,
    /// The time those products take at the measured matrix-multiply rate: a floor for any exact
    /// implementation on this machine.
    pub attention_floor_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainRow {
    pub model: String,
    pub attention: String,
    /// How the gradients of biases, LayerNorm weights and position tables are summed over rows:
    /// "product" (ours, `blocks::add_rows`) or "candle" (candle's sum over leading dimensions).
    pub row_sums: String,
    pub batch: usize,
    pub examples: usize,
    pub seconds: f64,
    pub examples_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelBenchReport {
    pub machine: String,
    /// candle's f32 matrix product, 2048³, GFLOP/s: the machine's practical peak.
    pub gemm_gflops: f64,
    pub config: mmant::Config,
    pub forward: Vec<ForwardRow>,
    pub training: Vec<TrainRow>,
    pub training_data: Option<String>,
}

fn random_tokens(s: usize, dim: usize) -> Result<Tensor> {
    Ok(init::uniform_tensor(&[1, s, dim], -1.0, 1.0, 1)?)
}

fn build(cfg: &mmant::Config, seed: u64) -> Result<(Model, VarMap)> {
    let vm = VarMap::new();
    let vb = init::seeded_var_builder(&vm, seed, &Device::Cpu);
    let model = checkpoint::build(&checkpoint::ModelConfig::Mmant(cfg.clone()), vb)?;
    Ok((model, vm))
}

/// `sizes`: observed tokens S; `train_data`: a dataset root whose split 1 feeds the training
/// measurement (`train_examples` examples, batch 16, one optimizer step per batch).
pub fn run(
    sizes: &[usize],
    repeats: usize,
    train_data: Option<&Dataset>,
    train_examples: usize,
    train_batch: usize,
    train_attention: &[AttentionImpl],
) -> Result<ModelBenchReport> {
    // Breakfast's configuration on 2048-d features (the paper's input); the text table is random
    let mut cfg = mmant::Config::paper(2048, 48, 48, 384, 128);
    cfg.max_pos_len = sizes.iter().copied().max().unwrap_or(1).max(cfg.max_pos_len);
    let (mut model, _vm) = build(&cfg, 1)?;
    let a = random_tokens(2048, 2048)?.squeeze(0)?;
    let gemm_ms = median_ms(repeats.max(3), || a.matmul(&a).unwrap());
    let gemm_gflops = 2.0 * 2048f64.powi(3) / (gemm_ms / 1000.0) / 1e9;
    let mut forward = Vec::new();
    for &s in sizes {
        let x = random_tokens(s, cfg.input_dim)?;
        model.set_attention(AttentionImpl::ExplicitNoGrad);
        let explicit_ms = median_ms(repeats, || model.forward(&x, None, None).unwrap());
        let e = model.forward(&x, None, None)?.action;
        model.set_attention(AttentionImpl::Auto);
        let fused_ms = median_ms(repeats, || model.forward(&x, None, None).unwrap());
        let f = model.forward(&x, None, None)?.action;
        let max_abs_diff = (e - f)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
        let attention_gflop = cfg.attention_flops(s) / 1e9;
        forward.push(ForwardRow {
            s,
            explicit_ms,
            fused_ms,
            speedup: explicit_ms / fused_ms,
            max_abs_diff,
            attention_gflop,
            attention_floor_ms: attention_gflop / gemm_gflops * 1000.0,
        });
    }

    let mut training = Vec::new();
    if let Some(ds) = train_data {
        // Breakfast's configuration whatever the data, so that rows compare across datasets
        let tcfg = TrainConfig {
            split: ds.splits[0].name.clone(),
            epochs: 1,
            warmup: 1,
            seed: 1,
            held_out_every: 0,
            ..TrainConfig::for_dataset("breakfast", ModelKind::Mmant, std::env::temp_dir())
        };
        let prepared = train::prepare(ds, &tcfg)?;
        let n = train_examples.min(prepared.examples.len());
        let source = examples::TokenSource::OneHot { classes: prepared.classes };
        // an untimed pass first (a process's first pass is slower: its allocations are new); then
        // m&m-Ant with the explicit attention; then, with the fused attention, both models with
        // each way of summing the row-broadcast gradients, in the order A B B A, added up per way
        let mut runs: Vec<(bool, AttentionImpl, bool, bool)> =
            vec![(true, AttentionImpl::Auto, true, false)];
        runs.extend(
            train_attention
                .iter()
                .filter(|&&how| how != AttentionImpl::Auto)
                .map(|&how| (true, how, true, true)),
        );
        if train_attention.contains(&AttentionImpl::Auto) {
            for is_mmant in [true, false] {
                runs.extend(
                    [true, false, false, true]
                        .map(|by_product| (is_mmant, AttentionImpl::Auto, by_product, true)),
                );
            }
        }
        for (is_mmant, how, by_product, timed) in runs {
            let n = if timed { n } else { n.min(64) };
            let vm = VarMap::new();
            let model_cfg = if is_mmant {
                let mut mcfg = mmant::Config::paper(
                    prepared.input_dim,
                    prepared.classes,
                    prepared.fine_classes,
                    384,
                    128,
                );
                mcfg.use_text = true;
                let table = random_tokens(prepared.fine_classes, 384)?.squeeze(0)?;
                vm.data()
                    .lock()
                    .unwrap()
                    .insert("text_table".into(), candle_core::Var::from_tensor(&table)?);
                checkpoint::ModelConfig::Mmant(mcfg)
            } else {
                checkpoint::ModelConfig::Futr(futr::Config::breakfast(
                    prepared.input_dim,
                    prepared.classes,
                ))
            };
            let vb = init::seeded_var_builder(&vm, 1, &Device::Cpu);
            let mut m = checkpoint::build(&model_cfg, vb)?;
            m.set_attention(how);
            blocks::ROWS_BY_PRODUCT.store(by_product, std::sync::atomic::Ordering::Relaxed);
            let vars = train::trainable_vars(&vm);
            let mut opt = AdamW::new(
                vars,
                ParamsAdamW { lr: 1e-4, weight_decay: 5e-3, ..Default::default() },
            )?;
            let drop = Dropout::new(0.1, 1);
            let started = Instant::now();
            let mut rng = init::seeded_rng(1, "bench-batches");
            for chunk in
                train::length_bucketed_batches(&prepared.examples[..n], train_batch, &mut rng)
            {
                let refs: Vec<&examples::Example> =
                    chunk.iter().map(|&i| &prepared.examples[i]).collect();
                let batch = examples::collate(&refs, &source, 8, 10.0, &Device::Cpu)?;
                let l = train::batch_losses(
                    &m,
                    &batch,
                    Some(&drop),
                    train::LossWeights { tcl: 0.5, use_tcl: true, ..train::LossWeights::PLAIN },
                )?;
                opt.backward_step(&l.total)?;
            }
            let seconds = started.elapsed().as_secs_f64();
            blocks::ROWS_BY_PRODUCT.store(true, std::sync::atomic::Ordering::Relaxed);
            if !timed {
                continue;
            }
            let model = if is_mmant { "m&m-Ant" } else { "FUTR" };
            let attention = if how == AttentionImpl::Auto { "fused" } else { "explicit" };
            let row_sums = if by_product { "product" } else { "candle" };
            if let Some(row) = training.iter_mut().find(|r: &&mut TrainRow| {
                (r.model.as_str(), r.attention.as_str(), r.row_sums.as_str())
                    == (model, attention, row_sums)
            }) {
                row.examples += n;
                row.seconds += seconds;
                row.examples_per_s = row.examples as f64 / row.seconds;
                continue;
            }
            training.push(TrainRow {
                model: model.into(),
                attention: attention.into(),
                row_sums: row_sums.into(),
                batch: train_batch,
                examples: n,
                seconds,
                examples_per_s: n as f64 / seconds,
            });
        }
    }
    Ok(ModelBenchReport {
        machine: machine_description(),
        gemm_gflops,
        config: cfg,
        forward,
        training,
        training_data: train_data.map(|d| format!("{} split {}", d.name, d.splits[0].name)),
    })
}

impl std::fmt::Display for ModelBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "m&m-Ant (D {}, L_seg {}, L_ant {}, M {}, text on, input {}-d), machine: {}",
            self.config.d_model,
            self.config.seg_layers,
            self.config.ant_layers,
            self.config.queries,
            self.config.input_dim,
            self.machine
        )?;
        writeln!(f, "matrix products (candle, f32, 2048³): {:.1} GFLOP/s", self.gemm_gflops)?;
        writeln!(
            f,
            "| S (tokens) | explicit attention ms | fused attention ms | speed-up | max |Δ| of action logits | attention GFLOP | their floor at that rate, ms |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|")?;
        for r in &self.forward {
            writeln!(
                f,
                "| {} | {:.1} | {:.1} | {:.1}× | {:.1e} | {:.2} | {:.1} |",
                r.s,
                r.explicit_ms,
                r.fused_ms,
                r.speedup,
                r.max_abs_diff,
                r.attention_gflop,
                r.attention_floor_ms
            )?;
        }
        if let Some(d) = &self.training_data {
            writeln!(f, "\ntraining (forward + backward + AdamW) on {d}:")?;
            writeln!(
                f,
                "| model | attention | gradient row sums | batch | examples | seconds | examples/s |\n|---|---|---|---|---|---|---|"
            )?;
            for r in &self.training {
                writeln!(
                    f,
                    "| {} | {} | {} | {} | {} | {:.1} | {:.1} |",
                    r.model,
                    r.attention,
                    r.row_sums,
                    r.batch,
                    r.examples,
                    r.seconds,
                    r.examples_per_s
                )?;
            }
        }
        Ok(())
    }
}
