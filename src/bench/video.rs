//! `mmant bench decode` and `mmant bench extract`.
//!
//! Decode: sequential throughput of our decoder (every frame to packed RGB at the native size)
//! against the ffmpeg command-line tool doing the same (`-pix_fmt rgb24 -f null`) on the same file
//! in the same run; latency of seeks to random frames, straight from `VideoFile` and through the
//! viewer's decoder worker, first uncached and then the same frames again from its LRU cache;
//! scrubbing through the worker as the viewer does (a drag of the ruler at 60 events/s asks for
//! the nearest picture at hand, a rest or the release for the exact frame).
//! Extract: frames/s of each backbone at 224×224, beside its floating-point work per frame.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::Serialize;

use super::attention::machine_description;
use crate::features::{Backbone, Network};
use crate::video::{DecoderWorker, Precision, Reply, VideoFile};

#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

pub fn percentiles(mut ms: Vec<f64>) -> Percentiles {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    Percentiles { p50_ms: at(0.5), p95_ms: at(0.95), max_ms: at(1.0) }
}

#[derive(Debug, Clone, Serialize)]
pub struct DecodeReport {
    pub machine: String,
    pub video: String,
    pub frames: usize,
    pub size: (u32, u32),
    pub codec: String,
    pub gop: usize,
    pub mmant_fps: f64,
    pub ffmpeg_fps: Option<f64>,
    /// mmant's throughput / ffmpeg's.
    pub ratio: Option<f64>,
    pub seeks: usize,
    pub seek_direct: Percentiles,
    pub seek_worker_uncached: Percentiles,
    pub seek_worker_cached: Percentiles,
    pub scrub: ScrubReport,
}

/// Scrubbing through the decoder worker, from an empty cache.
#[derive(Debug, Clone, Serialize)]
pub struct ScrubReport {
    pub drags: usize,
    /// Drag events (one per 16 ms, the pointer's rate).
    pub events: usize,
    /// From a drag event to a picture for it (the nearest at hand), target p95 ≤ 50 ms.
    pub picture_per_event: Percentiles,
    /// Pictures that were the exact frame asked for.
    pub exact_share: f64,
    /// From the release to the exact frame, target ≤ 400 ms.
    pub exact_after_release: Percentiles,
}

/// Waits for the reply to `generation`: (ms, the frame's index).
fn reply_to(worker: &DecoderWorker, generation: u64, since: Instant) -> Result<(f64, usize)> {
    loop {
        match worker.wait(Duration::from_secs(60)) {
            Some(Reply::Frame { generation: g, frame }) if g == generation => {
                return Ok((since.elapsed().as_secs_f64() * 1000.0, frame.index));
            }
            Some(Reply::Error { generation: g, message }) if g == generation => bail!("{message}"),
            Some(_) => continue, // a picture or an error for an earlier request
            None => bail!("no reply within 60 s"),
        }
    }
}

/// `drags` drags of the ruler, each 40 events at 60 per second sweeping a random stretch of the
/// file, resting once midway for the viewer's 150 ms (an exact request, then moving on before
/// it is done: the decode is interrupted), ending with a release (exact).
fn scrub(path: &Path, frames: usize, frame_bytes: usize, drags: usize) -> Result<ScrubReport> {
    let mut worker = DecoderWorker::spawn(path.to_owned(), (256 << 20).max(frame_bytes));
    match worker.wait(Duration::from_secs(120)) {
        Some(Reply::Opened(_)) => {}
        other => bail!("decoder worker did not open {}: {other:?}", path.display()),
    }
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut random = |n: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize % n.max(1)
    };
    let (mut per_event, mut exact_hits, mut releases) = (Vec::new(), 0, Vec::new());
    const EVENTS: usize = 40;
    for _ in 0..drags {
        let (from, to) = (random(frames), random(frames));
        for e in 0..EVENTS {
            let tick = Instant::now();
            let k = (from as f64 + (to as f64 - from as f64) * e as f64 / (EVENTS - 1) as f64)
                .round() as usize;
            let generation = worker.request_with(k, 0, 0, Precision::Nearby);
            let (ms, shown) = reply_to(&worker, generation, tick)?;
            per_event.push(ms);
            exact_hits += (shown == k) as usize;
            if e == EVENTS / 2 {
                // a rest: the exact frame is asked for, and the drag goes on before it comes
                std::thread::sleep(Duration::from_millis(150));
                worker.request_with(k, 0, 0, Precision::Exact);
            }
            std::thread::sleep(Duration::from_millis(16).saturating_sub(tick.elapsed()));
        }
        let release = Instant::now();
        let generation = worker.request_with(to, 0, 0, Precision::Exact);
        let (ms, _) = reply_to(&worker, generation, release)?;
        releases.push(ms);
    }
    Ok(ScrubReport {
        drags,
        events: per_event.len(),
        exact_share: exact_hits as f64 / per_event.len().max(1) as f64,
        picture_per_event: percentiles(per_event),
        exact_after_release: percentiles(releases),
    })
}

/// A 1080p H.264 file with one keyframe every `gop` frames (generated with the ffmpeg tool).
pub fn generate_test_video(dir: &Path, frames: usize, gop: usize) -> Result<PathBuf> {
    let out = dir.join(format!("bench-1080p-gop{gop}.mp4"));
    if out.exists() {
        return Ok(out);
    }
    let secs = format!("{}", frames as f64 / 25.0);
    let st = Command::new("ffmpeg")
        .args(["-y", "-v", "error", "-f", "lavfi", "-i", &format!("testsrc2=s=1920x1080:r=25:d={secs}"), "-c:v", "libx264", "-preset", "veryfast"])
        .args(["-g", &gop.to_string(), "-keyint_min", &gop.to_string(), "-sc_threshold", "0", "-bf", "2", "-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .context("running the ffmpeg tool to generate the benchmark video (scripts/install-deps --test installs it)")?;
    if !st.success() {
        bail!("ffmpeg could not generate {}", out.display());
    }
    Ok(out)
}

fn ffmpeg_decode_seconds(path: &Path) -> Option<f64> {
    let start = Instant::now();
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-an", "-pix_fmt", "rgb24", "-f", "null", "-"])
        .status()
        .ok()?;
    st.success().then(|| start.elapsed().as_secs_f64())
}

pub fn run_decode(path: &Path, gop: usize, seeks: usize) -> Result<DecodeReport> {
    let mut v = VideoFile::open(path)?;
    let meta = v.metadata.clone();
    // warm the page cache and the frame index for both sides
    ffmpeg_decode_seconds(path);
    let start = Instant::now();
    for k in 0..meta.frames {
        std::hint::black_box(v.frame(k, 0, 0)?);
    }
    let mmant_fps = meta.frames as f64 / start.elapsed().as_secs_f64();
    let ffmpeg_fps = ffmpeg_decode_seconds(path).map(|s| meta.frames as f64 / s);
    // random frames, the same list for every measurement (a fixed LCG: no clock-dependent seed)
    let mut state = 0x2545F4914F6CDD1Du64;
    let targets: Vec<usize> = (0..seeks)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % meta.frames
        })
        .collect();
    let direct: Vec<f64> = targets
        .iter()
        .map(|&k| {
            let t = Instant::now();
            let _ = std::hint::black_box(v.frame(k, 0, 0));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let frame_bytes = meta.width as usize * meta.height as usize * 3;
    let mut worker = DecoderWorker::spawn(path.to_owned(), frame_bytes * (seeks + 1));
    match worker.wait(Duration::from_secs(120)) {
        Some(Reply::Opened(_)) => {}
        other => bail!("decoder worker did not open {}: {other:?}", path.display()),
    }
    let mut round_trips = |targets: &[usize]| -> Result<Vec<f64>> {
        targets
            .iter()
            .map(|&k| {
                let t = Instant::now();
                let generation = worker.request(k, 0, 0);
                loop {
                    match worker.wait(Duration::from_secs(60)) {
                        Some(Reply::Frame { generation: g, .. }) if g == generation => {
                            return Ok(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        Some(Reply::Error { message, .. }) => bail!("frame {k}: {message}"),
                        Some(_) => continue,
                        None => bail!("frame {k}: no reply within 60 s"),
                    }
                }
            })
            .collect()
    };
    let uncached = round_trips(&targets)?;
    let cached = round_trips(&targets)?;
    drop(worker);
    let scrub = scrub(path, meta.frames, frame_bytes, 12)?;
    Ok(DecodeReport {
        machine: machine_description(),
        video: path.display().to_string(),
        frames: meta.frames,
        size: (meta.width, meta.height),
        codec: meta.codec.clone(),
        gop,
        mmant_fps,
        ratio: ffmpeg_fps.map(|f| mmant_fps / f),
        ffmpeg_fps,
        seeks,
        seek_direct: percentiles(direct),
        seek_worker_uncached: percentiles(uncached),
        seek_worker_cached: percentiles(cached),
        scrub,
    })
}

impl std::fmt::Display for DecodeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "machine: {}", self.machine)?;
        writeln!(
            f,
            "video: {} ({} frames, {}×{}, {}, keyframe every {} frames)",
            self.video, self.frames, self.size.0, self.size.1, self.codec, self.gop
        )?;
        match (self.ffmpeg_fps, self.ratio) {
            (Some(ff), Some(r)) => writeln!(
                f,
                "sequential decode to RGB: mmant {:.1} frames/s, ffmpeg tool {ff:.1} frames/s, ratio {r:.2}",
                self.mmant_fps
            )?,
            _ => writeln!(
                f,
                "sequential decode to RGB: mmant {:.1} frames/s (ffmpeg tool not found)",
                self.mmant_fps
            )?,
        }
        let p = |x: &Percentiles| {
            format!("p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms", x.p50_ms, x.p95_ms, x.max_ms)
        };
        writeln!(f, "{} seeks to random frames:", self.seeks)?;
        writeln!(f, "  VideoFile::frame            {}", p(&self.seek_direct))?;
        writeln!(f, "  decoder worker, uncached    {}", p(&self.seek_worker_uncached))?;
        writeln!(f, "  decoder worker, cached      {}", p(&self.seek_worker_cached))?;
        let s = &self.scrub;
        writeln!(
            f,
            "scrubbing ({} drags, {} events at 60/s, from an empty cache; {:.0} % of pictures exact):",
            s.drags,
            s.events,
            100.0 * s.exact_share
        )?;
        writeln!(
            f,
            "  drag event → a picture      {} (target p95 ≤ 50 ms)",
            p(&s.picture_per_event)
        )?;
        writeln!(f, "  release → the exact frame   {} (target ≤ 400 ms)", p(&s.exact_after_release))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ExtractRow {
    pub backbone: String,
    pub weights: String,
    pub batch: usize,
    pub frames_per_s: f64,
    /// Multiply-adds per 224×224 frame (ResNets: torchvision's published counts; Lite0: counted
    /// from our configuration), ×2 = floating-point operations.
    pub gmacs_per_frame: f64,
    pub achieved_gflops: f64,
    /// PyTorch's frames/s on the same network, weights and batch, at its faster layout.
    pub torch_frames_per_s: Option<f64>,
    /// "nchw" or "channels_last": the layout PyTorch was faster in.
    pub torch_layout: Option<String>,
    /// Ours / PyTorch's frames/s (above 1: ours is faster).
    pub ratio: Option<f64>,
    /// The largest difference between the two sides' features, relative to the largest feature.
    pub max_rel_diff: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExtractReport {
    pub machine: String,
    pub python: Option<String>,
    pub torch_version: Option<String>,
    pub rows: Vec<ExtractRow>,
}

/// Multiply-adds at 224×224 in billions (ResNets: torchvision's weight metadata `_ops`).
fn gmacs(b: Backbone) -> f64 {
    match b {
        Backbone::EfficientnetLite0 => {
            crate::features::efficientnet_lite::Config::lite0().macs(224) as f64 / 1e9
        }
        Backbone::Resnet18 => 1.814,
        Backbone::Resnet34 => 3.664,
        Backbone::Resnet50 => 4.089,
    }
}

/// Network forward throughput (preprocessed 224×224 input, no decoding) for each backbone, with
/// the shipped weights where they exist and random weights otherwise (speed does not depend on
/// the values). With `python` (torch and torchvision), PyTorch runs the same network on the same
/// weights and batch in the same run, alternating A B B A (ours, PyTorch, PyTorch, ours), at its
/// faster memory layout; `scripts/reference/torch_extract.py`.
pub fn run_extract(
    batch: usize,
    repeats: usize,
    backbones: &[Backbone],
    python: Option<&Path>,
) -> Result<ExtractReport> {
    let dir = tempfile::tempdir()?;
    let mut rows = Vec::new();
    let mut torch_version = None;
    for &backbone in backbones {
        let (weights, label) = match backbone.default_weights().filter(|p| p.exists()) {
            Some(p) => (p, "shipped".to_owned()),
            None => {
                let vm = VarMap::new();
                let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
                use candle_transformers::models::resnet;
                match backbone {
                    Backbone::EfficientnetLite0 => {
                        crate::features::efficientnet_lite::EfficientNetLite::new(
                            &crate::features::efficientnet_lite::Config::lite0(),
                            vb,
                        )?;
                    }
                    Backbone::Resnet18 => drop(resnet::resnet18(1000, vb)?),
                    Backbone::Resnet34 => drop(resnet::resnet34(1000, vb)?),
                    Backbone::Resnet50 => drop(resnet::resnet50(1000, vb)?),
                }
                let p = dir.path().join(format!("{backbone}.safetensors"));
                vm.save(&p)?;
                (p, "random".to_owned())
            }
        };
        let net = Network::load(backbone, &weights, &Device::Cpu)?;
        let x = Tensor::rand(-1f32, 1f32, (batch, 3, 224, 224), &Device::Cpu)?;
        let folder = dir.path().join(backbone.name());
        if python.is_some() {
            std::fs::create_dir_all(&folder)?;
            std::fs::copy(&weights, folder.join("weights.safetensors"))?;
            super::train::write_npy(&folder.join("input.npy"), &x)?;
            super::train::write_npy(&folder.join("ours.npy"), &net.features(&x)?)?;
        }
        let (mut ours_ms, mut torch_runs) = (Vec::new(), Vec::new());
        for side in ["ours", "torch", "torch", "ours"] {
            match (side, python) {
                ("ours", _) => ours_ms.push(super::attention::median_ms(repeats, || {
                    net.features(&x).expect("forward")
                })),
                (_, Some(py)) => torch_runs.push(torch_extract(py, &folder, backbone, repeats)?),
                _ => {}
            }
        }
        // frames/s of each side over its two passes (mean time per batch)
        let fps = |ms: &[f64]| batch as f64 * ms.len() as f64 / (ms.iter().sum::<f64>() / 1000.0);
        let frames_per_s = fps(&ours_ms);
        let torch_fps = (!torch_runs.is_empty()).then(|| {
            let ms: Vec<f64> =
                torch_runs.iter().map(|r| batch as f64 / r.frames_per_s * 1000.0).collect();
            fps(&ms)
        });
        if let Some(r) = torch_runs.first() {
            torch_version = Some(r.torch_version.clone());
        }
        rows.push(ExtractRow {
            backbone: backbone.name().into(),
            weights: label,
            batch,
            frames_per_s,
            gmacs_per_frame: gmacs(backbone),
            achieved_gflops: frames_per_s * gmacs(backbone) * 2.0,
            torch_frames_per_s: torch_fps,
            torch_layout: torch_runs.first().map(|r| r.best_layout.clone()),
            ratio: torch_fps.map(|t| frames_per_s / t),
            max_rel_diff: torch_runs.first().map(|r| r.max_rel_diff),
        });
    }
    Ok(ExtractReport {
        machine: machine_description(),
        python: python.map(|p| p.display().to_string()),
        torch_version,
        rows,
    })
}

#[derive(serde::Deserialize)]
struct TorchExtractRun {
    torch_version: String,
    best_layout: String,
    frames_per_s: f64,
    max_rel_diff: f64,
}

fn torch_extract(
    python: &Path,
    folder: &Path,
    backbone: Backbone,
    repeats: usize,
) -> Result<TorchExtractRun> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/reference/torch_extract.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(folder)
        .arg(backbone.name())
        .arg("2")
        .arg(repeats.max(1).to_string())
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!("{} printed no JSON: {}", script.display(), String::from_utf8_lossy(&out.stdout))
    })
}

/// A Python that imports torch and torchvision (and, for EfficientNet-Lite0's reference,
/// efficientnet_lite_pytorch): `explicit`, else $MMANT_PYTHON, else python3.
pub fn find_extract_python(explicit: Option<PathBuf>) -> Option<PathBuf> {
    let py = super::attention::find_torch_python(explicit)?;
    Command::new(&py)
        .args(["-c", "import torchvision, efficientnet_lite_pytorch, safetensors"])
        .output()
        .is_ok_and(|o| o.status.success())
        .then_some(py)
}

impl std::fmt::Display for ExtractReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "machine: {}", self.machine)?;
        match (&self.python, &self.torch_version) {
            (Some(py), Some(v)) => writeln!(f, "PyTorch {v} ({py}), 2 threads, A B B A")?,
            _ => writeln!(
                f,
                "no PyTorch column (MMANT_PYTHON or --python: a Python with torch, torchvision, efficientnet_lite_pytorch)"
            )?,
        }
        writeln!(
            f,
            "{:<20} {:>8} {:>6} {:>10} {:>11} {:>17} {:>10} {:>10} {:>16} {:>9}",
            "backbone",
            "weights",
            "batch",
            "frames/s",
            "GMAC/frame",
            "achieved GFLOP/s",
            "torch f/s",
            "ours/torch",
            "torch layout",
            "max diff"
        )?;
        let opt = |v: Option<f64>, prec: usize| {
            v.map(|v| format!("{v:.prec$}")).unwrap_or_else(|| "-".into())
        };
        for r in &self.rows {
            writeln!(
                f,
                "{:<20} {:>8} {:>6} {:>10.1} {:>11.3} {:>17.1} {:>10} {:>10} {:>16} {:>9}",
                r.backbone,
                r.weights,
                r.batch,
                r.frames_per_s,
                r.gmacs_per_frame,
                r.achieved_gflops,
                opt(r.torch_frames_per_s, 1),
                opt(r.ratio, 2),
                r.torch_layout.as_deref().unwrap_or("-"),
                r.max_rel_diff.map(|d| format!("{d:.1e}")).unwrap_or_else(|| "-".into()),
            )?;
        }
        Ok(())
    }
}
