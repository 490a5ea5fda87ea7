//! `mmant bench attention`: the explicit candle attention, the fused kernel and (when a Python
//! with PyTorch is found) PyTorch's fused SDPA, on the same inputs, in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use candle_core::{Tensor, Var};
use serde::Serialize;

use crate::model::{AttentionImpl, attention, attention_explicit_inference};

#[derive(Debug, Clone)]
pub struct AttentionBenchConfig {
    pub sizes: Vec<usize>,
    pub model_dim: usize,
    pub heads: usize,
    pub batch: usize,
    pub repeats: usize,
    /// Time forward + backward (the gradients of q, k and v for a fixed output gradient), as
    /// training runs it, instead of the forward alone.
    pub backward: bool,
    /// A Python interpreter with torch and numpy; None = do not run PyTorch.
    pub python: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttentionRow {
    pub t: usize,
    pub explicit_ms: f64,
    pub fused_ms: f64,
    pub torch_sdpa_ms: Option<f64>,
    /// explicit / fused: how many times faster the fused kernel is than candle's explicit ops.
    pub speedup_vs_explicit: f64,
    /// fused / torch: below 1.0 the fused kernel is faster than PyTorch.
    pub fused_over_torch: Option<f64>,
    pub max_abs_diff_fused_vs_explicit: f32,
    pub max_abs_diff_fused_vs_torch: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttentionBenchReport {
    pub machine: String,
    pub threads: usize,
    pub batch: usize,
    pub heads: usize,
    pub model_dim: usize,
    pub repeats: usize,
    /// Whether the times are forward + backward (the compared values are then dL/dq).
    pub backward: bool,
    pub torch: Option<String>,
    pub torch_note: Option<String>,
    pub rows: Vec<AttentionRow>,
}

/// Median wall time of `f` in milliseconds, after two warm-up calls.
pub fn median_ms<T>(repeats: usize, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..2 {
        std::hint::black_box(f());
    }
    let mut times: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

pub fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let mut isa = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            isa.push("avx512f");
        }
        if std::is_x86_feature_detected!("avx2") {
            isa.push("avx2");
        }
        if std::is_x86_feature_detected!("fma") {
            isa.push("fma");
        }
    }
    format!("{cpu}, {} threads, {}", rayon::current_num_threads(), isa.join("+"))
}

/// A Python that imports torch: `explicit`, else $MMANT_PYTHON, else python3.
pub fn find_torch_python(explicit: Option<PathBuf>) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = explicit
        .into_iter()
        .chain(std::env::var_os("MMANT_PYTHON").map(PathBuf::from))
        .chain(std::iter::once(PathBuf::from("python3")))
        .collect();
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import torch, numpy"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn random(shape: &[usize], seed: u64) -> candle_core::Result<Tensor> {
    crate::model::init::uniform_tensor(shape, -1.0, 1.0, seed)
}

/// dL/dq of L = Σ attention(q, k, v) ⊙ grad_out: one forward and one backward pass, as in
/// training (the gradients of k and v are computed in the same pass).
fn grad_q(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    grad_out: &Tensor,
    scale: f64,
    how: AttentionImpl,
) -> candle_core::Result<Tensor> {
    let (q, k, v) = (Var::from_tensor(q)?, Var::from_tensor(k)?, Var::from_tensor(v)?);
    let o = attention(q.as_tensor(), k.as_tensor(), v.as_tensor(), None, scale, how)?;
    let grads = (o * grad_out)?.sum_all()?.backward()?;
    grads
        .get(q.as_tensor())
        .cloned()
        .ok_or_else(|| candle_core::Error::Msg("attention: no gradient for q".into()))
}

fn save(dir: &Path, name: &str, t: &Tensor) -> anyhow::Result<()> {
    let shape: Vec<u64> = t.dims().iter().map(|&d| d as u64).collect();
    let data = t.flatten_all()?.to_vec1::<f32>()?;
    use npyz::WriterBuilder;
    let file = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
    let mut w = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(file).begin_nd()?;
    w.extend(data)?;
    w.finish()?;
    Ok(())
}

#[derive(serde::Deserialize)]
struct TorchOut {
    torch: String,
    results: Vec<TorchRow>,
}
#[derive(serde::Deserialize)]
struct TorchRow {
    t: usize,
    median_ms: f64,
    max_abs_diff_vs_fused: f64,
}

pub fn run(cfg: &AttentionBenchConfig) -> anyhow::Result<AttentionBenchReport> {
    let hd = cfg.model_dim / cfg.heads;
    let scale = 1.0 / (hd as f64).sqrt();
    let dir = tempfile::tempdir()?;
    let mut rows = Vec::new();
    for &t in &cfg.sizes {
        let shape = [cfg.batch, cfg.heads, t, hd];
        let (q, k, v) = (random(&shape, 1)?, random(&shape, 2)?, random(&shape, 3)?);
        let (explicit_ms, fused_ms, fused, explicit) = if cfg.backward {
            let grad_out = random(&shape, 4)?;
            let explicit_ms = median_ms(cfg.repeats, || {
                grad_q(&q, &k, &v, &grad_out, scale, AttentionImpl::Explicit).unwrap()
            });
            let fused_ms = median_ms(cfg.repeats, || {
                grad_q(&q, &k, &v, &grad_out, scale, AttentionImpl::Auto).unwrap()
            });
            if cfg.python.is_some() {
                save(dir.path(), &format!("g_{t}.npy"), &grad_out)?;
            }
            let fused = grad_q(&q, &k, &v, &grad_out, scale, AttentionImpl::Auto)?;
            let explicit = grad_q(&q, &k, &v, &grad_out, scale, AttentionImpl::Explicit)?;
            (explicit_ms, fused_ms, fused, explicit)
        } else {
            let explicit_ms = median_ms(cfg.repeats, || {
                attention_explicit_inference(&q, &k, &v, None, scale).unwrap()
            });
            let fused_ms = median_ms(cfg.repeats, || {
                attention(&q, &k, &v, None, scale, AttentionImpl::Auto).unwrap()
            });
            let fused = attention(&q, &k, &v, None, scale, AttentionImpl::Auto)?;
            let explicit = attention_explicit_inference(&q, &k, &v, None, scale)?;
            (explicit_ms, fused_ms, fused, explicit)
        };
        let diff = (&fused - &explicit)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
        if cfg.python.is_some() {
            for (name, x) in [("q", &q), ("k", &k), ("v", &v), ("fused", &fused)] {
                save(dir.path(), &format!("{name}_{t}.npy"), x)?;
            }
        }
        rows.push(AttentionRow {
            t,
            explicit_ms,
            fused_ms,
            torch_sdpa_ms: None,
            speedup_vs_explicit: explicit_ms / fused_ms,
            fused_over_torch: None,
            max_abs_diff_fused_vs_explicit: diff,
            max_abs_diff_fused_vs_torch: None,
        });
    }
    let mut torch = None;
    let mut torch_note =
        Some("no Python with torch and numpy found (pass --python or set MMANT_PYTHON)".to_owned());
    if let Some(py) = &cfg.python {
        std::fs::write(dir.path().join("sizes.json"), serde_json::to_string(&cfg.sizes)?)?;
        let script = dir.path().join("torch_sdpa.py");
        std::fs::write(&script, include_str!("../../scripts/reference/torch_sdpa.py"))?;
        let out = Command::new(py)
            .arg(&script)
            .arg(dir.path())
            .arg(rayon::current_num_threads().to_string())
            .arg(cfg.repeats.to_string())
            .arg(if cfg.backward { "backward" } else { "forward" })
            .output()?;
        if out.status.success() {
            let parsed: TorchOut = serde_json::from_slice(&out.stdout)?;
            for r in parsed.results {
                if let Some(row) = rows.iter_mut().find(|row| row.t == r.t) {
                    row.torch_sdpa_ms = Some(r.median_ms);
                    row.fused_over_torch = Some(row.fused_ms / r.median_ms);
                    row.max_abs_diff_fused_vs_torch = Some(r.max_abs_diff_vs_fused);
                }
            }
            torch = Some(parsed.torch);
            torch_note = None;
        } else {
            torch_note = Some(format!(
                "PyTorch run failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(AttentionBenchReport {
        machine: machine_description(),
        threads: rayon::current_num_threads(),
        batch: cfg.batch,
        heads: cfg.heads,
        model_dim: cfg.model_dim,
        repeats: cfg.repeats,
        backward: cfg.backward,
        torch,
        torch_note,
        rows,
    })
}

impl std::fmt::Display for AttentionBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "attention {}, batch {}, {} heads, D = {} (head dim {}), median of {} runs",
            if self.backward {
                "forward + backward (times of both passes; |Δ| compares dL/dq)"
            } else {
                "forward"
            },
            self.batch,
            self.heads,
            self.model_dim,
            self.model_dim / self.heads,
            self.repeats
        )?;
        writeln!(f, "machine: {}", self.machine)?;
        match (&self.torch, &self.torch_note) {
            (Some(v), _) => writeln!(f, "PyTorch {v}, {} threads", self.threads)?,
            (None, Some(note)) => writeln!(f, "PyTorch: {note}")?,
            _ => {}
        }
        writeln!(
            f,
            "| T | candle explicit ms | fused ms | torch SDPA ms | explicit/fused | fused/torch | max |Δ| vs explicit | max |Δ| vs torch |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|")?;
        let opt = |x: Option<f64>, p: usize| x.map_or("–".to_owned(), |x| format!("{x:.p$}"));
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {:.2} | {:.2} | {} | {:.1}× | {} | {:.1e} | {} |",
                r.t,
                r.explicit_ms,
                r.fused_ms,
                opt(r.torch_sdpa_ms, 2),
                r.speedup_vs_explicit,
                opt(r.fused_over_torch, 2),
                r.max_abs_diff_fused_vs_explicit,
                r.max_abs_diff_fused_vs_torch.map_or("–".to_owned(), |x| format!("{x:.1e}")),
            )?;
        }
        Ok(())
    }
}
