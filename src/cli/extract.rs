//! `mmant extract` (per-frame CNN features of videos) and `mmant classify` (ImageNet top-5 of
//! photographs, to check a backbone's weights).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

#[derive(Debug, Args)]
pub struct BackboneArgs {
    /// The CNN whose pooled features are extracted (EfficientNet-Lite0's weights ship with
    /// scripts/fetch-models; the ResNets need torchvision's weights, --weights)
    #[arg(long, value_enum, default_value = "efficientnet-lite0")]
    pub backbone: crate::features::Backbone,
    /// Weights: .safetensors or .pth state dict with torchvision's names (ResNets) or
    /// efficientnet_lite_pytorch's (default for efficientnet-lite0: scripts/fetch-models' copy)
    #[arg(long)]
    pub weights: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Video files (any container and codec FFmpeg reads)
    #[arg(required = true)]
    pub videos: Vec<PathBuf>,
    /// Output folder
    #[arg(long)]
    pub out: PathBuf,
    /// Sample one frame in `stride`
    #[arg(long, default_value_t = 1)]
    pub stride: usize,
    /// Frames per forward pass (4–8 is fastest on 2 cores: larger batches leave the cache)
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// A frame that cannot be decoded: stop, or continue with the previous frame's pixels
    /// (listed in the sidecar's bad_frames)
    #[arg(long, value_enum, default_value = "stop")]
    pub on_bad_frame: crate::features::BadFramePolicy,
    #[command(flatten)]
    pub backbone: BackboneArgs,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Image files (PNG, JPEG)
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub backbone: BackboneArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub(super) fn load_backbone(a: &BackboneArgs) -> Result<crate::features::Network> {
    let weights = match (&a.weights, a.backbone.default_weights()) {
        (Some(w), _) => w.clone(),
        (None, Some(w)) if w.exists() => w,
        (None, Some(w)) => bail!(
            "{}: weights not found; run scripts/fetch-models (or give --weights)",
            w.display()
        ),
        (None, None) => bail!(
            "{} needs --weights: torchvision's ImageNet weights (.pth or .safetensors); none ship with mmant",
            a.backbone
        ),
    };
    Ok(crate::features::Network::load(a.backbone, &weights, &candle_core::Device::Cpu)?)
}

/// Set by SIGINT while `extract` runs, so that it stops between batches and writes nothing.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

pub(super) fn extract(a: &ExtractArgs) -> Result<ExitCode> {
    let net = load_backbone(&a.backbone)?;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe
    unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
    let opts = crate::features::ExtractOptions {
        stride: a.stride.max(1),
        batch: a.batch.max(1),
        on_bad_frame: a.on_bad_frame,
    };
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    for video in &a.videos {
        let mut last_tenth = 0;
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {pos}/{len} frames {per_sec} eta {eta}",
            )
            .expect("valid template"),
        );
        bar.set_message(
            video.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        );
        let out = crate::features::extract_video(
            &net,
            video,
            &a.out,
            &opts,
            &mut |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                // the bar draws only on a terminal; a log (CI, nohup) gets a line every 10 %
                if !terminal {
                    let tenth = (done * 10).checked_div(total).unwrap_or(0);
                    if tenth > last_tenth {
                        last_tenth = tenth;
                        eprintln!("{}: {done} of {total} sampled frames", video.display());
                    }
                }
            },
            &INTERRUPTED,
        );
        bar.finish_and_clear();
        let out = out?;
        println!(
            "{}: {} × {} ({}, {} of {} frames, stride {})",
            out.npy.display(),
            out.sidecar.dim,
            out.sidecar.samples,
            out.sidecar.backbone,
            out.sidecar.samples,
            out.sidecar.video_frames,
            out.sidecar.stride
        );
        if let Some(early) = &out.sidecar.ends_early {
            eprintln!("warning: {}: {early} (sidecar: ends_early)", video.display());
        }
        if let Some(first) = out.sidecar.bad_frames.first() {
            eprintln!(
                "warning: {} sampled frames could not be decoded (first: frame {first}); their features repeat the previous frame's (sidecar: bad_frames)",
                out.sidecar.bad_frames.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn classify(a: &ClassifyArgs) -> Result<ExitCode> {
    let net = load_backbone(&a.backbone)?;
    let mut all = Vec::new();
    let mut skipped = 0;
    for image in &a.images {
        // a folder's README beside its photographs is skipped, not fatal
        let top = match crate::features::classify_image(&net, image, 5) {
            Err(e @ crate::features::FeatureError::Image { .. }) => {
                eprintln!("warning: skipped {e}");
                skipped += 1;
                continue;
            }
            other => other?,
        };
        if !a.json {
            let classes: Vec<String> =
                top.iter().map(|(c, p)| format!("{c} {:.1}%", p * 100.0)).collect();
            println!("{}: {}", image.display(), classes.join(", "));
        }
        all.push(serde_json::json!({"image": image.display().to_string(), "top5": top}));
    }
    if all.is_empty() {
        bail!("none of the {skipped} files given is an image mmant reads (PNG or JPEG)");
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    }
    Ok(ExitCode::SUCCESS)
}
