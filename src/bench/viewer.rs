//! `mmant bench viewer`: the viewer's UI-thread CPU time per frame while the demo plays, the time
//! from a playhead move to the updated anticipated track at 2 000 observed tokens, and the memory
//! of playing a one-hour 1080p file.
//!
//! The app is driven through `egui::Context::run_ui` + `tessellate`, exactly what the window's UI
//! thread runs per frame, minus the GPU upload and presentation (done by the renderer).

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::attention::machine_description;
use super::video::{Percentiles, percentiles};
use crate::viewer::{UiCommand, ViewerApp};

#[derive(Debug, Clone, Serialize)]
pub struct MemoryRow {
    pub video: String,
    pub frames: usize,
    pub duration_s: f64,
    pub frames_shown: usize,
    pub rss_before_mb: f64,
    pub peak_rss_mb: f64,
    /// Keyframe thumbnails made for the timeline's strip by the end (at most 600).
    pub thumbnails: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ViewerBenchReport {
    pub machine: String,
    pub ui_frames: usize,
    pub ui_cpu: Percentiles,
    pub anticipation_tokens: usize,
    pub anticipation_moves: usize,
    pub anticipation_latency: Percentiles,
    pub memory: Option<MemoryRow>,
    /// An annotation edit until it is synced to the journal (the UI thread waits for this).
    pub edits: usize,
    pub edit_journaled: Percentiles,
}

fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Resident memory of this process in MiB: (now, peak), from /proc/self/status.
fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// One UI frame, as the window's UI thread runs it; returns its CPU time in ms.
fn frame(ctx: &egui::Context, app: &mut ViewerApp, t0: Instant) -> f64 {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0))),
        time: Some(t0.elapsed().as_secs_f64()),
        ..Default::default()
    };
    let start = thread_cpu_s();
    let out = ctx.run_ui(input, |ui| app.draw(ui));
    std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
    (thread_cpu_s() - start) * 1000.0
}

/// Steps frames until `done` or `timeout`.
fn frames_until(
    ctx: &egui::Context,
    app: &mut ViewerApp,
    t0: Instant,
    timeout: Duration,
    done: impl Fn(&ViewerApp) -> bool,
) -> bool {
    let start = Instant::now();
    while !done(app) {
        if start.elapsed() > timeout {
            return false;
        }
        frame(ctx, app, t0);
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// A one-hour 1080p H.264 file: a 20-second clip (testsrc2 scaled to 1080p, 25 fps, keyframe
/// every 250 frames) concatenated 180 times without re-encoding (1.3 GB).
pub fn generate_hour_video(dir: &Path) -> Result<PathBuf> {
    let clip = dir.join("clip.mp4");
    let list = dir.join("list.txt");
    let out = dir.join("hour-1080p.mp4");
    let ok = |args: &[&str]| -> Result<()> {
        let st = Process::new("ffmpeg")
            .args(["-y", "-v", "error"])
            .args(args)
            .status()
            .context("the ffmpeg tool (scripts/install-deps --test installs it)")?;
        if !st.success() {
            bail!("ffmpeg {args:?} failed");
        }
        Ok(())
    };
    ok(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=480x270:r=25:d=20,scale=1920:1080",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "32",
        "-g",
        "250",
        "-pix_fmt",
        "yuv420p",
        clip.to_str().unwrap_or_default(),
    ])?;
    std::fs::write(
        &list,
        (0..180).map(|_| format!("file '{}'\n", clip.display())).collect::<String>(),
    )?;
    ok(&[
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        list.to_str().unwrap_or_default(),
        "-c",
        "copy",
        out.to_str().unwrap_or_default(),
    ])?;
    Ok(out)
}

pub fn run(
    ui_frames: usize,
    moves: usize,
    memory_video: Option<&Path>,
) -> Result<ViewerBenchReport> {
    let ctx = egui::Context::default();
    let t0 = Instant::now();

    // 1. UI frame time while the demo plays (video decoding and the model on their threads)
    let (_dir, labels, mapping, model, video) = crate::demo::files_with_video()?;
    let mut app = crate::viewer::viewer_app(
        Some(&labels),
        Some(&mapping),
        Some(&model),
        Some(&video),
        Some(15.0),
    )?;
    app.state.follow_playhead = true;
    app.state.playing = true;
    let mut times = Vec::with_capacity(ui_frames);
    for _ in 0..ui_frames {
        times.push(frame(&ctx, &mut app, t0));
        std::thread::sleep(Duration::from_millis(16)); // a 60 Hz display
    }
    drop(app);

    // 2. playhead move → anticipated track at 2 000 observed tokens (stride 3: frame 6 000)
    let text = std::fs::read_to_string(&labels)?;
    let demo: Vec<&str> = text.lines().collect();
    let long = tempfile::tempdir()?;
    let long_labels = long.path().join("long.txt");
    std::fs::write(
        &long_labels,
        demo.iter().cycle().take(6600).map(|l| format!("{l}\n")).collect::<String>(),
    )?;
    let mut app = crate::viewer::viewer_app(
        Some(&long_labels),
        Some(&mapping),
        Some(&model),
        None,
        Some(15.0),
    )?;
    app.state.follow_playhead = true;
    app.state.apply(UiCommand::Seek(100));
    if !frames_until(&ctx, &mut app, t0, Duration::from_secs(120), |a| {
        a.state.anticipation.is_some()
    }) {
        bail!("the model never answered: {}", app.state.status);
    }
    let stride = 3;
    let mut latencies = Vec::new();
    for i in 0..moves {
        let target = 6000 + stride * (i + 1);
        let start = Instant::now();
        app.state.apply(UiCommand::Seek(target));
        if !frames_until(&ctx, &mut app, t0, Duration::from_secs(60), |a| {
            a.state.anticipation.as_ref().is_some_and(|x| x.observed == target)
        }) {
            bail!("no anticipation for frame {target}: {}", app.state.status);
        }
        latencies.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    drop(app);

    // 3. memory while playing a one-hour 1080p file: 30 s of playback at 12 places
    let memory = match memory_video {
        None => None,
        Some(path) => {
            let (rss_before, _) = rss_mb();
            let mut app = crate::viewer::viewer_app(None, None, None, Some(path), None)?;
            if !frames_until(&ctx, &mut app, t0, Duration::from_secs(300), |a| {
                a.displayed_frame().is_some()
            }) {
                bail!("the video never showed a frame: {}", app.state.status);
            }
            let frames = app.state.frames;
            let mut shown = 0;
            for place in 0..12 {
                let start = frames / 12 * place;
                for k in start..(start + 750).min(frames) {
                    app.state.apply(UiCommand::Seek(k));
                    frame(&ctx, &mut app, t0);
                    // wait for the decoded frame, as the window would show it
                    frames_until(&ctx, &mut app, t0, Duration::from_secs(30), |a| {
                        a.displayed_frame() == Some(k)
                    });
                    shown += 1;
                }
            }
            // the thumbnail strip finishes too: its memory is part of the bound
            frames_until(&ctx, &mut app, t0, Duration::from_secs(300), |a| !a.thumbnails_pending());
            let (_, peak) = rss_mb();
            Some(MemoryRow {
                thumbnails: app.thumbnail_frames().len(),
                video: path.display().to_string(),
                frames,
                duration_s: frames as f64 / app.state.fps.max(1e-9),
                frames_shown: shown,
                rss_before_mb: rss_before,
                peak_rss_mb: peak,
            })
        }
    };
    // 4. an edit, applied and synced to the journal, as the UI thread does it
    let edit_dir = tempfile::tempdir()?;
    let edit_labels = edit_dir.path().join("labels.txt");
    std::fs::write(&edit_labels, demo.iter().map(|l| format!("{l}\n")).collect::<String>())?;
    let (mut session, _) = crate::annotation::Session::open(&edit_labels, &[], false, 15.0)?;
    let attempts = 200;
    let mut edit_ms = Vec::with_capacity(attempts);
    for i in 0..attempts {
        let edit = if i % 2 == 0 {
            crate::annotation::Edit::Split { level: 0, frame: 10 + i * 7 }
        } else {
            crate::annotation::Edit::Relabel {
                level: 0,
                frame: 10 + i * 7,
                label: demo[i * 7].to_owned(),
            }
        };
        let start = Instant::now();
        match session.edit(edit) {
            Ok(()) => edit_ms.push(start.elapsed().as_secs_f64() * 1000.0),
            // a split where a segment already starts: refused before any I/O, not timed
            Err(crate::annotation::SessionError::Edit(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let edits = edit_ms.len();
    Ok(ViewerBenchReport {
        machine: machine_description(),
        ui_frames,
        ui_cpu: percentiles(times),
        anticipation_tokens: 6000 / stride,
        anticipation_moves: moves,
        anticipation_latency: percentiles(latencies),
        memory,
        edits,
        edit_journaled: percentiles(edit_ms),
    })
}

impl std::fmt::Display for ViewerBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = |x: &Percentiles| {
            format!("p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms", x.p50_ms, x.p95_ms, x.max_ms)
        };
        writeln!(f, "machine: {}", self.machine)?;
        writeln!(
            f,
            "UI thread CPU per frame, demo playing ({} frames at 60 Hz): {}",
            self.ui_frames,
            p(&self.ui_cpu)
        )?;
        writeln!(
            f,
            "playhead move → anticipated track at {} observed tokens ({} moves): {}",
            self.anticipation_tokens,
            self.anticipation_moves,
            p(&self.anticipation_latency)
        )?;
        writeln!(
            f,
            "annotation edit until synced to the journal ({} edits applied): {}",
            self.edits,
            p(&self.edit_journaled)
        )?;
        if let Some(m) = &self.memory {
            writeln!(
                f,
                "memory, {} ({} frames, {:.0} s): {} frames shown at 12 places, RSS {:.0} MiB before, peak {:.0} MiB, with {} keyframe thumbnails",
                m.video,
                m.frames,
                m.duration_s,
                m.frames_shown,
                m.rss_before_mb,
                m.peak_rss_mb,
                m.thumbnails
            )?;
        }
        Ok(())
    }
}
