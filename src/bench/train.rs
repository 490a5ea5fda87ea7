//! `mmant bench train`: training throughput of ours and of a PyTorch twin
//! (`scripts/reference/torch_train.py`) on the same examples, batches and initial weights, in one
//! run, alternating A B B A; and whether the two train the same thing: the per-step losses of
//! the first steps with dropout off.
//!
//! The examples are the split's training cuts (the dataset's own configuration: stride, queries,
//! transition weight), `n` of them spread evenly over the length distribution; the batches are
//! cut once (length-bucketed, fixed seed) and written with the initial weights to a folder the
//! reference reads, so both sides see exactly the same tensors.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use serde::Serialize;

use super::attention::machine_description;
use crate::data::Dataset;
use crate::model::blocks::Dropout;
use crate::model::{checkpoint, init};
use crate::train::config::{ModelKind, TrainConfig};
use crate::train::examples::{self, Batch, TokenSource};
use crate::train::optim::AdamW;
use crate::train::{self, Prepared};
use candle_nn::ParamsAdamW;

/// One row: a model at one width on one dataset's split.
#[derive(Debug, Clone)]
pub struct TrainBenchConfig {
    pub model: ModelKind,
    pub d_model: usize,
    pub batch: usize,
    pub examples: usize,
    /// Steps whose losses are compared with dropout off (0: no check).
    pub check_steps: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainBenchRow {
    pub dataset: String,
    pub split: String,
    pub model: String,
    pub d_model: usize,
    pub batch: usize,
    pub examples: usize,
    pub mean_tokens: f64,
    pub ours_examples_per_s: f64,
    pub torch_examples_per_s: Option<f64>,
    /// Ours / PyTorch's examples per second (> 1: ours is faster).
    pub ratio: Option<f64>,
    pub torch_version: Option<String>,
    /// Largest relative difference of the 7 loss parts over the checked steps (dropout off).
    pub max_loss_rel_diff: Option<f64>,
    pub checked_steps: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainBenchReport {
    pub machine: String,
    pub python: Option<String>,
    pub note: Option<String>,
    pub rows: Vec<TrainBenchRow>,
}

/// `n` of the examples, evenly spaced over their sorted lengths (every length is represented).
fn spread(examples: &[examples::Example], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| examples[i].past.len());
    let n = n.min(order.len());
    (0..n).map(|i| order[i * order.len() / n.max(1)]).collect()
}

/// A float32 `.npy` of any shape.
pub(crate) fn write_npy(path: &Path, t: &Tensor) -> Result<()> {
    let shape: Vec<String> = t.dims().iter().map(|d| d.to_string()).collect();
    let shape = if shape.len() == 1 {
        format!("({},)", shape[0])
    } else {
        format!("({})", shape.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + length (2) + header + newline, a multiple of 64
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let data: Vec<f32> = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    f.write_all(b"\x93NUMPY\x01\x00")?;
    f.write_all(&(header.len() as u16).to_le_bytes())?;
    f.write_all(header.as_bytes())?;
    for v in data {
        f.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}

pub fn write_batch(dir: &Path, b: &Batch) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let tensors = [
        ("x", &b.x),
        ("mask", &b.mask),
        ("past", &b.past),
        ("past_fine", &b.past_fine),
        ("past_valid", &b.past_valid),
        ("target", &b.target),
        ("target_valid", &b.target_valid),
        ("duration", &b.duration),
        ("duration_valid", &b.duration_valid),
        ("weight", &b.weight),
    ];
    for (name, t) in tensors {
        write_npy(&dir.join(format!("{name}.npy")), t)?;
    }
    Ok(())
}

/// One pass of ours over `batches` from `initial` weights: (seconds, the loss parts per step).
#[allow(clippy::too_many_arguments)] // the row's whole training configuration
fn ours(
    cfg: &TrainConfig,
    model_cfg: &checkpoint::ModelConfig,
    initial: &Path,
    text_table: Option<&Tensor>,
    batches: &[Batch],
    dropout: f32,
    tcl_w: f64,
) -> Result<(f64, Vec<[f64; 7]>)> {
    let mut vm = VarMap::new();
    if let Some(t) = text_table {
        vm.data().lock().unwrap().insert("text_table".into(), Var::from_tensor(t)?);
    }
    let model =
        checkpoint::build(model_cfg, init::seeded_var_builder(&vm, cfg.seed, &Device::Cpu))?;
    vm.load(initial)?;
    let vars = train::trainable_vars(&vm);
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW { lr: cfg.lr, weight_decay: cfg.weight_decay, ..Default::default() },
    )?;
    let drop = Dropout::new(dropout, cfg.seed);
    // the PyTorch reference implements the paper's total, not the code's confidence mixing
    let weights = train::LossWeights { confidence_mixing: false, ..train::LossWeights::of(cfg, 0) };
    let mut parts = Vec::with_capacity(batches.len());
    let started = Instant::now();
    for b in batches {
        let l = train::batch_losses(
            &model,
            b,
            Some(&drop),
            train::LossWeights { tcl: tcl_w, ..weights },
        )?;
        opt.backward_step(&l.total)?;
        parts.push(l.parts);
    }
    Ok((started.elapsed().as_secs_f64(), parts))
}

#[derive(serde::Deserialize)]
struct TorchRun {
    torch_version: String,
    examples_per_s: f64,
    #[serde(default)]
    check_losses: Vec<[f64; 7]>,
}

fn torch(python: &Path, dir: &Path, check_steps: usize) -> Result<TorchRun> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/reference/torch_train.py");
    let mut cmd = Command::new(python);
    cmd.arg(&script).arg(dir);
    if check_steps > 0 {
        cmd.args(["--steps-check", &check_steps.to_string()]);
    }
    let out = cmd.output().with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!("{} printed no JSON: {}", script.display(), String::from_utf8_lossy(&out.stdout))
    })
}

/// One row of the table; `python` (with torch) adds the reference side.
pub fn run_row(
    ds: &Dataset,
    row: &TrainBenchConfig,
    python: Option<&Path>,
) -> Result<TrainBenchRow> {
    let mut cfg = TrainConfig::for_dataset(&ds.name, row.model, std::env::temp_dir());
    cfg.split = ds.splits[0].name.clone();
    cfg.d_model = row.d_model;
    cfg.batch_size = row.batch;
    cfg.seed = 1;
    let prepared: Prepared = train::prepare(ds, &cfg)?;
    let chosen = spread(&prepared.examples, row.examples);
    let selected: Vec<examples::Example> =
        chosen.iter().map(|&i| prepared.examples[i].clone()).collect();
    let mean_tokens =
        selected.iter().map(|e| e.past.len()).sum::<usize>() as f64 / selected.len().max(1) as f64;
    let mut rng = init::seeded_rng(1, "bench-train-batches");
    let source = TokenSource::OneHot { classes: prepared.classes };
    let batches: Vec<Batch> = train::length_bucketed_batches(&selected, row.batch, &mut rng)
        .iter()
        .map(|idx| {
            let refs: Vec<&examples::Example> = idx.iter().map(|&i| &selected[i]).collect();
            examples::collate(&refs, &source, cfg.queries, cfg.transition_weight, &Device::Cpu)
        })
        .collect::<candle_core::Result<_>>()?;
    // m&m-Ant's label-text table: random, seeded (the speed does not depend on its values)
    let text_table = (row.model == ModelKind::Mmant && cfg.use_text)
        .then(|| -> Result<Tensor> {
            let mut rng = init::seeded_rng(1, "bench-text-table");
            let v: Vec<f32> = (0..prepared.fine_classes * 384)
                .map(|_| rand::Rng::random_range(&mut rng, -1.0f32..1.0))
                .collect();
            Ok(Tensor::from_vec(v, (prepared.fine_classes, 384), &Device::Cpu)?)
        })
        .transpose()?;
    let model_cfg = train::model_config(&cfg, &prepared, 384);
    let dropout = match &model_cfg {
        checkpoint::ModelConfig::Futr(c) => c.dropout,
        checkpoint::ModelConfig::Mmant(c) => c.dropout,
    };
    // the tcl weight of the triangular schedule's peak, so that TCL's cost is in the time
    let tcl_w = if cfg.use_tcl { 1.0 } else { 0.0 };

    let dir = tempfile::tempdir()?;
    let initial = dir.path().join("weights.safetensors");
    {
        let vm = VarMap::new();
        if let Some(t) = &text_table {
            vm.data().lock().unwrap().insert("text_table".into(), Var::from_tensor(t)?);
        }
        checkpoint::build(&model_cfg, init::seeded_var_builder(&vm, cfg.seed, &Device::Cpu))?;
        vm.save(&initial)?;
    }
    for (i, b) in batches.iter().enumerate() {
        write_batch(&dir.path().join("batches").join(format!("{i:04}")), b)?;
    }
    let config = serde_json::json!({
        "model": model_cfg,
        "train": {
            "lr": cfg.lr, "weight_decay": cfg.weight_decay, "dropout": dropout,
            "tcl_weight": tcl_w, "use_tcl": cfg.use_tcl, "duration_weight": cfg.duration_weight,
            "threads": 2,
        },
    });
    std::fs::write(dir.path().join("config.json"), serde_json::to_vec_pretty(&config)?)?;

    let n = selected.len();
    // the same training? the first steps' losses with dropout off (also ours' warm-up: a
    // process's first steps allocate everything anew); PyTorch's come from its first run, before
    // its timed pass
    let steps = row.check_steps.min(batches.len()).max(1);
    let (_, mine) =
        ours(&cfg, &model_cfg, &initial, text_table.as_ref(), &batches[..steps], 0.0, tcl_w)?;
    // A B B A: ours, PyTorch, PyTorch, ours; summed per side
    let (mut ours_s, mut torch_runs) = (0.0, Vec::new());
    for side in ["ours", "torch", "torch", "ours"] {
        match (side, python) {
            ("ours", _) => {
                let run = ours(
                    &cfg,
                    &model_cfg,
                    &initial,
                    text_table.as_ref(),
                    &batches,
                    dropout,
                    tcl_w,
                )?;
                ours_s += run.0;
            }
            (_, Some(py)) => {
                let check =
                    if torch_runs.is_empty() { row.check_steps.min(batches.len()) } else { 0 };
                torch_runs.push(torch(py, dir.path(), check)?);
            }
            _ => {}
        }
    }
    let ours_eps = 2.0 * n as f64 / ours_s;
    let torch_eps = (!torch_runs.is_empty()).then(|| {
        let seconds: f64 = torch_runs.iter().map(|r| n as f64 / r.examples_per_s).sum();
        torch_runs.len() as f64 * n as f64 / seconds
    });
    let theirs = torch_runs.first().map(|r| r.check_losses.clone()).unwrap_or_default();
    let check = (row.check_steps > 0 && !theirs.is_empty()).then(|| {
        mine.iter()
            .zip(&theirs)
            .flat_map(|(a, b)| {
                a.iter().zip(b).map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(1e-6))
            })
            .fold(0.0f64, f64::max)
    });
    let checked = if check.is_some() { theirs.len().min(mine.len()) } else { 0 };
    Ok(TrainBenchRow {
        dataset: ds.name.clone(),
        split: cfg.split.clone(),
        model: match row.model {
            ModelKind::Futr => "FUTR".into(),
            ModelKind::Mmant => "m&m-Ant".into(),
        },
        d_model: row.d_model,
        batch: row.batch,
        examples: n,
        mean_tokens,
        ours_examples_per_s: ours_eps,
        torch_examples_per_s: torch_eps,
        ratio: torch_eps.map(|t| ours_eps / t),
        torch_version: torch_runs.first().map(|r| r.torch_version.clone()),
        max_loss_rel_diff: check,
        checked_steps: checked,
    })
}

pub fn run(
    rows: &[(PathBuf, TrainBenchConfig)],
    python: Option<PathBuf>,
    note: Option<String>,
) -> Result<TrainBenchReport> {
    let mut out = Vec::new();
    for (root, row) in rows {
        let ds = Dataset::open(root).with_context(|| format!("opening {}", root.display()))?;
        out.push(run_row(&ds, row, python.as_deref())?);
    }
    Ok(TrainBenchReport {
        machine: machine_description(),
        python: python.map(|p| p.display().to_string()),
        note,
        rows: out,
    })
}

impl std::fmt::Display for TrainBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "machine: {}", self.machine)?;
        if let Some(n) = &self.note {
            writeln!(f, "{n}")?;
        }
        writeln!(
            f,
            "training examples/s, one AdamW step per batch, both sides on the same batches and initial weights, A B B A:"
        )?;
        writeln!(
            f,
            "| data | model | D | batch | examples (mean tokens) | mmant | PyTorch | ratio | loss check |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|")?;
        for r in &self.rows {
            let torch = r.torch_examples_per_s.map_or("–".into(), |t| format!("{t:.1}"));
            let ratio = r.ratio.map_or("–".into(), |x| format!("{x:.2}"));
            let check = r.max_loss_rel_diff.map_or("–".into(), |d| {
                format!("max rel. diff {d:.1e} over {} steps", r.checked_steps)
            });
            writeln!(
                f,
                "| {} split {} | {} | {} | {} | {} ({:.0}) | {:.1} | {torch} | {ratio} | {check} |",
                r.dataset,
                r.split,
                r.model,
                r.d_model,
                r.batch,
                r.examples,
                r.mean_tokens,
                r.ours_examples_per_s
            )?;
        }
        if let Some(v) = self.rows.iter().find_map(|r| r.torch_version.as_ref()) {
            writeln!(f, "PyTorch {v}, 2 threads")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_files_read_back_with_their_shape() {
        let dir = tempfile::tempdir().unwrap();
        let t = Tensor::arange(0f32, 24.0, &Device::Cpu).unwrap().reshape((2, 3, 4)).unwrap();
        let p = dir.path().join("t.npy");
        write_npy(&p, &t).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'shape': (2, 3, 4)"), "{header}");
        let data: Vec<f32> = bytes[10 + header_len..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(data, (0..24).map(|v| v as f32).collect::<Vec<_>>());
    }
}
