//! Times the phases of one training step (forward + losses, backward, AdamW) on one fixed batch
//! of real Breakfast cuts, repeated: a steady-state measurement for optimising the step, without
//! the first-pass allocations and the batch-to-batch length spread that `mmant bench train`
//! includes. Ground-truth observation, Breakfast's training configuration (D 128, text on for
//! m&m-Ant, TCL at its peak weight), as `mmant bench train` runs it.
//!
//! cargo run --release --example train_step -- ../shared/data/breakfast [mmant|futr] [tokens] [steps] [export dir]
//!
//! With an export folder, the batch, the initial weights and the configuration are written there
//! in `scripts/reference/torch_train.py`'s layout; `scripts/reference/torch_train_step.py DIR`
//! then times PyTorch's phases on the same batch.

use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::Device;
use candle_nn::{ParamsAdamW, VarMap};
use mmant::data::Dataset;
use mmant::model::{blocks::Dropout, checkpoint, init};
use mmant::train::{self, ModelKind, TrainConfig, examples, optim::AdamW};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    mmant::tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root =
        args.first().context("usage: train_step <breakfast root> [mmant|futr] [tokens] [steps]")?;
    let is_mmant = args.get(1).is_none_or(|m| m == "mmant");
    let tokens: usize = args.get(2).map_or(Ok(233), |s| s.parse())?;
    let steps: usize = args.get(3).map_or(Ok(10), |s| s.parse())?;
    let export = args.get(4).map(std::path::PathBuf::from);
    let ds = Dataset::open(std::path::Path::new(root))?;
    let kind = if is_mmant { ModelKind::Mmant } else { ModelKind::Futr };
    let mut tcfg = TrainConfig::for_dataset(&ds.name, kind, std::env::temp_dir());
    tcfg.split = ds.splits[0].name.clone();
    tcfg.seed = 1;
    let prepared = train::prepare(&ds, &tcfg)?;
    // the 16 cuts whose observed lengths are nearest the requested one
    let mut order: Vec<usize> = (0..prepared.examples.len()).collect();
    order.sort_by_key(|&i| prepared.examples[i].past.len().abs_diff(tokens));
    let refs: Vec<&examples::Example> =
        order[..16].iter().map(|&i| &prepared.examples[i]).collect();
    let source = examples::TokenSource::OneHot { classes: prepared.classes };
    let batch =
        examples::collate(&refs, &source, tcfg.queries, tcfg.transition_weight, &Device::Cpu)?;

    let vm = VarMap::new();
    if is_mmant && tcfg.use_text {
        let table = init::uniform_tensor(&[prepared.fine_classes, 384], -1.0, 1.0, 1)?;
        vm.data()
            .lock()
            .unwrap()
            .insert("text_table".into(), candle_core::Var::from_tensor(&table)?);
    }
    let cfg = train::model_config(&tcfg, &prepared, 384);
    let model = checkpoint::build(&cfg, init::seeded_var_builder(&vm, 1, &Device::Cpu))?;
    let dropout = match &cfg {
        checkpoint::ModelConfig::Futr(c) => c.dropout,
        checkpoint::ModelConfig::Mmant(c) => c.dropout,
    };
    let tcl_w = if tcfg.use_tcl { 1.0 } else { 0.0 };
    if let Some(dir) = &export {
        vm.save(dir.join("weights.safetensors"))?;
        mmant::bench::train::write_batch(&dir.join("batches").join("0000"), &batch)?;
        let config = serde_json::json!({
            "model": cfg,
            "train": {
                "lr": tcfg.lr, "weight_decay": tcfg.weight_decay, "dropout": dropout,
                "tcl_weight": tcl_w, "use_tcl": tcfg.use_tcl, "duration_weight": tcfg.duration_weight,
                "threads": rayon::current_num_threads(),
            },
        });
        std::fs::write(dir.join("config.json"), serde_json::to_vec_pretty(&config)?)?;
    }
    let mut opt = AdamW::new(
        train::trainable_vars(&vm),
        ParamsAdamW { lr: tcfg.lr, weight_decay: tcfg.weight_decay, ..Default::default() },
    )?;
    let drop = Dropout::new(dropout, 1);
    let (mut fwd, mut bwd, mut upd) = (Vec::new(), Vec::new(), Vec::new());
    for step in 0..steps + 3 {
        let t0 = Instant::now();
        let weights = train::LossWeights { tcl: tcl_w, ..train::LossWeights::of(&tcfg, 0) };
        let l = train::batch_losses(&model, &batch, Some(&drop), weights)?;
        let t1 = Instant::now();
        let grads = l.total.backward()?;
        let t2 = Instant::now();
        opt.step(&grads)?;
        let t3 = Instant::now();
        if step >= 3 {
            fwd.push((t1 - t0).as_secs_f64() * 1e3);
            bwd.push((t2 - t1).as_secs_f64() * 1e3);
            upd.push((t3 - t2).as_secs_f64() * 1e3);
        }
    }
    let tok: usize = refs.iter().map(|e| e.past.len()).sum::<usize>() / refs.len();
    let (f, b, u) = (median(fwd), median(bwd), median(upd));
    println!(
        "{} batch 16, mean {tok} tokens, median of {steps} steps: forward+losses {f:.1} ms, backward {b:.1} ms, AdamW {u:.1} ms, total {:.1} ms ({:.1} examples/s)",
        if is_mmant { "m&m-Ant" } else { "FUTR" },
        f + b + u,
        16.0 / ((f + b + u) / 1e3)
    );
    Ok(())
}
