//! The real binary in a real window: `mmant` (the demo) under Xvfb, screenshots taken with
//! ImageMagick's `import` until the window shows the video and the timeline (both installed by
//! scripts/install-deps --test). MMANT_WINDOW_SCREENSHOT=path keeps the last screenshot.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_display(from: u32) -> u32 {
    (from..from + 50)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free X display number")
}

#[test]
fn the_demo_window_shows_video_and_timeline_under_xvfb() {
    demo_window_renders(90, &[]);
}

/// With no wgpu adapter (a backend this machine lacks), the window falls back to OpenGL.
#[test]
fn without_a_wgpu_adapter_the_window_falls_back_to_glow() {
    let stderr = demo_window_renders(150, &[("WGPU_BACKEND", "dx12")]);
    assert!(
        stderr.contains("no wgpu adapter") && stderr.contains("drawing with OpenGL (glow)"),
        "{stderr}"
    );
}

/// Runs the demo under a fresh Xvfb until a screenshot shows it; returns what mmant printed.
fn demo_window_renders(display_from: u32, env: &[(&str, &str)]) -> String {
    let n = free_display(display_from);
    let display = format!(":{n}");
    let _xvfb = Killed(
        Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (scripts/install-deps --test installs it)"),
    );
    let start = Instant::now();
    while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "Xvfb did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .unwrap();
    let stderr_path = home.path().join("stderr.txt");
    let mut app = Killed(
        Command::new(env!("CARGO_BIN_EXE_mmant"))
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("MMANT_CACHE", home.path().join("cache"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let shot = home.path().join("shot.png");
    let mut last = String::new();
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let ok = Command::new("import")
            .args(["-display", &display, "-window", "root"])
            .arg(&shot)
            .status()
            .expect("import (ImageMagick)")
            .success();
        if ok && let Ok(img) = image::open(&shot) {
            let img = img.to_rgb8();
            let (w, h) = img.dimensions();
            let mut colours = std::collections::HashSet::new();
            let mut saturated_bottom = 0;
            for (x, y, p) in img.enumerate_pixels() {
                if (x + y) % 3 == 0 {
                    colours.insert(p.0);
                }
                let (mx, mn) = (p.0.iter().max().unwrap(), p.0.iter().min().unwrap());
                if y > h * 3 / 4 && (*mx as i32 - *mn as i32) > 60 {
                    saturated_bottom += 1;
                }
            }
            // the video (a textured table) has many colours; the timeline's bars are saturated
            last = format!(
                "{w}×{h}, {} colours, {saturated_bottom} saturated pixels in the bottom quarter",
                colours.len()
            );
            if colours.len() > 500 && saturated_bottom > 20_000 {
                if let Some(p) = std::env::var_os("MMANT_WINDOW_SCREENSHOT") {
                    std::fs::copy(&shot, p).unwrap();
                }
                let _ = app.0.kill();
                let _ = app.0.wait();
                return std::fs::read_to_string(&stderr_path).unwrap_or_default();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the window never showed the demo: {last}"
        );
    }
}
